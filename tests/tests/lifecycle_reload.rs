//! SIGHUP reloads the config file: a good one is in force for the next
//! request (a new environment appears in `Status` and can be proven in);
//! a bad one is refused, logged with the reason, and the old config keeps
//! serving, until a good one is put back.
//!
//! Each reload is awaited through the notify socket (`RELOADING=1`, then
//! `READY=1`), as systemd's `reload` job awaits it.

use std::time::Duration;

use podauth_tests::notify::NotifySocket;
use podauth_tests::request::{self, device_code_proof};
use podauth_tests::{
    Daemon, DaemonOptions, Fixture, LOCAL_CLIENT_ID, LOCAL_ENVIRONMENT, OTHER_CLIENT_ID,
    OTHER_ENVIRONMENT, ProveRun, Provider,
};

/// How long a reload may take to be announced.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(10);
/// The environment a reload adds.
const NEW_ENVIRONMENT: &str = "added";
/// What the daemon logs when it keeps the old config.
const KEPT: &str = "config reload failed; keeping the previous config";

/// Starts a daemon that reports to `notify`, and awaits its READY=1.
async fn daemon_with_notify(
    fixture: &Fixture,
    provider: &Provider,
    notify: &NotifySocket,
) -> Daemon {
    let options = DaemonOptions { env: vec![notify.env()], ..DaemonOptions::default() };
    let daemon = Daemon::start_with(fixture, Some(provider), options).await;
    let ready = notify.next(RELOAD_TIMEOUT, "READY=1 at start").await;
    assert_eq!(ready.get("READY"), Some("1"), "{ready:?}");
    daemon
}

/// Sends SIGHUP and waits until the daemon says the reload is over.
async fn reload(daemon: &Daemon, notify: &NotifySocket) {
    daemon.signal("HUP");
    let reloading = notify.next(RELOAD_TIMEOUT, "RELOADING=1 after SIGHUP").await;
    assert_eq!(reloading.get("RELOADING"), Some("1"), "{reloading:?}");
    let ready = notify.next(RELOAD_TIMEOUT, "READY=1 after the reload").await;
    assert_eq!(ready.get("READY"), Some("1"), "{ready:?}");
}

/// The config file with one more environment at the same provider.
fn with_new_environment(fixture: &Fixture, provider: &Provider) -> String {
    let config = std::fs::read_to_string(Daemon::config_path(fixture)).expect("read the config");
    let issuer = provider.issuer();
    format!(
        "{config}\n[environments.{NEW_ENVIRONMENT}]\n\
         issuer = \"{issuer}\"\nclient_id = \"{OTHER_CLIENT_ID}\"\n"
    )
}

/// A device-code request in `environment` gets its proofs: the config
/// in force knows the environment and its IdP.
async fn proves_in(daemon: &Daemon, environment: &str, client_id: &str) {
    let mut client = daemon.client().await;
    let mut request = request::request(podauth::methods::OIDC_DEVICE_CODE, &["pod-a"], client_id);
    request.environment = environment.to_owned();
    let mut run = ProveRun::started(&mut client, request).await;
    let proofs = run.proofs().await;
    assert!(!device_code_proof(&proofs[0]).device_code.is_empty(), "in {environment}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_config_is_in_force_after_sighup() {
    let fixture = Fixture::new("reload_good");
    let provider = Provider::start(&fixture).await;
    let notify = NotifySocket::bind(&fixture);
    let daemon = daemon_with_notify(&fixture, &provider, &notify).await;
    assert!(!daemon.status().await.environments.contains(&NEW_ENVIRONMENT.to_owned()));

    std::fs::write(Daemon::config_path(&fixture), with_new_environment(&fixture, &provider))
        .expect("write the config");
    reload(&daemon, &notify).await;

    let status = daemon.status().await;
    let added = status.environment_details.iter().find(|e| e.name == NEW_ENVIRONMENT);
    let added = added.unwrap_or_else(|| panic!("{NEW_ENVIRONMENT} in {status:?}"));
    assert_eq!(added.client_id, OTHER_CLIENT_ID);
    assert_eq!(status.pid, daemon.pid(), "the same process serves on");
    proves_in(&daemon, NEW_ENVIRONMENT, OTHER_CLIENT_ID).await;
    assert!(daemon.log().contains("config reloaded"), "{}", daemon.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_is_refused_and_the_old_one_serves_on() {
    let fixture = Fixture::new("reload_bad");
    let provider = Provider::start(&fixture).await;
    let notify = NotifySocket::bind(&fixture);
    let daemon = daemon_with_notify(&fixture, &provider, &notify).await;
    let config = Daemon::config_path(&fixture);
    let original = std::fs::read_to_string(&config).expect("read the config");
    let before = daemon.status().await.environments;

    // Each broken file, and why the daemon must say it refused it (the
    // log escapes quotes inside a field).
    let broken = [
        (Some("default_environment = \"local\"\n[environments.local\n"), "invalid config file"),
        (Some("default_environment = \"nowhere\"\n"), "nowhere\\\" is not defined"),
        (None, "No such file or directory"),
    ];
    for (text, why) in broken {
        match text {
            Some(text) => std::fs::write(&config, text).expect("write the config"),
            None => std::fs::remove_file(&config).expect("remove the config"),
        }
        let kept_before = daemon.log().matches(KEPT).count();
        reload(&daemon, &notify).await;

        let log = daemon.log();
        assert_eq!(log.matches(KEPT).count(), kept_before + 1, "a warning per reload:\n{log}");
        let warning = log.lines().rfind(|line| line.contains(KEPT)).unwrap_or_default();
        assert!(warning.contains(&config.display().to_string()), "names the file: {warning}");
        assert!(warning.contains(why), "says why ({why}): {warning}");
        assert_eq!(daemon.status().await.environments, before, "the old config stays");
        proves_in(&daemon, LOCAL_ENVIRONMENT, LOCAL_CLIENT_ID).await;
    }

    // A good file again is taken up by the next reload.
    std::fs::write(&config, only_new_environment(&original, &provider)).expect("write the config");
    reload(&daemon, &notify).await;
    let environments = daemon.status().await.environments;
    assert!(environments.contains(&NEW_ENVIRONMENT.to_owned()), "{environments:?}");
    assert!(!environments.contains(&OTHER_ENVIRONMENT.to_owned()), "{environments:?}");
}

/// A config of only the new environment, its default, on the callback
/// port of `original` (a port change would need a restart).
fn only_new_environment(original: &str, provider: &Provider) -> String {
    let issuer = provider.issuer();
    let port = original.lines().find(|line| line.starts_with("callback_port")).expect("a port");
    format!(
        "default_environment = \"{NEW_ENVIRONMENT}\"\nbrowser = \"none\"\n{port}\n\
         [environments.{NEW_ENVIRONMENT}]\nissuer = \"{issuer}\"\nclient_id = \"{OTHER_CLIENT_ID}\"\n"
    )
}
