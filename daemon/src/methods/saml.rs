//! `saml`: SAML 2.0 Web Browser SSO through the loopback assertion consumer
//! service.
//!
//! Each Pod sends an AuthnRequest encoded for the HTTP-Redirect binding. The
//! agent reads its ID, sends the browser to the IdP's single sign-on URL with
//! that request and a fresh `RelayState`, and waits for the IdP to POST the
//! response to `/api/saml`. A response is accepted for a challenge only when
//! it arrives with that challenge's `RelayState` and its `InResponseTo` is
//! that challenge's AuthnRequest ID. The proof is the posted form,
//! unchanged; the Pod checks the signature, audience and times itself.

use std::io::Read;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::read::DeflateDecoder;
use openidconnect::CsrfToken;
use url::Url;

use super::chain;
use super::{ChallengeKind, Events, ProofKind, ProofRequest};
use crate::agent::Agent;
use crate::environment::{Environment, SAML_ACS_PATH};
use crate::error::ProveError;
use crate::pending::{CallbackPayload, LinkSpec};

/// Largest AuthnRequest accepted once inflated; real ones are a few KiB.
const MAX_REQUEST_XML_BYTES: u64 = 256 * 1024;
/// The SAML status of a successful response.
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// What the agent needs from a Pod's AuthnRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequestSummary {
    /// The request's `ID`, which the response's `InResponseTo` must echo.
    pub id: String,
    /// Where the request asks the IdP to post, if it says.
    pub acs_url: Option<String>,
}

/// What the agent reads from a posted response before matching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSummary {
    /// `InResponseTo`, absent on unsolicited responses.
    pub in_response_to: Option<String>,
    /// The top-level status code.
    pub status: String,
    /// The IdP's status message, if any.
    pub status_message: Option<String>,
}

/// Decodes an HTTP-Redirect `SAMLRequest` value: URL-decoding if still
/// encoded, base64, raw DEFLATE, then the AuthnRequest XML.
pub fn decode_request(value: &str) -> Result<AuthnRequestSummary, String> {
    let value = url_decoded(value.trim());
    let deflated = STANDARD
        .decode(strip_whitespace(&value))
        .map_err(|e| format!("SAMLRequest is not base64: {e}"))?;

    let mut xml = String::new();
    DeflateDecoder::new(deflated.as_slice())
        .take(MAX_REQUEST_XML_BYTES + 1)
        .read_to_string(&mut xml)
        .map_err(|e| format!("SAMLRequest is not raw DEFLATE of UTF-8 XML: {e}"))?;
    if xml.len() as u64 > MAX_REQUEST_XML_BYTES {
        return Err(format!("SAMLRequest inflates to over {MAX_REQUEST_XML_BYTES} bytes"));
    }

    let request = samael::schema::AuthnRequest::from_str(&xml)
        .map_err(|e| format!("SAMLRequest is not a SAML AuthnRequest: {e}"))?;
    if request.id.is_empty() {
        return Err("the AuthnRequest has no ID".into());
    }
    Ok(AuthnRequestSummary { id: request.id, acs_url: request.assertion_consumer_service_url })
}

/// Decodes a posted `SAMLResponse` (base64 of the XML) far enough to match
/// it: `InResponseTo` and status. Nothing here trusts it; the Pod verifies.
pub fn decode_response(value: &str) -> Result<ResponseSummary, String> {
    let bytes = STANDARD
        .decode(strip_whitespace(value))
        .map_err(|e| format!("SAMLResponse is not base64: {e}"))?;
    let xml =
        std::str::from_utf8(&bytes).map_err(|_| "SAMLResponse is not UTF-8 XML".to_owned())?;
    let response = samael::schema::Response::from_str(xml)
        .map_err(|e| format!("SAMLResponse is not a SAML Response: {e}"))?;

    let status = response.status.as_ref();
    Ok(ResponseSummary {
        in_response_to: response.in_response_to.clone(),
        status: status.and_then(|s| s.status_code.value.clone()).unwrap_or_default(),
        status_message: status
            .and_then(|s| s.status_message.as_ref())
            .and_then(|m| m.value.clone()),
    })
}

/// Proves the request through the browser and the loopback ACS.
pub async fn prove(
    agent: &Agent,
    request: &ProofRequest,
    events: &Events,
) -> Result<(), ProveError> {
    let env = &request.environment;
    let links = request
        .challenges
        .iter()
        .map(|challenge| {
            let ChallengeKind::Saml { request: saml_request, sso_url } = &challenge.kind else {
                return Err(ProveError::InvalidRequest(format!(
                    "pod {:?}: method saml needs a SAML request",
                    challenge.pod_id
                )));
            };
            link(env, &challenge.pod_id, saml_request, sso_url.as_ref())
        })
        .collect::<Result<Vec<_>, _>>()?;
    chain::run(agent, request, links, events).await
}

