//! Headless Chromium driven over WebDriver, acting as the user: it signs in
//! at the provider, approves or refuses device codes, and follows the
//! redirects through the daemon's loopback server.
//!
//! Each [`Browser`] has its own `chromedriver` and a fresh profile
//! directory, so no two browsers share a provider session. The session is
//! closed by [`Browser::close`], or when the value drops (also while a
//! failing test unwinds), and the driver is killed with it.
//!
//! The helpers follow the provider's page contract (tests/idp/oidc/README):
//! they wait for `body[data-page=...]` and named elements, never for URLs,
//! and every wait is bounded.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::{Child, Command};
use url::Url;

use crate::PASSWORD;
use crate::fixture::{Fixture, eventually, free_port, within};

/// Overrides the Chromium binary.
pub const CHROMIUM_VAR: &str = "PODAUTH_TEST_CHROMIUM";
/// Overrides the chromedriver binary.
pub const CHROMEDRIVER_VAR: &str = "PODAUTH_TEST_CHROMEDRIVER";
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Bound on one browser step: a page to appear, a session to open.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a wait looks at the page again.
const POLL: Duration = Duration::from_millis(50);
/// Ports tried for chromedriver when one was taken meanwhile.
const DRIVER_ATTEMPTS: usize = 3;
/// Bound on closing a session while a test unwinds.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Flags for Chromium headless as root in a container with no network.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--password-store=basic",
    "--window-size=1000,800",
];

/// What the daemon's loopback server showed at the end of a chain.
#[derive(Debug, Clone)]
pub struct LoopbackPage {
    /// The URL of the page: the last callback, with its query.
    pub url: Url,
    /// The page title.
    pub title: String,
    /// The text of `p#message`.
    pub message: String,
}

/// One Chromium session with its own driver and profile.
#[derive(Debug)]
pub struct Browser {
    client: Option<Client>,
    session: String,
    driver_port: u16,
    profile: PathBuf,
    _driver: Child,
}

