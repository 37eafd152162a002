//! Whole-process time: `podauth token` against the running daemon, beside
//! `ssh-add -l` against a running ssh-agent holding one key, and beside
//! `/bin/true`, the cost of starting any process at all.
//!
//! The three take turns run after run, so a busy moment of the machine
//! slows all three alike, and each figure is a median.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::daemon::{self, Sandbox};
use crate::stats;

/// How long ssh-agent may take to create its socket.
const SSH_AGENT_LIMIT: Duration = Duration::from_secs(5);

/// Medians of the three commands, and of their ratios run by run.
#[derive(Debug)]
pub(crate) struct ProcessTimes {
    /// Runs of each command.
    pub(crate) runs: usize,
    /// `/bin/true`.
    pub(crate) true_floor: Duration,
    /// `ssh-add -l`, or why it could not be measured.
    pub(crate) ssh_add: Result<Duration, String>,
    /// `podauth token`.
    pub(crate) podauth_token: Duration,
    /// `podauth token` over `/bin/true` of the same turn.
    pub(crate) token_vs_true: f64,
    /// `podauth token` over `ssh-add -l` of the same turn.
    pub(crate) token_vs_add: Option<f64>,
    /// `ssh-add -l` over `/bin/true` of the same turn.
    pub(crate) add_vs_true: Option<f64>,
}

/// A running ssh-agent of the benchmark's own; killed when dropped.
struct SshAgent {
    child: Child,
    socket: PathBuf,
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Measures the three commands `runs` times each.
pub(crate) fn measure(
    sandbox: &Sandbox,
    podauth: &Path,
    agent_socket: &Path,
    runs: usize,
) -> anyhow::Result<ProcessTimes> {
    let mut token = Command::new(podauth);
    token.arg("token").env("PODAUTH_SOCK", agent_socket);
    check_token(&mut token)?;

    let ssh_agent = start_ssh_agent(sandbox);
    let mut ssh_add = ssh_agent.as_ref().ok().map(|agent| {
        let mut command = Command::new("ssh-add");
        command.arg("-l").env("SSH_AUTH_SOCK", &agent.socket);
        command
    });
    let mut true_floor = Command::new("/bin/true");

    let (mut trues, mut adds, mut tokens) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        trues.push(time(&mut true_floor)?);
        if let Some(command) = ssh_add.as_mut() {
            adds.push(time(command)?);
        }
        tokens.push(time(&mut token)?);
    }

    let median = |times: &[Duration]| stats::median(times).unwrap_or_default();
    let paired = |ours: &[Duration], theirs: &[Duration]| {
        let ratios: Vec<f64> =
            ours.iter().zip(theirs).map(|(a, b)| a.as_secs_f64() / b.as_secs_f64()).collect();
        stats::median(&ratios)
    };
    Ok(ProcessTimes {
        runs,
        true_floor: median(&trues),
        ssh_add: ssh_agent.map(|_| median(&adds)).map_err(|error| format!("{error:#}")),
        podauth_token: median(&tokens),
        token_vs_true: paired(&tokens, &trues).unwrap_or_default(),
        token_vs_add: paired(&tokens, &adds),
        add_vs_true: paired(&adds, &trues),
    })
}

/// Runs `podauth token` once with its output kept, to be sure what is
/// timed is a correct answer.
fn check_token(command: &mut Command) -> anyhow::Result<()> {
    let output = command.output().context("cannot run podauth token")?;
    ensure!(
        output.status.success(),
        "podauth token failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    ensure!(
        String::from_utf8_lossy(&output.stdout).trim_end() == daemon::token(),
        "podauth token printed another token than the session's"
    );
    Ok(())
}

/// Wall time of one run, start to exit; a failed run is an error.
fn time(command: &mut Command) -> anyhow::Result<Duration> {
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    let started = Instant::now();
    let status =
        command.status().with_context(|| format!("cannot run {:?}", command.get_program()))?;
    let elapsed = started.elapsed();
    ensure!(status.success(), "{:?} failed: {status}", command.get_program());
    Ok(elapsed)
}

/// ssh-agent on a socket in the sandbox, holding a fresh ed25519 key.
fn start_ssh_agent(sandbox: &Sandbox) -> anyhow::Result<SshAgent> {
    let socket = sandbox.path("ssh-agent.sock");
    let child = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start ssh-agent (Debian package openssh-client)")?;
    let agent = SshAgent { child, socket };

    let started = Instant::now();
    while !agent.socket.exists() {
        if started.elapsed() > SSH_AGENT_LIMIT {
            bail!(
                "ssh-agent made no socket at {} within {SSH_AGENT_LIMIT:?}",
                agent.socket.display()
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }

    let key = sandbox.path("id_ed25519");
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "podauth-bench", "-f"])
        .arg(&key)
        .stdin(Stdio::null())
        .status()
        .context("cannot run ssh-keygen")?;
    ensure!(keygen.success(), "ssh-keygen failed: {keygen}");
    let add = Command::new("ssh-add")
        .arg("-q")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &agent.socket)
        .stdin(Stdio::null())
        .status()
        .context("cannot run ssh-add")?;
    ensure!(add.success(), "ssh-add of the benchmark key failed: {add}");
    Ok(agent)
}
