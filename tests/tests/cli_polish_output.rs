//! What the command shows a person, and what it gives a script:
//! - device code: the user code spaced out in a box and a QR code of the
//!   page on stderr; `--no-qr` leaves the QR code out;
//! - on a terminal, a spinner saying what is awaited and the time left,
//!   and a failure in two lines that say what to do;
//! - `--json` on status, methods, prove, login, token, logout and service:
//!   one JSON document on stdout, the instructions still on stderr.

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use podauth_tests::cli::{self, CliOutput, EXIT_OK, EXIT_PROOF_FAILED};
use podauth_tests::fixture::within;
use podauth_tests::request::query_param;
use podauth_tests::{ALICE, Browser, Daemon, Fixture, LOCAL_CLIENT_ID, Provider, terminal};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

/// Characters of a QR code drawn with half blocks.
const QR_CHARS: [char; 4] = [' ', '█', '▀', '▄'];
/// Fewest rows of a drawn QR code: 21 modules and the quiet zone, two a row.
const QR_MIN_ROWS: usize = 14;

fn json(output: &CliOutput) -> Value {
    output.assert_code(EXIT_OK);
    serde_json::from_str(&output.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", output.stdout))
}

/// `podauth prove` by device code for `pod`, with `extra` flags, as JSON.
async fn prove_device_code(daemon: &Daemon, pod: &str, extra: &[&str]) -> (CliOutput, Value) {
    let mut args = vec!["prove", "--pod", pod, "--client-id", LOCAL_CLIENT_ID, "--json"];
    args.extend_from_slice(extra);
    let output = cli::run(daemon.socket(), &args).await;
    let document = json(&output);
    (output, document)
}

/// The rows of the QR code after "or scan:", if any.
fn qr_rows(stderr: &str) -> Vec<&str> {
    let Some((_, after)) = stderr.split_once("or scan:\n") else { return Vec::new() };
    after
        .lines()
        .take_while(|row| !row.is_empty() && row.chars().all(|c| QR_CHARS.contains(&c)))
        .collect()
}

/// What a terminal line leaves visible: the text after its last carriage
/// return, without escape sequences (`ESC [ ... letter`).
fn visible(line: &str) -> String {
    let last = line.rsplit('\r').find(|part| !part.is_empty()).unwrap_or_default();
    let mut text = String::new();
    let mut chars = last.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            text.push(c);
        }
    }
    text
}

fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_code_is_boxed_and_its_page_drawn_as_a_qr_code() {
    let fixture = Fixture::new("output_device_code");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;

    let (output, document) = prove_device_code(&daemon, "pod-a", &[]).await;
    let code = document["user_actions"][0]["user_code"].as_str().expect("a user code");
    let spaced: Vec<String> = code.chars().map(String::from).collect();
    let boxed = format!("│  {}  │", spaced.join(" "));
    let lines: Vec<&str> = output.stderr.lines().collect();
    let row = lines.iter().position(|line| line.trim() == boxed).unwrap_or_else(|| {
        panic!("{boxed} in the stderr:\n{}", output.stderr);
    });
    assert!(lines[row - 1].trim().starts_with('┌') && lines[row + 1].trim().starts_with('└'));

    let rows = qr_rows(&output.stderr);
    assert!(rows.len() >= QR_MIN_ROWS, "a QR code after 'or scan:':\n{}", output.stderr);
    let width = rows[0].chars().count();
    assert!(rows.iter().all(|row| row.chars().count() == width), "a square block:\n{rows:#?}");
    assert!(!output.stdout.contains('█'), "stdout stays for the JSON");

    let (plain, _) = prove_device_code(&daemon, "pod-b", &["--no-qr"]).await;
    assert!(plain.stderr.contains("confirm this code"), "{}", plain.stderr);
    assert!(!plain.stderr.contains("or scan"), "{}", plain.stderr);
    assert!(qr_rows(&plain.stderr).is_empty() && !plain.stderr.contains('█'), "{}", plain.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_shows_a_countdown_and_a_failure_that_says_what_to_do() {
    let fixture = Fixture::new("output_terminal");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;

    // Nobody opens the browser: the three seconds run out.
    let args = ["prove", "--method", "oidc-auth-code", "--pod", "pod-a"];
    let args = [&args[..], &["--client-id", LOCAL_CLIENT_ID, "--no-browser", "--timeout", "3"]];
    let output = terminal::run(daemon.socket(), &args.concat()).await;
    output.assert_code(EXIT_PROOF_FAILED);

    let screen = &output.stdout;
    assert!(screen.contains("waiting for the browser: 0 of 1 pods answered"), "{screen}");
    assert!(screen.contains("s left)"), "the time left: {screen}");
    // The spinner is gone when the error is printed: the last two lines.
    let lines: Vec<String> = screen.lines().map(visible).collect();
    let tail: Vec<&str> = lines.iter().rev().take(2).rev().map(|l| l.trim()).collect();
    let error = tail.iter().find(|l| l.starts_with("podauth: ")).unwrap_or_else(|| {
        panic!("the error ends the output: {tail:?}");
    });
    assert!(error.contains("timed out after 3s") && error.contains("pod-a"), "{error}");
    assert!(tail.iter().any(|l| l.starts_with("hint: ") && l.contains("--timeout")), "{tail:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_on_every_command_is_one_document() {
    let fixture = Fixture::new("output_json");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;
    let socket = daemon.socket();

    let status = json(&cli::run(socket, &["status", "--json"]).await);
    assert_eq!(status["pid"], daemon.pid(), "{status}");
    let methods = json(&cli::run(socket, &["methods", "--json"]).await);
    let names: Vec<&str> =
        methods["methods"].as_array().unwrap().iter().filter_map(|m| m["name"].as_str()).collect();
    assert_eq!(names, ["oidc-device-code", "oidc-auth-code", "saml"], "{methods}");
    let (_, proved) = prove_device_code(&daemon, "pod-a", &[]).await;
    assert_eq!(proved["proofs"][0]["pod_id"], "pod-a", "{proved}");

    // login waits for the user: its URL is on stderr meanwhile.
    let mut command = cli::command(socket);
    command.args(["login", "--no-browser", "--json"]).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut login = command.spawn().expect("start podauth login");
    let mut stdout = login.stdout.take().expect("stdout is piped");
    let mut stderr = BufReader::new(login.stderr.take().expect("stderr is piped")).lines();
    let url = within(Duration::from_secs(30), "the login URL on stderr", async {
        while let Some(line) = stderr.next_line().await.expect("read stderr") {
            if line.trim().starts_with("http://") {
                return line.trim().to_owned();
            }
        }
        panic!("podauth login ended without a URL");
    })
    .await;
    let draining = tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });
    let code = query_param(&url, "user_code").expect("the URL carries the code");
    let browser = Browser::start(&fixture).await;
    browser.approve_device(&url, &code, ALICE).await;
    browser.close().await;
    let mut printed = String::new();
    within(Duration::from_secs(30), "login's stdout", stdout.read_to_string(&mut printed))
        .await
        .expect("read stdout");
    let exit = within(Duration::from_secs(30), "podauth login to exit", login.wait()).await;
    assert_eq!(exit.expect("wait for podauth login").code(), Some(EXIT_OK));
    draining.await.expect("the stderr reader ends");
    let logged_in: Value = serde_json::from_str(&printed).expect("login --json prints JSON");
    assert_eq!(logged_in["subject"], ALICE, "{logged_in}");

    let token = json(&cli::run(socket, &["token", "--json"]).await);
    assert!(token["access_token"].as_str().is_some_and(|t| !t.is_empty()), "{token}");
    assert!(token["expires_at_unix"].as_i64().is_some_and(|at| at > now_unix()), "{token}");
    let logout = json(&cli::run(socket, &["logout", "--json"]).await);
    assert_eq!(logout["was_logged_in"], true, "{logout}");

    let mut command = cli::bare_command();
    let home = fixture.subdir("service-home");
    command.env("HOME", &home).args(["service", "status", "--json"]);
    let service = json(&cli::output(command, "podauth service status --json").await);
    assert!(service["files"].as_array().is_some_and(Vec::is_empty), "{service}");
}
