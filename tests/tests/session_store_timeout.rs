//! A keyring that does not answer costs seconds, not a hang. With the
//! Secret Service frozen (it keeps its bus name, and every call to it
//! waits, as when it sits on a password prompt nobody sees), `GetToken`
//! fails with the distinct timeout error within the configured time, again
//! on a second try, while `Status` and the other RPCs answer at once; when
//! the keyring answers again, so does the session, and a refreshed token
//! whose write timed out is stored then, so a restart keeps the session.
//! A locked keyring is a different, immediate error.

use std::time::{Duration, Instant};

use podauth_tests::fixture::{eventually, within};
use podauth_tests::session::{self, ProviderSide};
use podauth_tests::{ALICE, Browser, Daemon, Fixture, LOCAL_ENVIRONMENT, Provider, TokenStore};
use tonic::Code;

/// `store_timeout_seconds` of the daemon.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);
/// How much later than the timeout the error may come.
const TIMEOUT_SLACK: Duration = Duration::from_secs(2);
/// How fast the other RPCs must answer meanwhile.
const PROMPT: Duration = Duration::from_millis(500);
/// Bound on the session coming back once the keyring answers.
const RECOVERY: Duration = Duration::from_secs(15);
/// Larger than any access token's lifetime: every `GetToken` refreshes.
const ALWAYS_DUE_MARGIN_SECONDS: u64 = 7 * 24 * 3600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_keyring_gives_the_timeout_error_and_nothing_else_waits() {
    let fixture = Fixture::new("store_timeout_frozen");
    let (provider, store, options) = logged_in(&fixture).await;
    let keyring = store.secret_service().expect("a keyring store");

    // A new daemon must read the session from the keyring, which is frozen.
    keyring.freeze();
    let daemon = Daemon::start_with(&fixture, Some(&provider), options).await;
    let mut client = daemon.client().await;
    let asked = Instant::now();
    let waiting = tokio::spawn(async move { (client.token("").await, Instant::now()) });

    // Meanwhile every other RPC answers at once.
    let mut other = daemon.client().await;
    let status = within(PROMPT, "Status while the keyring hangs", other.status()).await;
    assert_eq!(status.expect("Status").store_backend, "secret-service");
    let methods = within(PROMPT, "ListMethods while the keyring hangs", other.methods()).await;
    assert_eq!(methods.expect("ListMethods").len(), 3);
    let unknown = within(PROMPT, "GetToken of an unknown environment", other.token("nowhere"))
        .await
        .expect_err("no such environment");
    assert_eq!(unknown.code(), Some(Code::InvalidArgument), "{unknown}");

    let limit = STORE_TIMEOUT + TIMEOUT_SLACK;
    let (answer, answered) = within(limit + PROMPT, "the hanging GetToken", waiting)
        .await
        .expect("the caller task ends");
    let took = answered - asked;
    assert_timed_out(answer.expect_err("no token from a frozen keyring"));
    assert!(took >= STORE_TIMEOUT && took <= limit, "the error came after {took:?}");

    // A second call is not stuck behind the first, abandoned one.
    let again = Instant::now();
    let mut client = daemon.client().await;
    assert_timed_out(client.token("").await.expect_err("still frozen"));
    assert!(again.elapsed() <= limit, "the second error came after {:?}", again.elapsed());

    // Once the keyring answers, the session is there as it was.
    keyring.thaw();
    let token = eventually(RECOVERY, "a token once the keyring answers", || {
        let mut client = client.clone();
        async move { client.token("").await.ok() }
    })
    .await;
    assert_eq!(ProviderSide::new(&provider).subject_of(&token.access_token).await, ALICE);
    eprintln!("timing: a frozen keyring failed GetToken after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_whose_write_timed_out_is_stored_once_the_keyring_answers() {
    let fixture = Fixture::new("store_timeout_write");
    let (provider, store, mut options) = logged_in(&fixture).await;
    let keyring = store.secret_service().expect("a keyring store");
    options.config_keys.push(format!("refresh_margin_seconds = {ALWAYS_DUE_MARGIN_SECONDS}"));
    let daemon = Daemon::start_with(&fixture, Some(&provider), options.clone()).await;
    let mut client = daemon.client().await;
    client.token("").await.expect("a refreshed token while the keyring answers");

    // The provider rotates the refresh token; storing it hangs.
    keyring.freeze();
    assert_timed_out(client.token("").await.expect_err("the rotated token cannot be stored"));
    assert_timed_out(client.token("").await.expect_err("nor on the next call"));
    keyring.thaw();

    // The held session is stored first, then refreshed again. The writes
    // abandoned while frozen finish as well; that they never undo a later
    // one is pinned by the store's unit test, where the order is forced.
    let token = eventually(RECOVERY, "a token once the keyring answers", || {
        let mut client = client.clone();
        async move { client.token("").await.ok() }
    })
    .await;
    daemon.kill().await;

    let daemon = Daemon::start_with(&fixture, Some(&provider), options).await;
    let after = daemon.client().await.token("").await.expect("the session outlives it all");
    assert_ne!(after.access_token, token.access_token, "refreshed once more");
    assert_eq!(session::refused_refreshes(&provider).await, 0, "no stale token was ever used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_keyring_is_a_distinct_immediate_error() {
    let fixture = Fixture::new("store_timeout_locked");
    let (provider, store, options) = logged_in(&fixture).await;
    let keyring = store.secret_service().expect("a keyring store");

    keyring.lock().await;
    let daemon = Daemon::start_with(&fixture, Some(&provider), options).await;
    let asked = Instant::now();
    let error = daemon.client().await.token("").await.expect_err("no token from a locked keyring");
    assert!(asked.elapsed() < STORE_TIMEOUT, "a refusal needs no timeout: {:?}", asked.elapsed());
    assert_eq!(error.code(), Some(Code::Unavailable), "{error}");
    let message = error.to_string();
    assert!(message.contains("secret-service store failed to read a session"), "{message}");
    assert!(message.to_lowercase().contains("locked"), "says why: {message}");
    assert!(!message.contains("did not answer"), "not the timeout error: {message}");
    assert!(store.entry(LOCAL_ENVIRONMENT).await.is_none(), "secret-tool cannot read it either");
}

/// A provider, a keyring store, a login, and the options of a daemon with
/// a short store timeout; the daemon that logged in is gone.
async fn logged_in(fixture: &Fixture) -> (Provider, TokenStore, podauth_tests::DaemonOptions) {
    let provider = Provider::start(fixture).await;
    let store = TokenStore::keyring(fixture).await;
    let mut options = store.daemon_options();
    options.config_keys.push(format!("store_timeout_seconds = {}", STORE_TIMEOUT.as_secs()));
    let daemon = Daemon::start_with(fixture, Some(&provider), options.clone()).await;
    let browser = Browser::start(fixture).await;
    session::login_by_device_code(&daemon, &browser, ALICE).await;
    browser.close().await;
    assert!(store.session(LOCAL_ENVIRONMENT).await.is_some(), "the login is stored");
    daemon.kill().await;
    (provider, store, options)
}

fn assert_timed_out(error: podauth::ClientError) {
    assert_eq!(error.code(), Some(Code::Unavailable), "{error}");
    let message = error.to_string();
    let within = format!("did not answer within {}s", STORE_TIMEOUT.as_secs());
    assert!(message.contains("secret-service store") && message.contains(&within), "{message}");
    assert!(message.contains("locked") && message.contains("password prompt"), "{message}");
}