impl Browser {
    /// Starts a driver and a Chromium session with a fresh profile.
    pub async fn start(fixture: &Fixture) -> Self {
        let chromium = program(CHROMIUM_VAR, DEFAULT_CHROMIUM, "chromium");
        let chromedriver = program(CHROMEDRIVER_VAR, DEFAULT_CHROMEDRIVER, "chromium-driver");
        let profile = tempfile::Builder::new()
            .prefix("chromium-")
            .tempdir_in(fixture.path())
            .expect("create a browser profile directory")
            .keep();

        let (driver, driver_port) = start_driver(fixture, &chromedriver).await;

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|flag| (*flag).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": { "pageLoad": STEP_TIMEOUT.as_millis() as u64, "script": 10_000 },
            "goog:chromeOptions": { "binary": chromium, "args": args },
        });
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };

        let url = format!("http://127.0.0.1:{driver_port}");
        let client = within(STEP_TIMEOUT, "a new Chromium session", async {
            ClientBuilder::new(HttpConnector::new()).capabilities(capabilities).connect(&url).await
        })
        .await
        .unwrap_or_else(|e| panic!("cannot start Chromium through chromedriver: {e}"));
        let session =
            client.session_id().await.ok().flatten().expect("a new WebDriver session has an id");

        Self { client: Some(client), session, driver_port, profile, _driver: driver }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open until close")
    }

    /// Closes the session (and Chromium); the driver stops on drop.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let closed = tokio::time::timeout(CLOSE_TIMEOUT, client.close()).await;
            if !matches!(closed, Ok(Ok(()))) {
                close_session_blocking(self.driver_port, &self.session, &self.profile);
            }
        }
    }

    /// Opens `url` and waits for the page load to finish.
    pub async fn goto(&self, url: &str) {
        within(STEP_TIMEOUT, &format!("loading {url}"), self.client().goto(url))
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The page's current URL.
    pub async fn current_url(&self) -> Url {
        self.client().current_url().await.expect("read the current URL")
    }

    /// Auth code, first sign-in of this browser: opens the authorize `url`,
    /// signs in as `login`, and follows the redirects through every Pod of
    /// the chain to the loopback server's last page.
    pub async fn sign_in_chain(&self, url: &str, login: &str) -> LoopbackPage {
        self.goto(url).await;
        self.wait_for_page("login").await;
        self.sign_in(login).await;
        self.loopback_page().await
    }

    /// Auth code, already signed in: the provider answers every Pod
    /// without showing a page, and the chain ends on the loopback page.
    pub async fn follow_chain(&self, url: &str) -> LoopbackPage {
        self.goto(url).await;
        self.loopback_page().await
    }

    /// Auth code, refused: opens `url`, and clicks Cancel on the login
    /// page. Returns when the click was made and the page it led to.
    pub async fn cancel_sign_in(&self, url: &str) -> (Instant, LoopbackPage) {
        self.goto(url).await;
        self.wait_for_page("login").await;
        let cancel = self.find("#login-cancel").await;
        let clicked = Instant::now();
        cancel.click().await.expect("click Cancel");
        (clicked, self.loopback_page().await)
    }

    /// Device code: opens the complete verification URI, confirms the
    /// code, signs in as `login` if the provider asks, and waits for the
    /// success page. Checks that the page shows `user_code`.
    pub async fn approve_device(
        &self,
        verification_uri_complete: &str,
        user_code: &str,
        login: &str,
    ) {
        self.goto(verification_uri_complete).await;
        self.wait_for_page("device-confirm").await;
        let shown = self.find("#user-code").await.text().await.expect("read the user code");
        assert_eq!(
            normalize_code(&shown),
            normalize_code(user_code),
            "the confirm page shows another code"
        );
        self.find("#device-confirm").await.click().await.expect("click Confirm");

        if self.wait_for_any(&[page("login"), page("device-success")]).await == 0 {
            self.sign_in(login).await;
            self.wait_for_page("device-success").await;
        }
    }

    /// Device code by hand: opens the plain verification URI, types
    /// `user_code`, then approves as [`Self::approve_device`] does.
    pub async fn enter_device_code(&self, verification_uri: &str, user_code: &str, login: &str) {
        self.goto(verification_uri).await;
        self.wait_for_page("device-input").await;
        self.find("input[name=user_code]").await.send_keys(user_code).await.expect("type the code");
        self.find("#device-continue").await.click().await.expect("click Continue");
        self.wait_for_page("device-confirm").await;
        self.find("#device-confirm").await.click().await.expect("click Confirm");
        if self.wait_for_any(&[page("login"), page("device-success")]).await == 0 {
            self.sign_in(login).await;
            self.wait_for_page("device-success").await;
        }
    }

    /// Device code, refused: clicks Abort on the confirm page and waits
    /// for the provider to say the request was refused.
    pub async fn refuse_device(&self, verification_uri_complete: &str) {
        self.goto(verification_uri_complete).await;
        self.wait_for_page("device-confirm").await;
        self.find("#device-abort").await.click().await.expect("click Abort");
        self.wait_for("#device-error[data-error=AbortedError]").await;
    }

    /// Fills the login form and submits it.
    async fn sign_in(&self, login: &str) {
        self.find("#login").await.send_keys(login).await.expect("type the login");
        self.find("#password").await.send_keys(PASSWORD).await.expect("type the password");
        self.find("#login-submit").await.click().await.expect("click Sign in");
    }

    /// Waits for the loopback server's page (`p#message`); a provider
    /// error page on the way fails the test with the provider's words.
    pub async fn loopback_page(&self) -> LoopbackPage {
        let found = self.wait_for_any(&["p#message".to_owned(), page("error")]).await;
        if found == 1 {
            let text = self.find("#error").await.text().await.unwrap_or_default();
            panic!("the provider showed an error page at {}: {text}", self.current_url().await);
        }
        let message = self.find("p#message").await.text().await.expect("read the message");
        let title = self.client().title().await.expect("read the title");
        LoopbackPage { url: self.current_url().await, title, message }
    }

    /// Waits until the provider shows the page of kind `kind`.
    pub async fn wait_for_page(&self, kind: &str) {
        let found = self.wait_for_any(&[page(kind), page("error")]).await;
        if found == 1 {
            let text = self.find("#error").await.text().await.unwrap_or_default();
            panic!("expected the {kind} page; the provider showed an error: {text}");
        }
    }

    /// Waits for an element matching `selector`.
    pub async fn wait_for(&self, selector: &str) {
        self.wait_for_any(&[selector.to_owned()]).await;
    }

    /// Waits until one of `selectors` matches and says which.
    pub async fn wait_for_any(&self, selectors: &[String]) -> usize {
        let what = format!("one of {selectors:?} (last page {})", self.last_url().await);
        eventually(STEP_TIMEOUT, &what, || async {
            for (index, selector) in selectors.iter().enumerate() {
                if self.client().find(Locator::Css(selector)).await.is_ok() {
                    return Some(index);
                }
            }
            tokio::time::sleep(POLL).await;
            None
        })
        .await
    }

    /// Replaces the text of the input matching `selector` with `text`.
    pub async fn fill(&self, selector: &str, text: &str) {
        let input = self.find(selector).await;
        input.clear().await.unwrap_or_else(|e| panic!("cannot clear {selector}: {e}"));
        input.send_keys(text).await.unwrap_or_else(|e| panic!("cannot type into {selector}: {e}"));
    }

    /// Clicks the element matching `selector`.
    pub async fn click(&self, selector: &str) {
        let element = self.find(selector).await;
        element.click().await.unwrap_or_else(|e| panic!("cannot click {selector}: {e}"));
    }

    async fn find(&self, selector: &str) -> fantoccini::elements::Element {
        self.client()
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no element {selector} on the page: {e}"))
    }

    async fn last_url(&self) -> String {
        self.client().current_url().await.map(String::from).unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Not closed: a test failed on the way. End the session without
        // the async runtime, which may be shutting down.
        if self.client.take().is_some() {
            close_session_blocking(self.driver_port, &self.session, &self.profile);
        }
    }
}

