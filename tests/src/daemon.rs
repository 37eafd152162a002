//! A real `podauthd` per test: its own socket in the test's directory, its
//! own callback port, a config file naming the test provider, and its
//! standard error in a log file the test can read.
//!
//! The config has two environments at the one provider: `local` (the
//! default, client `podauth-test`) and `other` (client `podauth-other`).
//! The daemon runs with a clean environment (its own `HOME` and
//! `XDG_CONFIG_HOME`), so nothing of the machine's user leaks in.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use podauth::Client;
use podauth::v1 as pb;
use tokio::process::{Child, Command};

use crate::bins;
use crate::fixture::{Fixture, eventually, free_port, within};
use crate::provider::Provider;
use crate::{LOCAL_CLIENT_ID, LOCAL_ENVIRONMENT, OTHER_CLIENT_ID, OTHER_ENVIRONMENT};

/// How long a daemon may take to answer on its socket.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// New ports tried when the chosen one was taken meanwhile.
const PORT_ATTEMPTS: usize = 4;
/// What the daemon says when its callback port is taken.
const PORT_TAKEN: &str = "cannot listen for IdP callbacks";
/// Log filter: the daemon's decisions, everything else at info.
const LOG_FILTER: &str = "podauthd=debug,info";
/// Path of the OIDC callback on the loopback server.
pub const CALLBACK_PATH: &str = "/api/auth/callback/auth0";

/// How to start a daemon; the default suits most tests.
#[derive(Debug, Clone, Default)]
pub struct DaemonOptions {
    /// `redirect_host` of environment `local` (`localhost` when unset).
    pub redirect_host: Option<String>,
    /// `PODAUTH_BROWSER`; unset means the config's `browser = "none"`.
    pub browser: Option<String>,
    /// `request_timeout_seconds` in the config.
    pub request_timeout_seconds: Option<u64>,
    /// The socket; unset means `run/agent.sock` in the test's directory.
    pub socket: Option<PathBuf>,
    /// When set, the daemon gets no `--socket` but this `XDG_RUNTIME_DIR`,
    /// and listens on `podauth/agent.sock` inside it.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// More flags for `podauthd`, such as `--log-format json`.
    pub args: Vec<String>,
    /// More environment variables, such as `NOTIFY_SOCKET`.
    pub env: Vec<(String, String)>,
    /// More top-level config lines, `key = value` each, such as
    /// `refresh_margin_seconds = 5`.
    pub config_keys: Vec<String>,
    /// More config tables, written after the two environments, such as
    /// another `[environments.NAME]`.
    pub config_tables: String,
}

/// A running daemon, killed when dropped.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    socket: PathBuf,
    callback_port: u16,
    redirect_host: String,
    log: PathBuf,
}

impl Daemon {
    /// Starts a daemon for `provider` with default options.
    pub async fn start(fixture: &Fixture, provider: &Provider) -> Self {
        Self::start_with(fixture, Some(provider), DaemonOptions::default()).await
    }

    /// Starts a daemon and waits until its socket answers. Without a
    /// provider no config file is written at all: the daemon runs on its
    /// built-in defaults, with only the callback port set by variable.
    pub async fn start_with(
        fixture: &Fixture,
        provider: Option<&Provider>,
        options: DaemonOptions,
    ) -> Self {
        let socket = socket_of(fixture, &options);

        for attempt in 1..=PORT_ATTEMPTS {
            let mut daemon = Self::spawn(fixture, provider, &options, socket.clone(), free_port());
            if daemon.wait_ready().await {
                return daemon;
            }
            let text = daemon.log();
            if !(text.contains(PORT_TAKEN) && attempt < PORT_ATTEMPTS) {
                panic!("podauthd exited before serving:\n{text}");
            }
        }
        unreachable!("the last attempt either returns or panics")
    }

