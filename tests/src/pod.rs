//! The reference Pod: what a Pod does with the proof a Data Scientist hands
//! it. It never trusts the proof itself; it takes it to the IdP.
//!
//! - auth code: redeems the code at the token endpoint with the verifier
//!   and redirect URI (RFC 7636);
//! - device code: polls the token endpoint with the device grant, waiting
//!   `interval` between polls while the user has not yet approved
//!   (RFC 8628 section 3.5).
//!
//! Either way it gets an access token, checks its RS256 signature against
//! the provider's published keys, its issuer and its audience, and reads
//! the subject: the user whose identity was proven.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use podauth::v1::{self as pb, proof::Kind};
use serde::Deserialize;

use crate::PROOF_AUDIENCE;
use crate::provider::Provider;

/// Grant type of RFC 8628.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Longest a Pod polls for one device code, whatever its expiry says.
const MAX_POLL: Duration = Duration::from_secs(90);
/// RFC 8628 section 3.5: a `slow_down` adds five seconds to the interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Bound on each HTTP request.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a Pod did not accept a proof.
#[derive(Debug, thiserror::Error)]
pub enum PodError {
    /// The token endpoint refused, with its OAuth error.
    #[error("token endpoint refused pod {pod}: {error} ({description})")]
    Refused {
        /// The Pod.
        pod: String,
        /// The OAuth error code, e.g. `invalid_grant`.
        error: String,
        /// The description, or empty.
        description: String,
    },
    /// The proof is not one this Pod can use.
    #[error("pod {pod} cannot use the proof: {reason}")]
    BadProof {
        /// The Pod.
        pod: String,
        /// Why.
        reason: String,
    },
    /// The access token failed verification.
    #[error("pod {pod} rejects the access token: {reason}")]
    BadToken {
        /// The Pod.
        pod: String,
        /// Why.
        reason: String,
    },
    /// The provider could not be reached or answered nonsense.
    #[error("pod {pod} cannot talk to the provider: {reason}")]
    Transport {
        /// The Pod.
        pod: String,
        /// What went wrong.
        reason: String,
    },
    /// The user did not approve before the device code ran out.
    #[error("pod {pod} polled for {waited:?} without an answer")]
    TimedOut {
        /// The Pod.
        pod: String,
        /// How long it polled.
        waited: Duration,
    },
}

impl PodError {
    /// The OAuth error code of a refusal.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            Self::Refused { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Who a verified token says the user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The subject: the login name at the provider.
    pub sub: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// The scopes granted.
    pub scope: String,
}

/// The claims the Pod reads; `jsonwebtoken` checks `exp`, `iss` and `aud`.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    scope: String,
}

/// The token endpoint's answer, success or error.
#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// A Pod of the provider's realm.
#[derive(Debug, Clone)]
pub struct Pod {
    http: reqwest::Client,
    issuer: String,
    token_endpoint: url::Url,
    jwks_uri: url::Url,
    client_id: String,
}

impl Pod {
    /// A Pod whose OIDC client is `client_id` at `provider`.
    pub fn new(provider: &Provider, client_id: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("build an http client");
        Self {
            http,
            issuer: provider.issuer(),
            token_endpoint: provider.url("/token"),
            jwks_uri: provider.url("/jwks"),
            client_id: client_id.to_owned(),
        }
    }

    /// Redeems or polls with `proof`, verifies the access token, and says
    /// whose identity it proves.
    pub async fn accept(&self, proof: &pb::Proof) -> Result<Identity, PodError> {
        let pod = proof.pod_id.clone();
        let token = match &proof.kind {
            Some(Kind::AuthCode(auth)) => self.redeem(&pod, auth).await?,
            Some(Kind::DeviceCode(device)) => self.poll(&pod, device).await?,
            other => {
                return Err(PodError::BadProof {
                    pod,
                    reason: format!("unsupported proof {other:?}"),
                });
            }
        };
        self.verify(&pod, &token).await
    }

