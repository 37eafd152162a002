//! A test's own ground: a fresh temporary directory named after the test,
//! loopback ports nobody else holds, and a bound on every wait.

use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use tempfile::TempDir;

/// Longest test-name part of a directory name: socket paths must stay short.
const MAX_NAME_CHARS: usize = 24;
/// Ports handed out lie below Linux's ephemeral range (32768 and up), so an
/// outgoing connection never takes one between the check and the bind.
const PORT_RANGE: (u16, u16) = (20_000, 32_000);

/// The temporary directory of one test, removed when dropped.
#[derive(Debug)]
pub struct Fixture {
    dir: TempDir,
    name: String,
}

impl Fixture {
    /// A fresh directory under the system temporary directory, named after
    /// `test_name` (shortened, so that socket paths inside stay short).
    pub fn new(test_name: &str) -> Self {
        let short: String = test_name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(MAX_NAME_CHARS)
            .collect();
        let dir = tempfile::Builder::new()
            .prefix(&format!("pa-{short}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create the temp dir of test {test_name}: {e}"));
        Self { dir, name: test_name.to_owned() }
    }

    /// The test's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the directory.
    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// A fresh subdirectory.
    pub fn subdir(&self, relative: impl AsRef<Path>) -> PathBuf {
        let dir = self.join(relative);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        dir
    }
}

/// A TCP port free on both 127.0.0.1 and ::1 (the daemon listens on both
/// for `localhost`). Another process may still take it before the daemon
/// binds; [`crate::Daemon`] retries with a new port when that happens.
pub fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let (low, high) = PORT_RANGE;
    let span = high - low;
    // Test binaries run one after another; starting each at a different
    // point keeps them off the ports of one that has just ended.
    let start = u16::try_from(std::process::id() % u32::from(span)).unwrap_or(0);
    let _ = NEXT.compare_exchange(0, start + 1, Ordering::Relaxed, Ordering::Relaxed);

    for _ in 0..span {
        let port = low + NEXT.fetch_add(1, Ordering::Relaxed) % span;
        let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, port));
        let v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, port));
        if v4.is_ok() && (v6.is_ok() || !ipv6_loopback()) {
            return port;
        }
    }
    panic!("no free loopback port between {low} and {high}");
}

/// Whether this machine has an IPv6 loopback address.
pub fn ipv6_loopback() -> bool {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

/// Runs `future` to the end, or fails the test naming `what` once
/// `limit` has passed.
pub async fn within<T>(limit: Duration, what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, future).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not finish within {limit:?}"),
    }
}

/// Polls `check` every 20 ms until it yields a value, or fails the test
/// naming `what` once `limit` has passed.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    within(limit, what, async {
        loop {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}
