//! A user who refuses at the provider: the provider redirects with
//! `error=access_denied`, and the client hears it as a clear
//! `PermissionDenied` within a second of the click, while the browser shows
//! that the request failed.

use std::time::Duration;

use podauth_tests::request;
use podauth_tests::{Browser, Daemon, Fixture, ProveRun, Provider};
use tonic::Code;

/// How soon after the click the client must know.
const NOTICE_WITHIN: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_at_the_login_page_fails_the_request_within_a_second() {
    let fixture = Fixture::new("access_denied");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;
    let browser = Browser::start(&fixture).await;

    let mut client = daemon.client().await;
    let mut run = ProveRun::started(&mut client, request::auth_code(&["pod-a", "pod-b"])).await;
    let action = run.first_action().await;

    // Read the stream while the user clicks, and note when the error lands.
    let failure = tokio::spawn(async move {
        let status = run.failure().await;
        (status, std::time::Instant::now())
    });
    let (clicked, page) = browser.cancel_sign_in(&action.url).await;
    let (status, failed_at) = failure.await.expect("the reader task ends");

    let waited = failed_at.saturating_duration_since(clicked);
    assert!(waited < NOTICE_WITHIN, "the client heard of the refusal {waited:?} after the click");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let message = status.message();
    assert!(message.contains("access_denied"), "{message}");
    assert!(message.contains("End-User aborted interaction"), "the IdP's description: {message}");
    assert!(message.contains("pod-a"), "names the Pod: {message}");

    assert!(page.message.contains("failed"), "the browser is told too: {page:?}");
    assert!(daemon.pending().await.is_empty(), "the whole request, pod-b too, is gone");
    eprintln!("timing: access_denied reached the client {waited:?} after the click");
    browser.close().await;
}
