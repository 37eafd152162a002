//! The store a test daemon keeps its sessions in, chosen by the test, and
//! what is in it, read without asking the daemon: the file store's JSON
//! file, or the Secret Service item through `secret-tool`.
//!
//! [`StoredSession`] is the stored document as the tests understand it; an
//! entry that does not parse as one is torn, and the test fails saying so.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::daemon::DaemonOptions;
use crate::fixture::Fixture;
use crate::keyring::SecretService;

/// Version of the stored document the daemon writes.
pub const STORED_VERSION: u32 = 1;

/// Which store a test daemon uses: the file store in a directory of the
/// test's, or the OS keyring (a real Secret Service of the test's own).
#[derive(Debug)]
pub struct TokenStore {
    /// `PODAUTH_STATE_DIR` of the daemon; unused with the keyring.
    dir: PathBuf,
    keyring: Option<SecretService>,
}

impl TokenStore {
    /// The file store, in the test's directory.
    pub fn file(fixture: &Fixture) -> Self {
        Self { dir: fixture.join("state/sessions"), keyring: None }
    }

    /// The keyring store, with gnome-keyring started for the test.
    pub async fn keyring(fixture: &Fixture) -> Self {
        let service = SecretService::start(fixture).await;
        Self { dir: fixture.join("state/sessions"), keyring: Some(service) }
    }

    /// The backend's name as `Status` reports it.
    pub fn backend(&self) -> &'static str {
        if self.keyring.is_some() { "secret-service" } else { "file" }
    }

    /// The Secret Service, for a keyring store.
    pub fn secret_service(&self) -> Option<&SecretService> {
        self.keyring.as_ref()
    }

    /// The file store's directory (which the keyring store leaves alone).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Daemon options that select this store (`PODAUTH_TOKEN_STORE`, the
    /// state directory and, for the keyring, the bus).
    pub fn daemon_options(&self) -> DaemonOptions {
        let mut options = DaemonOptions::default();
        self.configure(&mut options);
        options
    }

    /// Adds this store's variables to `options`.
    pub fn configure(&self, options: &mut DaemonOptions) {
        let choice = match &self.keyring {
            Some(service) => {
                let address = service.address().to_owned();
                options.env.push(("DBUS_SESSION_BUS_ADDRESS".into(), address));
                "keyring"
            }
            None => "file",
        };
        options.env.push(("PODAUTH_TOKEN_STORE".into(), choice.into()));
        options.env.push(("PODAUTH_STATE_DIR".into(), self.dir.display().to_string()));
    }

    /// The file of `environment`'s session in the file store.
    pub fn file_path(&self, environment: &str) -> PathBuf {
        self.dir.join(format!("{}.json", session_key(environment)))
    }

    /// The raw stored entry of `environment`, if any.
    pub async fn entry(&self, environment: &str) -> Option<String> {
        if let Some(service) = &self.keyring {
            return service.lookup(&session_key(environment)).await;
        }
        let path = self.file_path(environment);
        match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => panic!("cannot read {}: {e}", path.display()),
        }
    }

    /// The stored session of `environment`, if any; fails the test when
    /// the entry is there but torn.
    pub async fn session(&self, environment: &str) -> Option<StoredSession> {
        let text = self.entry(environment).await?;
        let parsed = StoredSession::parse(&text);
        Some(parsed.unwrap_or_else(|reason| {
            panic!("the {} store holds a torn entry for {environment}: {reason}", self.backend())
        }))
    }
}

/// The stored key of `environment`'s session for this user, as the daemon
/// builds it.
pub fn session_key(environment: &str) -> String {
    format!("session-{environment}-uid{}", podauth_proto::current_uid())
}

/// A stored session, as the daemon writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredSession {
    /// Format version.
    pub version: u32,
    /// The signed-in user.
    pub subject: String,
    /// The refresh token.
    pub refresh_token: String,
    /// The access token, when persisted.
    #[serde(default)]
    pub access_token: Option<String>,
    /// When the access token expires, in Unix seconds.
    pub access_expires_at_unix: u64,
    /// The token type.
    pub token_type: String,
}

impl StoredSession {
    /// Parses a stored entry; `Err` says what makes it torn.
    pub fn parse(text: &str) -> Result<Self, String> {
        let session: Self = serde_json::from_str(text)
            .map_err(|e| format!("not a whole session document ({e}): {text:?}"))?;
        if session.version != STORED_VERSION {
            return Err(format!("version {}, expected {STORED_VERSION}", session.version));
        }
        if session.refresh_token.is_empty() {
            return Err("an empty refresh token".into());
        }
        Ok(session)
    }
}
