//! The `podauth` command on a terminal, for what it draws only there (the
//! spinner, bold text): `script` (util-linux) runs it on a pseudo-terminal
//! and copies everything the terminal shows, escape sequences included, to
//! its own standard output.

use std::path::Path;

use tokio::process::Command;

use crate::bins;
use crate::cli::{self, CliOutput};

/// Runs `podauth --socket SOCKET ARGS..` on a terminal to the end. The
/// output's `stdout` is the terminal's screen (the command's stdout and
/// stderr together); its code is the command's.
pub async fn run(socket: &Path, args: &[&str]) -> CliOutput {
    let mut words = vec![bins::podauth().display().to_string(), "--socket".into()];
    words.push(socket.display().to_string());
    words.extend(args.iter().map(|arg| (*arg).to_owned()));
    let line: Vec<String> = words.iter().map(|word| quoted(word)).collect();

    let mut command = Command::new("script");
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("SHELL", "/bin/sh")
        // Quiet, pass the exit code on, flush at once, no typescript file.
        .args(["-q", "-e", "-f", "-c", &line.join(" "), "/dev/null"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    cli::output(command, &format!("podauth {} on a terminal", args.join(" "))).await
}

/// `word` in single quotes for `/bin/sh`.
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
