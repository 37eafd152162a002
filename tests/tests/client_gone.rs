//! A client that goes away mid-request, killed or simply gone: the daemon
//! withdraws its pending challenges at once, so `Status` lists nothing and
//! a late callback for them is refused.

use std::process::Stdio;
use std::time::Duration;

use podauth_tests::fixture::{eventually, within};
use podauth_tests::request::{self, state_of};
use podauth_tests::{Daemon, Fixture, LOCAL_CLIENT_ID, ProveRun, Provider, cli, loopback};
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long the daemon may take to notice a departed client.
const NOTICE_WITHIN: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_killed_mid_request_leaves_no_pending_entry() {
    let fixture = Fixture::new("cli_killed");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;

    let mut command = cli::command(daemon.socket());
    command
        .args(["prove", "--method", "oidc-auth-code", "--no-browser"])
        .args(["--pod", "pod-a", "--pod", "pod-b", "--client-id", LOCAL_CLIENT_ID])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start podauth prove");

    // The command prints the URL to open once the request waits; its
    // stderr stays open (a closed pipe would end it another way).
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = BufReader::new(stderr).lines();
    let url = within(Duration::from_secs(30), "the URL from podauth prove", async {
        while let Some(line) = lines.next_line().await.expect("read podauth's stderr") {
            if line.trim().starts_with("http://") {
                return line.trim().to_owned();
            }
        }
        panic!("podauth prove ended without printing a URL");
    })
    .await;
    let pending = daemon.pending().await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].waiting_pod_ids, ["pod-a", "pod-b"]);

    assert!(child.try_wait().expect("poll podauth").is_none(), "podauth still waits");
    child.kill().await.expect("SIGKILL podauth prove");
    drop(lines);
    daemon.wait_until_nothing_pending(NOTICE_WITHIN).await;
    assert!(daemon.log().contains("client went away"), "{}", daemon.log());

    let late = loopback::forged_code(&daemon, &state_of(&url)).await;
    assert_eq!(late.status, 400, "the withdrawn state is unknown: {late:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_stream_leaves_no_pending_entry_and_spares_the_others() {
    let fixture = Fixture::new("stream_dropped");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;

    let mut leaving_client = daemon.client().await;
    let mut leaving = ProveRun::started(&mut leaving_client, request::auth_code(&["pod-a"])).await;
    leaving.first_action().await;
    let mut staying_client = daemon.client().await;
    let mut staying = ProveRun::started(&mut staying_client, request::auth_code(&["pod-b"])).await;
    staying.first_action().await;
    assert_eq!(daemon.pending().await.len(), 2);

    drop(leaving);
    drop(leaving_client);
    let what = "the departed client's request to go";
    let left = eventually(NOTICE_WITHIN, what, || async {
        let waiting = daemon.waiting().await;
        (waiting.len() == 1).then_some(waiting)
    })
    .await;
    assert_eq!(left[0].1, ["pod-b"], "the other request still waits");
}
