//! The shared session as a user gets it: `Login` through the daemon with
//! Chromium acting as the user, and the provider's own view of the tokens
//! the daemon holds (refresh and revocation at its endpoints, and the
//! signature, audience and subject of the access tokens).

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use podauth::Client;
use podauth::methods::{OIDC_AUTH_CODE, OIDC_DEVICE_CODE};
use podauth::v1::{self as pb, login_event::Event};
use serde::Deserialize;

use crate::browser::Browser;
use crate::daemon::Daemon;
use crate::fixture::within;
use crate::provider::Provider;

/// The audience of the session's access tokens.
pub const HUB_AUDIENCE: &str = "https://hub.bitfount.com/api";
/// How long a test login may wait for the browser.
pub const LOGIN_TIMEOUT_SECONDS: u32 = 120;
/// How long a `Login` stream may stay silent before the test fails.
const EVENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on each HTTP request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// One `Login` call in progress.
#[derive(Debug)]
pub struct LoginRun {
    stream: tonic::Streaming<pb::LoginEvent>,
}

impl LoginRun {
    /// Sends a login by `method` for the default environment, asking the
    /// daemon to open no browser; a refusal up front is `Err`.
    pub async fn start(client: &mut Client, method: &str) -> Result<Self, tonic::Status> {
        let request = pb::LoginRequest {
            environment: String::new(),
            method: method.to_owned(),
            timeout_seconds: Some(LOGIN_TIMEOUT_SECONDS),
            open_browser: Some(false),
        };
        Self::start_with(client, request).await
    }

    /// Sends `request`; a refusal up front is `Err`.
    pub async fn start_with(
        client: &mut Client,
        request: pb::LoginRequest,
    ) -> Result<Self, tonic::Status> {
        let stream = within(EVENT_TIMEOUT, "the Login call", client.login(request)).await;
        let stream = stream.map_err(|error| match error {
            podauth::ClientError::Status(status) => status,
            other => panic!("Login failed below gRPC: {other}"),
        })?;
        Ok(Self { stream })
    }

    /// The user action the login starts with.
    pub async fn user_action(&mut self) -> pb::UserAction {
        match self.next().await {
            Ok(Some(Event::UserAction(action))) => action,
            other => panic!("expected the login's user action, got {other:?}"),
        }
    }

    /// The end of the login: `Done`, or the status it failed with.
    pub async fn finish(&mut self) -> Result<pb::LoginDone, tonic::Status> {
        match self.next().await? {
            Some(Event::Done(done)) => Ok(done),
            other => panic!("expected the login to end, got {other:?}"),
        }
    }

    async fn next(&mut self) -> Result<Option<Event>, tonic::Status> {
        let message = within(EVENT_TIMEOUT, "the next Login event", self.stream.message()).await?;
        Ok(message.and_then(|m| m.event))
    }
}

/// Logs in by device code, approving the code in `browser` as `login`.
pub async fn login_by_device_code(
    daemon: &Daemon,
    browser: &Browser,
    login: &str,
) -> pb::LoginDone {
    let mut client = daemon.client().await;
    let mut run = LoginRun::start(&mut client, OIDC_DEVICE_CODE)
        .await
        .unwrap_or_else(|status| panic!("device-code login refused: {status:?}"));
    let action = run.user_action().await;
    browser.approve_device(&action.url, &action.user_code, login).await;
    run.finish().await.unwrap_or_else(|status| panic!("device-code login failed: {status:?}"))
}

/// Logs in by authorization code, signing in to the provider in `browser`
/// as `login` (the browser's first sign-in).
pub async fn login_by_auth_code(daemon: &Daemon, browser: &Browser, login: &str) -> pb::LoginDone {
    let mut run = start_auth_code(daemon).await;
    let action = run.user_action().await;
    browser.sign_in_chain(&action.url, login).await;
    run.finish().await.unwrap_or_else(|status| panic!("auth-code login failed: {status:?}"))
}

/// Logs in by authorization code in a browser already signed in to the
/// provider: one redirect through the loopback server, no page.
pub async fn login_again_by_auth_code(daemon: &Daemon, browser: &Browser) -> pb::LoginDone {
    let mut run = start_auth_code(daemon).await;
    let action = run.user_action().await;
    browser.follow_chain(&action.url).await;
    run.finish().await.unwrap_or_else(|status| panic!("auth-code login failed: {status:?}"))
}

