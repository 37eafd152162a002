//! The fallback store for machines without an OS keyring: one JSON file per
//! entry in a directory of the user's own (0700), each file 0600, written to
//! a temporary file, synced, and renamed over the old one, so a crash
//! leaves either the old entry or the new one, never a torn one.
//!
//! Each entry has one temporary file of a fixed name beside it. A save cut
//! short by a crash leaves that file behind, holding a token; the entry's
//! next save or delete removes it, so leftovers never pile up.
//!
//! The files are not encrypted: like `~/.ssh/id_*` they rely on file
//! permissions, and are unreadable by other users.

use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use super::store::{Store, StoreError};

const BACKEND: &str = "file";

/// Sessions as files under one directory.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir`, created 0700 on first write.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// `$PODAUTH_STATE_DIR`, else `$XDG_STATE_HOME/podauth/sessions`.
    pub fn default_dir() -> PathBuf {
        let base = directories::BaseDirs::new()
            .and_then(|dirs| dirs.state_dir().map(Path::to_path_buf))
            .or_else(|| directories::BaseDirs::new().map(|d| d.data_local_dir().to_path_buf()))
            .unwrap_or_else(|| {
                std::env::temp_dir().join(format!("podauth-{}", podauth_proto::current_uid()))
            });
        base.join("podauth").join("sessions")
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        // Keys are built from ASCII identifiers; anything else is escaped so
        // no key can name a path outside the directory.
        let name: String = key
            .chars()
            .map(
                |c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' },
            )
            .collect();
        self.dir.join(format!("{name}.json"))
    }

    /// The temporary file a save of the entry at `path` writes first.
    fn temp_path(path: &Path) -> PathBuf {
        let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        path.with_file_name(format!(".{name}.tmp"))
    }

    fn failed(operation: &'static str, path: &Path, error: &io::Error) -> StoreError {
        StoreError::Failed {
            backend: BACKEND,
            operation,
            reason: format!("{}: {error}", path.display()),
        }
    }

    fn write_atomically(&self, path: &Path, value: &[u8]) -> io::Result<()> {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.dir)?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;

        // A save cut short by a crash may have left its file behind.
        let temp = Self::temp_path(path);
        remove_if_present(&temp)?;

        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .and_then(|mut file| {
                file.write_all(value)?;
                file.sync_all()
            })
            .and_then(|()| std::fs::rename(&temp, path));
        if let Err(error) = written {
            let _ = remove_if_present(&temp);
            return Err(error);
        }

        std::fs::File::open(&self.dir)?.sync_all()
    }
}

impl Store for FileStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn load(&self, key: &str) -> Result<Option<SecretString>, StoreError> {
        let path = self.path(key);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(SecretString::from(text))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Self::failed("read a session", &path, &e)),
        }
    }

    fn save(&self, key: &str, value: &SecretString) -> Result<(), StoreError> {
        let path = self.path(key);
        self.write_atomically(&path, value.expose_secret().as_bytes())
            .map_err(|e| Self::failed("write a session", &path, &e))
    }

    fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let path = self.path(key);
        let temp = Self::temp_path(&path);
        remove_if_present(&temp).map_err(|e| Self::failed("delete a session", &temp, &e))?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Self::failed("delete a session", &path, &e)),
        }
    }
}

/// Removes `path`; a file that is not there is fine.
fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn round_trip_private_files_byte_for_byte() {
        let tmp = tempfile::tempdir().unwrap();
        let store = FileStore::new(tmp.path().join("sessions"));
        let big = "x".repeat(8 * 1024) + "é\n\"";

        assert!(store.load("session-local-0").unwrap().is_none());
        store.save("session-local-0", &SecretString::from(big.clone())).unwrap();
        assert_eq!(store.load("session-local-0").unwrap().unwrap().expose_secret(), big);

        let file_mode = std::fs::metadata(store.path("session-local-0")).unwrap().mode() & 0o777;
        let dir_mode = std::fs::metadata(store.dir()).unwrap().mode() & 0o777;
        assert_eq!((file_mode, dir_mode), (0o600, 0o700));

        assert!(store.delete("session-local-0").unwrap());
        assert!(!store.delete("session-local-0").unwrap());
    }

    #[test]
    fn a_save_cut_short_leaves_nothing_behind_after_the_next_save() {
        let tmp = tempfile::tempdir().unwrap();
        let store = FileStore::new(tmp.path().join("sessions"));
        store.save("session-local-0", &SecretString::from("old")).unwrap();
        let left = FileStore::temp_path(&store.path("session-local-0"));
        std::fs::write(&left, "{\"torn\"").unwrap();

        store.save("session-local-0", &SecretString::from("new")).unwrap();
        assert_eq!(store.load("session-local-0").unwrap().unwrap().expose_secret(), "new");
        assert!(!left.exists(), "the leftover of the crashed save is gone");

        std::fs::write(&left, "{\"torn\"").unwrap();
        assert!(store.delete("session-local-0").unwrap());
        let names: Vec<_> = std::fs::read_dir(store.dir()).unwrap().collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn keys_cannot_escape_the_directory() {
        let store = FileStore::new(PathBuf::from("/state"));
        assert_eq!(store.path("../../etc/passwd"), PathBuf::from("/state/.._.._etc_passwd.json"));
    }
}
