//! `Type=notify` readiness as systemd sees it: the daemon tells the
//! `NOTIFY_SOCKET` `READY=1` once, and only when its socket answers;
//! a SIGHUP is framed by `RELOADING=1` (with `MONOTONIC_USEC`) and
//! `READY=1`; SIGTERM says `STOPPING=1`, and the daemon exits 0.

use std::time::Duration;

use podauth_tests::notify::NotifySocket;
use podauth_tests::{Daemon, DaemonOptions, Fixture};

/// How long a daemon may take to start and say so.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a reload or a stop may take to be announced.
const ANNOUNCE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the daemon may take to exit after SIGTERM.
const EXIT_TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_reloading_and_stopping_reach_the_service_manager() {
    let fixture = Fixture::new("notify_lifecycle");
    let notify = NotifySocket::bind(&fixture);
    let options = DaemonOptions { env: vec![notify.env()], ..DaemonOptions::default() };
    let mut daemon = Daemon::launch(&fixture, None, options);

    // READY=1 is the first word, and the socket answers at that moment:
    // one Status call, no retry.
    let ready = notify.next(READY_TIMEOUT, "READY=1 from a starting podauthd").await;
    assert_eq!(ready.get("READY"), Some("1"), "first message {ready:?}\n{}", daemon.log());
    let status = daemon.status().await;
    assert_eq!(status.pid, daemon.pid());
    assert!(notify.queued().is_empty(), "READY=1 comes once");

    // A reload right after readiness: announced, and the daemon survives
    // it (a SIGHUP before the handler is installed would kill it).
    daemon.signal("HUP");
    let reloading = notify.next(ANNOUNCE_TIMEOUT, "RELOADING=1 after SIGHUP").await;
    assert_eq!(reloading.get("RELOADING"), Some("1"), "{reloading:?}");
    let usec = reloading.get("MONOTONIC_USEC").unwrap_or_else(|| panic!("{reloading:?}"));
    assert!(usec.parse::<u64>().is_ok_and(|usec| usec > 0), "MONOTONIC_USEC={usec}");
    let reloaded = notify.next(ANNOUNCE_TIMEOUT, "READY=1 after the reload").await;
    assert_eq!(reloaded.keys(), ["READY"], "{reloaded:?}");
    assert_eq!(daemon.status().await.pid, daemon.pid(), "serving after the reload");

    daemon.signal("TERM");
    let stopping = notify.next(ANNOUNCE_TIMEOUT, "STOPPING=1 after SIGTERM").await;
    assert_eq!(stopping.get("STOPPING"), Some("1"), "{stopping:?}");
    let exit = daemon.wait_exit(EXIT_TIMEOUT).await;
    assert_eq!(exit.code(), Some(0), "{}", daemon.log());
    assert!(notify.queued().is_empty(), "nothing after STOPPING=1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_term_right_after_ready_still_drains_and_exits_zero() {
    let fixture = Fixture::new("notify_early_term");
    let notify = NotifySocket::bind(&fixture);
    let options = DaemonOptions { env: vec![notify.env()], ..DaemonOptions::default() };
    let mut daemon = Daemon::launch(&fixture, None, options);

    // systemd may stop a unit the moment it is ready.
    let ready = notify.next(READY_TIMEOUT, "READY=1 from a starting podauthd").await;
    assert_eq!(ready.get("READY"), Some("1"), "{ready:?}");
    daemon.signal("TERM");

    let exit = daemon.wait_exit(EXIT_TIMEOUT).await;
    assert_eq!(exit.code(), Some(0), "killed by the signal instead: {exit}\n{}", daemon.log());
    let stopping = notify.next(ANNOUNCE_TIMEOUT, "STOPPING=1 after SIGTERM").await;
    assert_eq!(stopping.get("STOPPING"), Some("1"), "{stopping:?}");
    assert!(!daemon.socket().exists(), "the socket is removed");
}
