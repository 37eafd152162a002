//! The OS keyring through the `keyring` crate: Secret Service on Linux,
//! Keychain on macOS. Entries live under service `podauth`.

use secrecy::{ExposeSecret, SecretString};

use super::store::{Store, StoreError};

/// The service name every podauth entry is filed under.
const SERVICE: &str = "podauth";

/// The OS keyring.
#[derive(Debug, Default)]
pub struct KeyringStore;

impl KeyringStore {
    /// The keyring of this platform.
    pub fn new() -> Self {
        Self
    }

    fn entry(&self, key: &str, operation: &'static str) -> Result<keyring::Entry, StoreError> {
        keyring::Entry::new(SERVICE, key).map_err(|e| self.failed(operation, &e))
    }

    fn failed(&self, operation: &'static str, error: &keyring::Error) -> StoreError {
        // The crate's words for a locked keyring whose unlock prompt was
        // dismissed (or could not be shown) do not say "locked".
        let reason = match error {
            keyring::Error::NoStorageAccess(_) => format!(
                "the keyring is locked and was not unlocked ({error}); unlock it, or set \
                 token_store = \"file\""
            ),
            _ => error.to_string(),
        };
        StoreError::Failed { backend: self.backend(), operation, reason }
    }
}

impl Store for KeyringStore {
    fn backend(&self) -> &'static str {
        if cfg!(target_os = "macos") { "keychain" } else { "secret-service" }
    }

    fn load(&self, key: &str) -> Result<Option<SecretString>, StoreError> {
        match self.entry(key, "read a session")?.get_password() {
            Ok(value) => Ok(Some(SecretString::from(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(self.failed("read a session", &error)),
        }
    }

    fn save(&self, key: &str, value: &SecretString) -> Result<(), StoreError> {
        // One Secret Service call replaces the item's secret as a whole.
        self.entry(key, "write a session")?
            .set_password(value.expose_secret())
            .map_err(|e| self.failed("write a session", &e))
    }

    fn delete(&self, key: &str) -> Result<bool, StoreError> {
        match self.entry(key, "delete a session")?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(error) => Err(self.failed("delete a session", &error)),
        }
    }
}
