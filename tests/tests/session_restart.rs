//! A session outlives its daemon: after a login, the daemon is killed and
//! started again on the same store, and the next `GetToken` answers with no
//! new login, through the OS keyring (a real Secret Service) and through the
//! file store alike. A persisted access token that is still valid comes
//! back byte for byte without a refresh; with `persist_access_tokens =
//! false` only the refresh token is stored, and the new daemon refreshes.

use podauth_tests::session::{self, ProviderSide};
use podauth_tests::{ALICE, Browser, Daemon, Fixture, LOCAL_ENVIRONMENT, Provider, TokenStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyring_session_survives_a_restart() {
    let fixture = Fixture::new("session_restart_keyring");
    let store = TokenStore::keyring(&fixture).await;
    survives_a_restart(&fixture, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_session_survives_a_restart() {
    let fixture = Fixture::new("session_restart_file");
    let store = TokenStore::file(&fixture);
    survives_a_restart(&fixture, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_only_access_tokens_are_refreshed_after_a_restart() {
    let fixture = Fixture::new("session_restart_memory");
    let provider = Provider::start(&fixture).await;
    let store = TokenStore::keyring(&fixture).await;
    let mut options = store.daemon_options();
    options.config_keys.push("persist_access_tokens = false".into());
    let daemon = Daemon::start_with(&fixture, Some(&provider), options.clone()).await;
    let browser = Browser::start(&fixture).await;
    session::login_by_device_code(&daemon, &browser, ALICE).await;
    browser.close().await;

    let before = daemon.client().await.token("").await.expect("a token after login");
    let stored = store.session(LOCAL_ENVIRONMENT).await.expect("the login is stored");
    assert_eq!(stored.access_token, None, "access tokens stay in memory");
    daemon.kill().await;

    let daemon = Daemon::start_with(&fixture, Some(&provider), options).await;
    let after = daemon.client().await.token("").await.expect("a token after the restart");
    assert_eq!(session::refreshes(&provider).await, 1, "the new daemon refreshes once");
    assert_ne!(after.access_token, before.access_token);
    assert_eq!(ProviderSide::new(&provider).subject_of(&after.access_token).await, ALICE);
}

async fn survives_a_restart(fixture: &Fixture, store: &TokenStore) {
    let provider = Provider::start(fixture).await;
    let options = store.daemon_options();
    let daemon = Daemon::start_with(fixture, Some(&provider), options.clone()).await;
    let browser = Browser::start(fixture).await;
    session::login_by_device_code(&daemon, &browser, ALICE).await;
    browser.close().await;

    let before = daemon.client().await.token("").await.expect("a token after login");
    let stored = store.session(LOCAL_ENVIRONMENT).await.expect("the login is stored");
    assert_eq!(stored.subject, ALICE);
    assert_eq!(stored.access_token.as_deref(), Some(before.access_token.as_str()));
    daemon.kill().await;

    let daemon = Daemon::start_with(fixture, Some(&provider), options).await;
    let after = daemon.client().await.token("").await.expect("a token after the restart");
    assert_eq!(after.access_token, before.access_token, "the stored token, byte for byte");
    assert_eq!(after.expires_at_unix, before.expires_at_unix);
    assert_eq!(session::refreshes(&provider).await, 0, "a valid token needs no refresh");

    let status = daemon.status().await;
    assert_eq!(status.store_backend, store.backend(), "{status:?}");
    let sessions: Vec<(&str, &str)> =
        status.sessions.iter().map(|s| (s.environment.as_str(), s.subject.as_str())).collect();
    assert_eq!(sessions, [(LOCAL_ENVIRONMENT, ALICE)]);
    if store.secret_service().is_some() {
        assert!(
            !store.file_path(LOCAL_ENVIRONMENT).exists(),
            "with the keyring in use nothing is written to the file store"
        );
    }
}
