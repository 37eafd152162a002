//! The reference SAML Pod: a service provider built with samael that does
//! what a real Pod does with the `saml` method. It issues AuthnRequests of
//! its own (fresh ID, its entity id as Issuer, the daemon's loopback ACS
//! URL, the IdP's SSO URL as Destination), encoded for the HTTP-Redirect
//! binding, and it verifies each proof it gets back: the signatures against
//! the IdP's certificate, `InResponseTo`, audience, destination, recipient
//! and time conditions, then reads who signed in.

use std::sync::Mutex;

use podauth::v1 as pb;
use samael::crypto::AllowedSignatureAlgorithm;
use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::{
    Endpoint, EntityDescriptor, HTTP_REDIRECT_BINDING, IdpSsoDescriptor, KeyDescriptor,
};
use samael::service_provider::{ServiceProvider, ServiceProviderBuilder};

use crate::saml_idp::SamlIdp;

/// The SAML 2.0 protocol, as IdP metadata announces it.
const SAML2_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// libxml2 and xmlsec keep global state; the Pods of one test binary verify
/// one response at a time, as a single-threaded Pod would.
static VERIFYING: Mutex<()> = Mutex::new(());

/// Why the Pod refused a proof.
#[derive(Debug, thiserror::Error)]
pub enum SamlPodError {
    /// The proof answers another Pod's challenge.
    #[error("proof for pod {given:?} handed to pod {expected:?}")]
    WrongPod {
        /// The Pod that issued the challenge.
        expected: String,
        /// The Pod the proof names.
        given: String,
    },
    /// The proof is not a SAML proof.
    #[error("pod {pod_id:?} got a proof that is not a SAML response: {proof:?}")]
    NotSaml {
        /// The Pod.
        pod_id: String,
        /// What arrived instead.
        proof: Option<pb::proof::Kind>,
    },
    /// samael refused the response: signature, `InResponseTo`, audience,
    /// destination, issuer, status or time.
    #[error("pod {pod_id:?} rejected the SAML response to {request_id}: {reason}")]
    Rejected {
        /// The Pod.
        pod_id: String,
        /// Its AuthnRequest ID.
        request_id: String,
        /// samael's error.
        reason: String,
    },
    /// The verified assertion names no subject.
    #[error("pod {pod_id:?}: the verified assertion has no NameID")]
    NoNameId {
        /// The Pod.
        pod_id: String,
    },
}

/// An AuthnRequest a Pod issued, as it sends it and as it remembers it.
#[derive(Debug, Clone)]
pub struct IssuedRequest {
    /// The Pod's identifier in the prove request.
    pub pod_id: String,
    /// The AuthnRequest's `ID`, which the response must answer.
    pub request_id: String,
    /// The HTTP-Redirect `SAMLRequest` value: raw DEFLATE, base64.
    pub saml_request: String,
}

impl IssuedRequest {
    /// The challenge for a prove request; the daemon picks the SSO URL of
    /// its environment.
    pub fn challenge(&self) -> pb::Challenge {
        pb::Challenge {
            pod_id: self.pod_id.clone(),
            kind: Some(pb::challenge::Kind::Saml(pb::SamlChallenge {
                saml_request: self.saml_request.clone(),
                idp_sso_url: String::new(),
            })),
        }
    }
}

/// A `saml` prove request answering `challenges` in order, in the daemon's
/// default environment; the daemon opens no browser (the test drives one).
pub fn prove_request(challenges: impl IntoIterator<Item = pb::Challenge>) -> pb::ProveRequest {
    pb::ProveRequest {
        method: podauth::methods::SAML.to_owned(),
        challenges: challenges.into_iter().collect(),
        environment: String::new(),
        timeout_seconds: None,
        open_browser: Some(false),
    }
}

/// The SAML part of a proof; any other kind fails the test.
pub fn saml_proof(proof: &pb::Proof) -> &pb::SamlProof {
    match &proof.kind {
        Some(pb::proof::Kind::Saml(saml)) => saml,
        other => panic!("pod {}: expected a SAML proof, got {other:?}", proof.pod_id),
    }
}

/// Who a verified response says signed in, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlIdentity {
    /// The subject's NameID, the IdP's login name.
    pub name_id: String,
    /// The audiences the assertion is restricted to.
    pub audiences: Vec<String>,
}

/// One reference Pod: a SAML service provider with its own entity id.
pub struct SamlPod {
    entity_id: String,
    sso_url: String,
    sp: ServiceProvider,
}

impl std::fmt::Debug for SamlPod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamlPod")
            .field("entity_id", &self.entity_id)
            .field("acs_url", &self.sp.acs_url)
            .finish_non_exhaustive()
    }
}

impl SamlPod {
    /// A Pod registered at `idp` as `entity_id`, whose requests name the
    /// daemon's ACS on `callback_port` (`http://localhost:PORT/api/saml`).
    pub fn new(idp: &SamlIdp, entity_id: &str, callback_port: u16) -> Self {
        Self::with_acs_url(idp, entity_id, &format!("http://localhost:{callback_port}/api/saml"))
    }

