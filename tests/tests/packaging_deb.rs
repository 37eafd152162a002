//! The Debian package end to end: cargo-deb builds it from the debug
//! binaries (its `Depends` computed by dpkg-shlibdeps), `dpkg -i` installs
//! it, and then the installed binaries run, the installed user units pass
//! `systemd-analyze verify`, every man page the main page names is there,
//! the completions are where bash, zsh and fish look, and a daemon of the
//! package started by socket activation is found by the package's CLI with
//! nothing set but `XDG_RUNTIME_DIR`, as in a login session. `dpkg -r`
//! leaves the machine as it was.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use podauth_tests::Fixture;
use podauth_tests::activation::Activation;
use podauth_tests::cli::{self, EXIT_OK};
use podauth_tests::debian::{self, Installed, PACKAGE};
use podauth_tests::fixture::free_port;
use podauth_tests::units::{self, SERVICE, SOCKET};
use serde_json::Value;
use tokio::process::Command;

const DAEMON: &str = "/usr/bin/podauthd";
const CLI: &str = "/usr/bin/podauth";
const UNIT_DIR: &str = "/usr/lib/systemd/user";
const MAN_DIR: &str = "/usr/share/man/man1";
/// The subcommands the main man page refers to, one page each.
const SUBCOMMANDS: [&str; 8] =
    ["status", "methods", "prove", "login", "token", "logout", "service", "completions"];
/// Where each shell looks for completions, and the shell.
const COMPLETIONS: [(&str, &str); 3] = [
    ("/usr/share/bash-completion/completions/podauth", "bash"),
    ("/usr/share/zsh/vendor-completions/_podauth", "zsh"),
    ("/usr/share/fish/vendor_completions.d/podauth.fish", "fish"),
];

/// Runs an installed program with only `PATH` (and `vars`) set.
async fn run(program: &str, args: &[&str], vars: &[(&str, &Path)]) -> cli::CliOutput {
    let mut command = Command::new(program);
    command.env_clear().env("PATH", "/usr/bin:/bin").args(args);
    for (name, value) in vars {
        command.env(name, value);
    }
    cli::output(command, &format!("{program} {}", args.join(" "))).await
}

/// A man page as roff text.
async fn man_page(name: &str) -> String {
    let path = format!("{MAN_DIR}/{name}.1.gz");
    let output = run("gzip", &["-dc", &path], &[]).await;
    output.assert_code(EXIT_OK);
    output.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_installs_works_and_is_removed() {
    let fixture = Fixture::new("packaging_deb");
    assert!(
        !debian::is_installed(PACKAGE).await,
        "package {PACKAGE} is installed on this machine already; remove it \
         (dpkg -r {PACKAGE}) so that the test can leave the machine as it found it"
    );

    let started = Instant::now();
    let deb = debian::build(&fixture).await;
    let built = started.elapsed();
    let depends = debian::field(&deb, "Depends").await;
    assert!(depends.contains("libc6"), "dpkg-shlibdeps computed Depends: {depends}");
    assert!(depends.contains("procps"), "ExecReload's /bin/kill: {depends}");

    let installed = Installed::install(&deb).await;
    let version = env!("CARGO_PKG_VERSION");
    for (program, name) in [(DAEMON, "podauthd"), (CLI, "podauth")] {
        let output = run(program, &["--version"], &[]).await;
        output.assert_code(EXIT_OK);
        assert_eq!(output.stdout.trim(), format!("{name} {version}"));
    }

    let unit_files: Vec<PathBuf> =
        [SERVICE, SOCKET].iter().map(|name| Path::new(UNIT_DIR).join(name)).collect();
    let verified = units::verify(&fixture, &unit_files).await;
    units::assert_verified(&verified, &unit_files);

    let main_page = man_page("podauth").await;
    assert!(main_page.contains(".TH podauth 1"), "{main_page}");
    for subcommand in SUBCOMMANDS {
        let reference = format!("podauth\\-{subcommand}(1)");
        assert!(main_page.contains(&reference), "{reference} in {main_page}");
        let page = man_page(&format!("podauth-{subcommand}")).await;
        assert!(page.contains(&format!(".TH podauth-{subcommand} 1")), "{page}");
    }
    let prove_page = man_page("podauth-prove").await;
    for flag in ["\\-\\-task", "\\-\\-no\\-qr", "\\-\\-json"] {
        assert!(prove_page.contains(flag), "{flag} in podauth-prove(1)");
    }

    for (path, shell) in COMPLETIONS {
        let shipped = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let generated = run(CLI, &["completions", shell], &[]).await;
        assert_eq!(shipped, generated.stdout, "{path} is what podauth generates for {shell}");
    }

    // The package's daemon on the socket every client looks at.
    let runtime = fixture.subdir("runtime");
    let socket_dir = fixture.subdir("runtime/podauth");
    for dir in [&runtime, &socket_dir] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let socket = socket_dir.join("agent.sock");
    let port = free_port().to_string();
    let mut activation =
        Activation::start(&fixture, &socket, Path::new(DAEMON), &["--callback-port", &port]).await;
    let status = run(CLI, &["status", "--json"], &[("XDG_RUNTIME_DIR", &runtime)]).await;
    status.assert_code(EXIT_OK);
    let status: Value = serde_json::from_str(&status.stdout).expect("status --json is JSON");
    assert_eq!(status["socket_path"], socket.display().to_string(), "{status}");
    assert_eq!(status["pid"], activation.pid(), "{status}");
    activation.signal("TERM");
    assert_eq!(activation.wait_exit(Duration::from_secs(2)).await.code(), Some(0));

    let removed = installed.remove().await;
    removed.assert_code(EXIT_OK);
    assert!(!debian::is_installed(PACKAGE).await, "dpkg -r removed {PACKAGE}");
    for gone in [DAEMON, CLI, &format!("{UNIT_DIR}/{SERVICE}"), &format!("{MAN_DIR}/podauth.1.gz")]
    {
        assert!(!Path::new(gone).exists(), "{gone} is gone");
    }
    eprintln!("timing: package built in {built:?}, whole test {:?}", started.elapsed());
}
