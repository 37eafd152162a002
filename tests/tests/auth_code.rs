//! `oidc-auth-code` end to end: the daemon hands out authorize URLs, the
//! user signs in once in Chromium, the loopback server collects one code per
//! Pod, and each Pod redeems its code and finds the user's login as the
//! token's subject.

use std::collections::HashSet;
use std::time::Instant;

use podauth_tests::request::{self, auth_code_proof, query_param};
use podauth_tests::{
    ALICE, Browser, Daemon, Fixture, LOCAL_CLIENT_ID, PROOF_AUDIENCE, Pod, ProveRun, Provider,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_pod_gets_a_code_that_proves_the_signed_in_user() {
    let fixture = Fixture::new("auth_code_one_pod");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;
    let browser = Browser::start(&fixture).await;
    let started = Instant::now();

    let mut client = daemon.client().await;
    let mut run = ProveRun::started(&mut client, request::auth_code(&["pod-a"])).await;
    let action = run.first_action().await;
    assert_eq!(action.pod_ids, ["pod-a"]);
    assert!(!action.browser_opened, "the request asked for no browser");

    // The authorize URL carries everything RFC 7636 and the design ask for.
    let url = &action.url;
    assert!(url.starts_with(&provider.url("/auth").to_string()), "{url}");
    for (name, value) in [
        ("response_type", "code"),
        ("client_id", LOCAL_CLIENT_ID),
        ("audience", PROOF_AUDIENCE),
        ("scope", "execute:task"),
        ("code_challenge_method", "S256"),
    ] {
        assert_eq!(query_param(url, name).as_deref(), Some(value), "{name} in {url}");
    }
    assert_eq!(query_param(url, "redirect_uri"), Some(daemon.redirect_uri()));
    assert!(query_param(url, "code_challenge").is_some_and(|c| c.len() == 43), "{url}");

    let page = browser.sign_in_chain(url, ALICE).await;
    assert!(page.message.contains("close this tab"), "{page:?}");
    let proofs = run.proofs().await;
    assert_eq!(proofs.len(), 1);
    let proof = auth_code_proof(&proofs[0]);
    assert_eq!(proof.redirect_uri, daemon.redirect_uri());
    assert!((43..=128).contains(&proof.code_verifier.len()), "verifier length");

    let identity = Pod::new(&provider, LOCAL_CLIENT_ID).accept(&proofs[0]).await.unwrap();
    assert_eq!(identity.sub, ALICE);
    assert_eq!(identity.client_id, LOCAL_CLIENT_ID);
    eprintln!(
        "timing: auth-code proof for 1 pod, request to verified token: {:?}",
        started.elapsed()
    );

    assert!(daemon.pending().await.is_empty(), "nothing waits once the proof is out");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_pods_are_answered_by_one_browser_visit() {
    let fixture = Fixture::new("auth_code_three_pods");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;
    let browser = Browser::start(&fixture).await;
    let pods = ["pod-a", "pod-b", "pod-c"];

    let mut client = daemon.client().await;
    let mut run = ProveRun::started(&mut client, request::auth_code(&pods)).await;
    let action = run.first_action().await;
    assert_eq!(action.pod_ids, pods, "one action answers the whole chain");

    let pending = daemon.pending().await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].waiting_pod_ids, pods);

    // One sign-in; the provider then answers the other two Pods by redirect
    // alone, and the last callback shows the closing page.
    let page = browser.sign_in_chain(&action.url, ALICE).await;
    assert!(page.message.contains("You may close this tab"), "{page:?}");

    let proofs = run.proofs().await;
    assert_eq!(run.user_actions.len(), 1, "no second action for the same visit");
    let proven: Vec<&str> = proofs.iter().map(|p| p.pod_id.as_str()).collect();
    assert_eq!(proven, pods);

    // Every Pod has its own code and verifier.
    let codes: HashSet<&str> =
        proofs.iter().map(|p| auth_code_proof(p).auth_code.as_str()).collect();
    let verifiers: HashSet<&str> =
        proofs.iter().map(|p| auth_code_proof(p).code_verifier.as_str()).collect();
    assert_eq!((codes.len(), verifiers.len()), (3, 3));

    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    for proof in &proofs {
        let identity = pod.accept(proof).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(identity.sub, ALICE, "pod {}", proof.pod_id);
    }
    assert_eq!(provider.token_requests("authorization_code").await, 3);
    assert!(daemon.pending().await.is_empty());
    browser.close().await;
}
