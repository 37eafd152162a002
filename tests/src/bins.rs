//! Where the programs under test live: `podauthd` and `podauth` in the
//! cargo target directory of this very test binary, unless
//! `PODAUTH_TEST_BIN_DIR` names another directory.
//!
//! `cargo test` does not rebuild other packages' binaries, so a binary that
//! is missing, or older than a source file cargo's dep-info file lists for
//! it, stops the test with a message saying how to build it rather than
//! testing yesterday's code.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Overrides the directory that holds `podauthd` and `podauth`.
pub const BIN_DIR_VAR: &str = "PODAUTH_TEST_BIN_DIR";

/// The daemon binary.
pub fn podauthd() -> PathBuf {
    binary("podauthd")
}

/// The command-line client binary.
pub fn podauth() -> PathBuf {
    binary("podauth")
}

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
    tests.parent().expect("the tests crate sits inside the repository").to_owned()
}

fn binary(name: &str) -> PathBuf {
    let (dir, overridden) = bin_dir();
    let path = dir.join(name);
    let built = std::fs::metadata(&path).and_then(|meta| meta.modified());
    let Ok(built) = built else {
        panic!(
            "{name} is not built: {} does not exist; run `cargo build --workspace` first \
             (or set {BIN_DIR_VAR} to the directory that holds it)",
            path.display()
        );
    };

    // Only binaries of this checkout's target directory are held to their
    // sources; an explicit directory is the caller's business.
    if !overridden {
        if let Some(newer) = newer_source(&dir.join(format!("{name}.d")), built) {
            panic!(
                "{name} at {} is older than {}; run `cargo build --workspace` first",
                path.display(),
                newer.display()
            );
        }
    }
    path
}

/// The directory of the binaries, and whether it came from the variable.
fn bin_dir() -> (PathBuf, bool) {
    if let Some(dir) = std::env::var_os(BIN_DIR_VAR).filter(|d| !d.is_empty()) {
        return (PathBuf::from(dir), true);
    }

    // A test binary lives at target/<profile>/deps/<name>-<hash>.
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    let mut dir = exe.parent().expect("the test binary sits in a directory").to_owned();
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.pop();
    }
    (dir, false)
}

/// The first source file in cargo's dep-info file `dep_info`
/// (`BINARY: SOURCE SOURCE ...`) modified after `built`, if any.
fn newer_source(dep_info: &Path, built: SystemTime) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dep_info).ok()?;
    let (_, sources) = text.lines().next()?.split_once(": ")?;
    // Spaces inside a path are escaped as `\ `.
    let sources = sources.replace("\\ ", "\0");
    sources.split_whitespace().map(|source| PathBuf::from(source.replace('\0', " "))).find(
        |source| {
            std::fs::metadata(source)
                .and_then(|meta| meta.modified())
                .is_ok_and(|modified| modified > built)
        },
    )
}
