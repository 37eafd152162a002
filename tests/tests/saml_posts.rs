//! What the daemon's SAML assertion consumer service does with posts it
//! must not accept: a response carried back under another request's
//! RelayState, malformed forms, replays, oversized bodies, the wrong HTTP
//! method or content type, an OIDC state for a RelayState. Each gets a 4xx
//! page; a challenge that a bad post names keeps waiting unless the post
//! says why it can never be answered, and then the waiting client is told.

// A failed step is a failed test: panicking with a message that names the
// step is how a test reports.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use podauth_tests::request;
use podauth_tests::saml_acs::{Acs, forged_response, relay_state_of, with_relay_state};
use podauth_tests::saml_idp::{SAML_ALICE, SAML_ALICE_PASSWORD, SAML_POD_ENTITY_IDS};
use podauth_tests::saml_pod::{SamlPod, prove_request, saml_proof};
use podauth_tests::{Browser, Daemon, Fixture, ProveRun, Provider, loopback, saml_env::SamlEnv};

/// `podauthd::web::MAX_SAML_RESPONSE_BYTES`: the largest encoded
/// `SAMLResponse` the daemon reads.
const DAEMON_RESPONSE_LIMIT: usize = 4 * 1024 * 1024;
/// A body larger than the daemon reads at all (it stops at 16 MiB).
const UNREAD_BODY_BYTES: usize = 20 * 1024 * 1024;
/// A response as large as IdPs send for users in very many groups.
const LARGE_RESPONSE_BYTES: usize = 600 * 1024;

/// A post the ACS must refuse with 400, leaving the challenge waiting.
struct BadPost<'a> {
    /// What is wrong with it.
    what: &'a str,
    /// The form fields.
    form: Vec<(&'a str, &'a str)>,
    /// Words the daemon's page must say.
    says: &'a str,
}

