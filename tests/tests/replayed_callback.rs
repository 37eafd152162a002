//! A callback URL replayed after it succeeded (a reload, a stolen history
//! entry): the state is spent, so it gets a 400, and nothing changes: the
//! proof already handed out still redeems, and another client's request
//! still waits and completes.

use podauth_tests::request;
use podauth_tests::{
    ALICE, Browser, Daemon, Fixture, LOCAL_CLIENT_ID, Pod, ProveRun, Provider, loopback,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_a_used_callback_gets_400_and_changes_nothing() {
    let fixture = Fixture::new("replayed_callback");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;
    let browser = Browser::start(&fixture).await;

    let mut first_client = daemon.client().await;
    let mut first = ProveRun::started(&mut first_client, request::auth_code(&["pod-a"])).await;
    let first_url = first.first_action().await.url;
    let mut second_client = daemon.client().await;
    let mut second = ProveRun::started(&mut second_client, request::auth_code(&["pod-b"])).await;
    let second_url = second.first_action().await.url;

    // With one Pod the chain ends on the callback itself: the page's URL is
    // the callback that succeeded, code and state included.
    let page = browser.sign_in_chain(&first_url, ALICE).await;
    assert!(page.url.query().is_some_and(|q| q.contains("code=")), "{}", page.url);
    let proofs = first.proofs().await;
    let waiting = daemon.waiting().await;

    let replayed = loopback::get(page.url.as_str()).await;
    assert_eq!(replayed.status, 400, "{replayed:?}");
    let reloaded = browser.follow_chain(page.url.as_str()).await;
    assert!(reloaded.message.contains("already used"), "{reloaded:?}");
    assert_eq!(daemon.waiting().await, waiting, "the other request is untouched");
    assert_eq!(waiting.len(), 1, "{waiting:?}");

    // The replay consumed nothing at the IdP either.
    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    assert_eq!(pod.accept(&proofs[0]).await.unwrap_or_else(|e| panic!("{e}")).sub, ALICE);

    let page = browser.follow_chain(&second_url).await;
    assert!(page.message.contains("close this tab"), "{page:?}");
    let proofs = second.proofs().await;
    assert_eq!(pod.accept(&proofs[0]).await.unwrap_or_else(|e| panic!("{e}")).sub, ALICE);
    browser.close().await;
}
