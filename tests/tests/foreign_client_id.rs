//! A Pod of another auth environment: its client id is not the one of the
//! request's environment, so the daemon refuses the request before it asks
//! the IdP for anything or opens a browser.
//!
//! The daemon's browser is a recorder script; a request the daemon accepts
//! afterwards shows the recorder works, and that nothing was opened before.

use podauth::methods::{OIDC_AUTH_CODE, OIDC_DEVICE_CODE};
use podauth::v1 as pb;
use podauth_tests::request::{self, device_code_proof};
use podauth_tests::{
    BOB, Browser, BrowserRecorder, Daemon, DaemonOptions, Fixture, LOCAL_CLIENT_ID,
    OTHER_CLIENT_ID, OTHER_ENVIRONMENT, Pod, ProveRun, Provider,
};
use tonic::Code;

/// Pod `pod-a` of this environment and `pod-b` of `client_id`'s.
fn mixed_request(method: &str, client_id: &str) -> pb::ProveRequest {
    let mut request = request::request(method, &["pod-a"], LOCAL_CLIENT_ID);
    request.challenges.push(podauth::oidc_challenge("pod-b", client_id));
    request.open_browser = Some(true);
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_id_of_another_environment_is_refused_before_any_browser_opens() {
    let fixture = Fixture::new("foreign_client_id");
    let provider = Provider::start(&fixture).await;
    let recorder = BrowserRecorder::create(&fixture);
    let options = DaemonOptions { browser: Some(recorder.command()), ..DaemonOptions::default() };
    let daemon = Daemon::start_with(&fixture, Some(&provider), options).await;
    let mut client = daemon.client().await;

    for method in [OIDC_AUTH_CODE, OIDC_DEVICE_CODE] {
        let refused = ProveRun::start(&mut client, mixed_request(method, OTHER_CLIENT_ID)).await;
        let status = refused.expect_err("a foreign client id is refused up front");
        assert_eq!(status.code(), Code::PermissionDenied, "{method}: {status:?}");
        let message = status.message();
        for part in ["pod-b", OTHER_CLIENT_ID, "\"local\""] {
            assert!(message.contains(part), "{method}: {part} missing from {message}");
        }
    }
    assert!(daemon.pending().await.is_empty(), "nothing was registered");
    assert_eq!(recorder.urls(), Vec::<String>::new(), "no browser was opened");

    // A request the daemon accepts opens the recorder at once: had either
    // refused request opened it, its URL would stand before this one.
    let mut control = request::auth_code(&["pod-a"]);
    control.open_browser = Some(true);
    let mut run = ProveRun::started(&mut client, control).await;
    let action = run.first_action().await;
    assert_eq!(recorder.wait_for(1).await, [action.url]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_environment_accepts_its_own_client_id_only() {
    let fixture = Fixture::new("other_environment");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;
    let mut client = daemon.client().await;

    let mut wrong = request::device_code(&["pod-a"]);
    wrong.environment = OTHER_ENVIRONMENT.to_owned();
    let status =
        ProveRun::start(&mut client, wrong).await.expect_err("local's client id is foreign there");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains(LOCAL_CLIENT_ID), "{}", status.message());

    let mut right = request::request(OIDC_DEVICE_CODE, &["pod-a"], OTHER_CLIENT_ID);
    right.environment = OTHER_ENVIRONMENT.to_owned();
    let mut run = ProveRun::started(&mut client, right).await;
    let proofs = run.proofs().await;
    let action = run.user_actions[0].clone();
    assert!(!device_code_proof(&proofs[0]).device_code.is_empty());

    let browser = Browser::start(&fixture).await;
    browser.approve_device(&action.url, &action.user_code, BOB).await;
    browser.close().await;
    let identity = Pod::new(&provider, OTHER_CLIENT_ID).accept(&proofs[0]).await.unwrap();
    assert_eq!((identity.sub.as_str(), identity.client_id.as_str()), (BOB, OTHER_CLIENT_ID));
}
