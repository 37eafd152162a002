//! `oidc-device-code` end to end: the daemon gets one device authorization
//! per Pod, the user confirms each code in Chromium, and each Pod polls the
//! token endpoint with its device code until it gets a token whose subject
//! is the user.

use std::collections::HashSet;
use std::time::Instant;

use podauth_tests::request::{self, device_code_proof};
use podauth_tests::{
    ALICE, BOB, Browser, Daemon, Fixture, LOCAL_CLIENT_ID, Pod, ProveRun, Provider,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_pod_polls_its_device_code_to_the_users_token() {
    let fixture = Fixture::new("device_code_one_pod");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;
    let browser = Browser::start(&fixture).await;
    let started = Instant::now();

    let mut client = daemon.client().await;
    let mut run = ProveRun::started(&mut client, request::device_code(&["pod-a"])).await;
    let proofs = run.proofs().await;
    let action = &run.user_actions[0];
    assert_eq!(action.pod_ids, ["pod-a"]);
    assert!(!action.user_code.is_empty(), "{action:?}");
    assert_eq!(action.verification_uri, provider.url("/device").to_string());
    assert!(action.url.contains(&format!("user_code={}", action.user_code)), "{action:?}");

    let proof = device_code_proof(&proofs[0]);
    assert_eq!(proof.interval_seconds, 1, "the provider's interval is passed on");
    assert!(proof.expires_at_unix > 0);

    // The Pod polls while the user approves, as it would in real life.
    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    let polling = tokio::spawn({
        let pod = pod.clone();
        let proof = proofs[0].clone();
        async move { pod.accept(&proof).await }
    });
    browser.approve_device(&action.url, &action.user_code, ALICE).await;
    let identity = polling.await.unwrap().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(identity.sub, ALICE);
    eprintln!(
        "timing: device-code proof for 1 pod, request to verified token: {:?}",
        started.elapsed()
    );

    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_pods_each_get_their_own_code() {
    let fixture = Fixture::new("device_code_three_pods");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;
    let browser = Browser::start(&fixture).await;
    let pods = ["pod-a", "pod-b", "pod-c"];

    let mut client = daemon.client().await;
    let mut run = ProveRun::started(&mut client, request::device_code(&pods)).await;
    let proofs = run.proofs().await;
    let actions = run.user_actions.clone();

    let acted_for: Vec<&str> =
        actions.iter().flat_map(|a| a.pod_ids.iter().map(String::as_str)).collect();
    assert_eq!(acted_for, pods, "one user action per Pod");
    let proven: Vec<&str> = proofs.iter().map(|p| p.pod_id.as_str()).collect();
    assert_eq!(proven, pods, "one proof per Pod");
    let codes: HashSet<&str> = actions.iter().map(|a| a.user_code.as_str()).collect();
    assert_eq!(codes.len(), 3, "every Pod has its own user code");
    assert!(daemon.pending().await.is_empty(), "device codes need no loopback server");

    // The first code by its complete URI (signing in), the second typed by
    // hand on the plain page, the third confirmed in the same session.
    browser.approve_device(&actions[0].url, &actions[0].user_code, ALICE).await;
    browser.enter_device_code(&actions[1].verification_uri, &actions[1].user_code, ALICE).await;
    browser.approve_device(&actions[2].url, &actions[2].user_code, ALICE).await;

    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    for proof in &proofs {
        let identity = pod.accept(proof).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(identity.sub, ALICE, "pod {}", proof.pod_id);
    }
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_code_reaches_its_pod_as_access_denied() {
    let fixture = Fixture::new("device_code_refused");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;
    let browser = Browser::start(&fixture).await;

    let mut client = daemon.client().await;
    let mut run = ProveRun::started(&mut client, request::device_code(&["pod-a", "pod-b"])).await;
    let proofs = run.proofs().await;
    let actions = run.user_actions.clone();

    // The user refuses pod-a's code and approves pod-b's: each Pod hears
    // its own answer.
    browser.refuse_device(&actions[0].url).await;
    browser.approve_device(&actions[1].url, &actions[1].user_code, BOB).await;

    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    let refused = pod.accept(&proofs[0]).await.expect_err("a refused code gives no token");
    assert_eq!(refused.oauth_error(), Some("access_denied"), "{refused}");
    assert_eq!(pod.accept(&proofs[1]).await.unwrap().sub, BOB);
    browser.close().await;
}