    /// Writes the config (with a provider) and starts the process.
    fn spawn(
        fixture: &Fixture,
        provider: Option<&Provider>,
        options: &DaemonOptions,
        socket: PathBuf,
        port: u16,
    ) -> Self {
        let mut command = command(fixture);
        match &options.xdg_runtime_dir {
            Some(runtime) => command.env("XDG_RUNTIME_DIR", runtime),
            None => command.arg("--socket").arg(&socket),
        };
        match provider {
            Some(provider) => {
                let config = Self::config_path(fixture);
                std::fs::write(&config, config_text(provider, port, options))
                    .unwrap_or_else(|e| panic!("cannot write {}: {e}", config.display()));
                command.arg("--config").arg(&config);
            }
            None => {
                command.env("PODAUTH_CALLBACK_PORT", port.to_string());
            }
        }
        if let Some(browser) = &options.browser {
            command.env("PODAUTH_BROWSER", browser);
        }
        command.args(&options.args);
        command.envs(options.env.iter().map(|(name, value)| (name, value)));

        let log = next_log_path(fixture);
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let child = command
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bins::podauthd().display()));

        let redirect_host = options.redirect_host.clone().unwrap_or_else(|| "localhost".into());
        Self { child, socket, callback_port: port, redirect_host, log }
    }

    /// Waits until the socket answers `Status`; false if the daemon exits.
    async fn wait_ready(&mut self) -> bool {
        let what = format!("podauthd answering on {}", self.socket.display());
        let socket = self.socket.clone();
        let child = &mut self.child;
        eventually(START_TIMEOUT, &what, || {
            let exited = child.try_wait().ok().flatten().is_some();
            let socket = socket.clone();
            async move {
                if exited {
                    return Some(false);
                }
                let mut client = Client::connect_to(&socket).await.ok()?;
                client.status().await.ok().map(|_| true)
            }
        })
        .await
    }

    /// The socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the daemon has not been reaped")
    }

    /// The loopback callback port.
    pub fn callback_port(&self) -> u16 {
        self.callback_port
    }

    /// The redirect URI of environment `local`, as the IdP sees it.
    pub fn redirect_uri(&self) -> String {
        let host = &self.redirect_host;
        let host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
        format!("http://{host}:{}{CALLBACK_PATH}", self.callback_port)
    }

    /// A new client connection.
    pub async fn client(&self) -> Client {
        Client::connect_to(&self.socket)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to podauthd: {e}"))
    }

    /// The daemon's status.
    pub async fn status(&self) -> pb::StatusResponse {
        self.client().await.status().await.unwrap_or_else(|e| panic!("Status failed: {e}"))
    }

    /// The requests waiting for the browser.
    pub async fn pending(&self) -> Vec<pb::PendingRequest> {
        self.status().await.pending
    }

    /// Each waiting request's id and the Pods it still waits for: what
    /// must not change when a bad callback comes (the seconds left do).
    pub async fn waiting(&self) -> Vec<(String, Vec<String>)> {
        let pending = self.pending().await;
        pending.into_iter().map(|p| (p.request_id, p.waiting_pod_ids)).collect()
    }

    /// Waits until `Status` lists no pending request.
    pub async fn wait_until_nothing_pending(&self, limit: Duration) {
        eventually(limit, "the pending list to empty", || async {
            self.pending().await.is_empty().then_some(())
        })
        .await;
    }

    /// What the daemon has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The file the daemon logs to, readable after it is gone.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Kills the daemon with SIGKILL, as a crash would, and reaps it.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// Starts a daemon with a free callback port and returns at once,
    /// for tests that watch it become ready themselves.
    pub fn launch(fixture: &Fixture, provider: Option<&Provider>, options: DaemonOptions) -> Self {
        let socket = socket_of(fixture, &options);
        Self::spawn(fixture, provider, &options, socket, free_port())
    }

    /// The config file the daemon was started with (with a provider).
    pub fn config_path(fixture: &Fixture) -> PathBuf {
        fixture.join("config.toml")
    }

    /// Sends `signal` (a name such as `TERM` or `HUP`) to the daemon.
    pub fn signal(&self, signal: &str) {
        send_signal(self.pid(), signal);
    }

    /// Waits for the daemon to exit by itself, at most `limit`.
    pub async fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        within(limit, "podauthd to exit", self.child.wait())
            .await
            .unwrap_or_else(|e| panic!("cannot wait for podauthd: {e}"))
    }
}

/// Writes the config of a daemon for `provider` with callback port `port`
/// (as [`Daemon::start`] does) and returns its path.
pub fn write_config(fixture: &Fixture, provider: &Provider, port: u16) -> PathBuf {
    let config = Daemon::config_path(fixture);
    std::fs::write(&config, config_text(provider, port, &DaemonOptions::default()))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", config.display()));
    config
}

/// A `podauthd` command with a clean environment: `PATH`, a `HOME` and
/// `XDG_CONFIG_HOME` of the test's own (empty unless a test writes there),
/// and the log filter. Standard input is closed.
pub fn command(fixture: &Fixture) -> Command {
    let home = fixture.subdir("home");
    let mut command = Command::new(bins::podauthd());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("RUST_LOG", LOG_FILTER)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Sends `signal` (a name such as `TERM` or `HUP`) to process `pid`.
pub fn send_signal(pid: u32, signal: &str) {
    let pid = pid.to_string();
    let status = std::process::Command::new("kill")
        .args(["-s", signal, &pid])
        .status()
        .unwrap_or_else(|e| panic!("cannot run kill -s {signal}: {e}"));
    assert!(status.success(), "kill -s {signal} {pid} failed: {status}");
}

/// Where a daemon started with `options` listens.
fn socket_of(fixture: &Fixture, options: &DaemonOptions) -> PathBuf {
    match (&options.xdg_runtime_dir, &options.socket) {
        (Some(runtime), _) => runtime.join("podauth/agent.sock"),
        (None, Some(socket)) => socket.clone(),
        (None, None) => fixture.join("run/agent.sock"),
    }
}

fn next_log_path(fixture: &Fixture) -> PathBuf {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    fixture.join(format!("podauthd-{n}.log"))
}

fn config_text(provider: &Provider, port: u16, options: &DaemonOptions) -> String {
    let issuer = provider.issuer();
    let timeout = options.request_timeout_seconds.unwrap_or(120);
    let redirect_host = options
        .redirect_host
        .as_ref()
        .map(|host| format!("redirect_host = \"{host}\"\n"))
        .unwrap_or_default();
    let keys: String = options.config_keys.iter().map(|line| format!("{line}\n")).collect();
    let tables = &options.config_tables;
    format!(
        "default_environment = \"{LOCAL_ENVIRONMENT}\"\n\
         callback_port = {port}\n\
         browser = \"none\"\n\
         request_timeout_seconds = {timeout}\n\
         {keys}\
         \n\
         [environments.{LOCAL_ENVIRONMENT}]\n\
         issuer = \"{issuer}\"\n\
         client_id = \"{LOCAL_CLIENT_ID}\"\n\
         {redirect_host}\
         \n\
         [environments.{OTHER_ENVIRONMENT}]\n\
         issuer = \"{issuer}\"\n\
         client_id = \"{OTHER_CLIENT_ID}\"\n\
         {tables}"
    )
}
