//! Conversions between protocol messages and the agent's own types, and
//! from errors to gRPC statuses. The only place secrets leave their
//! redacting wrappers: into the reply to the client that asked.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use podauth_proto::v1 as pb;
use secrecy::ExposeSecret;
use tonic::{Code, Status};
use url::Url;

use crate::agent::RawRequest;
use crate::error::{ProveError, TokenError};
use crate::methods::{Challenge, ChallengeKind, Event, Method, Proof, ProofKind, UserAction};

/// A `ProveRequest` as the agent's unvalidated request.
pub(crate) fn raw_request(message: pb::ProveRequest) -> Result<RawRequest, ProveError> {
    let challenges = message
        .challenges
        .into_iter()
        .enumerate()
        .map(|(index, challenge)| {
            let kind = match challenge.kind {
                Some(pb::challenge::Kind::ClientId(client_id)) => {
                    ChallengeKind::ClientId(client_id)
                }
                Some(pb::challenge::Kind::Saml(saml)) => ChallengeKind::Saml {
                    request: saml.saml_request,
                    sso_url: parse_optional_url(&saml.idp_sso_url).map_err(|e| {
                        ProveError::InvalidRequest(format!(
                            "challenge {index} (pod {:?}): idp_sso_url: {e}",
                            challenge.pod_id
                        ))
                    })?,
                },
                None => {
                    return Err(ProveError::InvalidRequest(format!(
                        "challenge {index} (pod {:?}) has neither a client id nor a SAML request",
                        challenge.pod_id
                    )));
                }
            };
            Ok(Challenge { pod_id: challenge.pod_id, kind })
        })
        .collect::<Result<_, _>>()?;

    Ok(RawRequest {
        method: message.method,
        environment: message.environment,
        challenges,
        timeout: message.timeout_seconds.map(|s| Duration::from_secs(u64::from(s))),
        open_browser: message.open_browser.unwrap_or(true),
    })
}

fn parse_optional_url(text: &str) -> Result<Option<Url>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?} is not an http(s) URL"));
    }
    Ok(Some(url))
}

/// A method event as a protocol message.
pub(crate) fn event(event: Event) -> pb::ProveEvent {
    let event = match event {
        Event::UserAction(action) => pb::prove_event::Event::UserAction(user_action(action)),
        Event::Proof(proof) => pb::prove_event::Event::Proof(proof_message(proof)),
    };
    pb::ProveEvent { event: Some(event) }
}

/// The closing event of a successful stream.
pub(crate) fn done() -> pb::ProveEvent {
    pb::ProveEvent { event: Some(pb::prove_event::Event::Done(pb::Done {})) }
}

fn user_action(action: UserAction) -> pb::UserAction {
    pb::UserAction {
        pod_ids: action.pod_ids,
        url: action.url.into(),
        user_code: action.user_code.unwrap_or_default(),
        verification_uri: action.verification_uri.map(Into::into).unwrap_or_default(),
        expires_at_unix: unix_seconds(action.expires_at),
        browser_opened: action.browser_opened,
    }
}

fn proof_message(proof: Proof) -> pb::Proof {
    let kind = match proof.kind {
        ProofKind::DeviceCode { device_code, expires_at, interval } => {
            pb::proof::Kind::DeviceCode(pb::DeviceCodeProof {
                device_code: device_code.expose_secret().to_owned(),
                expires_at_unix: unix_seconds(expires_at),
                interval_seconds: u32::try_from(interval.as_secs()).unwrap_or(u32::MAX),
            })
        }
        ProofKind::AuthCode { code, verifier, redirect_uri } => {
            pb::proof::Kind::AuthCode(pb::AuthCodeProof {
                auth_code: code.expose_secret().to_owned(),
                code_verifier: verifier.expose_secret().to_owned(),
                redirect_uri,
            })
        }
        ProofKind::Saml { response, relay_state } => pb::proof::Kind::Saml(pb::SamlProof {
            saml_response: response.expose_secret().to_owned(),
            relay_state,
        }),
    };
    pb::Proof { pod_id: proof.pod_id, kind: Some(kind) }
}

/// The method list.
pub(crate) fn methods() -> pb::ListMethodsResponse {
    let methods = Method::ALL
        .into_iter()
        .map(|method| pb::MethodInfo {
            name: method.name().to_owned(),
            is_default: method == Method::DeviceCode,
            uses_callback: method.uses_callback(),
            description: method.description().to_owned(),
        })
        .collect();
    pb::ListMethodsResponse { methods }
}

/// The gRPC status for a failed request; the message is the error's text,
/// which names what was wrong and never carries a secret.
pub(crate) fn status(error: &ProveError) -> Status {
    let code = match error {
        ProveError::UnknownMethod { .. }
        | ProveError::UnknownEnvironment { .. }
        | ProveError::InvalidRequest(_) => Code::InvalidArgument,
        ProveError::ForeignClientId { .. } | ProveError::IdpRefused { .. } => {
            Code::PermissionDenied
        }
        ProveError::ResponseRejected { .. } => Code::Aborted,
        ProveError::IdpUnreachable { .. } | ProveError::Stopping => Code::Unavailable,
        ProveError::TimedOut { .. } => Code::DeadlineExceeded,
    };
    Status::new(code, error.to_string())
}

/// A login event: only user actions stream before the final message.
pub(crate) fn login_event(event: Event) -> pb::LoginEvent {
    let event = match event {
        Event::UserAction(action) => Some(pb::login_event::Event::UserAction(user_action(action))),
        // Logins produce no proofs; nothing else is forwarded.
        Event::Proof(_) => None,
    };
    pb::LoginEvent { event }
}

/// The gRPC status for a failed session operation.
pub(crate) fn token_status(error: &TokenError) -> Status {
    let code = match error {
        TokenError::NotLoggedIn { .. } | TokenError::LoginAgain { .. } => Code::Unauthenticated,
        TokenError::Denied { .. } => Code::PermissionDenied,
        TokenError::Expired { .. } => Code::DeadlineExceeded,
        TokenError::Store(_) | TokenError::IdpUnreachable { .. } => Code::Unavailable,
        TokenError::Corrupt { .. } => Code::DataLoss,
        TokenError::Prove(prove) => return status(prove),
    };
    Status::new(code, error.to_string())
}

/// Seconds since the Unix epoch, saturating.
pub(crate) fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
