//! `podauth service install | uninstall | status`: the user service that
//! starts `podauthd` at login (systemd user units with socket activation on
//! Linux, a launchd agent on macOS). Every step says what it did, or why it
//! could not and what to run instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Args as ClapArgs, Subcommand};
use serde_json::json;

use super::{Failure, output};

const SERVICE_UNIT: &str = include_str!("../../../packaging/systemd/podauthd.service");
const SOCKET_UNIT: &str = include_str!("../../../packaging/systemd/podauthd.socket");
const LAUNCHD_AGENT: &str = include_str!("../../../packaging/launchd/dev.podauth.agent.plist");
/// The daemon path written in the packaged templates.
const TEMPLATE_SERVICE_PATH: &str = "/usr/bin/podauthd";
const TEMPLATE_AGENT_PATH: &str = "/usr/local/bin/podauthd";
const LAUNCHD_LABEL: &str = "dev.podauth.agent";

#[derive(Debug, Subcommand)]
pub(crate) enum ServiceCommand {
    /// Write the user service, enable it and start it
    Install(ServiceArgs),
    /// Stop and disable the user service, and remove its files
    Uninstall(ServiceArgs),
    /// Show whether the user service is installed and running
    Status(ServiceArgs),
}

#[derive(Debug, ClapArgs)]
pub(crate) struct ServiceArgs {
    /// Print one JSON document
    #[arg(long)]
    json: bool,
}

/// What one command did, for people and for `--json`.
#[derive(Debug, Default)]
struct Report {
    files: Vec<PathBuf>,
    done: Vec<String>,
    manual: Option<String>,
}

pub(crate) async fn run(command: ServiceCommand) -> Result<(), Failure> {
    let (args, report) = match command {
        ServiceCommand::Install(args) => (args, install()?),
        ServiceCommand::Uninstall(args) => (args, uninstall()?),
        ServiceCommand::Status(args) => (args, status()?),
    };

    if args.json {
        return output::json(&json!({
            "files": report.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "done": report.done,
            "manual": report.manual,
        }));
    }
    for line in &report.done {
        outln!("{line}");
    }
    if let Some(manual) = &report.manual {
        outln!("{manual}");
    }
    Ok(())
}

fn install() -> Result<Report, Failure> {
    let daemon = daemon_path()?;
    let mut report = Report::default();

    if cfg!(target_os = "macos") {
        let plist = launch_agents_dir()?.join(format!("{LAUNCHD_LABEL}.plist"));
        write(
            &plist,
            &LAUNCHD_AGENT.replace(TEMPLATE_AGENT_PATH, &xml_text(&daemon)),
            &mut report,
        )?;
        let domain = format!("gui/{}", podauth_proto::current_uid());
        let plist_arg = plist.display().to_string();
        match run_tool("launchctl", &["bootstrap", &domain, &plist_arg]) {
            Ok(()) => {
                report.done.push(format!("loaded {LAUNCHD_LABEL} into launchd; it starts at login"))
            }
            Err(why) => {
                report.manual = Some(format!(
                    "could not load the agent ({why}); run: launchctl bootstrap {domain} {plist_arg}"
                ))
            }
        }
        return Ok(report);
    }

    let units = unit_dir()?;
    let service = SERVICE_UNIT.replace(TEMPLATE_SERVICE_PATH, &unit_executable(&daemon));
    write(&units.join("podauthd.service"), &service, &mut report)?;
    write(&units.join("podauthd.socket"), SOCKET_UNIT, &mut report)?;

    match systemd_user() {
        Ok(()) => {
            let steps: [&[&str]; 2] =
                [&["daemon-reload"], &["enable", "--now", "podauthd.socket", "podauthd.service"]];
            for step in steps {
                let mut argv = vec!["--user"];
                argv.extend_from_slice(step);
                run_tool("systemctl", &argv).map_err(|why| {
                    Failure::other(format!("systemctl --user {} failed: {why}", step.join(" ")))
                })?;
            }
            report.done.push("enabled and started podauthd.socket and podauthd.service; podauthd now starts at login".into());
        }
        Err(why) => {
            report.manual = Some(format!(
                "no systemd user instance is reachable ({why}), so nothing was enabled.\n\
                 In a login session run: systemctl --user daemon-reload && \
                 systemctl --user enable --now podauthd.socket podauthd.service\n\
                 or start the daemon by hand: podauthd &"
            ));
        }
    }
    Ok(report)
}

fn uninstall() -> Result<Report, Failure> {
    let mut report = Report::default();
    if cfg!(target_os = "macos") {
        let plist = launch_agents_dir()?.join(format!("{LAUNCHD_LABEL}.plist"));
        let target = format!("gui/{}/{LAUNCHD_LABEL}", podauth_proto::current_uid());
        if run_tool("launchctl", &["bootout", &target]).is_ok() {
            report.done.push(format!("unloaded {LAUNCHD_LABEL}"));
        }
        remove(&plist, &mut report)?;
        return Ok(report);
    }

    if systemd_user().is_ok() {
        match run_tool(
            "systemctl",
            &["--user", "disable", "--now", "podauthd.socket", "podauthd.service"],
        ) {
            Ok(()) => {
                report.done.push("stopped and disabled podauthd.socket and podauthd.service".into())
            }
            Err(why) => report
                .done
                .push(format!("could not disable the units ({why}); removing them anyway")),
        }
    }
    let units = unit_dir()?;
    remove(&units.join("podauthd.service"), &mut report)?;
    remove(&units.join("podauthd.socket"), &mut report)?;
    if systemd_user().is_ok() {
        let _ = run_tool("systemctl", &["--user", "daemon-reload"]);
    }
    if report.files.is_empty() {
        report.done.push("no user service was installed".into());
    }
    Ok(report)
}

