//! Tokens of several KiB round-trip byte for byte through both stores. The
//! user's login name, long and not ASCII, becomes the subject of the
//! provider's signed access token, which is then about 4 KiB; the session
//! document holding it and the name is over 6 KiB. After a restart the
//! daemon hands out exactly the token it was given, and the stored entry,
//! read back through `secret-tool` or from the file, holds the same bytes.

use podauth_tests::session::{self, ProviderSide};
use podauth_tests::{Browser, Daemon, Fixture, LOCAL_ENVIRONMENT, Provider, TokenStore};

/// Repeated to make the login name; multi-byte characters on purpose.
const NAME_PART: &str = "Zoë-名前-\"q\"-";
/// Repetitions of [`NAME_PART`].
const NAME_REPEATS: usize = 150;
/// The access token must be at least this long for the test to mean much.
const MIN_TOKEN_BYTES: usize = 3 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_tokens_round_trip_through_the_keyring() {
    let fixture = Fixture::new("store_bytes_keyring");
    let store = TokenStore::keyring(&fixture).await;
    large_tokens_round_trip(&fixture, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_tokens_round_trip_through_the_file_store() {
    let fixture = Fixture::new("store_bytes_file");
    let store = TokenStore::file(&fixture);
    large_tokens_round_trip(&fixture, &store).await;
}

async fn large_tokens_round_trip(fixture: &Fixture, store: &TokenStore) {
    let login = NAME_PART.repeat(NAME_REPEATS);
    let provider = Provider::start(fixture).await;
    let options = store.daemon_options();
    let daemon = Daemon::start_with(fixture, Some(&provider), options.clone()).await;
    let browser = Browser::start(fixture).await;
    let done = session::login_by_device_code(&daemon, &browser, &login).await;
    browser.close().await;
    assert_eq!(done.subject, login, "the subject comes back byte for byte");

    let before = daemon.client().await.token("").await.expect("a token after login");
    assert!(before.access_token.len() >= MIN_TOKEN_BYTES, "{} bytes", before.access_token.len());
    let entry = store.entry(LOCAL_ENVIRONMENT).await.expect("the login is stored");
    daemon.kill().await;

    let daemon = Daemon::start_with(fixture, Some(&provider), options).await;
    let after = daemon.client().await.token("").await.expect("a token after the restart");
    assert!(after.access_token == before.access_token, "the token changed on its way");
    assert_eq!(ProviderSide::new(&provider).subject_of(&after.access_token).await, login);

    let stored = store.session(LOCAL_ENVIRONMENT).await.expect("still stored");
    assert_eq!(stored.subject, login);
    assert!(stored.access_token.as_deref() == Some(before.access_token.as_str()));
    let reread = store.entry(LOCAL_ENVIRONMENT).await.expect("still stored");
    assert!(reread == entry, "reading changed the entry");
    eprintln!(
        "round trip through the {} store: access token {} bytes, stored entry {} bytes",
        store.backend(),
        after.access_token.len(),
        entry.len()
    );
}
