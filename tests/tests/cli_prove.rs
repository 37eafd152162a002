//! `podauth prove` end to end: the command prints what the user must do on
//! stderr as it streams in, the proofs on stdout (`--json`: one document),
//! and the Pods accept them; failures exit with their distinct codes.

use std::process::Stdio;
use std::time::Duration;

use podauth::v1 as pb;
use podauth_tests::cli::{self, EXIT_NOT_RUNNING, EXIT_OK, EXIT_PROOF_FAILED, EXIT_USAGE};
use podauth_tests::fixture::within;
use podauth_tests::{
    ALICE, BOB, Browser, Daemon, Fixture, LOCAL_CLIENT_ID, OTHER_CLIENT_ID, Pod, Provider,
};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

/// A proof as `--json` prints it, turned back into the protocol's form.
fn proof_from_json(proof: &Value) -> pb::Proof {
    let text = |key: &str| proof[key].as_str().unwrap_or_default().to_owned();
    let kind = match proof["method"].as_str() {
        Some("oidc-device-code") => pb::proof::Kind::DeviceCode(pb::DeviceCodeProof {
            device_code: text("device_code"),
            expires_at_unix: proof["expires_at_unix"].as_i64().unwrap_or_default(),
            interval_seconds: proof["interval_seconds"].as_u64().unwrap_or_default() as u32,
        }),
        Some("oidc-auth-code") => pb::proof::Kind::AuthCode(pb::AuthCodeProof {
            auth_code: text("auth_code"),
            code_verifier: text("code_verifier"),
            redirect_uri: text("redirect_uri"),
        }),
        other => panic!("unexpected method {other:?} in {proof}"),
    };
    pb::Proof { pod_id: text("pod_id"), kind: Some(kind) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_through_the_command() {
    let fixture = Fixture::new("cli_device_code");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;

    let args = [
        "prove",
        "--method",
        "oidc-device-code",
        "--pod",
        "pod-a",
        "--pod",
        "pod-b",
        "--client-id",
        LOCAL_CLIENT_ID,
        "--no-browser",
        "--json",
    ];
    let output = cli::run(daemon.socket(), &args).await;
    output.assert_code(EXIT_OK);
    let document: Value = serde_json::from_str(&output.stdout).expect("--json prints JSON");
    let actions = document["user_actions"].as_array().expect("user_actions").clone();
    let proofs: Vec<pb::Proof> =
        document["proofs"].as_array().expect("proofs").iter().map(proof_from_json).collect();
    assert_eq!((actions.len(), proofs.len()), (2, 2), "{document}");
    for action in &actions {
        let code = action["user_code"].as_str().expect("user_code");
        assert!(output.stderr.contains(code), "the code is shown to the user: {}", output.stderr);
    }

    let browser = Browser::start(&fixture).await;
    for action in &actions {
        let url = action["url"].as_str().expect("url");
        browser.approve_device(url, action["user_code"].as_str().unwrap(), BOB).await;
    }
    browser.close().await;
    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    for proof in &proofs {
        assert_eq!(pod.accept(proof).await.unwrap_or_else(|e| panic!("{e}")).sub, BOB);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_code_through_the_command() {
    let fixture = Fixture::new("cli_auth_code");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;

    let mut command = cli::command(daemon.socket());
    command
        .args(["prove", "--method", "oidc-auth-code", "--pod", "pod-a", "--pod", "pod-b"])
        .args(["--client-id", LOCAL_CLIENT_ID, "--no-browser", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start podauth prove");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");

    // The URL is on stderr while the command waits. The rest of stderr is
    // read on, as a terminal would: a closed pipe would fail the command.
    let mut lines = BufReader::new(stderr).lines();
    let url = within(Duration::from_secs(30), "the URL on podauth's stderr", async {
        while let Some(line) = lines.next_line().await.expect("read stderr") {
            if line.trim().starts_with("http://") {
                return line.trim().to_owned();
            }
        }
        panic!("podauth prove ended without printing a URL");
    })
    .await;
    let rest_of_stderr = tokio::spawn(async move {
        let mut rest = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            rest.push(line);
        }
        rest
    });

    let browser = Browser::start(&fixture).await;
    browser.sign_in_chain(&url, ALICE).await;
    browser.close().await;

    let mut printed = String::new();
    within(Duration::from_secs(30), "podauth's stdout", stdout.read_to_string(&mut printed))
        .await
        .expect("read stdout");
    let status = within(Duration::from_secs(30), "podauth prove to exit", child.wait()).await;
    let rest = rest_of_stderr.await.expect("the stderr reader ends");
    assert_eq!(status.expect("wait for podauth").code(), Some(EXIT_OK), "stderr: {rest:?}");
    assert!(rest.iter().any(|line| line.contains("pod-b")), "progress per Pod: {rest:?}");

    let document: Value = serde_json::from_str(&printed).expect("--json prints JSON");
    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    let proofs = document["proofs"].as_array().expect("proofs");
    assert_eq!(proofs.len(), 2, "{document}");
    for proof in proofs {
        let identity = pod.accept(&proof_from_json(proof)).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(identity.sub, ALICE);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_with_distinct_codes() {
    let fixture = Fixture::new("cli_exit_codes");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;

    let no_daemon = cli::run(&fixture.join("nobody-here.sock"), &["status"]).await;
    no_daemon.assert_code(EXIT_NOT_RUNNING);
    assert!(no_daemon.stderr.contains("podauthd"), "with a hint: {}", no_daemon.stderr);

    let usage = cli::run(daemon.socket(), &["prove", "--client-id", LOCAL_CLIENT_ID]).await;
    usage.assert_code(EXIT_USAGE);

    let foreign = ["prove", "--pod", "pod-a", "--client-id", OTHER_CLIENT_ID, "--no-browser"];
    let refused = cli::run(daemon.socket(), &foreign).await;
    refused.assert_code(EXIT_PROOF_FAILED);
    assert!(refused.stderr.contains(OTHER_CLIENT_ID), "{}", refused.stderr);
}
