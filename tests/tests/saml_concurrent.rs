//! `saml` beside the two OIDC methods in one daemon: eight clients on their
//! own connections, three by SAML, three by auth code and two by device
//! code, all in flight together through the one callback port. Each user
//! signs in in a browser of their own, and every Pod, SAML or OIDC, accepts
//! its proof and finds that user.

// A failed step is a failed test: panicking with a message that names the
// step is how a test reports.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use futures_util::future::join_all;
use podauth::methods::{OIDC_AUTH_CODE, OIDC_DEVICE_CODE, SAML};
use podauth::v1 as pb;
use podauth_tests::request::{self, auth_code_proof};
use podauth_tests::saml_idp::{
    SAML_ALICE, SAML_ALICE_PASSWORD, SAML_BOB, SAML_BOB_PASSWORD, SAML_POD_ENTITY_IDS,
};
use podauth_tests::saml_pod::{IssuedRequest, SamlPod, prove_request};
use podauth_tests::{
    Browser, Fixture, LOCAL_CLIENT_ID, Pod, ProveRun, Provider, numbered_user, saml_env::SamlEnv,
};
use tokio::sync::Semaphore;

/// Clients proving at the same time.
const CLIENTS: usize = 8;
/// Chromium sessions open at once; more would only queue on two cores.
const BROWSERS_AT_ONCE: usize = 4;

/// The method of each client: SAML, auth code and device code in turn.
const METHODS: [&str; CLIENTS] = [
    SAML,
    OIDC_AUTH_CODE,
    OIDC_DEVICE_CODE,
    SAML,
    OIDC_AUTH_CODE,
    OIDC_DEVICE_CODE,
    SAML,
    OIDC_AUTH_CODE,
];

fn method_of(client: usize) -> &'static str {
    METHODS[client]
}

/// Device-code clients have one Pod; the others two.
fn pods_of(client: usize) -> Vec<String> {
    let count = if method_of(client) == OIDC_DEVICE_CODE { 1 } else { 2 };
    (0..count).map(|pod| format!("client{client}-pod{pod}")).collect()
}

