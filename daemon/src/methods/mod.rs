//! The three identity verification methods and the types they share.
//!
//! A method turns one [`ProofRequest`] into [`Event`]s: what the user must
//! do, then one proof per Pod. Methods know nothing of gRPC or HTTP; the
//! edges convert their own types into these.

pub mod auth_code;
mod chain;
pub mod device_code;
pub mod saml;

use std::fmt;
use std::time::{Duration, SystemTime};

use podauth_proto::methods as names;
use secrecy::SecretString;
use tokio::sync::mpsc;
use url::Url;

use crate::environment::Environment;
use crate::error::ProveError;

/// An identity verification method, by its exact protocol name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `oidc-device-code`, RFC 8628; the default.
    DeviceCode,
    /// `oidc-auth-code`, authorization code with PKCE.
    AuthCode,
    /// `saml`, SAML 2.0 Web Browser SSO.
    Saml,
}

impl Method {
    /// Every method, default first.
    pub const ALL: [Method; 3] = [Method::DeviceCode, Method::AuthCode, Method::Saml];

    /// The exact protocol name.
    pub fn name(self) -> &'static str {
        match self {
            Self::DeviceCode => names::OIDC_DEVICE_CODE,
            Self::AuthCode => names::OIDC_AUTH_CODE,
            Self::Saml => names::SAML,
        }
    }

    /// Parses a protocol name; the empty name means the default method.
    pub fn parse(name: &str) -> Result<Self, ProveError> {
        if name.is_empty() {
            return Ok(Self::DeviceCode);
        }
        Self::ALL.into_iter().find(|m| m.name() == name).ok_or_else(|| ProveError::UnknownMethod {
            given: name.to_owned(),
            valid: names::ALL.to_vec(),
        })
    }

    /// Whether answers arrive through the loopback server.
    pub fn uses_callback(self) -> bool {
        !matches!(self, Self::DeviceCode)
    }

    /// One line for people.
    pub fn description(self) -> &'static str {
        match self {
            Self::DeviceCode => "confirm a code in the browser for every pod (RFC 8628)",
            Self::AuthCode => "browser sign-in with PKCE; no clicks once signed in (RFC 7636)",
            Self::Saml => "SAML 2.0 browser SSO; no clicks once signed in",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One request to prove the user's identity to one or more Pods.
#[derive(Debug)]
pub struct ProofRequest {
    /// Short id for logs and `Status`.
    pub id: String,
    /// The method.
    pub method: Method,
    /// The environment the Pods belong to.
    pub environment: Environment,
    /// One challenge per Pod, in order.
    pub challenges: Vec<Challenge>,
    /// Whether the agent may open a browser.
    pub open_browser: bool,
    /// How long the user has to finish.
    pub timeout: Duration,
}

/// One Pod's challenge.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// The Pod's identifier.
    pub pod_id: String,
    /// What the Pod sent.
    pub kind: ChallengeKind,
}

/// What a Pod sends, by method family.
#[derive(Debug, Clone)]
pub enum ChallengeKind {
    /// An OIDC client id.
    ClientId(String),
    /// A SAML AuthnRequest (HTTP-Redirect encoding) and optional SSO URL.
    Saml {
        /// The `SAMLRequest` value.
        request: String,
        /// The IdP SSO URL, when the client supplies one.
        sso_url: Option<Url>,
    },
}

/// What a method reports while it works.
#[derive(Debug)]
pub enum Event {
    /// The user must do something in a browser.
    UserAction(UserAction),
    /// One Pod's proof.
    Proof(Proof),
}

/// Something the user must do in a browser.
#[derive(Debug, Clone)]
pub struct UserAction {
    /// The Pods it answers.
    pub pod_ids: Vec<String>,
    /// The URL to open.
    pub url: Url,
    /// Device code: the code to confirm.
    pub user_code: Option<String>,
    /// Device code: the page to type the code into.
    pub verification_uri: Option<Url>,
    /// When the action stops being useful.
    pub expires_at: SystemTime,
    /// Whether the agent started a browser on `url`.
    pub browser_opened: bool,
}

/// One Pod's proof.
#[derive(Debug)]
pub struct Proof {
    /// The Pod.
    pub pod_id: String,
    /// The proof itself.
    pub kind: ProofKind,
}

/// A proof, by method. Every secret part redacts itself in `Debug`.
#[derive(Debug)]
pub enum ProofKind {
    /// RFC 8628: the Pod polls with the device code.
    DeviceCode {
        /// The device code.
        device_code: SecretString,
        /// When the device code expires.
        expires_at: SystemTime,
        /// The polling interval.
        interval: Duration,
    },
    /// PKCE: the Pod redeems the code with the verifier.
    AuthCode {
        /// The authorization code.
        code: SecretString,
        /// The PKCE code verifier.
        verifier: SecretString,
        /// The redirect URI the code was issued to.
        redirect_uri: String,
    },
    /// SAML: the form the IdP posted, unchanged.
    Saml {
        /// The `SAMLResponse` value.
        response: SecretString,
        /// The `RelayState` value.
        relay_state: String,
    },
}

/// Where a method sends its events; a closed receiver means the client left,
/// and the caller cancels the method.
#[derive(Debug, Clone)]
pub struct Events(mpsc::Sender<Event>);

impl Events {
    /// A sink and its receiving end.
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Self(tx), rx)
    }

    /// Sends an event; a departed client is noticed by the caller.
    pub async fn send(&self, event: Event) {
        let _ = self.0.send(event).await;
    }

    /// Resolves once the receiving end is gone.
    pub async fn closed(&self) {
        self.0.closed().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_default() {
        for method in Method::ALL {
            assert_eq!(Method::parse(method.name()).unwrap(), method);
        }
        assert_eq!(Method::parse("").unwrap(), Method::DeviceCode);
    }

    #[test]
    fn unknown_name_lists_valid_ones() {
        let err = Method::parse("oidc-implicit").unwrap_err().to_string();
        assert!(err.contains("oidc-implicit"), "{err}");
        assert!(err.contains("oidc-device-code, oidc-auth-code, saml"), "{err}");
    }

    #[test]
    fn proofs_redact_secrets_in_debug() {
        let proof = ProofKind::AuthCode {
            code: SecretString::from("code-123"),
            verifier: SecretString::from("verifier-456"),
            redirect_uri: "http://localhost:29206/api/auth/callback/auth0".into(),
        };
        let text = format!("{proof:?}");
        assert!(!text.contains("code-123") && !text.contains("verifier-456"), "{text}");
    }
}
