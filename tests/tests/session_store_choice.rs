//! `token_store = "auto"` takes the OS keyring when a Secret Service
//! answers, and otherwise falls back to the file store, saying so and why
//! in `Status` and in `podauth status`. Sessions then go where it says: to
//! the keyring, or to a 0600 file in a 0700 directory.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use podauth_tests::cli::{self, EXIT_OK};
use podauth_tests::fixture::eventually;
use podauth_tests::keyring::SecretService;
use podauth_tests::token_store::session_key;
use podauth_tests::{
    ALICE, Browser, Daemon, DaemonOptions, Fixture, LOCAL_ENVIRONMENT, Provider, session,
};
use serde_json::Value;

/// What `Status` says before the store is opened.
const NOT_YET_OPENED: &str = "not yet opened";
/// Bound on the keyring probe after start.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_without_a_session_bus_uses_the_file_store_and_says_why() {
    let fixture = Fixture::new("store_choice_no_bus");
    let provider = Provider::start(&fixture).await;
    // A headless server: the bus address names a socket nobody listens on.
    let missing_bus = format!("unix:path={}", fixture.join("no-bus").display());
    let options = auto_options(&fixture, &missing_bus);
    let daemon = Daemon::start_with(&fixture, Some(&provider), options).await;

    let reason = probed(&daemon, "file").await;
    assert!(reason.contains("no usable OS keyring") && reason.contains("file store"), "{reason}");
    let printed = cli::run(daemon.socket(), &["status"]).await;
    printed.assert_code(EXIT_OK);
    let line = printed.stdout.lines().find(|l| l.starts_with("token store:")).unwrap_or_default();
    assert_eq!(line, format!("token store:   file ({reason})"), "{}", printed.stdout);

    let browser = Browser::start(&fixture).await;
    session::login_by_auth_code(&daemon, &browser, ALICE).await;
    browser.close().await;
    let file = state_dir(&fixture).join(format!("{}.json", session_key(LOCAL_ENVIRONMENT)));
    let file_mode = std::fs::metadata(&file).expect("the session file").mode() & 0o777;
    let dir_mode = std::fs::metadata(state_dir(&fixture)).expect("the directory").mode() & 0o777;
    assert_eq!((file_mode, dir_mode), (0o600, 0o700), "private to the user");
    daemon.client().await.token("").await.expect("the session works from the file store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_with_a_bus_but_no_secret_service_uses_the_file_store() {
    let fixture = Fixture::new("store_choice_no_service");
    let provider = Provider::start(&fixture).await;
    let bus = SecretService::bus_only(&fixture).await;
    let daemon =
        Daemon::start_with(&fixture, Some(&provider), auto_options(&fixture, bus.address())).await;

    let reason = probed(&daemon, "file").await;
    assert!(reason.contains("org.freedesktop.secrets"), "names what is missing: {reason}");
    let printed = cli::run(daemon.socket(), &["status", "--json"]).await;
    printed.assert_code(EXIT_OK);
    let status: Value = serde_json::from_str(&printed.stdout).expect("--json prints JSON");
    assert_eq!(status["store_backend"], "file", "{status}");
    assert_eq!(status["store_reason"], reason.as_str(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_with_a_secret_service_uses_the_keyring() {
    let fixture = Fixture::new("store_choice_keyring");
    let provider = Provider::start(&fixture).await;
    let keyring = SecretService::start(&fixture).await;
    let options = auto_options(&fixture, keyring.address());
    let daemon = Daemon::start_with(&fixture, Some(&provider), options).await;

    let reason = probed(&daemon, "secret-service").await;
    assert!(reason.contains("keyring answered"), "{reason}");
    let printed = cli::run(daemon.socket(), &["status"]).await;
    assert!(printed.stdout.contains(&format!("token store:   secret-service ({reason})")));

    let browser = Browser::start(&fixture).await;
    session::login_by_auth_code(&daemon, &browser, ALICE).await;
    browser.close().await;
    assert!(keyring.lookup(&session_key(LOCAL_ENVIRONMENT)).await.is_some(), "in the keyring");
    assert!(!state_dir(&fixture).exists(), "and nothing in the file store");
}

fn state_dir(fixture: &Fixture) -> PathBuf {
    fixture.join("state/sessions")
}

/// A daemon asked for `auto`, on the bus at `address`.
fn auto_options(fixture: &Fixture, address: &str) -> DaemonOptions {
    let env = [
        ("PODAUTH_TOKEN_STORE", "auto".to_owned()),
        ("PODAUTH_STATE_DIR", state_dir(fixture).display().to_string()),
        ("DBUS_SESSION_BUS_ADDRESS", address.to_owned()),
    ];
    let env = env.into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
    DaemonOptions { env, ..DaemonOptions::default() }
}

/// Waits for the daemon's keyring probe; checks the backend it chose and
/// returns the reason it gives.
async fn probed(daemon: &Daemon, backend: &str) -> String {
    let status = eventually(PROBE_TIMEOUT, "the store to be chosen", || async {
        let status = daemon.status().await;
        (status.store_backend != NOT_YET_OPENED).then_some(status)
    })
    .await;
    assert_eq!(status.store_backend, backend, "{status:?}");
    eprintln!("store: {} ({})", status.store_backend, status.store_reason);
    status.store_reason
}
