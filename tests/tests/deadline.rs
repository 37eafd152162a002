//! A user who does not finish in time: the request ends with
//! `DeadlineExceeded` naming the Pods still waiting, nothing stays pending,
//! and a callback that comes after the deadline is refused.

use std::time::{Duration, Instant};

use podauth_tests::cli::{self, EXIT_PROOF_FAILED};
use podauth_tests::request::{self, state_of};
use podauth_tests::{
    Daemon, DaemonOptions, Fixture, LOCAL_CLIENT_ID, ProveRun, Provider, loopback,
};
use tonic::Code;

/// The deadline the tests ask for, in seconds.
const SHORT_DEADLINE: u32 = 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_fails_and_leaves_nothing_pending() {
    let fixture = Fixture::new("deadline_per_request");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;

    let mut client = daemon.client().await;
    let mut request = request::auth_code(&["pod-a", "pod-b"]);
    request.timeout_seconds = Some(SHORT_DEADLINE);
    let started = Instant::now();
    let mut run = ProveRun::started(&mut client, request).await;
    let state = state_of(&run.first_action().await.url);

    let pending = daemon.pending().await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert!(pending[0].seconds_left <= u64::from(SHORT_DEADLINE), "{pending:?}");

    let status = run.failure().await;
    let waited = started.elapsed();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("pod-a, pod-b"), "names the Pods: {}", status.message());
    let deadline = Duration::from_secs(u64::from(SHORT_DEADLINE));
    assert!(waited >= deadline && waited < deadline * 3, "failed after {waited:?}");
    assert!(daemon.pending().await.is_empty(), "the expired request is gone");

    let late = loopback::forged_code(&daemon, &state).await;
    assert_eq!(late.status, 400, "a callback after the deadline: {late:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_default_deadline_applies_to_the_command() {
    let fixture = Fixture::new("deadline_default");
    let provider = Provider::start(&fixture).await;
    let options = DaemonOptions {
        request_timeout_seconds: Some(u64::from(SHORT_DEADLINE)),
        ..DaemonOptions::default()
    };
    let daemon = Daemon::start_with(&fixture, Some(&provider), options).await;

    let args = [
        "prove",
        "--method",
        "oidc-auth-code",
        "--pod",
        "pod-a",
        "--client-id",
        LOCAL_CLIENT_ID,
        "--no-browser",
    ];
    let output = cli::run(daemon.socket(), &args).await;
    output.assert_code(EXIT_PROOF_FAILED);
    assert!(output.stderr.contains("timed out"), "{}", output.stderr);
    assert!(output.stderr.contains("pod-a"), "{}", output.stderr);
    assert!(daemon.pending().await.is_empty());
}