fn status() -> Result<Report, Failure> {
    let mut report = Report::default();
    let files = if cfg!(target_os = "macos") {
        vec![launch_agents_dir()?.join(format!("{LAUNCHD_LABEL}.plist"))]
    } else {
        let units = unit_dir()?;
        vec![units.join("podauthd.service"), units.join("podauthd.socket")]
    };
    for file in files {
        let state = if file.exists() { "installed" } else { "absent" };
        report.done.push(format!("{state}: {}", file.display()));
        if file.exists() {
            report.files.push(file);
        }
    }

    if !cfg!(target_os = "macos") {
        match systemd_user() {
            Ok(()) => {
                for unit in ["podauthd.socket", "podauthd.service"] {
                    let active = tool_output("systemctl", &["--user", "is-active", unit])
                        .unwrap_or_else(|e| e);
                    let enabled = tool_output("systemctl", &["--user", "is-enabled", unit])
                        .unwrap_or_else(|e| e);
                    report.done.push(format!("{unit}: {}, {}", active.trim(), enabled.trim()));
                }
            }
            Err(why) => {
                report.manual = Some(format!("no systemd user instance is reachable ({why})"))
            }
        }
    }
    Ok(report)
}

/// `podauthd` next to this `podauth`, else on `PATH`.
fn daemon_path() -> Result<PathBuf, Failure> {
    let sibling =
        std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("podauthd")));
    let on_path = || {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
            .map(|dir| dir.join("podauthd"))
            .find(|candidate| candidate.is_file())
    };
    sibling.filter(|p| p.is_file()).or_else(on_path).ok_or_else(|| {
        Failure::other("podauthd is neither next to podauth nor on PATH; install it first")
    })
}

/// `path` as the program of an `ExecStart=` line. systemd splits the line
/// at spaces, reads `%` as a specifier and `$` as a variable, and takes `\`
/// and `"` as escapes inside quotes.
fn unit_executable(path: &Path) -> String {
    let text = path.display().to_string();
    let escaped = text.replace('%', "%%").replace('$', "$$");
    if !text.contains(|c: char| c.is_whitespace() || matches!(c, '"' | '\\' | '\'')) {
        return escaped;
    }
    format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `path` as text inside an XML element of the launchd plist.
fn xml_text(path: &Path) -> String {
    path.display().to_string().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `$XDG_CONFIG_HOME/systemd/user`.
fn unit_dir() -> Result<PathBuf, Failure> {
    directories::BaseDirs::new()
        .map(|dirs| dirs.config_dir().join("systemd").join("user"))
        .ok_or_else(|| Failure::other("cannot find your home directory"))
}

fn launch_agents_dir() -> Result<PathBuf, Failure> {
    directories::BaseDirs::new()
        .map(|dirs| dirs.home_dir().join("Library").join("LaunchAgents"))
        .ok_or_else(|| Failure::other("cannot find your home directory"))
}

/// Whether `systemctl --user` can talk to a user manager, and why not.
fn systemd_user() -> Result<(), String> {
    tool_output("systemctl", &["--user", "show-environment"]).map(|_| ())
}

fn write(path: &Path, text: &str, report: &mut Report) -> Result<(), Failure> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::other(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
    report.done.push(format!("wrote {}", path.display()));
    report.files.push(path.to_owned());
    Ok(())
}

fn remove(path: &Path, report: &mut Report) -> Result<(), Failure> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            report.done.push(format!("removed {}", path.display()));
            report.files.push(path.to_owned());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Failure::other(format!("cannot remove {}: {e}", path.display()))),
    }
}

fn run_tool(program: &str, args: &[&str]) -> Result<(), String> {
    tool_output(program, args).map(|_| ())
}

/// Runs a tool; `Err` carries what it said, or why it could not start.
fn tool_output(program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said = if stderr.trim().is_empty() {
            stdout.trim().to_owned()
        } else {
            stderr.trim().to_owned()
        };
        Err(if said.is_empty() { format!("{program} exited with {}", output.status) } else { said })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_executable_quotes_only_what_systemd_would_split() {
        assert_eq!(unit_executable(Path::new("/usr/bin/podauthd")), "/usr/bin/podauthd");
        assert_eq!(
            unit_executable(Path::new("/opt/my tools/podauthd")),
            "\"/opt/my tools/podauthd\""
        );
        assert_eq!(unit_executable(Path::new("/opt/100%/podauthd")), "/opt/100%%/podauthd");
    }
}
