//! Tokens never reach the daemon's log, at any level: a daemon run with
//! `RUST_LOG=trace` logs in (by authorization code with the keyring, by
//! device code with the file store), refreshes several times and logs out;
//! its whole log is then searched for every real secret value the test can
//! see: the authorization code, each access token (and each of its JWT
//! parts) and each refresh token the store held.

use std::collections::BTreeSet;

use podauth::methods::OIDC_AUTH_CODE;
use podauth_tests::session::{self, LoginRun};
use podauth_tests::{ALICE, Browser, Daemon, Fixture, LOCAL_ENVIRONMENT, Provider, TokenStore};

/// Larger than any access token's lifetime: every `GetToken` refreshes.
const ALWAYS_DUE_MARGIN_SECONDS: u64 = 7 * 24 * 3600;
/// Refreshes per test.
const REFRESHES: usize = 3;
/// Parts of secrets shorter than this are not searched for alone (a JWT
/// header is the same for every token and says nothing).
const MIN_PART_CHARS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyring_session_secrets_stay_out_of_trace_logs() {
    let fixture = Fixture::new("session_logs_keyring");
    let store = TokenStore::keyring(&fixture).await;
    secrets_stay_out_of_the_log(&fixture, &store, Login::AuthCode).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_session_secrets_stay_out_of_trace_logs() {
    let fixture = Fixture::new("session_logs_file");
    let store = TokenStore::file(&fixture);
    secrets_stay_out_of_the_log(&fixture, &store, Login::DeviceCode).await;
}

#[derive(Debug, Clone, Copy)]
enum Login {
    AuthCode,
    DeviceCode,
}

async fn secrets_stay_out_of_the_log(fixture: &Fixture, store: &TokenStore, login: Login) {
    let provider = Provider::start(fixture).await;
    let mut options = store.daemon_options();
    options.env.push(("RUST_LOG".into(), "trace".into()));
    options.config_keys.push(format!("refresh_margin_seconds = {ALWAYS_DUE_MARGIN_SECONDS}"));
    let daemon = Daemon::start_with(fixture, Some(&provider), options).await;
    let browser = Browser::start(fixture).await;
    let mut secrets = BTreeSet::new();

    match login {
        Login::AuthCode => {
            let mut client = daemon.client().await;
            let mut run = LoginRun::start(&mut client, OIDC_AUTH_CODE).await.expect("login");
            let action = run.user_action().await;
            let page = browser.sign_in_chain(&action.url, ALICE).await;
            run.finish().await.expect("the login ends");
            let code = page.url.query_pairs().find(|(name, _)| name == "code");
            secrets.insert(code.expect("the callback carried a code").1.into_owned());
        }
        Login::DeviceCode => {
            session::login_by_device_code(&daemon, &browser, ALICE).await;
        }
    }
    browser.close().await;
    remember_stored(store, &mut secrets).await;

    let mut client = daemon.client().await;
    for _ in 0..REFRESHES {
        let token = client.token("").await.expect("a refreshed token");
        secrets.insert(token.access_token);
        remember_stored(store, &mut secrets).await;
    }
    assert!(session::refreshes(&provider).await >= REFRESHES as u64);
    client.logout("").await.expect("logout");

    let log = daemon.log();
    assert!(log.contains(" TRACE "), "the daemon logged at trace level:\n{log}");
    for secret in &secrets {
        for part in std::iter::once(secret.as_str()).chain(secret.split('.')) {
            if part.len() >= MIN_PART_CHARS {
                assert!(!log.contains(part), "the log holds a secret ({} chars)", part.len());
            }
        }
    }
    eprintln!(
        "checked {} secret values against {} lines of trace log ({} store)",
        secrets.len(),
        log.lines().count(),
        store.backend()
    );
}

/// Adds the stored refresh and access tokens to `secrets`.
async fn remember_stored(store: &TokenStore, secrets: &mut BTreeSet<String>) {
    let stored = store.session(LOCAL_ENVIRONMENT).await.expect("a stored session");
    secrets.insert(stored.refresh_token);
    secrets.extend(stored.access_token);
}
