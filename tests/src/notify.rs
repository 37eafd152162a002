//! The service manager's side of `sd_notify`: a datagram socket the test
//! binds and names in the daemon's `NOTIFY_SOCKET`, as systemd does for a
//! `Type=notify` service, and the messages that arrive on it.
//!
//! Each datagram is one message of newline-separated `KEY=VALUE`
//! assignments, such as `READY=1` or `RELOADING=1\nMONOTONIC_USEC=...`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::UnixDatagram;

use crate::fixture::{Fixture, within};

/// Largest datagram read; systemd's own limit is far above any message.
const MAX_MESSAGE_BYTES: usize = 4096;

/// One notification: its assignments in the order they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// `(KEY, VALUE)` pairs.
    pub assignments: Vec<(String, String)>,
}

impl Notification {
    fn parse(bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(bytes);
        let assignments = text
            .lines()
            .filter(|line| !line.is_empty())
            .map(|line| match line.split_once('=') {
                Some((key, value)) => (key.to_owned(), value.to_owned()),
                None => (line.to_owned(), String::new()),
            })
            .collect();
        Self { assignments }
    }

    /// The value of `key`, if the message sets it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.assignments.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The keys the message sets.
    pub fn keys(&self) -> Vec<&str> {
        self.assignments.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// A bound notify socket.
#[derive(Debug)]
pub struct NotifySocket {
    socket: UnixDatagram,
    path: PathBuf,
}

impl NotifySocket {
    /// Binds `notify.sock` in the test's directory.
    pub fn bind(fixture: &Fixture) -> Self {
        let path = fixture.join("notify.sock");
        let socket = UnixDatagram::bind(&path)
            .unwrap_or_else(|e| panic!("cannot bind the notify socket {}: {e}", path.display()));
        Self { socket, path }
    }

    /// The socket's path, the value of `NOTIFY_SOCKET`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `("NOTIFY_SOCKET", path)`, for the daemon's environment.
    pub fn env(&self) -> (String, String) {
        ("NOTIFY_SOCKET".to_owned(), self.path.display().to_string())
    }

    /// The next message; fails the test naming `what` after `limit`.
    pub async fn next(&self, limit: Duration, what: &str) -> Notification {
        let mut buffer = vec![0; MAX_MESSAGE_BYTES];
        let read = within(limit, what, self.socket.recv(&mut buffer))
            .await
            .unwrap_or_else(|e| panic!("cannot read the notify socket: {e}"));
        Notification::parse(&buffer[..read])
    }

    /// Every message already queued, without waiting.
    pub fn queued(&self) -> Vec<Notification> {
        let mut buffer = vec![0; MAX_MESSAGE_BYTES];
        let mut messages = Vec::new();
        while let Ok(read) = self.socket.try_recv(&mut buffer) {
            messages.push(Notification::parse(&buffer[..read]));
        }
        messages
    }
}
