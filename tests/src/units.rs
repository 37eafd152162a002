//! The systemd user units of `packaging/systemd`, and their check by
//! `systemd-analyze verify --user` (Debian's systemd package).
//!
//! `verify` insists that `ExecStart` names an existing executable, so the
//! packaged units are checked as copies whose `ExecStart` points at the
//! `podauthd` under test; the units a package installed are checked where
//! they lie. It also wants a runtime directory of the user's own: each run
//! gets a fresh 0700 one in the test's directory.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::bins::repo_root;
use crate::cli::{self, CliOutput};
use crate::fixture::Fixture;

/// The service unit's file name.
pub const SERVICE: &str = "podauthd.service";
/// The socket unit's file name.
pub const SOCKET: &str = "podauthd.socket";
/// The daemon path written in the packaged service unit.
pub const PACKAGED_DAEMON: &str = "/usr/bin/podauthd";

/// A unit as it lies in `packaging/systemd`.
pub fn packaged(name: &str) -> PathBuf {
    repo_root().join("packaging/systemd").join(name)
}

/// Copies of both packaged units in `dir` of the test's directory, the
/// service's `ExecStart` pointing at `daemon`. Returns the copies' paths.
pub fn copies_running(fixture: &Fixture, dir: &str, daemon: &Path) -> Vec<PathBuf> {
    let dir = fixture.subdir(dir);
    [SERVICE, SOCKET]
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(packaged(name))
                .unwrap_or_else(|e| panic!("cannot read the packaged unit {name}: {e}"));
            let text = if name == SERVICE {
                let packaged_line = format!("ExecStart={PACKAGED_DAEMON}\n");
                assert!(text.contains(&packaged_line), "{name} runs {PACKAGED_DAEMON}:\n{text}");
                text.replace(&packaged_line, &format!("ExecStart={}\n", daemon.display()))
            } else {
                text
            };
            let copy = dir.join(name);
            std::fs::write(&copy, text)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", copy.display()));
            copy
        })
        .collect()
}

/// `systemd-analyze verify --user UNITS..` with a clean environment.
/// Success is exit status 0 with nothing on stderr: unknown keys and bad
/// values are only warnings there.
pub async fn verify(fixture: &Fixture, units: &[PathBuf]) -> CliOutput {
    let runtime = fixture.subdir("verify-runtime");
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", runtime.display()));

    let mut command = Command::new("systemd-analyze");
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", fixture.subdir("home"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .args(["verify", "--user"])
        .args(units)
        .kill_on_drop(true);
    cli::output(command, "systemd-analyze verify --user").await
}

/// Fails the test unless `output` of [`verify`] is a clean pass.
pub fn assert_verified(output: &CliOutput, units: &[PathBuf]) {
    assert!(
        output.code == Some(0) && output.stderr.trim().is_empty(),
        "systemd-analyze verify --user {units:?} found problems (exit {:?}):\n{}{}",
        output.code,
        output.stdout,
        output.stderr
    );
}
