//! SIGTERM drains: requests still waiting for the browser fail at once
//! with the daemon's "stopping" error (to the client library and to the
//! `podauth` command alike), the daemon exits 0 within two seconds, and
//! the socket it bound is gone.

use std::process::Stdio;
use std::time::{Duration, Instant};

use podauth_tests::cli::{self, EXIT_OK};
use podauth_tests::fixture::{eventually, within};
use podauth_tests::request;
use podauth_tests::{Daemon, Fixture, LOCAL_CLIENT_ID, ProveRun, Provider};

/// How long the daemon may take from SIGTERM to its exit.
const EXIT_TIMEOUT: Duration = Duration::from_secs(2);
/// What a client is told when the daemon stops under it.
const STOPPING: &str = "podauthd is stopping; retry once it is back";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_requests_hear_stopping_and_the_daemon_exits_zero() {
    let fixture = Fixture::new("sigterm_pending");
    let provider = Provider::start(&fixture).await;
    let mut daemon = Daemon::start(&fixture, &provider).await;
    let socket = daemon.socket().to_owned();

    // One request through the client library, one through the command;
    // both wait for a browser that never comes.
    let mut client = daemon.client().await;
    let mut run = ProveRun::started(&mut client, request::auth_code(&["pod-a"])).await;
    run.first_action().await;
    let mut command = cli::command(&socket);
    command
        .args(["prove", "--method", "oidc-auth-code", "--pod", "pod-b"])
        .args(["--client-id", LOCAL_CLIENT_ID, "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let prove = command.spawn().expect("start podauth prove");
    eventually(Duration::from_secs(10), "both requests pending", || async {
        (daemon.pending().await.len() == 2).then_some(())
    })
    .await;

    daemon.signal("TERM");
    let signalled = Instant::now();

    let status = run.failure().await;
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert_eq!(status.message(), STOPPING);

    let output = within(Duration::from_secs(10), "podauth prove to end", prove.wait_with_output())
        .await
        .expect("wait for podauth prove");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(EXIT_OK), "{stderr}");
    assert!(stderr.contains(STOPPING), "the command says why: {stderr}");

    let exit = daemon.wait_exit(EXIT_TIMEOUT).await;
    let took = signalled.elapsed();
    assert_eq!(exit.code(), Some(0), "{exit}\n{}", daemon.log());
    assert!(took < EXIT_TIMEOUT, "exited {took:?} after SIGTERM");
    assert!(!socket.exists(), "{} is removed", socket.display());
    let log = daemon.log();
    assert!(log.contains("stopping") && log.contains("stopped"), "{log}");
    eprintln!("timing: SIGTERM with 2 pending requests to exit: {took:?}");
}
