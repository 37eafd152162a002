//! `podauth login`, `podauth token` and `podauth logout` as a user runs
//! them: exit 5 while not logged in; a login whose URL the command prints
//! and the user opens; `podauth token` printing the token and nothing else,
//! so that `$(podauth token)` is the token; logout; and a refused login
//! exiting with the failure code.

use std::process::Stdio;
use std::time::Duration;

use podauth_tests::cli::{self, CliOutput, EXIT_OK, EXIT_PROOF_FAILED};
use podauth_tests::fixture::within;
use podauth_tests::session::ProviderSide;
use podauth_tests::{ALICE, Browser, Daemon, Fixture, Provider, TokenStore};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

/// Exit status: no session, or it ended.
const EXIT_NOT_LOGGED_IN: i32 = 5;
/// What the login command prints before the URL.
const URL_FOLLOWS: &str = "open in a browser:";
/// Bound on each wait for the login command.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_token_logout_through_the_command() {
    let fixture = Fixture::new("session_cli");
    let provider = Provider::start(&fixture).await;
    let store = TokenStore::file(&fixture);
    let daemon = Daemon::start_with(&fixture, Some(&provider), store.daemon_options()).await;
    let socket = daemon.socket();

    let before = cli::run(socket, &["token"]).await;
    before.assert_code(EXIT_NOT_LOGGED_IN);
    assert!(before.stdout.is_empty(), "nothing on stdout: {:?}", before.stdout);
    assert!(before.stderr.contains("not logged in"), "{}", before.stderr);

    let browser = Browser::start(&fixture).await;
    let login = login_in_browser(&daemon, &browser, &["--method", "oidc-auth-code"]).await;
    login.assert_code(EXIT_OK);
    assert_eq!(login.stdout, format!("logged in to local as {ALICE}\n"));
    browser.close().await;

    let printed = cli::run(socket, &["token"]).await;
    printed.assert_code(EXIT_OK);
    let token = daemon.client().await.token("").await.expect("the daemon's token").access_token;
    assert_eq!(printed.stdout, format!("{token}\n"), "the token and a newline, nothing else");
    assert_eq!(ProviderSide::new(&provider).subject_of(&token).await, ALICE);

    // As a shell script uses it.
    let script = format!("printf %s \"$({} --socket {} token)\"", podauth(), socket.display());
    let substituted = cli::output(sh(&script), "$(podauth token)").await;
    substituted.assert_code(EXIT_OK);
    assert_eq!(substituted.stdout, token, "$(podauth token) is the token");

    let json = cli::run(socket, &["token", "--json"]).await;
    json.assert_code(EXIT_OK);
    let document: Value = serde_json::from_str(&json.stdout).expect("--json prints JSON");
    assert_eq!(document["access_token"], token.as_str());
    assert_eq!(document["token_type"], "Bearer");

    let logout = cli::run(socket, &["logout"]).await;
    logout.assert_code(EXIT_OK);
    assert!(logout.stdout.contains("revoked"), "{}", logout.stdout);
    cli::run(socket, &["token"]).await.assert_code(EXIT_NOT_LOGGED_IN);
    let again = cli::run(socket, &["logout"]).await;
    again.assert_code(EXIT_OK);
    assert!(again.stdout.contains("not logged in"), "{}", again.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_exits_with_the_failure_code() {
    let fixture = Fixture::new("session_cli_refused");
    let provider = Provider::start(&fixture).await;
    let store = TokenStore::file(&fixture);
    let daemon = Daemon::start_with(&fixture, Some(&provider), store.daemon_options()).await;
    let browser = Browser::start(&fixture).await;

    let mut child = cli::command(daemon.socket());
    child.args(["login", "--method", "oidc-device-code", "--no-browser", "--no-qr"]);
    let (url, output) = run_until_url(child, |url| async move {
        browser.refuse_device(&url).await;
        browser.close().await;
    })
    .await;
    output.assert_code(EXIT_PROOF_FAILED);
    assert!(url.contains("user_code="), "{url}");
    assert!(output.stderr.contains("refused") && output.stderr.contains("access_denied"));
    cli::run(daemon.socket(), &["token"]).await.assert_code(EXIT_NOT_LOGGED_IN);
}

/// Runs `podauth login ARGS --no-browser` and signs in as [`ALICE`] at the
/// URL it prints.
async fn login_in_browser(daemon: &Daemon, browser: &Browser, args: &[&str]) -> CliOutput {
    let mut child = cli::command(daemon.socket());
    child.arg("login").args(args).arg("--no-browser");
    let (_, output) = run_until_url(child, |url| async move {
        browser.sign_in_chain(&url, ALICE).await;
    })
    .await;
    output
}

/// Starts `command`, reads its stderr until it prints the URL to open,
/// hands the URL to `act`, and collects the rest of the run.
async fn run_until_url<F, Fut>(mut command: tokio::process::Command, act: F) -> (String, CliOutput)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut child =
        command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start podauth login");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr is piped")).lines();

    let mut stderr = String::new();
    let url = within(RUN_TIMEOUT, "podauth login to print the URL", async {
        let mut next_is_url = false;
        while let Some(line) = lines.next_line().await.expect("read stderr") {
            stderr.push_str(&line);
            stderr.push('\n');
            if next_is_url {
                return line.trim().to_owned();
            }
            next_is_url = line.ends_with(URL_FOLLOWS);
        }
        panic!("podauth login ended without a URL:\n{stderr}");
    })
    .await;

    act(url.clone()).await;
    let status = within(RUN_TIMEOUT, "podauth login to end", child.wait()).await;
    let status = status.expect("wait for podauth login");
    let mut out = String::new();
    stdout.read_to_string(&mut out).await.expect("read stdout");
    while let Some(line) = lines.next_line().await.expect("read stderr") {
        stderr.push_str(&line);
        stderr.push('\n');
    }
    (url, CliOutput { code: status.code(), stdout: out, stderr })
}

fn podauth() -> String {
    podauth_tests::bins::podauth().display().to_string()
}

/// `sh -c SCRIPT` with only `PATH` from the environment.
fn sh(script: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("sh");
    command
        .args(["-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}
