//! The IdP's redirect may name `localhost`, `127.0.0.1` or `[::1]` (the
//! IdP lists whichever the user configures); the whole auth-code chain
//! works the same over each, IPv6 included.

use podauth_tests::fixture::ipv6_loopback;
use podauth_tests::request::{self, auth_code_proof, query_param};
use podauth_tests::{
    ALICE, Browser, Daemon, DaemonOptions, Fixture, LOCAL_CLIENT_ID, Pod, ProveRun, Provider,
};

/// Proves two Pods with `redirect_host = host` and checks that the browser
/// came back to that host.
async fn chain_through(test: &str, host: &str, url_host: &str) {
    let fixture = Fixture::new(test);
    let provider = Provider::start(&fixture).await;
    let options =
        DaemonOptions { redirect_host: Some(host.to_owned()), ..DaemonOptions::default() };
    let daemon = Daemon::start_with(&fixture, Some(&provider), options).await;
    let expected_redirect =
        format!("http://{url_host}:{}/api/auth/callback/auth0", daemon.callback_port());
    assert_eq!(daemon.redirect_uri(), expected_redirect);

    let mut client = daemon.client().await;
    let mut run = ProveRun::started(&mut client, request::auth_code(&["pod-a", "pod-b"])).await;
    let action = run.first_action().await;
    assert_eq!(
        query_param(&action.url, "redirect_uri").as_deref(),
        Some(expected_redirect.as_str())
    );

    let browser = Browser::start(&fixture).await;
    let page = browser.sign_in_chain(&action.url, ALICE).await;
    browser.close().await;
    assert_eq!(page.url.host_str(), Some(url_host), "the last callback came over {url_host}");
    assert!(page.message.contains("close this tab"), "{page:?}");

    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    for proof in run.proofs().await {
        assert_eq!(auth_code_proof(&proof).redirect_uri, expected_redirect);
        assert_eq!(pod.accept(&proof).await.unwrap_or_else(|e| panic!("{e}")).sub, ALICE);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_loopback_redirect_works() {
    assert!(ipv6_loopback(), "this test needs an IPv6 loopback address (::1)");
    chain_through("ipv6_redirect", "::1", "[::1]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv4_loopback_redirect_works() {
    chain_through("ipv4_redirect", "127.0.0.1", "127.0.0.1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localhost_redirect_works() {
    chain_through("localhost_redirect", "localhost", "localhost").await;
}
