//! Creating the agent's socket safely.
//!
//! The parent directory is created 0700 when missing and must belong to the
//! user; a socket left by a crashed daemon is replaced, a live one means
//! another daemon runs, and anything at the path that is not a socket is
//! left alone. The socket itself is 0600.

use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use podauth_proto::{MAX_SOCKET_PATH_BYTES, SocketPathError};
use tokio::net::UnixListener;
use tracing::{info, warn};

use crate::error::Error;

/// A bound socket that removes its file on drop, if the file is still the
/// one it bound (a newer daemon may have replaced it).
#[derive(Debug)]
pub struct BoundSocket {
    /// The listener.
    pub listener: UnixListener,
    path: PathBuf,
    inode: u64,
}

impl BoundSocket {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Removes the socket file of a [`BoundSocket`] when dropped.
#[derive(Debug)]
pub struct SocketCleanup {
    path: PathBuf,
    inode: u64,
}

impl Drop for SocketCleanup {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.ino() == self.inode);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl BoundSocket {
    /// Splits off the listener and a guard that removes the file on drop.
    pub fn into_parts(self) -> (UnixListener, SocketCleanup) {
        (self.listener, SocketCleanup { path: self.path, inode: self.inode })
    }
}

/// Binds the agent's socket at `path` for user `uid`.
pub fn bind(path: &Path, uid: u32) -> Result<BoundSocket, Error> {
    // Checked here too, before anything is created: a `--socket` flag does
    // not pass through the path rule, and the kernel's error names no
    // length.
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH_BYTES {
        return Err(SocketPathError::TooLong { path: path.to_owned(), len }.into());
    }

    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("/"));
    prepare_dir(dir, uid)?;
    clear_stale(path)?;

    let listener = UnixListener::bind(path).map_err(|source| match source.kind() {
        // Another daemon bound it between our check and our bind.
        io::ErrorKind::AddrInUse => Error::AlreadyRunning { path: path.to_owned() },
        _ => Error::Io { operation: "cannot bind socket", path: path.to_owned(), source },
    })?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|source| {
        Error::Io { operation: "cannot set mode 0600 on", path: path.to_owned(), source }
    })?;
    let inode = std::fs::symlink_metadata(path)
        .map_err(|source| Error::Io { operation: "cannot stat", path: path.to_owned(), source })?
        .ino();

    Ok(BoundSocket { listener, path: path.to_owned(), inode })
}

/// Creates the directory 0700 if missing; an existing one must be the
/// user's and not writable by others unless sticky (like `/tmp`).
fn prepare_dir(dir: &Path, uid: u32) -> Result<(), Error> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(
                |source| Error::Io {
                    operation: "cannot create socket directory",
                    path: dir.to_owned(),
                    source,
                },
            )?;
            // `mode` is filtered by the umask; make sure of 0700.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |source| Error::Io {
                    operation: "cannot set mode 0700 on",
                    path: dir.to_owned(),
                    source,
                },
            )
        }
        Err(source) => Err(Error::Io {
            operation: "cannot stat socket directory",
            path: dir.to_owned(),
            source,
        }),
        Ok(meta) => {
            let unsafe_dir =
                |reason: String| Err(Error::UnsafeSocketDir { path: dir.to_owned(), reason });
            if !meta.is_dir() {
                return unsafe_dir("not a directory".into());
            }
            let mode = meta.mode();
            let shared_sticky = mode & 0o1000 != 0;
            if meta.uid() != uid && !(shared_sticky && meta.uid() == 0) {
                return unsafe_dir(format!("owned by uid {}, not {uid}", meta.uid()));
            }
            if mode & 0o022 != 0 && !shared_sticky {
                return unsafe_dir(format!(
                    "writable by group or others (mode {:o})",
                    mode & 0o7777
                ));
            }
            Ok(())
        }
    }
}

/// Removes a socket left by a crashed daemon; refuses a live one and
/// anything that is not a socket.
fn clear_stale(path: &Path) -> Result<(), Error> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(Error::Io { operation: "cannot stat", path: path.to_owned(), source });
        }
    };
    if !meta.file_type().is_socket() {
        return Err(Error::NotASocket { path: path.to_owned() });
    }

    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(Error::AlreadyRunning { path: path.to_owned() }),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            info!(path = %path.display(), "replacing stale socket");
            std::fs::remove_file(path).map_err(|source| Error::Io {
                operation: "cannot remove stale socket",
                path: path.to_owned(),
                source,
            })
        }
        Err(e) => {
            warn!(path = %path.display(), error = %e, "cannot probe existing socket; replacing it");
            std::fs::remove_file(path).map_err(|source| Error::Io {
                operation: "cannot remove stale socket",
                path: path.to_owned(),
                source,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid() -> u32 {
        podauth_proto::current_uid()
    }

    #[tokio::test]
    async fn creates_private_dir_and_socket() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("podauth/agent.sock");
        let bound = bind(&path, uid()).unwrap();
        let dir_mode = std::fs::metadata(tmp.path().join("podauth")).unwrap().mode() & 0o777;
        let sock_mode = std::fs::metadata(&path).unwrap().mode() & 0o777;
        assert_eq!((dir_mode, sock_mode), (0o700, 0o600));

        let (_listener, cleanup) = bound.into_parts();
        drop(cleanup);
        assert!(!path.exists(), "socket removed on drop");
    }

    #[tokio::test]
    async fn live_socket_refuses_second_daemon() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("agent.sock");
        let _first = bind(&path, uid()).unwrap();
        let err = bind(&path, uid()).unwrap_err();
        assert!(matches!(err, Error::AlreadyRunning { .. }), "{err}");
    }

    #[tokio::test]
    async fn stale_socket_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("agent.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        bind(&path, uid()).unwrap();
    }

    #[tokio::test]
    async fn regular_file_is_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("agent.sock");
        std::fs::write(&path, "keep me").unwrap();
        let err = bind(&path, uid()).unwrap_err();
        assert!(matches!(err, Error::NotASocket { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    }

    #[tokio::test]
    async fn too_long_path_is_refused_before_anything_is_created() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("d").join("s".repeat(MAX_SOCKET_PATH_BYTES));
        let err = bind(&path, uid()).unwrap_err();
        let len = path.as_os_str().len();
        assert!(err.to_string().contains(&format!("{len} bytes")), "{err}");
        assert!(!tmp.path().join("d").exists());
    }

    #[tokio::test]
    async fn world_writable_dir_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = bind(&tmp.path().join("agent.sock"), uid()).unwrap_err();
        assert!(err.to_string().contains("writable"), "{err}");
    }
}