/// One Pod's link: its AuthnRequest checked, a fresh `RelayState`, the SSO
/// URL, and the acceptor that matches the response to the request.
fn link(
    env: &Environment,
    pod_id: &str,
    saml_request: &str,
    sso_url: Option<&Url>,
) -> Result<LinkSpec, ProveError> {
    let invalid = |reason: String| ProveError::InvalidRequest(format!("pod {pod_id:?}: {reason}"));
    let authn = decode_request(saml_request).map_err(invalid)?;
    if let Some(acs) = &authn.acs_url {
        acs_checked(env, acs).map_err(invalid)?;
    }
    let sso_url = sso_url.or(env.saml_sso_url.as_ref()).ok_or_else(|| {
        invalid(format!(
            "no IdP single sign-on URL: environment {:?} has no saml_sso_url and the challenge names none",
            env.name
        ))
    })?;

    // 22 URL-safe characters: unguessable and far below the 80 bytes IdPs
    // accept for RelayState.
    let relay_state = CsrfToken::new_random().into_secret();
    let mut url = sso_url.clone();
    url.query_pairs_mut()
        .append_pair("SAMLRequest", &strip_whitespace(&url_decoded(saml_request.trim())))
        .append_pair("RelayState", &relay_state);

    let expected_id = authn.id;
    let pod = pod_id.to_owned();
    Ok(LinkSpec {
        pod_id: pod_id.to_owned(),
        key: relay_state,
        url,
        acceptor: Box::new(move |payload| match payload {
            CallbackPayload::Saml { response, relay_state, summary } => {
                if summary.in_response_to.as_deref() != Some(expected_id.as_str()) {
                    return Err(ProveError::ResponseRejected {
                        pod_id: pod,
                        reason: format!(
                            "SAML response is in response to {:?}, not to this pod's AuthnRequest {expected_id:?}",
                            summary.in_response_to.unwrap_or_default()
                        ),
                    });
                }
                if summary.status != STATUS_SUCCESS {
                    return Err(ProveError::IdpRefused {
                        pod_id: Some(pod),
                        error: summary.status,
                        description: summary.status_message,
                    });
                }
                Ok(ProofKind::Saml { response, relay_state })
            }
            CallbackPayload::Invalid { reason } => {
                Err(ProveError::ResponseRejected { pod_id: pod, reason })
            }
            _ => Err(ProveError::ResponseRejected {
                pod_id: pod,
                reason: "an OIDC callback arrived for a SAML challenge".into(),
            }),
        }),
    })
}

/// The AuthnRequest's ACS URL must be this agent's, or the IdP would post
/// the response where nobody waits for it.
fn acs_checked(env: &Environment, acs: &str) -> Result<(), String> {
    let url = Url::parse(acs)
        .map_err(|e| format!("AssertionConsumerServiceURL {acs:?} is not a URL: {e}"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if !loopback
        || url.port_or_known_default() != Some(env.redirect_port)
        || url.path() != SAML_ACS_PATH
    {
        return Err(format!(
            "the AuthnRequest asks the IdP to post to {acs:?}, but the agent receives responses at {}",
            env.saml_acs_url()
        ));
    }
    Ok(())
}

fn url_decoded(value: &str) -> String {
    if value.contains('%') {
        url::form_urlencoded::parse(format!("v={value}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    } else {
        value.to_owned()
    }
}

fn strip_whitespace(value: &str) -> String {
    value.chars().filter(|c| !c.is_ascii_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::DeflateEncoder;

    use super::*;

    fn encode_request(xml: &str) -> String {
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(xml.as_bytes()).unwrap();
        STANDARD.encode(encoder.finish().unwrap())
    }

    const REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id-42" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" AssertionConsumerServiceURL="http://localhost:29206/api/saml"><saml:Issuer>https://pod.test/saml</saml:Issuer></samlp:AuthnRequest>"#;

    #[test]
    fn request_id_is_read_from_redirect_encoding() {
        let encoded = encode_request(REQUEST);
        let summary = decode_request(&encoded).unwrap();
        assert_eq!(summary.id, "id-42");

        // Still URL-encoded, as copied from a redirect URL.
        let url_encoded: String =
            url::form_urlencoded::byte_serialize(encoded.as_bytes()).collect();
        assert_eq!(decode_request(&url_encoded).unwrap().id, "id-42");
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        assert!(decode_request("not base64!").unwrap_err().contains("base64"));
        assert!(decode_request(&STANDARD.encode(b"plain")).unwrap_err().contains("DEFLATE"));
        assert!(decode_request(&encode_request("<x/>")).unwrap_err().contains("AuthnRequest"));
    }

    #[test]
    fn response_status_and_in_response_to_are_read() {
        let xml = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="r1" InResponseTo="id-42" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"/><samlp:StatusMessage>cancelled</samlp:StatusMessage></samlp:Status></samlp:Response>"#;
        let summary = decode_response(&STANDARD.encode(xml)).unwrap();
        assert_eq!(summary.in_response_to.as_deref(), Some("id-42"));
        assert!(summary.status.ends_with("Responder"));
        assert_eq!(summary.status_message.as_deref(), Some("cancelled"));
        assert!(decode_response("%%%").unwrap_err().contains("base64"));
        assert!(decode_response(&STANDARD.encode("<nope")).unwrap_err().contains("SAML Response"));
    }
}