async fn start_auth_code(daemon: &Daemon) -> LoginRun {
    let mut client = daemon.client().await;
    LoginRun::start(&mut client, OIDC_AUTH_CODE)
        .await
        .unwrap_or_else(|status| panic!("auth-code login refused: {status:?}"))
}

/// The token endpoint's answer to a request the test sends itself.
#[derive(Debug, Deserialize)]
struct TokenAnswer {
    refresh_token: Option<String>,
    error: Option<String>,
}

/// The provider, as the test talks to it directly.
#[derive(Debug, Clone)]
pub struct ProviderSide {
    http: reqwest::Client,
    issuer: String,
    token: url::Url,
    revocation: url::Url,
    jwks: url::Url,
}

impl ProviderSide {
    /// Direct access to `provider`.
    pub fn new(provider: &Provider) -> Self {
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("build an http client");
        Self {
            http,
            issuer: provider.issuer(),
            token: provider.url("/token"),
            revocation: provider.url("/token/revocation"),
            jwks: provider.url("/jwks"),
        }
    }

    /// Refreshes with `refresh_token` of `client_id`, as another holder of
    /// it would: the rotated refresh token, or the OAuth error.
    pub async fn refresh(&self, refresh_token: &str, client_id: &str) -> Result<String, String> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
        ];
        let response = self.http.post(self.token.clone()).form(&form).send().await;
        let response = response.unwrap_or_else(|e| panic!("POST {}: {e}", self.token));
        let answer: TokenAnswer = response.json().await.expect("the token endpoint answers JSON");
        match (answer.refresh_token, answer.error) {
            (Some(rotated), None) => Ok(rotated),
            (_, Some(error)) => Err(error),
            (None, None) => panic!("the provider answered a refresh without a refresh token"),
        }
    }

    /// Revokes `refresh_token` of `client_id` (RFC 7009), as an
    /// administrator or the user's account page would.
    pub async fn revoke(&self, refresh_token: &str, client_id: &str) {
        let form = [
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
            ("client_id", client_id),
        ];
        let response = self.http.post(self.revocation.clone()).form(&form).send().await;
        let response = response.unwrap_or_else(|e| panic!("POST {}: {e}", self.revocation));
        assert!(response.status().is_success(), "revocation answered {}", response.status());
    }

    /// Verifies a session access token (signature, issuer, audience,
    /// expiry) and returns its subject.
    pub async fn subject_of(&self, access_token: &str) -> String {
        let header = jsonwebtoken::decode_header(access_token)
            .unwrap_or_else(|e| panic!("the session access token is not a JWT: {e}"));
        let kid = header.kid.expect("the access token names its key");
        let keys: JwkSet = self
            .http
            .get(self.jwks.clone())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .unwrap_or_else(|e| panic!("GET {}: {e}", self.jwks))
            .json()
            .await
            .unwrap_or_else(|e| panic!("{} is not a key set: {e}", self.jwks));
        let jwk = keys.find(&kid).unwrap_or_else(|| panic!("key {kid} is not published"));
        let key = DecodingKey::from_jwk(jwk).expect("a usable RSA key");

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[HUB_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Tokens of a second or two are due almost at once; leeway keeps
        // the check about the signature and the audience.
        validation.leeway = 5;
        let claims = jsonwebtoken::decode::<Subject>(access_token, &key, &validation)
            .unwrap_or_else(|e| panic!("the provider does not vouch for the session token: {e}"));
        claims.claims.sub
    }
}

#[derive(Debug, Deserialize)]
struct Subject {
    sub: String,
}

/// Refresh requests the provider has seen so far.
pub async fn refreshes(provider: &Provider) -> u64 {
    provider.token_requests("refresh_token").await
}

/// Refresh requests the provider refused with `invalid_grant` so far.
pub async fn refused_refreshes(provider: &Provider) -> u64 {
    let stats = provider.stats().await;
    stats["token_errors"]["refresh_token"]["invalid_grant"].as_u64().unwrap_or(0)
}
