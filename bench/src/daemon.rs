//! A podauthd of the benchmark's own.
//!
//! The [`Sandbox`] is a temporary directory holding the daemon's config (one
//! Auth0-style environment, whose authorize URLs are built without any
//! network request), a session in the file store whose access token expires
//! in the far future (so a `GetToken` is answered from memory and never
//! reaches an IdP), the sockets and the daemons' logs. A [`Daemon`] is one
//! running podauthd, read through `/proc`.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use podauth::Client;

/// The environment the benchmark signs in to.
pub(crate) const ENVIRONMENT: &str = "bench";
/// Its OIDC client id, which every challenge carries.
pub(crate) const CLIENT_ID: &str = "bench-client";
/// Size of the cached access token: about what an RS256 access token with
/// a handful of claims weighs.
pub(crate) const TOKEN_BYTES: usize = 1024;
/// 2100-01-01: an expiry no refresh margin reaches.
const FAR_FUTURE_UNIX: u64 = 4_102_444_800;
/// How long a daemon may take to serve its first `Status` before the
/// benchmark gives up on it.
const START_LIMIT: Duration = Duration::from_secs(20);
/// Pause between attempts while waiting for a daemon.
const POLL_INTERVAL: Duration = Duration::from_micros(200);

/// The access token of the benchmark's session.
pub(crate) fn token() -> &'static str {
    static TOKEN: LazyLock<String> = LazyLock::new(|| "t".repeat(TOKEN_BYTES));
    &TOKEN
}

/// The temporary directory every podauthd of one run lives in.
#[derive(Debug)]
pub(crate) struct Sandbox {
    dir: tempfile::TempDir,
    podauthd: PathBuf,
}

impl Sandbox {
    /// Writes the config and the session; `podauthd` is the binary to run.
    pub(crate) fn new(podauthd: PathBuf) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("podauth-bench-")
            .tempdir()
            .context("cannot create the benchmark's temporary directory")?;
        let sandbox = Self { dir, podauthd };

        let config = format!(
            "default_environment = \"{ENVIRONMENT}\"\n\
             browser = \"none\"\n\
             [environments.{ENVIRONMENT}]\n\
             auth_domain = \"bench.invalid\"\n\
             client_id = \"{CLIENT_ID}\"\n"
        );
        write_private(&sandbox.config(), &config)?;

        let state = sandbox.state_dir();
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&state)
            .with_context(|| format!("cannot create {}", state.display()))?;
        let session = format!(
            "{{\"version\":1,\"subject\":\"bench\",\"refresh_token\":\"unused\",\
             \"access_token\":\"{}\",\"access_expires_at_unix\":{FAR_FUTURE_UNIX},\
             \"token_type\":\"Bearer\"}}",
            token()
        );
        let uid = podauth_proto::current_uid();
        write_private(&state.join(format!("session-{ENVIRONMENT}-uid{uid}.json")), &session)?;
        Ok(sandbox)
    }

    /// A path inside the sandbox.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn config(&self) -> PathBuf {
        self.path("config.toml")
    }

    fn state_dir(&self) -> PathBuf {
        self.path("sessions")
    }

    /// podauthd started by hand on `socket`, callbacks on `port`, its log
    /// in the sandbox. The log level is the default (info), as users run it.
    pub(crate) fn podauthd(&self, socket: &Path, port: u16) -> anyhow::Result<Command> {
        let mut command = Command::new(&self.podauthd);
        command
            .arg("--config")
            .arg(self.config())
            .arg("--socket")
            .arg(socket)
            .args(["--callback-port", &port.to_string(), "--log-format", "human"])
            .env("PODAUTH_TOKEN_STORE", "file")
            .env("PODAUTH_STATE_DIR", self.state_dir())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(self.log(port)?);
        Ok(command)
    }

    /// podauthd started by `systemd-socket-activate` on the first
    /// connection to `socket`, which the activator binds and passes on.
    pub(crate) fn activated_podauthd(&self, socket: &Path, port: u16) -> anyhow::Result<Command> {
        // The activator gives its child only the variables named by -E.
        let state = format!("PODAUTH_STATE_DIR={}", self.state_dir().display());
        let mut command = Command::new("systemd-socket-activate");
        command
            .arg("-l")
            .arg(socket)
            .args(["-E", "PODAUTH_TOKEN_STORE=file", "-E", &state])
            .arg(&self.podauthd)
            .arg("--config")
            .arg(self.config())
            .args(["--callback-port", &port.to_string(), "--log-format", "human"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(self.log(port)?);
        Ok(command)
    }

    fn log(&self, port: u16) -> anyhow::Result<fs::File> {
        let path = self.path(&format!("podauthd-{port}.log"));
        fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))
    }

    /// Starts podauthd by hand on the socket `name` and waits until it
    /// serves a `Status`.
    pub(crate) async fn start(&self, name: &str) -> anyhow::Result<Daemon> {
        let socket = self.path(name);
        let port = free_port()?;
        let started = Instant::now();
        let child = self
            .podauthd(&socket, port)?
            .spawn()
            .with_context(|| format!("cannot start {}", self.podauthd.display()))?;
        let daemon = Daemon { child, socket, port };
        first_status(&daemon.socket, started).await?;
        Ok(daemon)
    }
}

