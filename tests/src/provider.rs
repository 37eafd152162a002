//! The OpenID Provider of the tests: `tests/idp/oidc/provider.mjs`, the
//! certified `oidc-provider` package on Node.js, started on a free port.
//!
//! The provider exits when its standard input closes, so the harness holds
//! the pipe for as long as the [`Provider`] lives, and kills it on drop as
//! well. Its diagnostics go to `provider.log` in the test's directory.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use url::Url;

use crate::bins::repo_root;
use crate::fixture::{Fixture, within};

/// Overrides the Node.js program.
pub const NODE_VAR: &str = "PODAUTH_TEST_NODE";
/// How long the provider may take to print its READY line.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Bound on each HTTP request the harness sends it.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of one provider; the defaults suit most tests.
#[derive(Debug, Clone)]
pub struct ProviderOptions {
    /// `interval` of device authorizations, in seconds.
    pub interval_seconds: u32,
    /// Lifetime of device codes, in seconds.
    pub device_code_ttl_seconds: u32,
    /// Lifetime of access tokens, in seconds.
    pub access_token_ttl_seconds: u32,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        Self { interval_seconds: 1, device_code_ttl_seconds: 600, access_token_ttl_seconds: 3600 }
    }
}

/// A running provider.
#[derive(Debug)]
pub struct Provider {
    issuer: Url,
    log: PathBuf,
    http: reqwest::Client,
    // Held open: the provider exits when its stdin closes.
    _stdin: ChildStdin,
    _child: Child,
}

impl Provider {
    /// Starts a provider with default settings.
    pub async fn start(fixture: &Fixture) -> Self {
        Self::start_with(fixture, ProviderOptions::default()).await
    }

    /// Starts a provider and waits until it listens.
    pub async fn start_with(fixture: &Fixture, options: ProviderOptions) -> Self {
        let dir = repo_root().join("tests/idp/oidc");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test provider's packages are missing: run `npm ci` in {}",
            dir.display()
        );
        let log = fixture.join("provider.log");
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));

        let node = std::env::var(NODE_VAR).unwrap_or_else(|_| "node".to_owned());
        let mut child = Command::new(&node)
            .arg(dir.join("provider.mjs"))
            .args(["--port", "0"])
            .args(["--interval", &options.interval_seconds.to_string()])
            .args(["--device-code-ttl", &options.device_code_ttl_seconds.to_string()])
            .args(["--access-token-ttl", &options.access_token_ttl_seconds.to_string()])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the test provider with {node}: {e}"));

        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let ready = within(START_TIMEOUT, "the test provider's READY line", async {
            let mut lines = BufReader::new(stdout).lines();
            lines.next_line().await.ok().flatten()
        })
        .await;

        let issuer = ready
            .as_deref()
            .and_then(|line| line.strip_prefix("READY "))
            .and_then(|url| Url::parse(url.trim()).ok())
            .unwrap_or_else(|| {
                let diagnostics = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("the test provider did not start; it printed {ready:?}\n{diagnostics}")
            });

        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("build an http client");
        Self { issuer, log, http, _stdin: stdin, _child: child }
    }

    /// The issuer exactly as the provider names itself (no trailing slash).
    pub fn issuer(&self) -> String {
        self.issuer.as_str().trim_end_matches('/').to_owned()
    }

    /// A URL on the provider.
    pub fn url(&self, path: &str) -> Url {
        self.issuer.join(path).unwrap_or_else(|e| panic!("bad provider path {path}: {e}"))
    }

    /// The provider's diagnostics so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many token requests it has seen, by grant type, and their errors
    /// (`/__test/stats`).
    pub async fn stats(&self) -> serde_json::Value {
        let url = self.url("/__test/stats");
        let response = self
            .http
            .get(url.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url} failed: {e}"));
        response.json().await.unwrap_or_else(|e| panic!("GET {url} is not JSON: {e}"))
    }

    /// Token requests of `grant_type` so far.
    pub async fn token_requests(&self, grant_type: &str) -> u64 {
        self.stats().await["token_requests"][grant_type].as_u64().unwrap_or(0)
    }
}
