//! `oidc-auth-code`: authorization code with PKCE (RFC 7636) through the
//! loopback redirect (RFC 8252).
//!
//! Each Pod gets a fresh verifier and state. The browser visits the first
//! Pod's authorize URL; each callback is matched by state in the pending
//! registry, which sends the browser on to the next Pod, so one visit answers
//! them all. The proof is the code, the verifier and the redirect URI: the
//! Pod redeems the code itself.

use openidconnect::{CsrfToken, PkceCodeChallenge};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{Events, ProofKind, ProofRequest, chain};
use crate::agent::Agent;
use crate::environment::Environment;
use crate::error::ProveError;
use crate::pending::{CallbackPayload, LinkSpec};

/// Proves the request through the browser and the loopback server.
pub async fn prove(
    agent: &Agent,
    request: &ProofRequest,
    events: &Events,
) -> Result<(), ProveError> {
    let env = &request.environment;
    let endpoints = agent.idp().endpoints(env).await?;
    let redirect_uri = env.redirect_uri();

    let links: Vec<LinkSpec> = request
        .challenges
        .iter()
        .map(|challenge| {
            let scope = &env.proof_scope;
            authorize_link(
                env,
                &endpoints.authorization,
                &redirect_uri,
                &challenge.pod_id,
                scope,
                &env.proof_audience,
            )
        })
        .collect();
    chain::run(agent, request, links, events).await
}

/// One link: fresh PKCE verifier and state, the authorize URL for `scope`
/// and `audience`, and the acceptor that checks the callback's issuer and
/// builds the proof. `pod_id` names the Pod (or the login) it answers.
pub(crate) fn authorize_link(
    env: &Environment,
    authorize: &Url,
    redirect_uri: &str,
    pod_id: &str,
    scope: &str,
    audience: &str,
) -> LinkSpec {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = CsrfToken::new_random();

    let mut url = authorize.clone();
    url.query_pairs_mut()
        .append_pair("audience", audience)
        .append_pair("scope", scope)
        .append_pair("response_type", "code")
        .append_pair("client_id", &env.client_id)
        .append_pair("state", state.secret())
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_challenge_method", "S256")
        .append_pair("code_challenge", challenge.as_str());

    let verifier = SecretString::from(verifier.into_secret());
    let redirect_uri = redirect_uri.to_owned();
    let expected_issuer = env.issuer().as_str().to_owned();
    let pod = pod_id.to_owned();
    LinkSpec {
        pod_id: pod_id.to_owned(),
        key: state.into_secret(),
        url,
        acceptor: Box::new(move |payload| match payload {
            CallbackPayload::AuthCode { code, issuer } => {
                // RFC 9207: when the IdP names itself, it must be ours, or
                // the code may come from a mixed-up provider.
                if let Some(issuer) = issuer {
                    if issuer.trim_end_matches('/') != expected_issuer.trim_end_matches('/') {
                        return Err(ProveError::ResponseRejected {
                            pod_id: pod,
                            reason: format!(
                                "callback names issuer {issuer:?}, expected {expected_issuer:?}"
                            ),
                        });
                    }
                }
                if code.expose_secret().is_empty() {
                    return Err(ProveError::ResponseRejected {
                        pod_id: pod,
                        reason: "empty code".into(),
                    });
                }
                Ok(ProofKind::AuthCode { code, verifier, redirect_uri })
            }
            _ => Err(ProveError::ResponseRejected {
                pod_id: pod,
                reason: "a SAML response arrived for an OIDC challenge".into(),
            }),
        }),
    }
}
