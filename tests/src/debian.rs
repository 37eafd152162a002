//! The Debian package of `daemon/Cargo.toml`'s `[package.metadata.deb]`:
//! built by cargo-deb from the debug binaries already built (no release
//! build), installed with `dpkg -i`, and removed again when the
//! [`Installed`] guard drops, also while a failing test unwinds.
//!
//! The package's man pages and completions are generated files under
//! `target/packaging`, made here from the `podauth` under test as
//! `packaging/README.md` describes.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::bins::{self, repo_root};
use crate::cli::{self, CliOutput};
use crate::fixture::Fixture;

/// The package's name.
pub const PACKAGE: &str = "podauth";
/// The generated completions the metadata names: (file, `podauth` arguments).
const COMPLETIONS: [(&str, &[&str]); 3] = [
    ("podauth.bash", &["completions", "bash"]),
    ("_podauth", &["completions", "zsh"]),
    ("podauth.fish", &["completions", "fish"]),
];

/// Builds the package into the test's directory and returns its path.
pub async fn build(fixture: &Fixture) -> PathBuf {
    // Both binaries must be current; the package takes them as they are.
    bins::podauthd();
    bins::podauth();
    generate_assets().await;

    let out = fixture.subdir("deb");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(repo_root())
        .args(["deb", "-p", "podauthd", "--no-build", "--profile", "dev"])
        // Stripped and lightly compressed: seconds instead of a minute.
        .args(["--strip", "--fast", "-o"])
        .arg(&out)
        .kill_on_drop(true);
    // Bounded by `cli::output`; it takes seconds.
    let output = cli::output(command, "cargo deb").await;
    assert_eq!(
        output.code,
        Some(0),
        "cargo deb failed (is cargo-deb installed? tests/run.sh installs it):\n{}",
        output.stderr
    );

    let debs: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", out.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .collect();
    assert_eq!(debs.len(), 1, "one package in {}: {debs:?}", out.display());
    debs[0].clone()
}

/// Writes the man pages and completions where the package metadata
/// expects them: `target/packaging` of the repository.
async fn generate_assets() {
    let dir = repo_root().join("target/packaging");
    let man = dir.join("man");
    // Pages of subcommands that no longer exist must not ship.
    let _ = std::fs::remove_dir_all(&man);
    let mut command = cli::bare_command();
    command.arg("man").arg("--dir").arg(&man);
    cli::output(command, "podauth man --dir").await.assert_code(cli::EXIT_OK);

    for (file, args) in COMPLETIONS {
        let mut command = cli::bare_command();
        command.args(args);
        let output = cli::output(command, &format!("podauth {}", args.join(" "))).await;
        output.assert_code(cli::EXIT_OK);
        assert!(!output.stdout.is_empty(), "podauth {args:?} printed nothing");
        let path = dir.join(file);
        std::fs::write(&path, &output.stdout)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

/// `dpkg-deb FIELD` of a package file, such as `Depends`.
pub async fn field(deb: &Path, name: &str) -> String {
    let mut command = Command::new("dpkg-deb");
    command.arg("--field").arg(deb).arg(name);
    let output = cli::output(command, "dpkg-deb --field").await;
    output.assert_code(0);
    output.stdout.trim().to_owned()
}

/// An installed package, removed (`dpkg -r`) on drop.
#[derive(Debug)]
pub struct Installed {
    removed: bool,
}

impl Installed {
    /// `dpkg -i DEB`, through `sudo -n` when not root.
    pub async fn install(deb: &Path) -> Self {
        let output = dpkg(&["-i".as_ref(), deb.as_os_str()]).await;
        // From here on the package may be (half) installed: remove it on drop.
        let installed = Self { removed: false };
        assert_eq!(output.code, Some(0), "dpkg -i {} failed:\n{}", deb.display(), output.stderr);
        installed
    }

    /// `dpkg -r`; the machine is as it was before the install.
    pub async fn remove(mut self) -> CliOutput {
        self.removed = true;
        dpkg(&["-r".as_ref(), PACKAGE.as_ref()]).await
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        if !self.removed {
            let argv = privileged("dpkg");
            let _ =
                std::process::Command::new(argv[0]).args(&argv[1..]).args(["-r", PACKAGE]).output();
        }
    }
}

/// Whether `package` is installed (`dpkg-query` says `installed`).
pub async fn is_installed(package: &str) -> bool {
    let mut command = Command::new("dpkg-query");
    command.args(["-W", "-f=${db:Status-Status}", package]);
    let output = cli::output(command, "dpkg-query").await;
    output.code == Some(0) && output.stdout.trim() == "installed"
}

async fn dpkg(args: &[&std::ffi::OsStr]) -> CliOutput {
    let argv = privileged("dpkg");
    let mut command = Command::new(argv[0]);
    command.args(&argv[1..]).args(args).env("DEBIAN_FRONTEND", "noninteractive");
    cli::output(command, "dpkg").await
}

/// `program`, behind `sudo -n` unless this process is root.
fn privileged(program: &'static str) -> Vec<&'static str> {
    // The owner of /proc/self is this process's effective user.
    let root = std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0);
    if root { vec![program] } else { vec!["sudo", "-n", program] }
}
