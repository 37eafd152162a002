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
//!
//! An abandoned write may still finish much later (a prompt answered after
//! the timeout). Writes therefore reach the store one at a time, in the
//! order they were issued, and one that finds a newer write of its key
//! already done is dropped: a late write never brings back an old refresh
//! token.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
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
    writes: Arc<WriteOrder>,
}

/// The order of a store's writes: each takes a ticket when issued.
#[derive(Debug, Default)]
struct WriteOrder {
    next: AtomicU64,
    /// The ticket of the last write done, per key; held through each write.
    done: Mutex<HashMap<String, u64>>,
}

impl WriteOrder {
    fn ticket(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs `write` of `key` unless a write issued after `ticket` is done
    /// already; then the stale one is dropped, answering `T::default()`.
    /// Only an abandoned write can be stale: the next write of a key is
    /// issued after the previous one answered or timed out.
    fn apply<T: Default>(
        &self,
        key: &str,
        ticket: u64,
        write: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        if done.get(key).is_some_and(|&last| last > ticket) {
            return Ok(T::default());
        }
        let result = write()?;
        done.insert(key.to_owned(), ticket);
        Ok(result)
    }
}

impl TimedStore {
    /// Wraps `inner`; `reason` says why this store was chosen.
    pub fn new(inner: Arc<dyn Store>, timeout: Duration, reason: String) -> Self {
        Self { inner, timeout, reason, writes: Arc::default() }
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
        let writes = Arc::clone(&self.writes);
        let ticket = writes.ticket();
        self.run("write a session", move |store| {
            writes.apply(&key, ticket, || store.save(&key, &value))
        })
        .await
    }

    /// See [`Store::delete`].
    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let key = key.to_owned();
        let writes = Arc::clone(&self.writes);
        let ticket = writes.ticket();
        self.run("delete a session", move |store| writes.apply(&key, ticket, || store.delete(&key)))
            .await
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;

    use secrecy::ExposeSecret;

    use super::*;

    /// The value whose save waits until the test releases it.
    const STALLED: &str = "stalled";

    /// A store in memory whose saves of [`STALLED`] wait for a release, like
    /// a keyring sitting on a prompt that is answered late.
    #[derive(Debug)]
    struct Stalling {
        value: Mutex<Option<String>>,
        release: Mutex<mpsc::Receiver<()>>,
        saves: AtomicUsize,
    }

    impl Store for Stalling {
        fn backend(&self) -> &'static str {
            "memory"
        }

        fn load(&self, _key: &str) -> Result<Option<SecretString>, StoreError> {
            Ok(self.value.lock().unwrap().clone().map(SecretString::from))
        }

        fn save(&self, _key: &str, value: &SecretString) -> Result<(), StoreError> {
            if value.expose_secret() == STALLED {
                self.release.lock().unwrap().recv().unwrap();
            }
            *self.value.lock().unwrap() = Some(value.expose_secret().to_owned());
            self.saves.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }

        fn delete(&self, _key: &str) -> Result<bool, StoreError> {
            Ok(self.value.lock().unwrap().take().is_some())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_abandoned_on_timeout_never_undoes_a_later_one() {
        let (release, wait) = mpsc::channel();
        let inner = Arc::new(Stalling {
            value: Mutex::new(None),
            release: Mutex::new(wait),
            saves: AtomicUsize::new(0),
        });
        let store = TimedStore::new(inner.clone(), Duration::from_millis(100), String::new());

        let stalled = store.save("k", SecretString::from(STALLED)).await;
        assert!(matches!(stalled, Err(StoreError::TimedOut { .. })), "{stalled:?}");
        let later = store.save("k", SecretString::from("newer")).await;
        assert!(matches!(later, Err(StoreError::TimedOut { .. })), "waits its turn: {later:?}");

        release.send(()).unwrap();
        for _ in 0..500 {
            if inner.saves.load(Ordering::SeqCst) == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(inner.saves.load(Ordering::SeqCst), 2, "both writes ran");
        assert_eq!(inner.value.lock().unwrap().as_deref(), Some("newer"));
    }

    #[test]
    fn a_stale_write_is_dropped() {
        let order = WriteOrder::default();
        let (old, new) = (order.ticket(), order.ticket());
        assert_eq!(order.apply("k", new, || Ok(1)).unwrap(), 1);
        assert_eq!(
            order.apply("k", old, || -> Result<u8, StoreError> { panic!("stale") }).unwrap(),
            0
        );
        assert_eq!(order.apply("other", old, || Ok(2)).unwrap(), 2, "keys are apart");
    }
}