/// The Pods still waiting, over every pending request of the daemon.
async fn waiting_pods(daemon: &Daemon) -> Vec<String> {
    daemon.pending().await.into_iter().flat_map(|request| request.waiting_pod_ids).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_under_another_requests_relay_state_is_refused() {
    let fixture = Fixture::new("saml_relay_swap");
    let (env, browser) = tokio::join!(SamlEnv::start(&fixture), Browser::start(&fixture));
    let pod = SamlPod::new(&env.idp, SAML_POD_ENTITY_IDS[0], env.daemon.callback_port());
    let (issued_a, issued_b) = (pod.issue("pod-a"), pod.issue("pod-b"));

    let (mut client_a, mut client_b) = (env.daemon.client().await, env.daemon.client().await);
    let mut run_a = ProveRun::started(&mut client_a, prove_request([issued_a.challenge()])).await;
    let mut run_b = ProveRun::started(&mut client_b, prove_request([issued_b.challenge()])).await;
    let url_a = run_a.first_action().await.url;
    let url_b = run_b.first_action().await.url;

    // The browser carries A's AuthnRequest with B's RelayState: the IdP
    // answers A's request and posts it back under B's RelayState.
    let crossed = with_relay_state(&url_a, &relay_state_of(&url_b));
    let page = env.idp.sign_in(&browser, &crossed, SAML_ALICE, SAML_ALICE_PASSWORD).await;
    assert_eq!(page.title, "Identity not confirmed", "{page:?}");

    let status = run_b.failure().await;
    assert_eq!(status.code(), tonic::Code::Aborted, "{status:?}");
    let message = status.message();
    for expected in ["pod-b", "rejected", &issued_a.request_id, &issued_b.request_id] {
        assert!(message.contains(expected), "{expected:?} missing from {message:?}");
    }
    assert!(run_b.proofs.is_empty(), "nothing forwarded to B's client");

    // A was not touched: it still waits, and its own visit completes it.
    assert_eq!(waiting_pods(&env.daemon).await, ["pod-a"]);
    let page = browser.follow_chain(&url_a).await;
    assert!(page.message.contains("You may close this tab"), "{page:?}");
    let proofs = run_a.proofs().await;
    let identity = pod.verify(&issued_a, &proofs[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(identity.name_id, SAML_ALICE);

    assert!(env.daemon.pending().await.is_empty());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_posts_get_4xx_and_the_challenge_still_completes() {
    let fixture = Fixture::new("saml_bad_posts");
    let (env, browser) = tokio::join!(SamlEnv::start(&fixture), Browser::start(&fixture));
    let pod = SamlPod::new(&env.idp, SAML_POD_ENTITY_IDS[0], env.daemon.callback_port());
    let acs = Acs::new(env.daemon.callback_port());
    let issued = pod.issue("pod-a");

    let mut client = env.daemon.client().await;
    let mut run = ProveRun::started(&mut client, prove_request([issued.challenge()])).await;
    let url = run.first_action().await.url;
    let relay_state = relay_state_of(&url);
    let answering = forged_response(&issued.request_id, 0);

    let get = acs.get().await;
    assert_eq!((get.status, get.allow.as_deref()), (405, Some("POST")), "{get:?}");
    assert!(get.message.contains("HTTP-POST"), "{get:?}");

    let json = acs.post("application/json", b"{\"SAMLResponse\":\"x\"}".to_vec()).await;
    assert_eq!(json.status, 415, "{json:?}");

    let not_xml = STANDARD.encode("<samlp:Response ID=\"unclosed");
    let bad_posts = [
        BadPost {
            what: "no RelayState",
            form: vec![("SAMLResponse", &answering)],
            says: "no RelayState",
        },
        BadPost {
            what: "an unknown RelayState",
            form: vec![("SAMLResponse", &answering), ("RelayState", "not-one-of-podauthd")],
            says: "unknown",
        },
        BadPost {
            what: "no SAMLResponse",
            form: vec![("RelayState", &relay_state)],
            says: "no SAMLResponse",
        },
        BadPost {
            what: "a SAMLResponse that is not base64",
            form: vec![("SAMLResponse", "%%% not base64 %%%"), ("RelayState", &relay_state)],
            says: "not base64",
        },
        BadPost {
            what: "a SAMLResponse that is not XML",
            form: vec![("SAMLResponse", &not_xml), ("RelayState", &relay_state)],
            says: "not a SAML Response",
        },
    ];
    for BadPost { what, form, says } in &bad_posts {
        let answer = acs.post_form(form).await;
        assert_eq!(answer.status, 400, "{what}: {answer:?}");
        assert!(answer.message.contains(says), "{what}: {says:?} missing from {answer:?}");
        assert_eq!(waiting_pods(&env.daemon).await, ["pod-a"], "{what} consumed the challenge");
    }

    // The real response still completes the request.
    let page = env.idp.sign_in(&browser, &url, SAML_ALICE, SAML_ALICE_PASSWORD).await;
    assert!(page.message.contains("You may close this tab"), "{page:?}");
    let proofs = run.proofs().await;
    let identity = pod.verify(&issued, &proofs[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(identity.name_id, SAML_ALICE);

    // A replay of the very form that worked finds its RelayState used.
    let proof = saml_proof(&proofs[0]);
    let replay = acs
        .post_form(&[("SAMLResponse", &proof.saml_response), ("RelayState", &proof.relay_state)])
        .await;
    assert_eq!(replay.status, 400, "{replay:?}");
    assert!(replay.message.contains("already used"), "{replay:?}");

    assert!(env.daemon.pending().await.is_empty());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_posts_get_413_and_the_client_is_told() {
    let fixture = Fixture::new("saml_oversized");
    let env = SamlEnv::start(&fixture).await;
    let pod = SamlPod::new(&env.idp, SAML_POD_ENTITY_IDS[0], env.daemon.callback_port());
    let acs = Acs::new(env.daemon.callback_port());
    let (issued, bystander) = (pod.issue("pod-a"), pod.issue("pod-b"));

    let mut client = env.daemon.client().await;
    let mut run = ProveRun::started(&mut client, prove_request([issued.challenge()])).await;
    let relay_state = relay_state_of(&run.first_action().await.url);
    let mut other_client = env.daemon.client().await;
    let mut other =
        ProveRun::started(&mut other_client, prove_request([bystander.challenge()])).await;
    other.first_action().await;

    // A body so large that the daemon stops reading before its RelayState
    // is still refused as too large, and consumes nothing. Regression: it
    // used to get 400 "the post carries no RelayState".
    let huge = forged_response(&issued.request_id, UNREAD_BODY_BYTES);
    let answer = acs.post_form(&[("SAMLResponse", &huge), ("RelayState", &relay_state)]).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    assert!(answer.message.contains("over the limit"), "{answer:?}");
    assert_eq!(waiting_pods(&env.daemon).await, ["pod-a", "pod-b"]);

    // Just over the limit, the RelayState is read: the client hears why.
    let started = Instant::now();
    let too_large = forged_response(&issued.request_id, DAEMON_RESPONSE_LIMIT + 1024);
    let answer = acs.post_form(&[("SAMLResponse", &too_large), ("RelayState", &relay_state)]).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    assert!(answer.message.contains("over the limit"), "{answer:?}");
    eprintln!("timing: {} MiB post refused in {:?}", too_large.len() >> 20, started.elapsed());

    let status = run.failure().await;
    assert_eq!(status.code(), tonic::Code::Aborted, "{status:?}");
    assert!(status.message().contains("over the limit"), "{status:?}");
    assert!(run.proofs.is_empty());

    // The other client's request is not disturbed.
    assert_eq!(waiting_pods(&env.daemon).await, ["pod-b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_response_under_the_limit_is_read_and_matched() {
    let fixture = Fixture::new("saml_large_allowed");
    let env = SamlEnv::start(&fixture).await;
    let pod = SamlPod::new(&env.idp, SAML_POD_ENTITY_IDS[0], env.daemon.callback_port());
    let acs = Acs::new(env.daemon.callback_port());
    let issued = pod.issue("pod-a");

    let mut client = env.daemon.client().await;
    let mut run = ProveRun::started(&mut client, prove_request([issued.challenge()])).await;
    let relay_state = relay_state_of(&run.first_action().await.url);

    // Several hundred KiB, answering some other AuthnRequest: the daemon
    // reads it whole and refuses it for its InResponseTo, not its size.
    let large = forged_response("_another-request", LARGE_RESPONSE_BYTES);
    assert!(large.len() >= LARGE_RESPONSE_BYTES);
    let answer = acs.post_form(&[("SAMLResponse", &large), ("RelayState", &relay_state)]).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.message.contains("_another-request"), "{answer:?}");

    let status = run.failure().await;
    assert_eq!(status.code(), tonic::Code::Aborted, "{status:?}");
    let message = status.message();
    assert!(message.contains("_another-request"), "{message}");
    assert!(message.contains(&issued.request_id), "{message}");
    assert!(!message.contains("over the limit"), "{message}");
    assert!(env.daemon.pending().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saml_and_oidc_keys_are_unknown_to_each_others_routes() {
    let fixture = Fixture::new("saml_cross_routes");
    let provider = Provider::start(&fixture).await;
    let env = SamlEnv::start_with(&fixture, Some(&provider)).await;
    let pod = SamlPod::new(&env.idp, SAML_POD_ENTITY_IDS[0], env.daemon.callback_port());
    let acs = Acs::new(env.daemon.callback_port());
    let issued = pod.issue("saml-pod");

    let (mut saml_client, mut oidc_client) = (env.daemon.client().await, env.daemon.client().await);
    let mut saml_run =
        ProveRun::started(&mut saml_client, prove_request([issued.challenge()])).await;
    let mut oidc_run = ProveRun::started(&mut oidc_client, request::auth_code(&["oidc-pod"])).await;
    let relay_state = relay_state_of(&saml_run.first_action().await.url);
    let state = request::state_of(&oidc_run.first_action().await.url);

    // A SAML post carrying an OIDC state, and OIDC callbacks carrying a
    // RelayState, find nothing: each route knows its own keys only.
    // Regression: the post used to consume the state and fail the OIDC
    // request with "a SAML response arrived for an OIDC challenge".
    let answering = forged_response(&issued.request_id, 0);
    let post = acs.post_form(&[("SAMLResponse", &answering), ("RelayState", &state)]).await;
    assert_eq!(post.status, 400, "{post:?}");
    assert!(post.message.contains("unknown"), "{post:?}");
    let callback = env.daemon.redirect_uri();
    for query in
        [format!("state={relay_state}&code=c"), format!("state={relay_state}&error=access_denied")]
    {
        let answer = loopback::get(&format!("{callback}?{query}")).await;
        assert_eq!(answer.status, 400, "{query}: {answer:?}");
        assert!(answer.body.contains("unknown"), "{query}: {answer:?}");
    }
    assert_eq!(waiting_pods(&env.daemon).await, ["saml-pod", "oidc-pod"], "both still wait");
}
