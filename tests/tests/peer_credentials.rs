//! The daemon checks the peer credentials of every connection: a process of
//! another user is dropped even when the file modes would let it connect.
//! Runs as root, which can start the client as `nobody` with setpriv.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use podauth_tests::cli::{self, EXIT_OK};
use podauth_tests::{Daemon, DaemonOptions, Fixture, bins};
use tokio::process::Command;

/// The user `nobody`.
const NOBODY: u32 = 65534;

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_from_another_user_is_refused() {
    let uid = std::fs::metadata("/proc/self").expect("stat /proc/self").uid();
    assert_eq!(uid, 0, "this test runs the client as another user with setpriv, which needs root");

    let fixture = Fixture::new("peer_uid");
    let daemon = Daemon::start_with(&fixture, None, DaemonOptions::default()).await;

    // Open every door the file system has, so only the daemon can refuse.
    let socket = daemon.socket();
    chmod(fixture.path(), 0o755);
    chmod(socket.parent().unwrap(), 0o755);
    chmod(socket, 0o666);
    let podauth = bins::podauth();

    let as_nobody = |socket: &Path| {
        let mut command = Command::new("setpriv");
        command
            .arg(format!("--reuid={NOBODY}"))
            .arg(format!("--regid={NOBODY}"))
            .arg("--clear-groups")
            .arg(&podauth)
            .arg("--socket")
            .arg(socket)
            .arg("status")
            .env_clear()
            .kill_on_drop(true);
        command
    };
    let refused = cli::output(as_nobody(socket), "podauth status as nobody").await;
    assert!(
        refused.stderr.starts_with("podauth: "),
        "the client itself ran and failed: {refused:?}"
    );
    assert_ne!(refused.code, Some(EXIT_OK), "{refused:?}");
    let log = daemon.log();
    assert!(log.contains("refused connection from another user"), "{log}");
    assert!(log.contains(&format!("peer_uid={NOBODY}")), "{log}");

    // The same command as the daemon's own user works.
    let mut as_root = Command::new(&podauth);
    as_root.arg("--socket").arg(socket).arg("status").env_clear().kill_on_drop(true);
    let accepted = cli::output(as_root, "podauth status as root").await;
    accepted.assert_code(EXIT_OK);
    assert!(accepted.stdout.contains(&format!("pid {}", daemon.pid())), "{}", accepted.stdout);
}
