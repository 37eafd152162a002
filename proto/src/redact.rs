//! `Debug` for the protocol messages that carry secrets: the fields a Pod
//! needs (codes, verifiers, SAML responses) print as `<redacted>`, so a
//! client that logs a proof with `{:?}` leaks nothing.

use std::fmt;

use crate::v1::{AuthCodeProof, DeviceCodeProof, GetTokenResponse, SamlProof};

const REDACTED: &str = "<redacted>";

impl fmt::Debug for DeviceCodeProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCodeProof")
            .field("device_code", &REDACTED)
            .field("expires_at_unix", &self.expires_at_unix)
            .field("interval_seconds", &self.interval_seconds)
            .finish()
    }
}

impl fmt::Debug for AuthCodeProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthCodeProof")
            .field("auth_code", &REDACTED)
            .field("code_verifier", &REDACTED)
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

impl fmt::Debug for SamlProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SamlProof")
            .field("saml_response", &REDACTED)
            .field("relay_state", &self.relay_state)
            .finish()
    }
}

impl fmt::Debug for GetTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetTokenResponse")
            .field("access_token", &REDACTED)
            .field("expires_at_unix", &self.expires_at_unix)
            .field("token_type", &self.token_type)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::v1::{Proof, proof};

    #[test]
    fn proofs_print_without_secrets() {
        let proof = Proof {
            pod_id: "pod-a".into(),
            kind: Some(proof::Kind::AuthCode(crate::v1::AuthCodeProof {
                auth_code: "code-secret".into(),
                code_verifier: "verifier-secret".into(),
                redirect_uri: "http://localhost:29206/api/auth/callback/auth0".into(),
            })),
        };
        let text = format!("{proof:?}");
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("pod-a") && text.contains("redirect_uri"), "{text}");
    }
}