/// The SAML user of a SAML client, with their password.
fn saml_user_of(client: usize) -> (&'static str, &'static str) {
    if client % 2 == 0 { (SAML_ALICE, SAML_ALICE_PASSWORD) } else { (SAML_BOB, SAML_BOB_PASSWORD) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saml_and_oidc_clients_prove_at_once_through_one_daemon() {
    let fixture = Fixture::new("saml_mixed_clients");
    let provider = Provider::start(&fixture).await;
    let env = SamlEnv::start_with(&fixture, Some(&provider)).await;
    let port = env.daemon.callback_port();
    let saml_pods: Vec<SamlPod> =
        SAML_POD_ENTITY_IDS.iter().map(|entity| SamlPod::new(&env.idp, entity, port)).collect();
    let oidc_pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    let started = Instant::now();

    // Every client connects and sends its request before anyone acts.
    let runs = join_all((0..CLIENTS).map(|client| {
        let (daemon, saml_pods) = (&env.daemon, &saml_pods);
        async move {
            let pods = pods_of(client);
            let issued: Vec<(usize, IssuedRequest)> = if method_of(client) == SAML {
                let pod_of = |n: usize| (client + n) % saml_pods.len();
                pods.iter()
                    .enumerate()
                    .map(|(n, id)| (pod_of(n), saml_pods[pod_of(n)].issue(id)))
                    .collect()
            } else {
                Vec::new()
            };
            let request = if issued.is_empty() {
                let pods: Vec<&str> = pods.iter().map(String::as_str).collect();
                request::request(method_of(client), &pods, LOCAL_CLIENT_ID)
            } else {
                prove_request(issued.iter().map(|(_, request)| request.challenge()))
            };
            let mut connection = daemon.client().await;
            let mut run = ProveRun::started(&mut connection, request).await;
            let action = run.first_action().await;
            (connection, run, action, issued)
        }
    }))
    .await;

    // Every browser request, SAML and auth code alike, waits at once.
    let pending = env.daemon.pending().await;
    let waiting = |method: &str| pending.iter().filter(|p| p.method == method).count();
    assert_eq!((waiting(SAML), waiting(OIDC_AUTH_CODE)), (3, 3), "{pending:?}");

    let browsers = Arc::new(Semaphore::new(BROWSERS_AT_ONCE));
    let pods = Pods { env: &env, saml: &saml_pods, oidc: &oidc_pod };
    let results = join_all(runs.into_iter().enumerate().map(
        |(client, (_connection, run, action, issued))| {
            let (browsers, fixture, pods) = (Arc::clone(&browsers), &fixture, &pods);
            async move {
                let permit = browsers.acquire().await.expect("the semaphore stays open");
                let browser = Browser::start(fixture).await;
                let method = method_of(client);
                let (proofs, users) = match method {
                    SAML => pods.saml_user(client, &browser, run, &action, &issued).await,
                    OIDC_AUTH_CODE => pods.auth_code_user(client, &browser, run, &action).await,
                    _ => pods.device_code_user(client, &browser, run, &action).await,
                };
                browser.close().await;
                drop(permit);

                let proven: Vec<&str> = proofs.iter().map(|p| p.pod_id.as_str()).collect();
                assert_eq!(proven, pods_of(client), "client {client} got one proof per Pod");
                (method, users.len())
            }
        },
    ))
    .await;

    let verified = |method: &str| -> usize {
        results.iter().filter(|(m, _)| *m == method).map(|(_, count)| count).sum()
    };
    assert_eq!(
        (verified(SAML), verified(OIDC_AUTH_CODE), verified(OIDC_DEVICE_CODE)),
        (6, 6, 2),
        "every Pod accepted its proof"
    );
    assert!(env.daemon.pending().await.is_empty(), "nothing is left waiting");
    eprintln!(
        "timing: {CLIENTS} mixed saml/oidc clients, 14 proofs verified: {:?}",
        started.elapsed()
    );
}

/// The Pods of every client, and the daemon whose port they all share.
struct Pods<'a> {
    env: &'a SamlEnv,
    saml: &'a [SamlPod],
    oidc: &'a Pod,
}

impl Pods<'_> {
    /// A SAML client's user signs in once for both Pods; each SAML Pod
    /// verifies its response. Returns the proofs and the users found.
    async fn saml_user(
        &self,
        client: usize,
        browser: &Browser,
        mut run: ProveRun,
        action: &pb::UserAction,
        issued: &[(usize, IssuedRequest)],
    ) -> (Vec<pb::Proof>, Vec<String>) {
        let (user, password) = saml_user_of(client);
        let page = self.env.idp.sign_in(browser, &action.url, user, password).await;
        assert!(page.message.contains("close this tab"), "client {client}: {page:?}");

        let proofs = run.proofs().await;
        let users: Vec<String> = proofs
            .iter()
            .zip(issued)
            .map(|(proof, (pod, request))| {
                let identity = self.saml[*pod]
                    .verify(request, proof)
                    .unwrap_or_else(|e| panic!("client {client}: {e}"));
                identity.name_id
            })
            .collect();
        assert!(users.iter().all(|name| name == user), "client {client}: {users:?}");
        (proofs, users)
    }

    /// An auth-code client's user signs in once for both Pods; the OIDC
    /// Pod redeems each code.
    async fn auth_code_user(
        &self,
        client: usize,
        browser: &Browser,
        mut run: ProveRun,
        action: &pb::UserAction,
    ) -> (Vec<pb::Proof>, Vec<String>) {
        let user = numbered_user(client);
        let page = browser.sign_in_chain(&action.url, &user).await;
        assert!(page.message.contains("close this tab"), "client {client}: {page:?}");

        let proofs = run.proofs().await;
        for proof in &proofs {
            let redirect_uri = &auth_code_proof(proof).redirect_uri;
            assert_eq!(*redirect_uri, self.env.daemon.redirect_uri(), "one port for all");
        }
        let users = self.oidc_users(&proofs, client, &user).await;
        (proofs, users)
    }

    /// A device-code client's user approves the code while the OIDC Pod
    /// polls.
    async fn device_code_user(
        &self,
        client: usize,
        browser: &Browser,
        mut run: ProveRun,
        action: &pb::UserAction,
    ) -> (Vec<pb::Proof>, Vec<String>) {
        let user = numbered_user(client);
        let proofs = run.proofs().await;
        let polling = self.oidc_users(&proofs, client, &user);
        let approving = browser.approve_device(&action.url, &action.user_code, &user);
        let (users, ()) = tokio::join!(polling, approving);
        (proofs, users)
    }

    /// The subjects the OIDC Pod finds in `proofs`, each checked to be
    /// `user`.
    async fn oidc_users(&self, proofs: &[pb::Proof], client: usize, user: &str) -> Vec<String> {
        let identities = join_all(proofs.iter().map(|proof| self.oidc.accept(proof))).await;
        identities
            .into_iter()
            .map(|identity| {
                let identity = identity.unwrap_or_else(|e| panic!("client {client}: {e}"));
                assert_eq!(identity.sub, user, "client {client}");
                identity.sub
            })
            .collect()
    }
}
