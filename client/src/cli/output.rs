//! Output helpers shared by the commands.

use std::io::Write;

use super::Failure;

/// Prints one JSON document on stdout.
pub(crate) fn json(value: &serde_json::Value) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)
        .map_err(|e| Failure::other(format!("cannot write JSON to stdout: {e}")))?;
    writeln!(stdout).map_err(|e| Failure::other(format!("cannot write to stdout: {e}")))
}

/// Writes one line; a reader that went away (a closed pipe) ends the
/// program with success, as for any filter, rather than a panic. SIGPIPE
/// stays ignored, since the connection to the agent must not kill us.
pub(crate) fn write_line(out: &mut impl Write, line: std::fmt::Arguments<'_>) {
    if let Err(error) = writeln!(out, "{line}") {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// `1h02m`, `3m05s` or `42s`.
pub(crate) fn duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s:02}s"),
        _ => format!("{h}h{m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_naturally() {
        assert_eq!(super::duration(42), "42s");
        assert_eq!(super::duration(185), "3m05s");
        assert_eq!(super::duration(3720), "1h02m");
    }
}