    /// A Pod whose requests name `acs_url` as their assertion consumer.
    pub fn with_acs_url(idp: &SamlIdp, entity_id: &str, acs_url: &str) -> Self {
        let sso_url = idp.sso_url().to_string();
        let sp = ServiceProviderBuilder::default()
            .entity_id(Some(entity_id.to_owned()))
            .acs_url(Some(acs_url.to_owned()))
            .idp_metadata(idp_metadata(idp))
            .allowed_signature_algorithms(Some(vec![AllowedSignatureAlgorithm::RsaSha256]))
            .build()
            .unwrap_or_else(|e| panic!("cannot build the SAML Pod {entity_id}: {e:?}"));
        Self { entity_id: entity_id.to_owned(), sso_url, sp }
    }

    /// The Pod's entity id.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// A fresh AuthnRequest for the Pod called `pod_id` in the request.
    pub fn issue(&self, pod_id: &str) -> IssuedRequest {
        let mut request = self
            .sp
            .make_authentication_request(&self.sso_url)
            .unwrap_or_else(|e| panic!("{}: cannot make an AuthnRequest: {e}", self.entity_id));
        // samael's own IDs carry 32 random bits; a Pod uses 128.
        request.id = format!("_{:032x}", rand::random::<u128>());

        let url = request
            .redirect("")
            .unwrap_or_else(|e| panic!("{}: cannot encode the AuthnRequest: {e}", self.entity_id))
            .expect("the request has a Destination");
        let saml_request = url
            .query_pairs()
            .find(|(key, _)| key == "SAMLRequest")
            .map(|(_, value)| value.into_owned())
            .expect("the redirect URL carries SAMLRequest");
        IssuedRequest { pod_id: pod_id.to_owned(), request_id: request.id, saml_request }
    }

    /// Verifies the proof the daemon returned for `issued` and says who
    /// signed in.
    pub fn verify(
        &self,
        issued: &IssuedRequest,
        proof: &pb::Proof,
    ) -> Result<SamlIdentity, SamlPodError> {
        if proof.pod_id != issued.pod_id {
            return Err(SamlPodError::WrongPod {
                expected: issued.pod_id.clone(),
                given: proof.pod_id.clone(),
            });
        }
        let Some(pb::proof::Kind::Saml(saml)) = &proof.kind else {
            return Err(SamlPodError::NotSaml {
                pod_id: issued.pod_id.clone(),
                proof: proof.kind.clone(),
            });
        };

        let rejected = |reason: String| SamlPodError::Rejected {
            pod_id: issued.pod_id.clone(),
            request_id: issued.request_id.clone(),
            reason,
        };
        let assertion = {
            let _one_at_a_time = VERIFYING.lock().unwrap_or_else(|p| p.into_inner());
            self.sp
                .parse_base64_response(&saml.saml_response, Some(&[issued.request_id.as_str()]))
                .map_err(|e| rejected(e.to_string()))?
        };

        let name_id = assertion
            .subject
            .as_ref()
            .and_then(|subject| subject.name_id.as_ref())
            .map(|name_id| name_id.value.clone())
            .ok_or_else(|| SamlPodError::NoNameId { pod_id: issued.pod_id.clone() })?;
        let audiences = assertion
            .conditions
            .iter()
            .flat_map(|conditions| conditions.audience_restrictions.iter().flatten())
            .flat_map(|restriction| restriction.audience.iter().cloned())
            .collect();
        Ok(SamlIdentity { name_id, audiences })
    }
}

/// The IdP as the Pod knows it: entity id, SSO endpoint and signing
/// certificate, without fetching its metadata.
fn idp_metadata(idp: &SamlIdp) -> EntityDescriptor {
    let cert_base64: String =
        idp.cert_pem().lines().filter(|line| !line.starts_with("-----")).collect();
    let signing_key = KeyDescriptor {
        key_use: Some("signing".to_owned()),
        key_info: KeyInfo {
            id: None,
            x509_data: Some(X509Data { certificates: vec![cert_base64] }),
        },
        encryption_methods: None,
    };
    let sso = Endpoint {
        binding: HTTP_REDIRECT_BINDING.to_owned(),
        location: idp.sso_url().to_string(),
        response_location: None,
    };
    let descriptor = IdpSsoDescriptor {
        id: None,
        valid_until: None,
        cache_duration: None,
        protocol_support_enumeration: Some(SAML2_PROTOCOL.to_owned()),
        error_url: None,
        signature: None,
        key_descriptors: vec![signing_key],
        organization: None,
        contact_people: vec![],
        artifact_resolution_service: vec![],
        single_logout_services: vec![],
        manage_name_id_services: vec![],
        name_id_formats: vec![],
        want_authn_requests_signed: None,
        single_sign_on_services: vec![sso],
        name_id_mapping_services: vec![],
        assertion_id_request_services: vec![],
        attribute_profiles: vec![],
        attributes: vec![],
    };
    EntityDescriptor {
        entity_id: Some(idp.entity_id().to_owned()),
        idp_sso_descriptors: Some(vec![descriptor]),
        ..EntityDescriptor::default()
    }
}
