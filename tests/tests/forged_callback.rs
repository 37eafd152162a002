//! Callbacks the IdP never sent: a wrong or missing state, a malformed
//! query, an `error=` for a state nobody issued. Each gets a 400 page and
//! none disturbs the real request, which then completes in the browser.

use podauth_tests::request::{self, state_of};
use podauth_tests::{
    ALICE, Browser, Daemon, Fixture, LOCAL_CLIENT_ID, Pod, ProveRun, Provider, loopback,
};

/// A state the daemon never issued.
const FORGED_STATE: &str = "forged-state-7bq2Xk9LmP0wR4tY";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_callbacks_get_400_and_the_real_request_completes() {
    let fixture = Fixture::new("forged_callback");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;

    let mut client = daemon.client().await;
    let mut run = ProveRun::started(&mut client, request::auth_code(&["pod-a", "pod-b"])).await;
    let action = run.first_action().await;
    let state = state_of(&action.url);
    let before = daemon.waiting().await;

    let forged = loopback::forged_code(&daemon, FORGED_STATE).await;
    assert_eq!(forged.status, 400, "{forged:?}");
    assert!(forged.body.contains("unknown, expired or already used"), "{}", forged.body);

    // Neither an IdP error for a foreign state, nor malformed callbacks for
    // the real one, may end or consume anything.
    let real = url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>();
    for query in [
        format!("state={FORGED_STATE}&error=access_denied&error_description=forged"),
        "code=forged-code".to_owned(),
        format!("state={real}"),
        format!("state={real}&state={FORGED_STATE}&code=forged-code"),
        format!("state={real}&code={}", "x".repeat(5000)),
    ] {
        let answer = loopback::callback(&daemon, &query).await;
        assert_eq!(answer.status, 400, "{query}: {answer:?}");
    }

    let after = daemon.waiting().await;
    assert_eq!(after, before, "the pending request is untouched");
    assert_eq!(after[0].1, ["pod-a", "pod-b"]);

    let browser = Browser::start(&fixture).await;
    let page = browser.sign_in_chain(&action.url, ALICE).await;
    assert!(page.message.contains("close this tab"), "{page:?}");
    browser.close().await;

    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    for proof in run.proofs().await {
        assert_eq!(pod.accept(&proof).await.unwrap_or_else(|e| panic!("{e}")).sub, ALICE);
    }
    let log = daemon.log();
    assert!(!log.contains("forged-code"), "codes never reach the log:\n{log}");
}
