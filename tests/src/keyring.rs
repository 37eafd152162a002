//! A real Secret Service per test: gnome-keyring on a private D-Bus session
//! bus that the test starts itself, with a fresh `HOME` and data directory,
//! so that its login keyring is created and unlocked with a known password.
//!
//! The bus has no service directories, so nothing is started behind the
//! test's back: a name nobody owns stays unowned. Besides the healthy
//! keyring, a test can lock the login collection, or freeze the keyring
//! process (SIGSTOP): it then still owns its bus name but never answers,
//! like a keyring waiting on a password prompt nobody can see.
//!
//! Items are read back with `secret-tool`, the way a user would look.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::daemon::send_signal;
use crate::fixture::{Fixture, eventually, within};

/// Password of the test's login keyring.
pub const KEYRING_PASSWORD: &str = "keyring-password-not-secret";
/// The service attribute podauth files its items under.
pub const SERVICE_ATTRIBUTE: &str = "podauth";
/// Bound on starting the bus or the keyring.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on one `secret-tool` or `dbus-send` call.
const TOOL_TIMEOUT: Duration = Duration::from_secs(10);
/// The bus name of the Secret Service.
const SECRETS_NAME: &str = "org.freedesktop.secrets";
/// The object path of the login collection.
const LOGIN_COLLECTION: &str = "/org/freedesktop/secrets/collection/login";

/// A private session bus, with or without gnome-keyring on it.
#[derive(Debug)]
pub struct SecretService {
    dir: PathBuf,
    address: String,
    keyring: Option<Child>,
    _bus: Child,
}

impl SecretService {
    /// A bus with gnome-keyring on it; returns once the login collection
    /// exists and is unlocked.
    pub async fn start(fixture: &Fixture) -> Self {
        let mut service = Self::bus_only(fixture).await;

        let log = service.dir.join("gnome-keyring.log");
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let mut keyring = service
            .command("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--foreground"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start gnome-keyring-daemon: {e}"));

        // The password on stdin, then end of file: the keyring reads it all.
        let mut stdin = keyring.stdin.take().expect("stdin is piped");
        stdin.write_all(KEYRING_PASSWORD.as_bytes()).await.expect("send the keyring password");
        drop(stdin);
        service.keyring = Some(keyring);

        let what = format!("the login keyring to be unlocked (log {})", log.display());
        eventually(START_TIMEOUT, &what, || async {
            let locked = service.login_locked().await?;
            (!locked).then_some(())
        })
        .await;
        service
    }

    /// A bus on which nothing provides the Secret Service.
    pub async fn bus_only(fixture: &Fixture) -> Self {
        let dir = fixture.subdir("keyring");
        for sub in ["home", "data", "runtime"] {
            std::fs::create_dir_all(dir.join(sub))
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.join(sub).display()));
        }
        let config = dir.join("bus.conf");
        std::fs::write(&config, bus_config(&dir.join("bus")))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", config.display()));

        let log = dir.join("dbus-daemon.log");
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dbus-daemon (package dbus): {e}"));

        let stdout = bus.stdout.take().expect("stdout is piped");
        let address = within(START_TIMEOUT, "dbus-daemon to print its address", async {
            BufReader::new(stdout).lines().next_line().await.ok().flatten()
        })
        .await
        .unwrap_or_else(|| panic!("dbus-daemon printed no address"));

        Self { dir, address: address.trim().to_owned(), keyring: None, _bus: bus }
    }

    /// The bus address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The secret of podauth's item `key` (the entry's `username`
    /// attribute), read with `secret-tool`; `None` when there is none.
    pub async fn lookup(&self, key: &str) -> Option<String> {
        let mut command = self.command("secret-tool");
        command.args(["lookup", "service", SERVICE_ATTRIBUTE, "username", key]);
        let output = self.run(command, &format!("secret-tool lookup {key}")).await;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.trim().is_empty(), "secret-tool lookup {key} failed: {stderr}");
            return None;
        }
        Some(String::from_utf8(output.stdout).expect("podauth stores UTF-8 text"))
    }

    /// Locks the login collection, as a screen lock or a timeout would.
    pub async fn lock(&self) {
        let objects = format!("array:objpath:{LOGIN_COLLECTION}");
        let mut command = self.dbus_send("/org/freedesktop/secrets");
        command.args(["org.freedesktop.Secret.Service.Lock", &objects]);
        let output = self.run(command, "locking the login keyring").await;
        assert!(output.status.success(), "cannot lock the login keyring: {output:?}");
        assert_eq!(self.login_locked().await, Some(true), "the login keyring stays unlocked");
    }

    /// Stops the keyring process (SIGSTOP): it keeps its bus name, and
    /// every call to it waits. [`Self::thaw`] lets it go on.
    pub fn freeze(&self) {
        send_signal(self.keyring_pid(), "STOP");
    }

    /// Lets a frozen keyring answer again (SIGCONT).
    pub fn thaw(&self) {
        send_signal(self.keyring_pid(), "CONT");
    }

    fn keyring_pid(&self) -> u32 {
        let keyring = self.keyring.as_ref().expect("this bus runs no keyring");
        keyring.id().expect("the keyring has not been reaped")
    }

    /// Whether the login collection is locked; `None` while the keyring
    /// does not answer or has no such collection.
    async fn login_locked(&self) -> Option<bool> {
        let mut command = self.dbus_send(LOGIN_COLLECTION);
        command.args([
            "org.freedesktop.DBus.Properties.Get",
            "string:org.freedesktop.Secret.Collection",
            "string:Locked",
        ]);
        let output = self.run(command, "reading the login keyring's Locked").await;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return None;
        }
        Some(text.contains("boolean true"))
    }

    fn dbus_send(&self, object: &str) -> Command {
        let mut command = self.command("dbus-send");
        command.args(["--session", "--print-reply", &format!("--dest={SECRETS_NAME}"), object]);
        command
    }

    /// `program` on this bus, with the keyring's own home and directories.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.join("home"))
            .env("XDG_DATA_HOME", self.dir.join("data"))
            .env("XDG_RUNTIME_DIR", self.dir.join("runtime"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .kill_on_drop(true);
        command
    }

    async fn run(&self, mut command: Command, what: &str) -> std::process::Output {
        command.stdin(Stdio::null());
        within(TOOL_TIMEOUT, what, command.output())
            .await
            .unwrap_or_else(|e| panic!("cannot run {what}: {e}"))
    }
}

/// A session bus listening on `socket` that allows everything between
/// processes of this user and activates nothing.
fn bus_config(socket: &Path) -> String {
    format!(
        "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
         \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
         <busconfig>\n  \
         <type>session</type>\n  \
         <listen>unix:path={}</listen>\n  \
         <auth>EXTERNAL</auth>\n  \
         <policy context=\"default\">\n    \
         <allow send_destination=\"*\" eavesdrop=\"true\"/>\n    \
         <allow eavesdrop=\"true\"/>\n    \
         <allow own=\"*\"/>\n  \
         </policy>\n\
         </busconfig>\n",
        socket.display()
    )
}
