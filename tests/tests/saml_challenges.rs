//! What the daemon makes of a SAML challenge before any browser is
//! involved: AuthnRequests it cannot use are refused with a message naming
//! the Pod and the fault (nothing is registered, nothing opened), and a
//! usable one becomes the SSO URL the user is sent to.

// A failed step is a failed test: panicking with a message that names the
// step is how a test reports.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use podauth::v1 as pb;
use podauth_tests::request::query_param;
use podauth_tests::saml_acs::{Acs, forged_response, relay_state_of};
use podauth_tests::saml_idp::SAML_POD_ENTITY_IDS;
use podauth_tests::saml_pod::{SamlPod, SamlPodError, prove_request};
use podauth_tests::{Fixture, LOCAL_CLIENT_ID, ProveRun, saml_env::SamlEnv};

/// An SSO URL a Pod may name instead of the environment's.
const POD_SSO_URL: &str = "http://127.0.0.1:9/pod/own/sso";
/// Bound on the daemon withdrawing a request whose client left.
const WITHDRAW_TIMEOUT: Duration = Duration::from_secs(10);

fn saml_challenge(pod_id: &str, saml_request: &str, idp_sso_url: &str) -> pb::Challenge {
    pb::Challenge {
        pod_id: pod_id.to_owned(),
        kind: Some(pb::challenge::Kind::Saml(pb::SamlChallenge {
            saml_request: saml_request.to_owned(),
            idp_sso_url: idp_sso_url.to_owned(),
        })),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_authn_requests_are_refused_before_any_browser_opens() {
    let fixture = Fixture::new("saml_bad_challenges");
    let env = SamlEnv::start(&fixture).await;
    let port = env.daemon.callback_port();
    let entity = SAML_POD_ENTITY_IDS[0];
    let agent_acs = format!("http://localhost:{port}/api/saml");
    let posting_to = |acs: &str| SamlPod::with_acs_url(&env.idp, entity, acs).issue("pod-x");

    let elsewhere = [
        format!("http://localhost:{}/api/saml", port.wrapping_add(1)),
        "https://pod.example.test/saml/acs".to_owned(),
        format!("http://localhost:{port}/api/auth/callback/auth0"),
    ];
    let mut cases: Vec<(String, pb::Challenge, &str)> = elsewhere
        .iter()
        .map(|acs| {
            let challenge = posting_to(acs).challenge();
            (format!("ACS {acs}"), challenge, "asks the IdP to post to")
        })
        .collect();
    cases.extend([
        ("not base64".to_owned(), saml_challenge("pod-x", "not base64!", ""), "not base64"),
        (
            "not DEFLATE".to_owned(),
            saml_challenge("pod-x", &STANDARD.encode("plain text"), ""),
            "DEFLATE",
        ),
        (
            "a client id".to_owned(),
            podauth::oidc_challenge("pod-x", LOCAL_CLIENT_ID),
            "needs a SAML request",
        ),
        (
            "an SSO URL that is no URL".to_owned(),
            saml_challenge("pod-x", &posting_to(&agent_acs).saml_request, "not a url"),
            "idp_sso_url",
        ),
    ]);

    let mut client = env.daemon.client().await;
    for (what, challenge, says) in cases {
        let status = match ProveRun::start(&mut client, prove_request([challenge])).await {
            Err(status) => status,
            Ok(mut run) => run.failure().await,
        };
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{what}: {status:?}");
        let message = status.message();
        assert!(message.contains(says), "{what}: {says:?} missing from {message:?}");
        assert!(message.contains("\"pod-x\""), "{what}: names the pod: {message}");
        if what.starts_with("ACS") {
            assert!(message.contains(&agent_acs), "{what}: names the agent's ACS: {message}");
        }
    }
    assert!(env.daemon.pending().await.is_empty(), "nothing was registered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_pods_request_goes_to_its_sso_url_and_the_pod_judges_the_answer() {
    let fixture = Fixture::new("saml_sso_urls");
    let env = SamlEnv::start(&fixture).await;
    let pod = SamlPod::new(&env.idp, SAML_POD_ENTITY_IDS[0], env.daemon.callback_port());
    let acs = Acs::new(env.daemon.callback_port());
    let (first, second) = (pod.issue("pod-a"), pod.issue("pod-b"));

    // The first Pod's value arrives still URL-encoded, as copied from a
    // redirect; the second Pod names an SSO URL of its own.
    let url_encoded: String =
        url::form_urlencoded::byte_serialize(first.saml_request.as_bytes()).collect();
    assert_ne!(url_encoded, first.saml_request, "the value has characters to encode");
    let request = prove_request([
        saml_challenge("pod-a", &url_encoded, ""),
        saml_challenge("pod-b", &second.saml_request, POD_SSO_URL),
    ]);

    let mut client = env.daemon.client().await;
    let mut run = ProveRun::started(&mut client, request).await;
    let action = run.first_action().await;
    assert_eq!(action.pod_ids, ["pod-a", "pod-b"]);
    let url = &action.url;
    assert!(url.starts_with(&format!("{}?", env.idp.sso_url())), "{url}");
    assert_eq!(query_param(url, "SAMLRequest").as_deref(), Some(first.saml_request.as_str()));
    let relay_state = relay_state_of(url);

    // A response that answers the first AuthnRequest moves the chain on to
    // the second Pod's own SSO URL. The daemon matched it by RelayState and
    // InResponseTo only; judging its signature is the Pod's part.
    let forged = forged_response(&first.request_id, 0);
    let answer = acs.post_form(&[("SAMLResponse", &forged), ("RelayState", &relay_state)]).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    let next = answer.location.expect("a Location to the next Pod");
    assert!(next.starts_with(&format!("{POD_SSO_URL}?")), "{next}");
    assert_eq!(query_param(&next, "SAMLRequest").as_deref(), Some(second.saml_request.as_str()));
    assert_ne!(relay_state_of(&next), relay_state, "a RelayState per Pod");

    let proof = match run.next_event().await {
        Ok(Some(pb::prove_event::Event::Proof(proof))) => proof,
        other => panic!("expected pod-a's proof, got {other:?}"),
    };
    let error = pod.verify(&first, &proof).unwrap_err();
    assert!(matches!(error, SamlPodError::Rejected { .. }), "{error}");
    assert!(error.to_string().contains("signed"), "{error}");

    // The client leaves; its request goes with it.
    drop(run);
    drop(client);
    env.daemon.wait_until_nothing_pending(WITHDRAW_TIMEOUT).await;
}
