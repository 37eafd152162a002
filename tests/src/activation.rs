//! Socket activation as systemd does it, by `systemd-socket-activate`
//! (Debian's systemd package): it binds the listening socket, waits for
//! the first client to connect, then executes `podauthd` with the socket
//! as file descriptor 3 and `LISTEN_FDS`/`LISTEN_PID` set. The process id
//! stays the same across the exec, so the handle is the daemon's.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::daemon;
use crate::fixture::{Fixture, eventually, within};

/// The activator; Debian's systemd package installs it.
const ACTIVATOR: &str = "systemd-socket-activate";
/// How long the activator may take to bind its socket.
const BIND_TIMEOUT: Duration = Duration::from_secs(10);

/// A socket held by the activator, and the daemon once a client came.
#[derive(Debug)]
pub struct Activation {
    child: Child,
    log: PathBuf,
}

impl Activation {
    /// Binds `socket` through the activator, which runs `program` (a
    /// `podauthd`) with `args` on the first connection. The daemon gets the
    /// clean environment of [`daemon::command`]; its stderr and the
    /// activator's go to `activation.log` in the test's directory.
    pub async fn start(fixture: &Fixture, socket: &Path, program: &Path, args: &[&str]) -> Self {
        // The activator passes on only the variables named by `-E`.
        let clean = daemon::command(fixture);
        let mut command = Command::new(ACTIVATOR);
        command.env_clear().arg("-l").arg(socket);
        for (name, value) in clean.as_std().get_envs() {
            if let Some(value) = value {
                command.env(name, value).arg("-E").arg(name);
            }
        }
        command.arg(program).args(args);

        let log = fixture.join("activation.log");
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let child = command
            .stdin(std::process::Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {ACTIVATOR} (package systemd): {e}"));

        let activation = Self { child, log };
        let what = format!("{ACTIVATOR} listening on {}", socket.display());
        eventually(BIND_TIMEOUT, &what, || async {
            activation.log().contains("Listening on").then_some(())
        })
        .await;
        activation
    }

    /// The process id: the activator's, and the daemon's after the exec.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the process has not been reaped")
    }

    /// Whether the activator has executed the daemon yet.
    pub fn executed(&self) -> bool {
        self.log().contains("Execing")
    }

    /// What the activator and the daemon have logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` (such as `TERM`) to the process.
    pub fn signal(&self, signal: &str) {
        daemon::send_signal(self.pid(), signal);
    }

    /// Waits for the process to exit by itself, at most `limit`.
    pub async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        within(limit, "the activated podauthd to exit", self.child.wait())
            .await
            .unwrap_or_else(|e| panic!("cannot wait for the activated podauthd: {e}"))
    }
}
