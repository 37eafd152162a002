//! Talking to an environment's IdP: where its endpoints are, and the device
//! authorization request.
//!
//! Auth0-style domains use Auth0's fixed paths and need no round trip;
//! issuers are discovered once and cached for an hour.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use openidconnect::core::{CoreClient, CoreDeviceAuthorizationResponse};
use openidconnect::{
    ClientId, DeviceAuthorizationUrl, IssuerUrl, JsonWebKeySet, RequestTokenError, Scope,
};
use secrecy::SecretString;
use serde::Deserialize;
use tokio::sync::Mutex;
use tracing::{debug, instrument};
use url::Url;

use crate::environment::{Environment, IdpLocation};
use crate::error::ProveError;

/// How long discovered endpoints are trusted before asking again.
const DISCOVERY_TTL: Duration = Duration::from_secs(60 * 60);
/// Connect timeout towards the IdP.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Whole-request timeout towards the IdP.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// RFC 8628 section 3.2: the interval when the IdP names none.
const DEFAULT_DEVICE_INTERVAL: Duration = Duration::from_secs(5);

/// An IdP's endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The authorization endpoint.
    pub authorization: Url,
    /// The token endpoint.
    pub token: Url,
    /// The device authorization endpoint, when the IdP has one.
    pub device_authorization: Option<Url>,
    /// The token revocation endpoint (RFC 7009), when the IdP has one.
    pub revocation: Option<Url>,
}

/// A device authorization, as the IdP granted it.
#[derive(Debug)]
pub struct DeviceAuthorization {
    /// The code the Pod polls with.
    pub device_code: SecretString,
    /// The code the user confirms.
    pub user_code: String,
    /// The page to type the code into.
    pub verification_uri: Url,
    /// The page with the code filled in, when the IdP gives one.
    pub verification_uri_complete: Option<Url>,
    /// When the codes expire.
    pub expires_at: SystemTime,
    /// How often the Pod may poll.
    pub interval: Duration,
}

/// The subset of the discovery document the agent reads.
#[derive(Debug, Deserialize)]
struct DiscoveryDocument {
    issuer: String,
    authorization_endpoint: Url,
    token_endpoint: Url,
    device_authorization_endpoint: Option<Url>,
    revocation_endpoint: Option<Url>,
}

/// The IdP client, shared by all requests.
#[derive(Debug)]
pub struct Idp {
    http: reqwest::Client,
    discovered: Mutex<HashMap<String, (Instant, Arc<Endpoints>)>>,
}

impl Idp {
    /// A client that never follows redirects (an IdP answer that redirects
    /// is an error, not a hop to an unchecked host).
    pub fn new() -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("podauthd/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, discovered: Mutex::new(HashMap::new()) })
    }

    /// The environment's endpoints; the device endpoint from config wins
    /// over discovery.
    pub async fn endpoints(&self, env: &Environment) -> Result<Arc<Endpoints>, ProveError> {
        let mut endpoints = match &env.idp {
            IdpLocation::AuthDomain(base) => Endpoints {
                authorization: join(base, "authorize")?,
                token: join(base, "oauth/token")?,
                device_authorization: Some(join(base, "oauth/device/code")?),
                revocation: Some(join(base, "oauth/revoke")?),
            },
            IdpLocation::Issuer(issuer) => (*self.discover(issuer).await?).clone(),
        };
        if let Some(device) = &env.device_authorization_endpoint {
            endpoints.device_authorization = Some(device.clone());
        }
        Ok(Arc::new(endpoints))
    }

