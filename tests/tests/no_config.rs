//! A new user's first start: no config file anywhere and no flags. The
//! daemon serves on its built-in defaults at the socket every client finds
//! by the same rule, and `podauth status` and `podauth methods` answer.

use std::path::Path;

use podauth_tests::cli::{self, EXIT_OK};
use podauth_tests::{Daemon, DaemonOptions, Fixture};
use tokio::process::Command;

/// `podauth ARGS` finding the socket from `XDG_RUNTIME_DIR` alone.
fn podauth_in(runtime: &Path, args: &[&str]) -> Command {
    let mut command = cli::bare_command();
    command.args(args).env("XDG_RUNTIME_DIR", runtime);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_config_or_flags_status_and_methods_answer() {
    let fixture = Fixture::new("no_config");
    let runtime = fixture.subdir("xdg-runtime");
    let options =
        DaemonOptions { xdg_runtime_dir: Some(runtime.clone()), ..DaemonOptions::default() };
    let daemon = Daemon::start_with(&fixture, None, options).await;
    assert!(fixture.join("home/.config").read_dir().map_or(true, |mut d| d.next().is_none()));
    assert!(daemon.log().contains("ready"), "{}", daemon.log());

    let status = cli::output(podauth_in(&runtime, &["status", "--json"]), "podauth status").await;
    status.assert_code(EXIT_OK);
    let status: serde_json::Value =
        serde_json::from_str(&status.stdout).expect("status --json is JSON");
    assert_eq!(status["socket_path"], runtime.join("podauth/agent.sock").display().to_string());
    assert_eq!(status["default_environment"], "production");
    assert_eq!(status["environments"], serde_json::json!(["production", "staging"]));
    assert_eq!(status["config_path"], serde_json::Value::Null, "no config file was read");
    assert_eq!(status["callback_url"], format!("http://localhost:{}", daemon.callback_port()));
    assert_eq!(status["pid"], daemon.pid());

    let methods =
        cli::output(podauth_in(&runtime, &["methods", "--json"]), "podauth methods").await;
    methods.assert_code(EXIT_OK);
    let methods: serde_json::Value =
        serde_json::from_str(&methods.stdout).expect("methods --json is JSON");
    let text = methods.to_string();
    for name in ["oidc-device-code", "oidc-auth-code", "saml"] {
        assert!(text.contains(name), "{name} missing from {text}");
    }

    // And in the plain form a person reads.
    let plain = cli::output(podauth_in(&runtime, &["status"]), "podauth status").await;
    plain.assert_code(EXIT_OK);
    assert!(plain.stdout.contains("production (default)"), "{}", plain.stdout);
    let plain = cli::output(podauth_in(&runtime, &["methods"]), "podauth methods").await;
    plain.assert_code(EXIT_OK);
    assert!(plain.stdout.contains("oidc-device-code"), "{}", plain.stdout);
}
