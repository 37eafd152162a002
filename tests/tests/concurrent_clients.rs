//! Many clients at once through one daemon and one callback port: eight
//! clients, each on its own connection, half by auth code (two Pods each)
//! and half by device code, all in flight together; each user signs in in
//! a browser of their own, and every Pod finds its own user in its token.

use std::sync::Arc;
use std::time::Instant;

use futures_util::future::join_all;
use podauth::methods::{OIDC_AUTH_CODE, OIDC_DEVICE_CODE};
use podauth_tests::request::{self, auth_code_proof};
use podauth_tests::{
    Browser, Daemon, Fixture, LOCAL_CLIENT_ID, Pod, ProveRun, Provider, numbered_user,
};
use tokio::sync::Semaphore;

/// Clients proving at the same time.
const CLIENTS: usize = 8;
/// Chromium sessions open at once; more would only queue on two cores.
const BROWSERS_AT_ONCE: usize = 4;

fn method_of(client: usize) -> &'static str {
    if client % 2 == 0 { OIDC_AUTH_CODE } else { OIDC_DEVICE_CODE }
}

fn pods_of(client: usize) -> Vec<String> {
    let count = if method_of(client) == OIDC_AUTH_CODE { 2 } else { 1 };
    (0..count).map(|pod| format!("client{client}-pod{pod}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_clients_prove_at_once_through_one_daemon() {
    let fixture = Fixture::new("eight_clients");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;
    let started = Instant::now();

    // Every client connects and sends its request before anyone acts.
    let runs = join_all((0..CLIENTS).map(|client| {
        let daemon = &daemon;
        async move {
            let pods = pods_of(client);
            let pods: Vec<&str> = pods.iter().map(String::as_str).collect();
            let mut connection = daemon.client().await;
            let request = request::request(method_of(client), &pods, LOCAL_CLIENT_ID);
            let mut run = ProveRun::started(&mut connection, request).await;
            // One action per request: the chain's URL, or the one Pod's code.
            let action = run.first_action().await;
            (connection, run, action)
        }
    }))
    .await;

    // All auth-code requests wait at once; the device-code ones already
    // hold their codes.
    let pending = daemon.pending().await;
    let waiting_auth = pending.iter().filter(|p| p.method == OIDC_AUTH_CODE).count();
    assert_eq!(waiting_auth, CLIENTS / 2, "every auth-code request waits together: {pending:?}");

    let browsers = Arc::new(Semaphore::new(BROWSERS_AT_ONCE));
    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    let results =
        join_all(runs.into_iter().enumerate().map(|(client, (_connection, mut run, action))| {
            let browsers = Arc::clone(&browsers);
            let (fixture, daemon, pod) = (&fixture, &daemon, &pod);
            async move {
                let user = numbered_user(client);
                let permit = browsers.acquire().await.expect("the semaphore stays open");
                let browser = Browser::start(fixture).await;

                let (proofs, identities) = if method_of(client) == OIDC_AUTH_CODE {
                    let page = browser.sign_in_chain(&action.url, &user).await;
                    assert!(page.message.contains("close this tab"), "client {client}: {page:?}");
                    let proofs = run.proofs().await;
                    for proof in &proofs {
                        let redirect_uri = &auth_code_proof(proof).redirect_uri;
                        assert_eq!(
                            *redirect_uri,
                            daemon.redirect_uri(),
                            "one callback port for all"
                        );
                    }
                    let identities = join_all(proofs.iter().map(|proof| pod.accept(proof))).await;
                    (proofs, identities)
                } else {
                    // The Pod polls while the user approves.
                    let proofs = run.proofs().await;
                    let polling = join_all(proofs.iter().map(|proof| pod.accept(proof)));
                    let approving = browser.approve_device(&action.url, &action.user_code, &user);
                    let (identities, ()) = tokio::join!(polling, approving);
                    (proofs, identities)
                };
                browser.close().await;
                drop(permit);

                let proven: Vec<&str> = proofs.iter().map(|p| p.pod_id.as_str()).collect();
                assert_eq!(proven, pods_of(client), "client {client} got one proof per Pod");
                for identity in identities {
                    let identity = identity.unwrap_or_else(|e| panic!("client {client}: {e}"));
                    assert_eq!(identity.sub, user, "client {client}");
                }
                proofs.len()
            }
        }))
        .await;

    let proofs: usize = results.iter().sum();
    assert_eq!(proofs, 12, "four clients with two Pods and four with one");
    assert!(daemon.pending().await.is_empty(), "nothing is left waiting");
    eprintln!(
        "timing: {CLIENTS} concurrent clients, {proofs} proofs verified: {:?}",
        started.elapsed()
    );
}
