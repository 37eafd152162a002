//! A session the provider no longer honours ends cleanly: when a refresh is
//! refused with `invalid_grant` (the grant was revoked, or the refresh
//! token was used by someone else and the provider revoked the grant as a
//! replay), `GetToken` answers UNAUTHENTICATED with a 'log in again'
//! message, never a stale token, and the session is gone from memory and
//! from the store.

use podauth_tests::session::{self, ProviderSide};
use podauth_tests::{
    ALICE, Browser, Daemon, Fixture, LOCAL_CLIENT_ID, LOCAL_ENVIRONMENT, Provider, TokenStore,
};
use tonic::Code;

/// Larger than any access token's lifetime: every `GetToken` refreshes.
const ALWAYS_DUE_MARGIN_SECONDS: u64 = 7 * 24 * 3600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_asks_to_log_in_again_and_clears_the_keyring() {
    let fixture = Fixture::new("invalid_grant_revoked");
    let store = TokenStore::keyring(&fixture).await;
    let (provider, daemon) = logged_in(&fixture, &store).await;

    let stored = store.session(LOCAL_ENVIRONMENT).await.expect("the login is stored");
    ProviderSide::new(&provider).revoke(&stored.refresh_token, LOCAL_CLIENT_ID).await;

    ends_with_log_in_again(&daemon, &store).await;
    assert_eq!(session::refused_refreshes(&provider).await, 1, "one refused refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_used_elsewhere_ends_the_file_session() {
    let fixture = Fixture::new("invalid_grant_replayed");
    let store = TokenStore::file(&fixture);
    let (provider, daemon) = logged_in(&fixture, &store).await;

    // A copy of the refresh token is used behind the daemon's back; the
    // daemon's own use of it is then a replay.
    let stored = store.session(LOCAL_ENVIRONMENT).await.expect("the login is stored");
    let idp = ProviderSide::new(&provider);
    idp.refresh(&stored.refresh_token, LOCAL_CLIENT_ID).await.expect("the copy works once");

    ends_with_log_in_again(&daemon, &store).await;
    // The store held the same token, so there was nothing newer to retry.
    assert_eq!(session::refused_refreshes(&provider).await, 1, "no retry with a known token");
}

/// A provider, a daemon whose every `GetToken` refreshes, and a login.
async fn logged_in(fixture: &Fixture, store: &TokenStore) -> (Provider, Daemon) {
    let provider = Provider::start(fixture).await;
    let mut options = store.daemon_options();
    options.config_keys.push(format!("refresh_margin_seconds = {ALWAYS_DUE_MARGIN_SECONDS}"));
    let daemon = Daemon::start_with(fixture, Some(&provider), options).await;
    let browser = Browser::start(fixture).await;
    session::login_by_device_code(&daemon, &browser, ALICE).await;
    browser.close().await;

    daemon.client().await.token("").await.expect("the session refreshes before the refusal");
    (provider, daemon)
}

async fn ends_with_log_in_again(daemon: &Daemon, store: &TokenStore) {
    let mut client = daemon.client().await;
    let refused = client.token("").await.expect_err("no token from a refused session");
    assert_eq!(refused.code(), Some(Code::Unauthenticated), "{refused}");
    let message = refused.to_string();
    assert!(message.contains("log in again"), "{message}");
    assert!(message.contains("invalid_grant"), "says what the provider said: {message}");
    assert!(message.contains(LOCAL_ENVIRONMENT), "names the environment: {message}");

    assert!(store.entry(LOCAL_ENVIRONMENT).await.is_none(), "the stored session is cleared");
    assert!(daemon.status().await.sessions.is_empty(), "and forgotten in memory");
    let again = client.token("").await.expect_err("still no token");
    assert_eq!(again.code(), Some(Code::Unauthenticated), "{again}");
    assert!(again.to_string().contains("not logged in"), "{again}");
}
