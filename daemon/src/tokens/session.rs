//! One signed-in session with an environment's IdP, and how it is written
//! to a store: a small JSON document, versioned, whose secret fields never
//! appear in `Debug`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Version of the stored document; a store entry of another version is
/// treated as absent.
const FORMAT_VERSION: u32 = 1;

/// A session: the refresh token that keeps it alive and, when known, the
/// current access token.
#[derive(Debug)]
pub struct Session {
    /// The `sub` of the signed-in user.
    pub subject: String,
    /// The refresh token.
    pub refresh_token: SecretString,
    /// The access token, if one is held.
    pub access_token: Option<SecretString>,
    /// When the access token expires.
    pub access_expires_at: SystemTime,
    /// The token type, normally `Bearer`.
    pub token_type: String,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    subject: String,
    refresh_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
    access_expires_at_unix: u64,
    token_type: String,
}

impl Session {
    /// Whether the access token stays valid for at least `margin`.
    pub fn access_valid_for(&self, margin: Duration) -> bool {
        self.access_token.is_some() && SystemTime::now() + margin < self.access_expires_at
    }

    /// The stored form; the access token only when `with_access` (access
    /// tokens may be kept in memory only).
    pub fn to_stored(&self, with_access: bool) -> SecretString {
        let stored = Stored {
            version: FORMAT_VERSION,
            subject: self.subject.clone(),
            refresh_token: self.refresh_token.expose_secret().to_owned(),
            access_token: self
                .access_token
                .as_ref()
                .filter(|_| with_access)
                .map(|t| t.expose_secret().to_owned()),
            access_expires_at_unix: unix(self.access_expires_at),
            token_type: self.token_type.clone(),
        };
        // Serializing plain strings and numbers cannot fail.
        SecretString::from(serde_json::to_string(&stored).unwrap_or_default())
    }

    /// Reads a stored session; `Err` names what is wrong (never the value).
    pub fn from_stored(text: &SecretString) -> Result<Self, String> {
        let stored: Stored = serde_json::from_str(text.expose_secret()).map_err(|e| {
            format!("stored session is not valid JSON of the expected shape at line {}", e.line())
        })?;
        if stored.version != FORMAT_VERSION {
            return Err(format!(
                "stored session has format version {}, expected {FORMAT_VERSION}",
                stored.version
            ));
        }
        if stored.refresh_token.is_empty() {
            return Err("stored session has an empty refresh token".into());
        }
        Ok(Self {
            subject: stored.subject,
            refresh_token: SecretString::from(stored.refresh_token),
            access_token: stored.access_token.map(SecretString::from),
            access_expires_at: UNIX_EPOCH + Duration::from_secs(stored.access_expires_at_unix),
            token_type: stored.token_type,
        })
    }
}

/// Seconds since the Unix epoch.
pub fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The `sub` claim of a JWT's payload, read without verifying the
/// signature: used only for ID tokens received straight from the token
/// endpoint over the IdP's own connection (OpenID Connect Core 3.1.3.7).
pub fn jwt_subject(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            subject: "alice".into(),
            refresh_token: SecretString::from("rt-secret"),
            access_token: Some(SecretString::from("at-secret")),
            access_expires_at: UNIX_EPOCH + Duration::from_secs(2_000_000_000),
            token_type: "Bearer".into(),
        }
    }

    #[test]
    fn stored_form_round_trips_and_can_omit_access_token() {
        let back = Session::from_stored(&session().to_stored(true)).unwrap();
        assert_eq!(back.access_token.unwrap().expose_secret(), "at-secret");
        assert_eq!(back.refresh_token.expose_secret(), "rt-secret");

        let back = Session::from_stored(&session().to_stored(false)).unwrap();
        assert!(back.access_token.is_none());
    }

    #[test]
    fn debug_and_errors_never_show_tokens() {
        assert!(!format!("{:?}", session()).contains("secret"));
        let err = Session::from_stored(&SecretString::from("{\"refresh_token\": \"rt-secret\""))
            .unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn subject_is_read_from_jwt_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"alice","aud":"x"}"#);
        assert_eq!(jwt_subject(&format!("e30.{payload}.sig")).as_deref(), Some("alice"));
        assert_eq!(jwt_subject("opaque"), None);
    }
}
