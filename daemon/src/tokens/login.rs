//! Signing in for the shared session, by device code (RFC 8628 polling) or
//! by authorization code with PKCE through the loopback server.

use std::time::{Duration, Instant, SystemTime};

use secrecy::ExposeSecret;
use tracing::{debug, info};

use super::token_endpoint::{self, Granted, TokenRequestError};
use super::{SessionSettings, new_session};
use crate::agent::Agent;
use crate::environment::Environment;
use crate::error::{ProveError, TokenError};
use crate::methods::auth_code::authorize_link;
use crate::methods::{Event, Events, Method, ProofKind, UserAction};
use crate::pending::ChainAnswer;

/// RFC 8628 section 3.5: each `slow_down` adds this to the interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The label of the login's one link in `Status`.
const LOGIN_LABEL: &str = "login";

/// What a finished login reports.
#[derive(Debug)]
pub struct LoggedIn {
    /// The signed-in user.
    pub subject: String,
    /// When the first access token expires.
    pub access_expires_at: SystemTime,
}

/// Signs in to `env` by `method` and stores the session.
pub async fn login(
    agent: &Agent,
    env: &Environment,
    method: Method,
    timeout: Duration,
    open_browser: bool,
    settings: SessionSettings,
    events: &Events,
) -> Result<LoggedIn, TokenError> {
    let deadline = Instant::now() + timeout;
    let granted = match method {
        Method::DeviceCode => by_device_code(agent, env, deadline, open_browser, events).await?,
        Method::AuthCode => {
            by_auth_code(agent, env, deadline, timeout, open_browser, events).await?
        }
        Method::Saml => {
            return Err(ProveError::InvalidRequest(
                "login takes oidc-device-code or oidc-auth-code; saml gives no session".into(),
            )
            .into());
        }
    };

    let session = new_session(granted)
        .map_err(|reason| TokenError::IdpUnreachable { environment: env.name.clone(), reason })?;
    let done =
        LoggedIn { subject: session.subject.clone(), access_expires_at: session.access_expires_at };
    agent.sessions().install(env, session, settings).await?;
    info!(environment = %env.name, "logged in");
    Ok(done)
}

/// Device authorization, then polling the token endpoint until the user
/// approves, refuses, or the code expires. Transient failures (5xx, network)
/// are retried until then.
async fn by_device_code(
    agent: &Agent,
    env: &Environment,
    deadline: Instant,
    open_browser: bool,
    events: &Events,
) -> Result<Granted, TokenError> {
    let endpoints = agent.idp().endpoints(env).await?;
    let authorization = agent
        .idp()
        .device_authorization(env, &endpoints, &env.session_scopes, &env.api_audience, None)
        .await?;

    let page = authorization
        .verification_uri_complete
        .clone()
        .unwrap_or_else(|| authorization.verification_uri.clone());
    let on_idp_host = page.host_str() == Some(env.idp_host());
    let browser_opened = open_browser && on_idp_host && agent.browser().open(&page);
    events
        .send(Event::UserAction(UserAction {
            pod_ids: Vec::new(),
            url: page,
            user_code: Some(authorization.user_code.clone()),
            verification_uri: Some(authorization.verification_uri.clone()),
            expires_at: authorization.expires_at,
            browser_opened,
        }))
        .await;

    let code_deadline = deadline.min(Instant::now() + remaining(authorization.expires_at));
    let mut interval = authorization.interval;
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", authorization.device_code.expose_secret()),
        ("client_id", env.client_id.as_str()),
    ];
    loop {
        if Instant::now() + interval >= code_deadline {
            return Err(TokenError::Expired { environment: env.name.clone() });
        }
        tokio::time::sleep(interval).await;

        match token_endpoint::request(agent.idp().http(), &endpoints.token, &form).await {
            Ok(granted) => return Ok(granted),
            Err(TokenRequestError::Refused { error, description }) => match error.as_str() {
                "authorization_pending" => {}
                "slow_down" => {
                    interval += SLOW_DOWN_STEP;
                    debug!(interval_secs = interval.as_secs(), "idp asked to slow down");
                }
                "expired_token" => {
                    return Err(TokenError::Expired { environment: env.name.clone() });
                }
                "access_denied" => {
                    let reason = description.map_or(error.clone(), |d| format!("{error}: {d}"));
                    return Err(TokenError::Denied { environment: env.name.clone(), reason });
                }
                _ => {
                    let reason = description.map_or(error.clone(), |d| format!("{error}: {d}"));
                    return Err(TokenError::IdpUnreachable {
                        environment: env.name.clone(),
                        reason,
                    });
                }
            },
            Err(error) => debug!(%error, "token endpoint failed; polling on"),
        }
    }
}

/// One PKCE link through the loopback server, then the code redeemed by the
/// agent itself.
async fn by_auth_code(
    agent: &Agent,
    env: &Environment,
    deadline: Instant,
    timeout: Duration,
    open_browser: bool,
    events: &Events,
) -> Result<Granted, TokenError> {
    let endpoints = agent.idp().endpoints(env).await?;
    let redirect_uri = env.redirect_uri();
    let link = authorize_link(
        env,
        &endpoints.authorization,
        &redirect_uri,
        LOGIN_LABEL,
        &env.session_scopes,
        &env.api_audience,
    );
    let url = link.url.clone();
    let request_id = format!("login-{}", env.name);
    let (_guard, mut answers) =
        agent.pending().register(&request_id, Method::AuthCode, &env.name, deadline, vec![link]);

    let browser_opened = open_browser && agent.browser().open(&url);
    events
        .send(Event::UserAction(UserAction {
            pod_ids: Vec::new(),
            url,
            user_code: None,
            verification_uri: None,
            expires_at: SystemTime::now() + timeout,
            browser_opened,
        }))
        .await;

    let answer = tokio::time::timeout_at(deadline.into(), answers.recv())
        .await
        .map_err(|_| TokenError::Expired { environment: env.name.clone() })?;
    let proof = match answer {
        Some(ChainAnswer::Proof(proof)) => proof,
        Some(ChainAnswer::Failed(ProveError::IdpRefused { error, description, .. })) => {
            let reason = description.map_or(error.clone(), |d| format!("{error}: {d}"));
            return Err(TokenError::Denied { environment: env.name.clone(), reason });
        }
        Some(ChainAnswer::Failed(error)) => return Err(error.into()),
        None => return Err(ProveError::Stopping.into()),
    };
    let ProofKind::AuthCode { code, verifier, redirect_uri } = proof.kind else {
        return Err(ProveError::InvalidRequest("login callback carried no code".into()).into());
    };

    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.expose_secret()),
        ("code_verifier", verifier.expose_secret()),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", env.client_id.as_str()),
    ];
    token_endpoint::request(agent.idp().http(), &endpoints.token, &form).await.map_err(|error| {
        match error {
            TokenRequestError::Refused { .. } => {
                TokenError::Denied { environment: env.name.clone(), reason: error.to_string() }
            }
            _ => TokenError::IdpUnreachable {
                environment: env.name.clone(),
                reason: error.to_string(),
            },
        }
    })
}

fn remaining(at: SystemTime) -> Duration {
    at.duration_since(SystemTime::now()).unwrap_or_default()
}
