//! The agent's socket path, resolved the same way by daemon and clients.
//!
//! Order: `$PODAUTH_SOCK`; else `$XDG_RUNTIME_DIR/podauth/agent.sock`; else
//! `/run/user/UID/podauth/agent.sock` when that runtime directory exists and
//! belongs to the user (a shell without a login session, such as `su` or
//! `cron`, often lacks the variable while the directory is there); else a
//! per-user directory under the system temporary directory.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The longest socket path Linux and macOS accept, in bytes, not counting
/// the terminating NUL (`sun_path` is 108 bytes on Linux, 104 on macOS).
#[cfg(target_os = "linux")]
pub const MAX_SOCKET_PATH_BYTES: usize = 107;
/// The longest socket path Linux and macOS accept, in bytes, not counting
/// the terminating NUL (`sun_path` is 108 bytes on Linux, 104 on macOS).
#[cfg(not(target_os = "linux"))]
pub const MAX_SOCKET_PATH_BYTES: usize = 103;

/// Where the socket path came from, for `Status` and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketSource {
    /// `$PODAUTH_SOCK`.
    Explicit,
    /// `$XDG_RUNTIME_DIR`.
    XdgRuntimeDir,
    /// `/run/user/UID`, found without the variable.
    RunUser,
    /// The per-user temporary directory fallback.
    TempDir,
}

impl fmt::Display for SocketSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Explicit => "PODAUTH_SOCK",
            Self::XdgRuntimeDir => "XDG_RUNTIME_DIR",
            Self::RunUser => "/run/user",
            Self::TempDir => "temporary directory",
        })
    }
}

/// A socket path that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketPathError {
    /// Longer than the platform's `sun_path`.
    TooLong {
        /// The offending path.
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
    },
    /// `PODAUTH_SOCK` is set but is not an absolute path.
    NotAbsolute {
        /// The offending path.
        path: PathBuf,
    },
}

impl fmt::Display for SocketPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { path, len } => write!(
                f,
                "socket path {} is {len} bytes long, over the platform limit of \
                 {MAX_SOCKET_PATH_BYTES}; set PODAUTH_SOCK to a shorter path",
                path.display()
            ),
            Self::NotAbsolute { path } => {
                write!(f, "PODAUTH_SOCK must be an absolute path, got {}", path.display())
            }
        }
    }
}

impl std::error::Error for SocketPathError {}

/// Resolves the socket path from this process's environment.
pub fn socket_path() -> Result<(PathBuf, SocketSource), SocketPathError> {
    socket_path_from(
        std::env::var_os("PODAUTH_SOCK"),
        std::env::var_os("XDG_RUNTIME_DIR"),
        current_uid(),
        &std::env::temp_dir(),
    )
}

/// Resolves the socket path from explicit inputs; [`socket_path`] passes the
/// process's own. Split out so the rule can be tested without touching the
/// environment.
pub fn socket_path_from(
    podauth_sock: Option<OsString>,
    xdg_runtime_dir: Option<OsString>,
    uid: u32,
    temp_dir: &Path,
) -> Result<(PathBuf, SocketSource), SocketPathError> {
    let non_empty = |value: Option<OsString>| value.filter(|v| !v.is_empty()).map(PathBuf::from);

    let (path, source) = if let Some(path) = non_empty(podauth_sock) {
        if !path.is_absolute() {
            return Err(SocketPathError::NotAbsolute { path });
        }
        (path, SocketSource::Explicit)
    } else if let Some(dir) = non_empty(xdg_runtime_dir) {
        (dir.join("podauth").join("agent.sock"), SocketSource::XdgRuntimeDir)
    } else if let Some(dir) = owned_run_user_dir(uid) {
        (dir.join("podauth").join("agent.sock"), SocketSource::RunUser)
    } else {
        (temp_dir.join(format!("podauth-{uid}")).join("agent.sock"), SocketSource::TempDir)
    };

    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH_BYTES {
        return Err(SocketPathError::TooLong { path, len });
    }
    Ok((path, source))
}

/// `/run/user/UID` when it is a directory owned by `uid`.
fn owned_run_user_dir(uid: u32) -> Option<PathBuf> {
    let dir = PathBuf::from(format!("/run/user/{uid}"));
    let meta = std::fs::metadata(&dir).ok()?;
    (meta.is_dir() && meta.uid() == uid).then_some(dir)
}

/// The real user id of this process.
pub fn current_uid() -> u32 {
    // `getuid` cannot fail and touches no memory; the crate forbids unsafe
    // code elsewhere.
    #[allow(unsafe_code)]
    unsafe {
        libc::getuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(sock: Option<&str>, xdg: Option<&str>) -> Result<PathBuf, SocketPathError> {
        // uid 4_000_000 has no /run/user directory on any test machine.
        socket_path_from(sock.map(Into::into), xdg.map(Into::into), 4_000_000, Path::new("/tmp"))
            .map(|(path, _)| path)
    }

    #[test]
    fn explicit_variable_wins() {
        let path = resolve(Some("/x/a.sock"), Some("/run/user/1")).unwrap();
        assert_eq!(path, PathBuf::from("/x/a.sock"));
    }

    #[test]
    fn xdg_runtime_dir_is_next() {
        let path = resolve(None, Some("/run/user/7")).unwrap();
        assert_eq!(path, PathBuf::from("/run/user/7/podauth/agent.sock"));
    }

    #[test]
    fn empty_variables_are_unset() {
        let path = resolve(Some(""), Some("")).unwrap();
        assert_eq!(path, PathBuf::from("/tmp/podauth-4000000/agent.sock"));
    }

    #[test]
    fn run_user_found_without_variable() {
        let dir = tempfile::tempdir().unwrap();
        let uid = current_uid();
        let expected = owned_run_user_dir(uid);
        let (path, source) = socket_path_from(None, None, uid, dir.path()).unwrap();
        match expected {
            Some(run) => {
                assert_eq!(source, SocketSource::RunUser);
                assert_eq!(path, run.join("podauth/agent.sock"));
            }
            None => assert_eq!(source, SocketSource::TempDir),
        }
    }

    #[test]
    fn relative_explicit_path_is_refused() {
        let err = resolve(Some("agent.sock"), None).unwrap_err();
        assert!(err.to_string().contains("absolute"), "{err}");
    }

    #[test]
    fn too_long_path_names_its_length() {
        let long = format!("/{}", "d".repeat(200));
        let err = resolve(Some(&long), None).unwrap_err();
        assert_eq!(err, SocketPathError::TooLong { path: long.clone().into(), len: 201 });
        assert!(err.to_string().contains("201 bytes"), "{err}");
    }
}
