//! `oidc-device-code` (RFC 8628): one device authorization per Pod.
//!
//! The proof is the device code itself, which the Pod polls the token
//! endpoint with; the user confirms each Pod's user code in a browser. The
//! request finishes as soon as every Pod has its code, so nothing waits in
//! the pending registry.

use futures_util::future::try_join_all;
use tracing::{debug, info, warn};

use super::{Event, Events, Proof, ProofKind, ProofRequest, UserAction};
use crate::agent::Agent;
use crate::error::ProveError;

/// Proves the request by device authorization.
pub async fn prove(
    agent: &Agent,
    request: &ProofRequest,
    events: &Events,
) -> Result<(), ProveError> {
    let env = &request.environment;
    let endpoints = agent.idp().endpoints(env).await?;

    // Ask for every Pod's code at once; one refusal fails the request.
    let (scope, audience) = (&env.proof_scope, &env.proof_audience);
    let authorizations = try_join_all(request.challenges.iter().map(|challenge| {
        let pod = Some(challenge.pod_id.as_str());
        agent.idp().device_authorization(env, &endpoints, scope, audience, pod)
    }))
    .await?;

    for (challenge, authorization) in request.challenges.iter().zip(authorizations) {
        let page = authorization
            .verification_uri_complete
            .clone()
            .unwrap_or_else(|| authorization.verification_uri.clone());

        // Only pages of the configured IdP are opened: a misbehaving IdP
        // response must not make the agent open arbitrary URLs.
        let on_idp_host = page.host_str() == Some(env.idp_host());
        if !on_idp_host {
            warn!(pod_id = %challenge.pod_id, host = page.host_str(), "verification page is not on the idp host; not opening it");
        }
        let browser_opened = request.open_browser && on_idp_host && agent.browser().open(&page);
        debug!(pod_id = %challenge.pod_id, browser_opened, "device code ready");

        events
            .send(Event::UserAction(UserAction {
                pod_ids: vec![challenge.pod_id.clone()],
                url: page,
                user_code: Some(authorization.user_code.clone()),
                verification_uri: Some(authorization.verification_uri.clone()),
                expires_at: authorization.expires_at,
                browser_opened,
            }))
            .await;
        events
            .send(Event::Proof(Proof {
                pod_id: challenge.pod_id.clone(),
                kind: ProofKind::DeviceCode {
                    device_code: authorization.device_code,
                    expires_at: authorization.expires_at,
                    interval: authorization.interval,
                },
            }))
            .await;
    }

    info!(request_id = %request.id, pods = request.challenges.len(), "device codes issued");
    Ok(())
}
