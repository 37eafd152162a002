//! Where sessions are kept, behind one small trait, and the timeout every
//! store call runs under.
//!
//! The OS keyring (Secret Service on Linux, Keychain on macOS) is the
//! default. Where none answers (a headless server, a container), sessions go
//! to [`FileStore`]: one file per entry, mode 0600 in a 0700 directory,
//! replaced atomically, never readable by other users. A Secret Service that
//! is locked or waits on a prompt nobody can answer makes a call fail with
//! [`StoreError::TimedOut`] within the configured time; the blocked call is
//! abandoned on its thread and every other RPC keeps working.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

pub use super::file_store::FileStore;
pub use super::keyring_store::KeyringStore;

/// A failed store call.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store did not answer in time.
    #[error(
        "the {backend} store did not answer within {}s while trying to {operation} \
         (is the keyring locked, or waiting for a password prompt?)",
        after.as_secs()
    )]
    TimedOut {
        /// The backend.
        backend: &'static str,
        /// What was being done.
        operation: &'static str,
        /// The timeout.
        after: Duration,
    },
    /// The store answered with an error.
    #[error("the {backend} store failed to {operation}: {reason}")]
    Failed {
        /// The backend.
        backend: &'static str,
        /// What was being done.
        operation: &'static str,
        /// What it said.
        reason: String,
    },
}

/// A place to keep secret strings by key. Implementations block; callers
/// go through [`TimedStore`].
pub trait Store: Send + Sync + fmt::Debug {
    /// Short name for `Status`: `secret-service`, `keychain`, `file`.
    fn backend(&self) -> &'static str;
    /// The value under `key`, if any.
    fn load(&self, key: &str) -> Result<Option<SecretString>, StoreError>;
    /// Replaces the value under `key` as one operation.
    fn save(&self, key: &str, value: &SecretString) -> Result<(), StoreError>;
    /// Removes `key`; true when something was there.
    fn delete(&self, key: &str) -> Result<bool, StoreError>;
}

/// A store whose every call runs on a blocking thread under a timeout.
#[derive(Debug, Clone)]
pub struct TimedStore {
    inner: Arc<dyn Store>,
    timeout: Duration,
    reason: String,
}

impl TimedStore {
    /// Wraps `inner`; `reason` says why this store was chosen.
    pub fn new(inner: Arc<dyn Store>, timeout: Duration, reason: String) -> Self {
        Self { inner, timeout, reason }
    }

    /// The backend's name.
    pub fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    /// Why this backend is in use.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// See [`Store::load`].
    pub async fn load(&self, key: &str) -> Result<Option<SecretString>, StoreError> {
        let key = key.to_owned();
        self.run("read a session", move |store| store.load(&key)).await
    }

    /// See [`Store::save`].
    pub async fn save(&self, key: &str, value: SecretString) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run("write a session", move |store| store.save(&key, &value)).await
    }

    /// See [`Store::delete`].
    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.run("delete a session", move |store| store.delete(&key)).await
    }

    async fn run<T: Send + 'static>(
        &self,
        operation: &'static str,
        call: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = Arc::clone(&self.inner);
        let backend = store.backend();
        let task = tokio::task::spawn_blocking(move || call(store.as_ref()));
        match tokio::time::timeout(self.timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(StoreError::Failed {
                backend,
                operation,
                reason: format!("store call panicked: {join}"),
            }),
            Err(_) => Err(StoreError::TimedOut { backend, operation, after: self.timeout }),
        }
    }
}

/// Which store the config asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreChoice {
    /// The keyring when one answers, else the file store.
    Auto,
    /// The keyring, even when it does not answer.
    Keyring,
    /// The file store.
    File,
}

impl StoreChoice {
    /// Parses `auto`, `keyring` or `file`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(Self::Auto),
            "keyring" => Ok(Self::Keyring),
            "file" => Ok(Self::File),
            other => Err(format!("{other:?} is not a token store; use auto, keyring or file")),
        }
    }
}

/// Picks the store: for `Auto`, the keyring if a probe read answers within
/// `timeout`, else the file store, with the reason either way.
pub async fn open(choice: StoreChoice, file: FileStore, timeout: Duration) -> TimedStore {
    let keyring: Arc<dyn Store> = Arc::new(KeyringStore::new());
    let file: Arc<dyn Store> = Arc::new(file);
    match choice {
        StoreChoice::Keyring => TimedStore::new(keyring, timeout, "configured".into()),
        StoreChoice::File => TimedStore::new(file, timeout, "configured".into()),
        StoreChoice::Auto => {
            let probe = TimedStore::new(Arc::clone(&keyring), timeout, String::new());
            match probe.load("probe").await {
                Ok(_) => TimedStore::new(keyring, timeout, "the OS keyring answered".into()),
                Err(error) => {
                    let reason = format!("no usable OS keyring ({error}); using the file store");
                    tracing::warn!(%error, "no usable os keyring; sessions go to the file store");
                    TimedStore::new(file, timeout, reason)
                }
            }
        }
    }
}
