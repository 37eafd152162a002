//! The `podauth` command as a user runs it: a separate process with a
//! clean environment, pointed at a test daemon's socket.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::bins;
use crate::fixture::within;

/// Bound on one command that is expected to finish by itself.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Exit status: success.
pub const EXIT_OK: i32 = 0;
/// Exit status: any other failure.
pub const EXIT_OTHER: i32 = 1;
/// Exit status: bad command line.
pub const EXIT_USAGE: i32 = 2;
/// Exit status: no daemon answers on the socket.
pub const EXIT_NOT_RUNNING: i32 = 3;
/// Exit status: the proof failed.
pub const EXIT_PROOF_FAILED: i32 = 4;

/// What a finished command printed and how it exited.
#[derive(Debug)]
pub struct CliOutput {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CliOutput {
    /// Fails the test unless the command exited with `code`.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "podauth exited with {:?}, expected {code}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// `podauth --socket SOCKET` with only `PATH` from the environment.
pub fn command(socket: &Path) -> Command {
    let mut command = bare_command();
    command.arg("--socket").arg(socket);
    command
}

/// `podauth` with only `PATH` from the environment and no `--socket`: it
/// finds the daemon by the shared rule, from variables the test sets.
pub fn bare_command() -> Command {
    let mut command = Command::new(bins::podauth());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs `podauth --socket SOCKET ARGS..` to the end.
pub async fn run(socket: &Path, args: &[&str]) -> CliOutput {
    let mut command = command(socket);
    command.args(args);
    output(command, &format!("podauth {}", args.join(" "))).await
}

/// Runs a prepared command to the end; `what` names it in failures.
pub async fn output(mut command: Command, what: &str) -> CliOutput {
    let output = within(RUN_TIMEOUT, what, command.output())
        .await
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    CliOutput {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
