//! `saml` end to end: reference Pods issue AuthnRequests, the daemon sends
//! the browser to the SimpleSAMLphp IdP with a RelayState of its own, the
//! user signs in once in Chromium, the IdP posts its signed responses to the
//! daemon's loopback ACS, and each Pod verifies its response's signature,
//! `InResponseTo`, audience, destination and times, and finds the user.

// A failed step is a failed test: panicking with a message that names the
// step is how a test reports.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashSet;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use podauth::v1 as pb;
use podauth_tests::fixture::ipv6_loopback;
use podauth_tests::request::query_param;
use podauth_tests::saml_idp::{
    SAML_ALICE, SAML_ALICE_PASSWORD, SAML_BOB, SAML_BOB_PASSWORD, SAML_POD_ENTITY_IDS,
    SAML_REFUSAL_MESSAGE, SAML_REFUSED, SAML_REFUSED_PASSWORD,
};
use podauth_tests::saml_pod::{IssuedRequest, SamlPod, SamlPodError, prove_request, saml_proof};
use podauth_tests::{Browser, Fixture, ProveRun, saml_env::SamlEnv};

/// RelayState longer than this is refused by common IdPs.
const MAX_RELAY_STATE_BYTES: usize = 80;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_pod_gets_a_signed_response_it_verifies() {
    let fixture = Fixture::new("saml_one_pod");
    let (env, browser) = tokio::join!(SamlEnv::start(&fixture), Browser::start(&fixture));
    let pod = SamlPod::new(&env.idp, SAML_POD_ENTITY_IDS[0], env.daemon.callback_port());
    let started = Instant::now();

    let issued = pod.issue("pod-a");
    let mut client = env.daemon.client().await;
    let mut run = ProveRun::started(&mut client, prove_request([issued.challenge()])).await;
    let action = run.first_action().await;
    assert_eq!(action.pod_ids, ["pod-a"]);

    // The browser goes to the environment's SSO URL with the Pod's request
    // unchanged and a short RelayState of the daemon's own.
    let url = &action.url;
    assert!(url.starts_with(&format!("{}?", env.idp.sso_url())), "{url}");
    assert_eq!(query_param(url, "SAMLRequest").as_deref(), Some(issued.saml_request.as_str()));
    let relay_state = query_param(url, "RelayState").expect("a RelayState");
    assert!((16..=MAX_RELAY_STATE_BYTES).contains(&relay_state.len()), "{relay_state:?}");

    let page = env.idp.sign_in(&browser, url, SAML_ALICE, SAML_ALICE_PASSWORD).await;
    assert!(page.message.contains("You may close this tab"), "{page:?}");
    let proofs = run.proofs().await;
    assert_eq!(proofs.len(), 1);
    assert_eq!(saml_proof(&proofs[0]).relay_state, relay_state, "the posted form, unchanged");

    let identity = pod.verify(&issued, &proofs[0]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(identity.name_id, SAML_ALICE);
    assert_eq!(identity.audiences, [SAML_POD_ENTITY_IDS[0]]);
    eprintln!(
        "timing: saml proof for 1 pod, request to verified response: {:?}",
        started.elapsed()
    );

    // The Pod's checks have teeth: the same response does not answer
    // another of its requests, nor survive a changed byte.
    let other = pod.issue("pod-a");
    let error = pod.verify(&other, &proofs[0]).unwrap_err();
    assert!(error.to_string().contains("InResponseTo"), "{error}");
    let mut tampered = proofs[0].clone();
    if let Some(pb::proof::Kind::Saml(saml)) = &mut tampered.kind {
        saml.saml_response = tamper(&saml.saml_response);
    }
    let error = pod.verify(&issued, &tampered).unwrap_err();
    assert!(matches!(error, SamlPodError::Rejected { .. }), "{error}");

    // Neither the response nor its RelayState reaches the daemon's log.
    let log = env.daemon.log();
    let response = &saml_proof(&proofs[0]).saml_response;
    assert!(log.contains("every pod answered"), "the daemon logs the proof: {log}");
    assert!(!log.contains(&response[..64]) && !log.contains(&relay_state), "{log}");

    assert!(env.daemon.pending().await.is_empty(), "nothing waits once the proof is out");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_pods_are_answered_by_one_sign_in() {
    let fixture = Fixture::new("saml_three_pods");
    let (env, browser) = tokio::join!(SamlEnv::start(&fixture), Browser::start(&fixture));
    let port = env.daemon.callback_port();
    let pods: Vec<SamlPod> =
        SAML_POD_ENTITY_IDS.iter().map(|entity| SamlPod::new(&env.idp, entity, port)).collect();
    let pod_ids = ["pod-a", "pod-b", "pod-c"];
    let issued: Vec<IssuedRequest> =
        pods.iter().zip(pod_ids).map(|(pod, id)| pod.issue(id)).collect();
    let started = Instant::now();

    let mut client = env.daemon.client().await;
    let request = prove_request(issued.iter().map(IssuedRequest::challenge));
    let mut run = ProveRun::started(&mut client, request).await;
    let action = run.first_action().await;
    assert_eq!(action.pod_ids, pod_ids, "one action answers the whole chain");
    assert_eq!(env.daemon.pending().await[0].waiting_pod_ids, pod_ids);

    // One login; the daemon chains the other two Pods through the IdP's
    // session, and the last post shows the closing page.
    let page = env.idp.sign_in(&browser, &action.url, SAML_BOB, SAML_BOB_PASSWORD).await;
    assert!(page.message.contains("You may close this tab"), "{page:?}");
    let proofs = run.proofs().await;
    assert_eq!(run.user_actions.len(), 1, "no second action for the same visit");
    assert_eq!(env.idp.login_posts(), 1, "one login for three Pods");

    let proven: Vec<&str> = proofs.iter().map(|p| p.pod_id.as_str()).collect();
    assert_eq!(proven, pod_ids);
    let relay_states: HashSet<&str> =
        proofs.iter().map(|p| saml_proof(p).relay_state.as_str()).collect();
    assert_eq!(relay_states.len(), 3, "a RelayState per Pod");

    // Each Pod accepts its own response, for its own audience, and none
    // accepts another Pod's.
    for ((pod, issued), proof) in pods.iter().zip(&issued).zip(&proofs) {
        let identity = pod.verify(issued, proof).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(identity.name_id, SAML_BOB, "pod {}", proof.pod_id);
        assert_eq!(identity.audiences, [pod.entity_id()]);
    }
    let mut swapped = proofs[1].clone();
    swapped.pod_id = issued[0].pod_id.clone();
    assert!(pods[0].verify(&issued[0], &swapped).is_err(), "pod A refuses pod B's response");
    eprintln!(
        "timing: saml proofs for 3 pods, request to verified responses: {:?}",
        started.elapsed()
    );

    assert!(env.daemon.pending().await.is_empty());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_may_name_the_acs_by_loopback_address() {
    let fixture = Fixture::new("saml_acs_addresses");
    let (env, browser) = tokio::join!(SamlEnv::start(&fixture), Browser::start(&fixture));
    let port = env.daemon.callback_port();
    let mut hosts = vec!["127.0.0.1"];
    if ipv6_loopback() {
        hosts.push("[::1]");
    }

    // Each Pod's response goes to, and names as its Destination, the very
    // ACS URL the Pod asked for.
    let pods: Vec<SamlPod> = hosts
        .iter()
        .zip(SAML_POD_ENTITY_IDS)
        .map(|(host, entity)| {
            SamlPod::with_acs_url(&env.idp, entity, &format!("http://{host}:{port}/api/saml"))
        })
        .collect();
    let issued: Vec<IssuedRequest> =
        pods.iter().zip(["pod-a", "pod-b"]).map(|(pod, id)| pod.issue(id)).collect();

    let mut client = env.daemon.client().await;
    let mut run =
        ProveRun::started(&mut client, prove_request(issued.iter().map(IssuedRequest::challenge)))
            .await;
    let action = run.first_action().await;
    let page = env.idp.sign_in(&browser, &action.url, SAML_ALICE, SAML_ALICE_PASSWORD).await;
    assert!(page.message.contains("You may close this tab"), "{page:?}");
    assert_eq!(page.url.host_str(), hosts.last().copied(), "the last post went to its host");

    let proofs = run.proofs().await;
    assert_eq!(proofs.len(), hosts.len());
    for ((pod, issued), proof) in pods.iter().zip(&issued).zip(&proofs) {
        let identity = pod.verify(issued, proof).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(identity.name_id, SAML_ALICE, "pod {}", proof.pod_id);
    }
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idp_refusal_fails_the_request_with_the_idp_status() {
    let fixture = Fixture::new("saml_idp_refusal");
    let (env, browser) = tokio::join!(SamlEnv::start(&fixture), Browser::start(&fixture));
    let port = env.daemon.callback_port();
    let pod_a = SamlPod::new(&env.idp, SAML_POD_ENTITY_IDS[0], port);
    let pod_b = SamlPod::new(&env.idp, SAML_POD_ENTITY_IDS[1], port);
    let (issued_a, issued_b) = (pod_a.issue("pod-a"), pod_b.issue("pod-b"));

    let mut client = env.daemon.client().await;
    let mut run =
        ProveRun::started(&mut client, prove_request([issued_a.challenge(), issued_b.challenge()]))
            .await;
    let action = run.first_action().await;

    // The IdP answers the first Pod with a signed Responder / RequestDenied
    // response; the request fails at once, without visiting the second.
    let page = env.idp.sign_in(&browser, &action.url, SAML_REFUSED, SAML_REFUSED_PASSWORD).await;
    assert_eq!(page.title, "Identity not confirmed", "{page:?}");
    assert!(page.message.contains(SAML_REFUSAL_MESSAGE), "{page:?}");

    let status = run.failure().await;
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
    let message = status.message();
    for expected in ["identity provider refused", "pod-a", "status:Responder", SAML_REFUSAL_MESSAGE]
    {
        assert!(message.contains(expected), "{expected:?} missing from {message:?}");
    }
    assert!(run.proofs.is_empty(), "no proof for a refused request");
    assert!(env.daemon.pending().await.is_empty(), "the second Pod's challenge is withdrawn");
    browser.close().await;
}

/// The response with its subject changed from alice to mallory.
fn tamper(response: &str) -> String {
    let xml = STANDARD.decode(response).expect("the IdP posts base64");
    let xml = String::from_utf8(xml).expect("the IdP posts UTF-8 XML");
    let forged = xml.replace(&format!(">{SAML_ALICE}<"), ">mallory<");
    assert_ne!(forged, xml, "the response names {SAML_ALICE}");
    STANDARD.encode(forged)
}
