//! `podauth prove --task FILE`: a task file in the platform's format names
//! the Pods (`pods.identifiers`) and the method
//! (`modeller.identity_verification_method`); the command takes the client
//! id from the agent, proves to both Pods by device code, and both Pods
//! accept the proofs once the user confirms. A task file that names no
//! Pods, or an unknown method, fails in a line or two naming the problem.

use podauth::v1 as pb;
use podauth_tests::cli::{self, EXIT_OK, EXIT_USAGE};
use podauth_tests::{
    ALICE, Browser, Daemon, DaemonOptions, Fixture, LOCAL_CLIENT_ID, Pod, Provider,
};
use serde_json::Value;

/// A task as a Data Scientist's tooling writes it: the modeller, the Pods,
/// and the task itself, which `podauth` does not read.
const TASK: &str = "\
# Federated evaluation of the retina classifier.
modeller:
  username: alice
  identity_verification_method: oidc-device-code
pods:
  identifiers:
    - st-marys/retina-scans
    - moorfields/oct-images
task:
  protocol:
    name: bitfount.ResultsOnly
    arguments:
      save_location: [Modeller]
  algorithm:
    - name: bitfount.ModelEvaluation
      model:
        bitfount_model:
          model_ref: RetinaClassifier
          model_version: 3
  data_structure:
    table_config:
      table:
        st-marys/retina-scans: retina-scans
        moorfields/oct-images: oct-images
    select:
      include: [image, label]
  aggregator:
    secure: false
";
const PODS: [&str; 2] = ["st-marys/retina-scans", "moorfields/oct-images"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_pods_of_a_task_are_proven_by_its_method() {
    let fixture = Fixture::new("task_two_pods");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;
    let task = fixture.join("task.yaml");
    std::fs::write(&task, TASK).unwrap();

    let task_arg = task.display().to_string();
    let output =
        cli::run(daemon.socket(), &["prove", "--task", &task_arg, "--no-browser", "--json"]).await;
    output.assert_code(EXIT_OK);
    let document: Value = serde_json::from_str(&output.stdout).expect("--json prints JSON");
    assert_eq!(document["method"], "oidc-device-code", "{document}");
    let proofs = document["proofs"].as_array().expect("proofs");
    let proven: Vec<&str> = proofs.iter().filter_map(|p| p["pod_id"].as_str()).collect();
    assert_eq!(proven, PODS, "one proof per Pod of the task, in order");

    let browser = Browser::start(&fixture).await;
    for action in document["user_actions"].as_array().expect("user_actions") {
        let (url, code) = (action["url"].as_str().unwrap(), action["user_code"].as_str().unwrap());
        assert!(output.stderr.contains(url), "shown to the user: {}", output.stderr);
        browser.approve_device(url, code, ALICE).await;
    }
    browser.close().await;

    // The client id came from the agent: the Pods of environment `local`
    // accept what they are handed.
    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    for proof in proofs {
        let device = pb::DeviceCodeProof {
            device_code: proof["device_code"].as_str().unwrap().to_owned(),
            expires_at_unix: proof["expires_at_unix"].as_i64().unwrap(),
            interval_seconds: proof["interval_seconds"].as_u64().unwrap() as u32,
        };
        let proof = pb::Proof {
            pod_id: proof["pod_id"].as_str().unwrap().to_owned(),
            kind: Some(pb::proof::Kind::DeviceCode(device)),
        };
        let identity = pod.accept(&proof).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(identity.sub, ALICE, "pod {}", proof.pod_id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_file_that_cannot_be_used_says_why() {
    let fixture = Fixture::new("task_unusable");
    let daemon = Daemon::start_with(&fixture, None, DaemonOptions::default()).await;

    let no_pods = fixture.join("no-pods.yaml");
    std::fs::write(&no_pods, "modeller:\n  username: alice\ntask: {}\n").unwrap();
    let unknown = fixture.join("unknown-method.yaml");
    std::fs::write(&unknown, TASK.replace("oidc-device-code", "carrier-pigeon")).unwrap();
    let missing = fixture.join("missing.yaml");

    let cases = [
        (&no_pods, vec![no_pods.display().to_string(), "pods.identifiers".into()]),
        (&unknown, vec!["carrier-pigeon".into(), "oidc-device-code".into()]),
        (&missing, vec![missing.display().to_string()]),
    ];
    for (file, expected) in cases {
        let file_arg = file.display().to_string();
        let output = cli::run(daemon.socket(), &["prove", "--task", &file_arg]).await;
        output.assert_code(EXIT_USAGE);
        for text in expected {
            assert!(output.stderr.contains(&text), "{text:?} in {}", output.stderr);
        }
        let lines = output.stderr.lines().count();
        assert!((1..=2).contains(&lines), "one or two lines:\n{}", output.stderr);
    }
}