    #[instrument(skip_all, fields(issuer = %issuer))]
    async fn discover(&self, issuer: &Url) -> Result<Arc<Endpoints>, ProveError> {
        let mut cache = self.discovered.lock().await;
        if let Some((at, endpoints)) = cache.get(issuer.as_str()) {
            if at.elapsed() < DISCOVERY_TTL {
                return Ok(Arc::clone(endpoints));
            }
        }

        let url = join(issuer, ".well-known/openid-configuration")?;
        let unreachable =
            |reason: String| ProveError::IdpUnreachable { url: url.to_string(), reason };
        let response =
            self.http.get(url.clone()).send().await.map_err(|e| unreachable(with_causes(&e)))?;
        if !response.status().is_success() {
            return Err(unreachable(format!("discovery answered {}", response.status())));
        }
        let document: DiscoveryDocument = response
            .json()
            .await
            .map_err(|e| unreachable(format!("bad discovery document: {e}")))?;

        // The issuer must be the one configured (OpenID Connect Discovery
        // section 4.3); only a trailing slash may differ.
        if document.issuer.trim_end_matches('/') != issuer.as_str().trim_end_matches('/') {
            return Err(unreachable(format!(
                "discovery names issuer {:?}, expected {:?}",
                document.issuer,
                issuer.as_str()
            )));
        }

        let endpoints = Arc::new(Endpoints {
            authorization: document.authorization_endpoint,
            token: document.token_endpoint,
            device_authorization: document.device_authorization_endpoint,
            revocation: document.revocation_endpoint,
        });
        debug!(?endpoints, "discovered endpoints");
        cache.insert(issuer.as_str().to_owned(), (Instant::now(), Arc::clone(&endpoints)));
        Ok(endpoints)
    }

    /// The HTTP client, for the token endpoint.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// RFC 8628 section 3.1: asks for a device code for the environment's
    /// client id with `scope` and `audience`; `pod_id` names the Pod in
    /// errors, when the code is for one.
    #[instrument(skip_all, fields(environment = %env.name))]
    pub async fn device_authorization(
        &self,
        env: &Environment,
        endpoints: &Endpoints,
        scope: &str,
        audience: &str,
        pod_id: Option<&str>,
    ) -> Result<DeviceAuthorization, ProveError> {
        let device_url =
            endpoints.device_authorization.clone().ok_or_else(|| ProveError::IdpUnreachable {
                url: env.issuer().to_string(),
                reason: format!(
                    "the IdP offers no device authorization endpoint; set \
                     device_authorization_endpoint for environment {:?}",
                    env.name
                ),
            })?;
        let issuer = IssuerUrl::from_url(env.issuer().clone());
        let client =
            CoreClient::new(ClientId::new(env.client_id.clone()), issuer, JsonWebKeySet::default())
                .set_device_authorization_url(DeviceAuthorizationUrl::from_url(device_url.clone()))
                .disable_openid_scope();

        let started = SystemTime::now();
        let response: CoreDeviceAuthorizationResponse = client
            .exchange_device_code()
            .add_scopes(scope.split_whitespace().map(|s| Scope::new(s.to_owned())))
            .add_extra_param("audience", audience.to_owned())
            .request_async(&self.http)
            .await
            .map_err(|error| match error {
                RequestTokenError::ServerResponse(response) => ProveError::IdpRefused {
                    pod_id: pod_id.map(str::to_owned),
                    error: response.error().as_ref().to_owned(),
                    description: response.error_description().cloned(),
                },
                // The other variants never carry a secret in their Display;
                // the parse error's raw body is deliberately left out.
                other => ProveError::IdpUnreachable {
                    url: device_url.to_string(),
                    reason: with_causes(&other),
                },
            })?;

        let parse = |text: &str| {
            Url::parse(text).map_err(|e| ProveError::IdpUnreachable {
                url: device_url.to_string(),
                reason: format!("invalid verification uri: {e}"),
            })
        };
        let interval = response.interval();
        Ok(DeviceAuthorization {
            device_code: SecretString::from(response.device_code().secret().clone()),
            user_code: response.user_code().secret().clone(),
            verification_uri: parse(response.verification_uri())?,
            verification_uri_complete: response
                .verification_uri_complete()
                .map(|uri| parse(uri.secret()))
                .transpose()?,
            expires_at: started + response.expires_in(),
            interval: if interval.is_zero() { DEFAULT_DEVICE_INTERVAL } else { interval },
        })
    }
}

/// An error and its causes ("request failed: ... : dns error: ..."), so the
/// person reading it learns why, not only that.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

fn join(base: &Url, path: &str) -> Result<Url, ProveError> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    base.join(path)
        .map_err(|e| ProveError::IdpUnreachable { url: base.to_string(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_issuer_path() {
        let base = Url::parse("https://idp.example/tenant").unwrap();
        assert_eq!(
            join(&base, "oauth/token").unwrap().as_str(),
            "https://idp.example/tenant/oauth/token"
        );
        let root = Url::parse("https://auth.bitfount.com/").unwrap();
        assert_eq!(
            join(&root, "oauth/device/code").unwrap().as_str(),
            "https://auth.bitfount.com/oauth/device/code"
        );
    }
}