fn page(kind: &str) -> String {
    format!("body[data-page=\"{kind}\"]")
}

fn normalize_code(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase()
}

fn program(var: &str, default: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.exists(),
        "{} does not exist: install Debian's {package} package, or set {var}",
        path.display()
    );
    path
}

/// Starts chromedriver on a free port and waits until it is ready; one that
/// exits at once (its port taken meanwhile) is tried again on another port.
async fn start_driver(fixture: &Fixture, chromedriver: &Path) -> (Child, u16) {
    for attempt in 1..=DRIVER_ATTEMPTS {
        let port = free_port();
        let log = fixture.join(format!("chromedriver-{port}.log"));
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let mut driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));

        let http = reqwest::Client::new();
        let status = format!("http://127.0.0.1:{port}/status");
        let ready = eventually(STEP_TIMEOUT, "chromedriver to be ready", || {
            let exited = driver.try_wait().ok().flatten().is_some();
            let request = http.get(&status).send();
            async move {
                if exited {
                    return Some(false);
                }
                let body: serde_json::Value = request.await.ok()?.json().await.ok()?;
                body["value"]["ready"].as_bool().filter(|ready| *ready)
            }
        })
        .await;
        if ready {
            return (driver, port);
        }

        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(attempt < DRIVER_ATTEMPTS, "chromedriver exited before serving:\n{text}");
    }
    unreachable!("the last attempt either returns or panics")
}

/// `DELETE /session/ID` over a plain socket, then a sweep for Chromium
/// processes of this profile if the driver could not end them.
fn close_session_blocking(port: u16, session: &str, profile: &Path) {
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let closed = TcpStream::connect(("127.0.0.1", port)).and_then(|mut stream| {
        stream.set_read_timeout(Some(CLOSE_TIMEOUT))?;
        stream.write_all(request.as_bytes())?;
        // The driver answers once Chromium has quit; the status line is all
        // that matters (it may keep the connection open after it).
        let mut status_line = String::new();
        BufReader::new(stream).read_line(&mut status_line)?;
        Ok(status_line.starts_with("HTTP/1.1 200"))
    });
    if !matches!(closed, Ok(true)) {
        kill_profile_processes(profile);
    }
}

/// Kills the processes whose command line names `profile`: the Chromium
/// this harness started and nothing else.
fn kill_profile_processes(profile: &Path) {
    let needle = format!("--user-data-dir={}", profile.display());
    let Ok(entries) = std::fs::read_dir("/proc") else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())) else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if cmdline.split(|b| *b == 0).any(|arg| arg == needle.as_bytes()) {
            let _ = std::process::Command::new("kill").args(["-9", pid]).status();
        }
    }
}