/// A process's resident memory, in KiB.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resident {
    /// All of it (`VmRSS`).
    pub(crate) total: u64,
    /// What the process allocated itself: heap, stacks (`RssAnon`).
    pub(crate) anonymous: u64,
    /// Pages of the executable and libraries mapped from the page cache,
    /// clean and shared (`RssFile`).
    pub(crate) file: u64,
}

/// One running podauthd; killed when dropped.
#[derive(Debug)]
pub(crate) struct Daemon {
    child: Child,
    /// Its socket.
    pub(crate) socket: PathBuf,
    /// Its loopback callback port.
    pub(crate) port: u16,
}

impl Daemon {
    /// Wraps a daemon started elsewhere.
    pub(crate) fn new(child: Child, socket: PathBuf, port: u16) -> Self {
        Self { child, socket, port }
    }

    /// Resident memory, from `/proc/PID/status`.
    pub(crate) fn memory(&self) -> anyhow::Result<Resident> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
                .with_context(|| format!("{path} has no {name}"))
        };
        Ok(Resident {
            total: field("VmRSS")?,
            anonymous: field("RssAnon")?,
            file: field("RssFile")?,
        })
    }

    /// CPU time the daemon's live threads have used so far, to the
    /// nanosecond (`/proc/PID/task/*/schedstat`). podauthd's threads live
    /// as long as it does, so none of its work is missed.
    pub(crate) fn cpu_time(&self) -> anyhow::Result<Duration> {
        let tasks = format!("/proc/{}/task", self.child.id());
        let mut total = 0;
        for task in fs::read_dir(&tasks).with_context(|| format!("cannot list {tasks}"))? {
            let path =
                task.with_context(|| format!("cannot list {tasks}"))?.path().join("schedstat");
            // A thread that ended since the listing has no file any more.
            let Ok(text) = fs::read_to_string(&path) else { continue };
            total += text
                .split_whitespace()
                .next()
                .and_then(|nanos| nanos.parse::<u64>().ok())
                .with_context(|| format!("{} is not a schedstat line", path.display()))?;
        }
        Ok(Duration::from_nanos(total))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `socket` serves a `Status`; the time since `started`.
pub(crate) async fn first_status(socket: &Path, started: Instant) -> anyhow::Result<Duration> {
    loop {
        if let Ok(mut client) = Client::connect_to(socket).await {
            if client.status().await.is_ok() {
                return Ok(started.elapsed());
            }
        }
        if started.elapsed() > START_LIMIT {
            bail!("no Status served on {} within {START_LIMIT:?}", socket.display());
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// A loopback port nobody listens on right now.
pub(crate) fn free_port() -> anyhow::Result<u16> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(probe.local_addr().context("cannot find a free port")?.port())
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}
