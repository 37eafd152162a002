//! The daemon opens the browser itself when the client lets it: the
//! configured command gets the authorize URL (auth code) or each
//! verification page (device code); with `open_browser = false` it gets
//! nothing; and a command that does not exist is no error, because the
//! client has the URL anyway.

use std::collections::BTreeSet;

use podauth_tests::request;
use podauth_tests::{
    ALICE, Browser, BrowserRecorder, Daemon, DaemonOptions, Fixture, LOCAL_CLIENT_ID, Pod,
    ProveRun, Provider,
};

/// A browser command that names no program.
const MISSING_BROWSER: &str = "/nonexistent/podauth-test-browser";

async fn daemon_with_browser(fixture: &Fixture, provider: &Provider, browser: String) -> Daemon {
    let options = DaemonOptions { browser: Some(browser), ..DaemonOptions::default() };
    Daemon::start_with(fixture, Some(provider), options).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_command_gets_the_authorize_url() {
    let fixture = Fixture::new("opens_authorize_url");
    let provider = Provider::start(&fixture).await;
    let recorder = BrowserRecorder::create(&fixture);
    let daemon = daemon_with_browser(&fixture, &provider, recorder.command()).await;

    let mut client = daemon.client().await;
    let mut request = request::auth_code(&["pod-a", "pod-b"]);
    request.open_browser = None; // unset means yes
    let mut run = ProveRun::started(&mut client, request).await;
    let action = run.first_action().await;
    assert!(action.browser_opened, "{action:?}");
    let opened = recorder.wait_for(1).await;
    assert_eq!(opened, std::slice::from_ref(&action.url), "the first Pod's authorize URL, once");

    // What was opened is the real thing: signing in there proves both Pods.
    let browser = Browser::start(&fixture).await;
    browser.sign_in_chain(&opened[0], ALICE).await;
    browser.close().await;
    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    for proof in run.proofs().await {
        assert_eq!(pod.accept(&proof).await.unwrap_or_else(|e| panic!("{e}")).sub, ALICE);
    }
    assert_eq!(recorder.urls().len(), 1, "the chain opened nothing more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_command_gets_each_device_page() {
    let fixture = Fixture::new("opens_device_pages");
    let provider = Provider::start(&fixture).await;
    let recorder = BrowserRecorder::create(&fixture);
    let daemon = daemon_with_browser(&fixture, &provider, recorder.command()).await;

    let mut client = daemon.client().await;
    let mut request = request::device_code(&["pod-a", "pod-b"]);
    request.open_browser = Some(true);
    let mut run = ProveRun::started(&mut client, request).await;
    run.proofs().await;

    assert!(run.user_actions.iter().all(|a| a.browser_opened), "{:?}", run.user_actions);
    let expected: BTreeSet<String> = run.user_actions.iter().map(|a| a.url.clone()).collect();
    let opened: BTreeSet<String> = recorder.wait_for(2).await.into_iter().collect();
    assert_eq!(opened, expected, "each Pod's verification_uri_complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_browser_is_opened_when_the_client_says_so() {
    let fixture = Fixture::new("opens_nothing");
    let provider = Provider::start(&fixture).await;
    let recorder = BrowserRecorder::create(&fixture);
    let daemon = daemon_with_browser(&fixture, &provider, recorder.command()).await;
    let mut client = daemon.client().await;

    let mut quiet = ProveRun::started(&mut client, request::auth_code(&["pod-a"])).await;
    assert!(!quiet.first_action().await.browser_opened);
    let mut quiet_device = ProveRun::started(&mut client, request::device_code(&["pod-b"])).await;
    quiet_device.proofs().await;
    assert!(!quiet_device.user_actions[0].browser_opened);

    // A request that may open shows the recorder works and was not called
    // before: its URL is the only one.
    let mut control = request::auth_code(&["pod-c"]);
    control.open_browser = Some(true);
    let mut control = ProveRun::started(&mut client, control).await;
    let action = control.first_action().await;
    assert_eq!(recorder.wait_for(1).await, [action.url]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_browser_program_is_not_an_error() {
    let fixture = Fixture::new("missing_browser");
    let provider = Provider::start(&fixture).await;
    let daemon = daemon_with_browser(&fixture, &provider, MISSING_BROWSER.to_owned()).await;

    let mut client = daemon.client().await;
    let mut request = request::auth_code(&["pod-a"]);
    request.open_browser = Some(true);
    let mut run = ProveRun::started(&mut client, request).await;
    let action = run.first_action().await;
    assert!(!action.browser_opened, "{action:?}");

    // The user opens the URL by hand and the request completes.
    let browser = Browser::start(&fixture).await;
    browser.sign_in_chain(&action.url, ALICE).await;
    browser.close().await;
    let proofs = run.proofs().await;
    let identity = Pod::new(&provider, LOCAL_CLIENT_ID).accept(&proofs[0]).await.unwrap();
    assert_eq!(identity.sub, ALICE);
}
