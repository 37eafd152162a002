//! Logging out ends the session everywhere: the refresh token is revoked at
//! the provider (which then refuses it), the entry leaves the store, the
//! keyring's and the file store's alike, and neither this daemon nor a new
//! one has a token to give. A second logout has nothing to do.

use podauth_tests::session::{self, ProviderSide};
use podauth_tests::{
    ALICE, Browser, Daemon, Fixture, LOCAL_CLIENT_ID, LOCAL_ENVIRONMENT, Provider, TokenStore,
};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_and_removes_the_keyring_entry() {
    let fixture = Fixture::new("logout_keyring");
    let store = TokenStore::keyring(&fixture).await;
    logout_ends_the_session(&fixture, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_and_removes_the_session_file() {
    let fixture = Fixture::new("logout_file");
    let store = TokenStore::file(&fixture);
    logout_ends_the_session(&fixture, &store).await;
}

async fn logout_ends_the_session(fixture: &Fixture, store: &TokenStore) {
    let provider = Provider::start(fixture).await;
    let options = store.daemon_options();
    let daemon = Daemon::start_with(fixture, Some(&provider), options.clone()).await;
    let browser = Browser::start(fixture).await;
    session::login_by_auth_code(&daemon, &browser, ALICE).await;
    browser.close().await;
    let stored = store.session(LOCAL_ENVIRONMENT).await.expect("the login is stored");

    let mut client = daemon.client().await;
    let outcome = client.logout("").await.expect("logout");
    assert!(outcome.was_logged_in && outcome.revoked, "{outcome:?}");
    assert!(store.entry(LOCAL_ENVIRONMENT).await.is_none(), "the entry left the store");
    if store.secret_service().is_none() {
        let dir = store.dir();
        let left: Vec<_> = std::fs::read_dir(dir).expect("the store directory").collect();
        assert!(left.is_empty(), "nothing is left in {}: {left:?}", dir.display());
    }

    // The provider saw the revocation: the refresh token is dead.
    let idp = ProviderSide::new(&provider);
    let refused = idp.refresh(&stored.refresh_token, LOCAL_CLIENT_ID).await;
    assert_eq!(refused, Err("invalid_grant".to_owned()), "the provider revoked the token");

    let error = client.token("").await.expect_err("no token after logout");
    assert_eq!(error.code(), Some(Code::Unauthenticated), "{error}");
    assert!(error.to_string().contains("not logged in"), "{error}");
    let again = client.logout("").await.expect("a second logout");
    assert!(!again.was_logged_in && !again.revoked, "{again:?}");

    daemon.kill().await;
    let daemon = Daemon::start_with(fixture, Some(&provider), options).await;
    let error = daemon.client().await.token("").await.expect_err("no session after a restart");
    assert_eq!(error.code(), Some(Code::Unauthenticated), "{error}");
}