    /// RFC 7636 section 4.5: the code with its verifier.
    async fn redeem(&self, pod: &str, auth: &pb::AuthCodeProof) -> Result<String, PodError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", auth.auth_code.as_str()),
            ("code_verifier", auth.code_verifier.as_str()),
            ("redirect_uri", auth.redirect_uri.as_str()),
            ("client_id", self.client_id.as_str()),
        ];
        let answer = self.token_request(pod, &form).await?;
        refusal_or_token(pod, answer)
    }

    /// RFC 8628 section 3.4: polls until the user approves or refuses.
    async fn poll(&self, pod: &str, device: &pb::DeviceCodeProof) -> Result<String, PodError> {
        let started = Instant::now();
        let mut interval = Duration::from_secs(u64::from(device.interval_seconds.max(1)));
        let expires_in = seconds_until(device.expires_at_unix);
        let limit = expires_in.min(MAX_POLL);

        let form = [
            ("grant_type", DEVICE_GRANT),
            ("device_code", device.device_code.as_str()),
            ("client_id", self.client_id.as_str()),
        ];
        loop {
            let answer = self.token_request(pod, &form).await?;
            match answer.error.as_deref() {
                Some("authorization_pending") => {}
                Some("slow_down") => interval += SLOW_DOWN_STEP,
                _ => return refusal_or_token(pod, answer),
            }
            if started.elapsed() + interval > limit {
                return Err(PodError::TimedOut { pod: pod.to_owned(), waited: started.elapsed() });
            }
            // The protocol's own pacing, not a wait for the test.
            tokio::time::sleep(interval).await;
        }
    }

    async fn token_request(
        &self,
        pod: &str,
        form: &[(&str, &str)],
    ) -> Result<TokenAnswer, PodError> {
        let transport = |reason: String| PodError::Transport { pod: pod.to_owned(), reason };
        let response = self
            .http
            .post(self.token_endpoint.clone())
            .form(form)
            .send()
            .await
            .map_err(|e| transport(format!("POST {}: {e}", self.token_endpoint)))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| transport(e.to_string()))?;
        serde_json::from_str(&body)
            .map_err(|e| transport(format!("token endpoint answered {status} with {body:?}: {e}")))
    }

    /// Signature against `/jwks`, then `exp`, `iss` and `aud`.
    async fn verify(&self, pod: &str, token: &str) -> Result<Identity, PodError> {
        let bad = |reason: String| PodError::BadToken { pod: pod.to_owned(), reason };
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| bad(format!("not a JWT (an opaque token has no subject): {e}")))?;
        if header.alg != Algorithm::RS256 {
            return Err(bad(format!("signed with {:?}, expected RS256", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| bad("the token names no key id".into()))?;

        let keys: JwkSet = self
            .http
            .get(self.jwks_uri.clone())
            .send()
            .await
            .map_err(|e| bad(format!("GET {}: {e}", self.jwks_uri)))?
            .json()
            .await
            .map_err(|e| bad(format!("{} is not a key set: {e}", self.jwks_uri)))?;
        let jwk = keys.find(&kid).ok_or_else(|| bad(format!("key {kid} is not published")))?;
        let key =
            DecodingKey::from_jwk(jwk).map_err(|e| bad(format!("key {kid} unusable: {e}")))?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[PROOF_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| bad(e.to_string()))?
            .claims;
        Ok(Identity { sub: claims.sub, client_id: claims.client_id, scope: claims.scope })
    }
}

fn refusal_or_token(pod: &str, answer: TokenAnswer) -> Result<String, PodError> {
    match (answer.access_token, answer.error) {
        (Some(token), None) => Ok(token),
        (_, Some(error)) => Err(PodError::Refused {
            pod: pod.to_owned(),
            error,
            description: answer.error_description.unwrap_or_default(),
        }),
        (None, None) => Err(PodError::Transport {
            pod: pod.to_owned(),
            reason: "the token endpoint answered neither a token nor an error".into(),
        }),
    }
}

fn seconds_until(unix: i64) -> Duration {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let at = u64::try_from(unix).unwrap_or(0);
    Duration::from_secs(at.saturating_sub(now))
}
