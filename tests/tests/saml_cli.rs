//! `podauth prove --method saml` as a user runs it: one Pod's SAMLRequest
//! read from a file (`@FILE`), another's from standard input (`-`), the URL
//! printed for the user, and the posted forms printed as JSON that each
//! reference Pod verifies.

// A failed step is a failed test: panicking with a message that names the
// step is how a test reports.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Stdio;
use std::time::Duration;

use podauth::v1 as pb;
use podauth_tests::cli;
use podauth_tests::fixture::within;
use podauth_tests::saml_idp::{SAML_ALICE, SAML_ALICE_PASSWORD, SAML_POD_ENTITY_IDS};
use podauth_tests::saml_pod::SamlPod;
use podauth_tests::{Browser, Fixture, saml_env::SamlEnv};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Bound on the command printing what the user must open.
const PROMPT_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_reads_saml_requests_from_a_file_and_from_stdin() {
    let fixture = Fixture::new("saml_cli");
    let (env, browser) = tokio::join!(SamlEnv::start(&fixture), Browser::start(&fixture));
    let port = env.daemon.callback_port();
    let pod_a = SamlPod::new(&env.idp, SAML_POD_ENTITY_IDS[0], port);
    let pod_b = SamlPod::new(&env.idp, SAML_POD_ENTITY_IDS[1], port);
    let (issued_a, issued_b) = (pod_a.issue("pod-a"), pod_b.issue("pod-b"));

    let request_file = fixture.join("pod-a.saml-request");
    std::fs::write(&request_file, format!("{}\n", issued_a.saml_request))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", request_file.display()));
    let from_file = format!("@{}", request_file.display());

    let mut command = cli::command(env.daemon.socket());
    command
        .args(["prove", "--method", "saml", "--no-browser", "--json"])
        .args(["--pod", "pod-a", "--saml-request", &from_file])
        .args(["--pod", "pod-b", "--saml-request", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start podauth prove");

    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(format!("{}\n", issued_b.saml_request).as_bytes()).await.expect("write stdin");
    drop(stdin);

    // The command prints the SSO URL to open once the request waits, and
    // more as proofs arrive: read its stderr to the end.
    let stderr = child.stderr.take().expect("stderr is piped");
    let (url_sender, url_receiver) = tokio::sync::oneshot::channel();
    let stderr_reader = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        let mut url_sender = Some(url_sender);
        let mut text = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.trim().strip_prefix("http://") {
                if let Some(sender) = url_sender.take() {
                    let _ = sender.send(format!("http://{url}"));
                }
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let url = within(PROMPT_TIMEOUT, "the URL from podauth prove", url_receiver)
        .await
        .expect("podauth prove printed a URL to open");
    assert!(url.starts_with(env.idp.sso_url().as_str()), "{url}");

    let page = env.idp.sign_in(&browser, &url, SAML_ALICE, SAML_ALICE_PASSWORD).await;
    assert!(page.message.contains("You may close this tab"), "{page:?}");
    let output = within(PROMPT_TIMEOUT, "podauth prove to finish", child.wait_with_output())
        .await
        .expect("wait for podauth prove");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = stderr_reader.await.expect("read podauth's stderr");
    assert_eq!(output.status.code(), Some(cli::EXIT_OK), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("proof ready for pod pod-b"), "{stderr}");

    let printed: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"));
    assert_eq!(printed["method"], "saml");
    let proofs: Vec<pb::Proof> = printed["proofs"]
        .as_array()
        .expect("a proofs array")
        .iter()
        .map(|proof| {
            assert_eq!(proof["method"], "saml", "{proof}");
            pb::Proof {
                pod_id: text(&proof["pod_id"]),
                kind: Some(pb::proof::Kind::Saml(pb::SamlProof {
                    saml_response: text(&proof["saml_response"]),
                    relay_state: text(&proof["relay_state"]),
                })),
            }
        })
        .collect();
    assert_eq!(proofs.len(), 2, "{stdout}");

    for (pod, issued, proof) in [(&pod_a, &issued_a, &proofs[0]), (&pod_b, &issued_b, &proofs[1])] {
        let identity = pod.verify(issued, proof).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(identity.name_id, SAML_ALICE, "pod {}", proof.pod_id);
    }
    assert!(env.daemon.pending().await.is_empty());
    browser.close().await;
}

fn text(value: &serde_json::Value) -> String {
    value.as_str().unwrap_or_else(|| panic!("{value} is not a string")).to_owned()
}
