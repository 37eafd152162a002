//! What the figures were measured on, read from `/proc` and `/etc`: the CPU,
//! the core count, the kernel, the OS, and the load average, which says how
//! busy the machine was while it was measured.

use std::fs;

/// The machine, in one line.
pub(crate) fn describe() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name")?.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown".into(), |release| release.trim().to_owned());
    let os = fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|release| {
            release.lines().find_map(|line| {
                Some(line.strip_prefix("PRETTY_NAME=")?.trim_matches('"').to_owned())
            })
        })
        .unwrap_or_else(|| "unknown OS".into());
    format!("{cpu}, {cores} cores, Linux {kernel}, {os}")
}

/// The 1-minute load average, or `None` where `/proc/loadavg` is missing.
pub(crate) fn load_average() -> Option<f64> {
    fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}
