//! `podauth service install | status | uninstall` on a machine with no
//! systemd user instance (as here, and on a headless server): install
//! writes both units under `$XDG_CONFIG_HOME/systemd/user`, running the
//! `podauthd` next to it, says plainly that nothing was enabled and gives
//! the command to run in a login session; the units pass `systemd-analyze
//! verify`; status reports them; uninstall removes them. `--json` gives
//! one document at every step.

use std::path::{Path, PathBuf};

use podauth_tests::cli::{self, CliOutput, EXIT_OK};
use podauth_tests::units::{self, SERVICE, SOCKET};
use podauth_tests::{Fixture, bins};
use serde_json::Value;
use tokio::process::Command;

/// The command a user without a user manager is told to run.
const MANUAL: &str = "systemctl --user enable --now podauthd.socket podauthd.service";

/// `PROGRAM service ARGS` with its own `HOME` and `XDG_CONFIG_HOME`, and no
/// bus or runtime directory: `systemctl --user` has nothing to talk to.
async fn service(program: &Path, home: &Path, args: &[&str]) -> CliOutput {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .arg("service")
        .args(args)
        .kill_on_drop(true);
    let output = cli::output(command, &format!("podauth service {}", args.join(" "))).await;
    output.assert_code(EXIT_OK);
    output
}

fn json(output: &CliOutput) -> Value {
    serde_json::from_str(&output.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", output.stdout))
}

fn unit_files(home: &Path) -> Vec<PathBuf> {
    let dir = home.join(".config/systemd/user");
    vec![dir.join(SERVICE), dir.join(SOCKET)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_status_and_uninstall_without_a_user_manager() {
    let fixture = Fixture::new("service_cycle");
    let home = fixture.subdir("home");
    let podauth = bins::podauth();
    let files = unit_files(&home);

    let installed = service(&podauth, &home, &["install"]).await;
    for file in &files {
        assert!(installed.stdout.contains(&format!("wrote {}", file.display())), "{installed:?}");
    }
    assert!(installed.stdout.contains("nothing was enabled"), "{}", installed.stdout);
    assert!(installed.stdout.contains(MANUAL), "{}", installed.stdout);

    let service_text = std::fs::read_to_string(&files[0]).unwrap();
    let exec = format!("ExecStart={}\n", bins::podauthd().display());
    assert!(service_text.contains(&exec), "runs the podauthd beside podauth:\n{service_text}");
    let verified = units::verify(&fixture, &files).await;
    units::assert_verified(&verified, &files);

    let status = json(&service(&podauth, &home, &["status", "--json"]).await);
    let listed: Vec<&str> =
        status["files"].as_array().unwrap().iter().flat_map(Value::as_str).collect();
    let expected: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    assert_eq!(listed, expected, "{status}");
    assert!(status["manual"].as_str().unwrap_or_default().contains("no systemd user instance"));

    let removed = json(&service(&podauth, &home, &["uninstall", "--json"]).await);
    assert_eq!(removed["files"].as_array().map(Vec::len), Some(2), "{removed}");
    assert!(files.iter().all(|f| !f.exists()), "the units are gone");
    let again = service(&podauth, &home, &["uninstall"]).await;
    assert!(again.stdout.contains("no user service was installed"), "{}", again.stdout);
    let status = service(&podauth, &home, &["status"]).await;
    assert!(status.stdout.contains("absent"), "{}", status.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_json_and_a_daemon_path_with_a_space() {
    let fixture = Fixture::new("service_space");
    let home = fixture.subdir("home");

    // podauth in a folder with a space, its podauthd beside it.
    let tools = fixture.subdir("my tools");
    let podauth = tools.join("podauth");
    std::fs::copy(bins::podauth(), &podauth).expect("copy podauth");
    std::os::unix::fs::symlink(bins::podauthd(), tools.join("podauthd")).expect("link podauthd");

    let installed = json(&service(&podauth, &home, &["install", "--json"]).await);
    let files = unit_files(&home);
    assert_eq!(installed["files"].as_array().map(Vec::len), Some(2), "{installed}");
    assert!(installed["manual"].as_str().unwrap_or_default().contains(MANUAL), "{installed}");

    let service_text = std::fs::read_to_string(&files[0]).unwrap();
    let exec = format!("ExecStart=\"{}\"\n", tools.join("podauthd").display());
    assert!(service_text.contains(&exec), "the path is quoted:\n{service_text}");
    let verified = units::verify(&fixture, &files).await;
    units::assert_verified(&verified, &files);
}
