//! One refresh for any number of callers: after one login (by device code
//! or by authorization code), 64 concurrent `GetToken` calls made when the
//! access token is due cause exactly one refresh at the provider, counted
//! there, and every caller gets the same new token, which the provider
//! vouches for. Until it is due, the token is served without a refresh.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use podauth::v1 as pb;
use podauth_tests::provider::ProviderOptions;
use podauth_tests::session::{self, ProviderSide};
use podauth_tests::{
    ALICE, BOB, Browser, Daemon, Fixture, LOCAL_ENVIRONMENT, Provider, TokenStore,
};
use tokio::sync::Barrier;

/// Lifetime of the provider's access tokens.
const ACCESS_TTL_SECONDS: u32 = 8;
/// The daemon refreshes when less than this is left: a fresh token is not
/// due, one that has lived three seconds is.
const REFRESH_MARGIN_SECONDS: u64 = 5;
/// Concurrent callers.
const CALLERS: usize = 64;

#[derive(Debug, Clone, Copy)]
enum LoginBy {
    DeviceCode,
    AuthCode,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_callers_after_a_device_code_login_share_one_refresh() {
    one_refresh_for_all("session_refresh_device", LoginBy::DeviceCode, ALICE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_callers_after_an_auth_code_login_share_one_refresh() {
    one_refresh_for_all("session_refresh_auth", LoginBy::AuthCode, BOB).await;
}

async fn one_refresh_for_all(name: &str, by: LoginBy, user: &str) {
    let fixture = Fixture::new(name);
    let options = ProviderOptions {
        access_token_ttl_seconds: ACCESS_TTL_SECONDS,
        ..ProviderOptions::default()
    };
    let provider = Provider::start_with(&fixture, options).await;
    let store = TokenStore::file(&fixture);
    let mut daemon_options = store.daemon_options();
    daemon_options.config_keys.push(format!("refresh_margin_seconds = {REFRESH_MARGIN_SECONDS}"));
    let daemon = Daemon::start_with(&fixture, Some(&provider), daemon_options).await;
    let browser = Browser::start(&fixture).await;
    let idp = ProviderSide::new(&provider);

    let done = match by {
        LoginBy::DeviceCode => session::login_by_device_code(&daemon, &browser, user).await,
        LoginBy::AuthCode => session::login_by_auth_code(&daemon, &browser, user).await,
    };
    browser.close().await;
    assert_eq!((done.environment.as_str(), done.subject.as_str()), (LOCAL_ENVIRONMENT, user));
    let logged_in = store.session(LOCAL_ENVIRONMENT).await.expect("the login is stored");

    // A fresh token is not due: served as it is.
    let first = daemon.client().await.token("").await.expect("a token after login");
    assert_eq!(session::refreshes(&provider).await, 0, "a fresh token needs no refresh");
    assert_eq!(idp.subject_of(&first.access_token).await, user);

    // Wait (not an assertion) until less than the margin is left.
    wait_until_unix(first.expires_at_unix - REFRESH_MARGIN_SECONDS as i64 + 1).await;
    let tokens = concurrent_tokens(&daemon, CALLERS).await;

    assert_eq!(session::refreshes(&provider).await, 1, "one refresh for {CALLERS} callers");
    let token = &tokens[0];
    assert!(tokens.iter().all(|t| t.access_token == token.access_token), "all got one token");
    assert_ne!(token.access_token, first.access_token, "the due token was replaced");
    assert!(token.expires_at_unix > first.expires_at_unix);
    assert_eq!(idp.subject_of(&token.access_token).await, user);

    // The rotated refresh token is what the store holds now.
    let stored = store.session(LOCAL_ENVIRONMENT).await.expect("the session stays stored");
    assert_ne!(stored.refresh_token, logged_in.refresh_token, "the provider rotates");
    assert_eq!(stored.access_token.as_deref(), Some(token.access_token.as_str()));
}

/// `callers` clients, each on its own connection, ask for a token at the
/// same moment.
async fn concurrent_tokens(daemon: &Daemon, callers: usize) -> Vec<pb::GetTokenResponse> {
    let mut clients = Vec::with_capacity(callers);
    for _ in 0..callers {
        clients.push(daemon.client().await);
    }
    let start = Arc::new(Barrier::new(callers));
    let calls: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                client.token("").await
            })
        })
        .collect();

    let mut tokens = Vec::with_capacity(callers);
    for call in calls {
        let answer = call.await.expect("a caller task ends");
        tokens.push(answer.unwrap_or_else(|e| panic!("a concurrent GetToken failed: {e}")));
    }
    tokens
}

async fn wait_until_unix(at: i64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let at = Duration::from_secs(u64::try_from(at).unwrap_or(0));
    tokio::time::sleep(at.saturating_sub(now)).await;
}
