//! The daemon's socket: private directory and file, one daemon per socket,
//! a crashed daemon's socket replaced, anything else at the path left
//! alone, and a path too long for the platform refused with its length.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use podauth_tests::cli::{self, CliOutput};
use podauth_tests::fixture::free_port;
use podauth_tests::{Daemon, DaemonOptions, Fixture, daemon};

/// How soon a daemon that cannot start must say so.
const REFUSE_WITHIN: Duration = Duration::from_secs(1);
/// The longest socket path Linux accepts (`sun_path` less the NUL).
const MAX_SOCKET_PATH_BYTES: usize = 107;

/// Runs a daemon on `socket` that is expected to exit by itself, with a
/// callback port of its own so that only the socket can stop it.
async fn run_refused(fixture: &Fixture, socket: &Path) -> (CliOutput, Duration) {
    let mut command = daemon::command(fixture);
    command
        .arg("--socket")
        .arg(socket)
        .env("PODAUTH_CALLBACK_PORT", free_port().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let output = cli::output(command, "a daemon that should refuse to start").await;
    (output, started.elapsed())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display())).mode()
        & 0o7777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_directory_and_file_are_private() {
    let fixture = Fixture::new("socket_modes");
    let socket = fixture.join("fresh/podauth/agent.sock");
    let options = DaemonOptions { socket: Some(socket.clone()), ..DaemonOptions::default() };
    let daemon = Daemon::start_with(&fixture, None, options).await;

    assert!(std::fs::metadata(&socket).unwrap().file_type().is_socket());
    assert_eq!(mode(&socket), 0o600, "socket mode");
    assert_eq!(mode(socket.parent().unwrap()), 0o700, "socket directory mode");
    assert_eq!(daemon.status().await.socket_path, socket.display().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_a_live_socket_exits_at_once() {
    let fixture = Fixture::new("second_daemon");
    let first = Daemon::start_with(&fixture, None, DaemonOptions::default()).await;
    let inode = std::fs::metadata(first.socket()).unwrap().ino();

    let (output, took) = run_refused(&fixture, first.socket()).await;
    assert!(took < REFUSE_WITHIN, "the second daemon took {took:?} to give up");
    assert_ne!(output.code, Some(0), "{output:?}");
    assert!(output.stderr.contains("already running"), "{}", output.stderr);
    assert!(output.stderr.contains(&first.socket().display().to_string()), "{}", output.stderr);

    // The first daemon keeps its socket and serves on.
    assert_eq!(std::fs::metadata(first.socket()).unwrap().ino(), inode);
    assert_eq!(first.status().await.pid, first.pid());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_daemons_socket_is_replaced() {
    let fixture = Fixture::new("stale_socket");
    let crashed = Daemon::start_with(&fixture, None, DaemonOptions::default()).await;
    let socket = crashed.socket().to_owned();
    crashed.kill().await;
    assert!(
        std::fs::symlink_metadata(&socket).unwrap().file_type().is_socket(),
        "kill -9 leaves it"
    );

    let options = DaemonOptions { socket: Some(socket.clone()), ..DaemonOptions::default() };
    let successor = Daemon::start_with(&fixture, None, options).await;
    assert_eq!(successor.status().await.pid, successor.pid());
    assert!(successor.log().contains("replacing stale socket"), "{}", successor.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regular_file_at_the_socket_path_is_left_alone() {
    let fixture = Fixture::new("file_at_socket");
    let path = fixture.join("agent.sock");
    std::fs::write(&path, "not a socket; keep me").unwrap();

    let (output, took) = run_refused(&fixture, &path).await;
    assert!(took < REFUSE_WITHIN, "took {took:?}");
    assert_ne!(output.code, Some(0), "{output:?}");
    assert!(output.stderr.contains("is not a socket"), "{}", output.stderr);
    assert!(output.stderr.contains(&path.display().to_string()), "{}", output.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a socket; keep me");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_path_over_the_limit_is_refused_with_its_length() {
    let fixture = Fixture::new("long_socket_path");
    let base = fixture.path().display().to_string().len();
    let name = "s".repeat(MAX_SOCKET_PATH_BYTES + 10 - base);
    let socket = fixture.join(name);
    let len = socket.as_os_str().len();
    assert!(len > MAX_SOCKET_PATH_BYTES);

    // Given by flag and by variable alike.
    let (by_flag, _) = run_refused(&fixture, &socket).await;
    let mut command = daemon::command(&fixture);
    command
        .env("PODAUTH_SOCK", &socket)
        .env("PODAUTH_CALLBACK_PORT", free_port().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let by_variable = cli::output(command, "a daemon with a long PODAUTH_SOCK").await;

    for output in [by_flag, by_variable] {
        assert_ne!(output.code, Some(0), "{output:?}");
        assert!(
            output.stderr.contains(&format!("{len} bytes")),
            "states the length: {}",
            output.stderr
        );
        assert!(
            output.stderr.contains(&MAX_SOCKET_PATH_BYTES.to_string()),
            "and the limit: {}",
            output.stderr
        );
    }
    assert!(!socket.exists());
}
