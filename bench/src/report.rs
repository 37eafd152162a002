//! The table: every figure, its ratios to the floors and to ssh-agent, and
//! the targets with how far each is met or missed. Written as
//! Markdown tables, so that the output reads in a terminal and pastes into
//! `docs/benchmarks.md` unchanged.

use std::fmt::Write;
use std::time::Duration;

use crate::daemon::Resident;
use crate::load::Target;
use crate::process_time::ProcessTimes;
use crate::proof::ProofCost;
use crate::round_trip::{CLIENT_COUNTS, RoundTrips, TARGETS};
use crate::run::Settings;
use crate::startup::{StartTimes, Startup};

/// Cached `GetToken` p50 at 1 client, at most this times the tonic ping's.
const TOKEN_LATENCY_RATIO: f64 = 1.3;
/// `GetToken` throughput at 64 clients, at least this times the ping's.
const TOKEN_THROUGHPUT_RATIO: f64 = 0.8;
/// `podauth token`, at most this times `ssh-add -l`.
const CLI_RATIO: f64 = 1.5;
/// Idle resident memory below this.
const IDLE_RSS_KIB: u64 = 10 * 1024;
/// Growth over the 10,000 requests still counted as none: the allocator
/// may map a few pages for a size class it had not needed yet, while a
/// leak grows with every request.
const GROWTH_TOLERANCE_KIB: i64 = 128;
/// Start to a served `Status` below this.
const READY_LIMIT: Duration = Duration::from_millis(50);
/// The 50-Pod proof, daemon side, below this.
const PROOF_LIMIT: Duration = Duration::from_millis(50);
/// The Pod count that target is about.
const PROOF_LIMIT_PODS: usize = 50;

/// The daemon's resident memory at three moments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Memory {
    /// After start, before any load.
    pub(crate) idle: Resident,
    /// After the round trips, which end at 64 clients.
    pub(crate) after_64: Resident,
    /// After `growth_requests` more `GetToken` calls.
    pub(crate) after_growth: Resident,
    /// How many.
    pub(crate) growth_requests: u64,
}

/// Everything one run measured.
#[derive(Debug)]
pub(crate) struct Report {
    /// How it was run.
    pub(crate) settings: Settings,
    /// The machine, in one line.
    pub(crate) machine: String,
    /// Where podauthd and podauth came from.
    pub(crate) binaries: String,
    /// 1-minute load average before and after.
    pub(crate) load: (Option<f64>, Option<f64>),
    /// Round trips.
    pub(crate) round_trips: RoundTrips,
    /// Whole-process times.
    pub(crate) processes: ProcessTimes,
    /// Daemon memory.
    pub(crate) memory: Memory,
    /// Start to ready.
    pub(crate) startup: Startup,
    /// Auth-code proofs.
    pub(crate) proofs: Vec<ProofCost>,
}

/// One target of the issue, and how this run did.
struct Verdict {
    target: String,
    measured: String,
    /// `None` when it could not be measured.
    met: Option<bool>,
    /// How far it missed, when it did.
    miss: String,
}

impl Report {
    /// Prints the whole table on stdout.
    pub(crate) fn print(&self) {
        print!("{}", self.render());
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let load = |value: Option<f64>| value.map_or("?".into(), |v| format!("{v:.1}"));
        let _ = writeln!(out, "# podauth benchmark\n");
        let _ = writeln!(out, "- machine: {}", self.machine);
        let _ = writeln!(
            out,
            "- load average (1 min): {} before, {} after",
            load(self.load.0),
            load(self.load.1)
        );
        let _ = writeln!(out, "- binaries: {}", self.binaries);
        let _ = writeln!(out, "- {}", self.settings.describe());

        self.round_trip_table(&mut out);
        self.process_table(&mut out);
        self.memory_table(&mut out);
        self.startup_table(&mut out);
        self.proof_table(&mut out);
        self.target_table(&mut out);
        out
    }

    fn round_trip_table(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n## Round trips (Rust client, one connection per client, clients in another \
             process)\n\n\
             | call | clients | p50 µs | p99 µs | max µs | req/s | p50 ÷ ping | p50 ÷ echo \
             | req/s ÷ ping | req/s ÷ echo |\n\
             |---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
        );
        let trips = &self.round_trips;
        for clients in CLIENT_COUNTS {
            for target in TARGETS {
                let Some(cell) = trips.cell(target, clients) else { continue };
                let shown = |value: Option<f64>| value.map_or("?".into(), ratio);
                let _ = writeln!(
                    out,
                    "| {} | {clients} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    target_name(target),
                    micros(cell.latencies.p50),
                    micros(cell.latencies.p99),
                    micros(cell.latencies.max),
                    thousands(cell.throughput),
                    shown(trips.latency_ratio(target, Target::Ping, clients)),
                    shown(trips.latency_ratio(target, Target::Echo, clients)),
                    shown(trips.throughput_ratio(target, Target::Ping, clients)),
                    shown(trips.throughput_ratio(target, Target::Echo, clients)),
                );
            }
        }
    }

    fn process_table(&self, out: &mut String) {
        let p = &self.processes;
        let _ = writeln!(
            out,
            "\n## Whole process (median of {} runs each, the three taking turns)\n\n\
             | command | median ms | ÷ /bin/true | ÷ ssh-add -l |\n|---|--:|--:|--:|",
            p.runs
        );
        let shown = |value: Option<f64>| value.map_or("?".into(), ratio);
        let _ = writeln!(
            out,
            "| /bin/true (process start) | {} | 1.00x | {} |",
            millis(p.true_floor),
            shown(p.add_vs_true.map(f64::recip))
        );
        let _ = match &p.ssh_add {
            Ok(add) => writeln!(
                out,
                "| ssh-add -l (ssh-agent, one key) | {} | {} | 1.00x |",
                millis(*add),
                shown(p.add_vs_true)
            ),
            Err(reason) => writeln!(out, "| ssh-add -l | not measured: {reason} | | |"),
        };
        let _ = writeln!(
            out,
            "| podauth token (cached) | {} | {} | {} |",
            millis(p.podauth_token),
            ratio(p.token_vs_true),
            shown(p.token_vs_add)
        );
    }

    fn memory_table(&self, out: &mut String) {
        let m = self.memory;
        let _ = writeln!(
            out,
            "\n## Daemon memory\n\n\
             | when | VmRSS MiB | anonymous MiB | file-backed MiB | VmRSS change |\n\
             |---|--:|--:|--:|--:|"
        );
        let rows = [
            ("idle, after start".to_owned(), m.idle, String::new()),
            (
                "after the runs at 64 clients".to_owned(),
                m.after_64,
                format!("{} since idle", kib_change(m.idle.total, m.after_64.total)),
            ),
            (
                format!("after {} more GetToken calls", thousands(m.growth_requests as f64)),
                m.after_growth,
                kib_change(m.after_64.total, m.after_growth.total),
            ),
        ];
        for (when, resident, change) in rows {
            let _ = writeln!(
                out,
                "| {when} | {} | {} | {} | {change} |",
                mib(resident.total),
                mib(resident.anonymous),
                mib(resident.file)
            );
        }
    }

    fn startup_table(&self, out: &mut String) {
        let s = &self.startup;
        let _ = writeln!(
            out,
            "\n## Start to a served Status ({} starts each)\n\n\
             | how | median ms | max ms |\n|---|--:|--:|",
            s.runs
        );
        let row = |how: &str, times: &StartTimes| {
            format!("| {how} | {} | {} |", millis(times.median), millis(times.max))
        };
        let _ = writeln!(out, "{}", row("by hand (spawn to Status)", &s.by_hand));
        let _ = match &s.activated {
            Ok(times) => {
                writeln!(out, "{}", row("socket activation (first connect to Status)", times))
            }
            Err(reason) => writeln!(out, "| socket activation | not measured: {reason} | |"),
        };
    }

    fn proof_table(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n## Auth-code proof, daemon side (a loopback client plays the browser; no IdP)\n\n\
             | Pods in the request | proofs | wall p50 ms | wall max ms \
             | daemon CPU ms per proof |\n\
             |--:|--:|--:|--:|--:|"
        );
        for cost in &self.proofs {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cost.pods,
                cost.runs,
                millis(cost.wall),
                millis(cost.wall_max),
                millis(cost.daemon_cpu)
            );
        }
    }

    fn target_table(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n## Targets (issue 7)\n\n| target | measured | verdict |\n|---|---|---|"
        );
        for verdict in self.verdicts() {
            // Quick runs are short and may be debug builds: their figures
            // show that each measurement works, not whether a target holds.
            let judged = match verdict.met {
                _ if self.settings.quick => "not judged in quick mode".to_owned(),
                Some(true) => "met".to_owned(),
                Some(false) => format!("missed: {}", verdict.miss),
                None => "not measured".to_owned(),
            };
            let _ = writeln!(out, "| {} | {} | {judged} |", verdict.target, verdict.measured);
        }
    }

    fn verdicts(&self) -> Vec<Verdict> {
        let mut verdicts = Vec::new();
        let trips = &self.round_trips;

        let latency = trips.latency_ratio(Target::Token, Target::Ping, 1);
        let cells = (trips.cell(Target::Token, 1), trips.cell(Target::Ping, 1));
        if let (Some(r), (Some(token), Some(ping))) = (latency, cells) {
            verdicts.push(Verdict {
                target: format!(
                    "cached GetToken p50 at 1 client ≤ {TOKEN_LATENCY_RATIO}x tonic ping"
                ),
                measured: format!(
                    "{} ({} µs vs {} µs)",
                    ratio(r),
                    micros(token.latencies.p50),
                    micros(ping.latencies.p50)
                ),
                met: Some(r <= TOKEN_LATENCY_RATIO),
                miss: format!("{:.0}% over the limit", (r / TOKEN_LATENCY_RATIO - 1.0) * 100.0),
            });
        }

        let throughput = trips.throughput_ratio(Target::Token, Target::Ping, 64);
        let cells = (trips.cell(Target::Token, 64), trips.cell(Target::Ping, 64));
        if let (Some(r), (Some(token), Some(ping))) = (throughput, cells) {
            verdicts.push(Verdict {
                target: format!(
                    "GetToken req/s at 64 clients ≥ {TOKEN_THROUGHPUT_RATIO}x tonic ping"
                ),
                measured: format!(
                    "{} ({} vs {} req/s)",
                    ratio(r),
                    thousands(token.throughput),
                    thousands(ping.throughput)
                ),
                met: Some(r >= TOKEN_THROUGHPUT_RATIO),
                miss: format!("{:.0}% under the limit", (1.0 - r / TOKEN_THROUGHPUT_RATIO) * 100.0),
            });
        }

        let p = &self.processes;
        let cli = p.token_vs_add;
        verdicts.push(Verdict {
            target: format!("podauth token ≤ {CLI_RATIO}x ssh-add -l"),
            measured: cli.map_or("ssh-add not measured".into(), |r| {
                format!("{} ({} ms)", ratio(r), millis(p.podauth_token))
            }),
            met: cli.map(|r| r <= CLI_RATIO),
            miss: cli.map_or(String::new(), |r| {
                format!("{:.0}% over the limit", (r / CLI_RATIO - 1.0) * 100.0)
            }),
        });

        let m = self.memory;
        verdicts.push(Verdict {
            target: format!("idle RSS < {} MiB", IDLE_RSS_KIB / 1024),
            measured: format!(
                "{} MiB ({} MiB anonymous)",
                mib(m.idle.total),
                mib(m.idle.anonymous)
            ),
            met: Some(m.idle.total < IDLE_RSS_KIB),
            miss: format!("{} MiB over", mib(m.idle.total.saturating_sub(IDLE_RSS_KIB))),
        });
        let growth = signed(m.after_growth.total) - signed(m.after_64.total);
        verdicts.push(Verdict {
            target: format!(
                "no growth over {} requests (≤ {GROWTH_TOLERANCE_KIB} KiB)",
                thousands(m.growth_requests as f64)
            ),
            measured: kib_change(m.after_64.total, m.after_growth.total),
            met: Some(growth <= GROWTH_TOLERANCE_KIB),
            miss: format!("{growth} KiB grown"),
        });

        let s = &self.startup;
        let mut ready = vec![("by hand", Some(s.by_hand.median))];
        ready.push(("socket activation", s.activated.as_ref().ok().map(|t| t.median)));
        for (how, median) in ready {
            verdicts.push(Verdict {
                target: format!("ready < {} ms, {how}", READY_LIMIT.as_millis()),
                measured: median.map_or("not measured".into(), |t| format!("{} ms", millis(t))),
                met: median.map(|t| t < READY_LIMIT),
                miss: median.map_or(String::new(), |t| {
                    format!("{} ms over", millis(t.saturating_sub(READY_LIMIT)))
                }),
            });
        }

        if let Some(cost) = self.proofs.iter().find(|c| c.pods == PROOF_LIMIT_PODS) {
            verdicts.push(Verdict {
                target: format!(
                    "{PROOF_LIMIT_PODS}-Pod auth-code proof, daemon side, < {} ms",
                    PROOF_LIMIT.as_millis()
                ),
                measured: format!(
                    "{} ms wall p50 (daemon CPU {} ms)",
                    millis(cost.wall),
                    millis(cost.daemon_cpu)
                ),
                met: Some(cost.wall < PROOF_LIMIT),
                miss: format!("{} ms over", millis(cost.wall.saturating_sub(PROOF_LIMIT))),
            });
        }
        verdicts
    }
}

fn target_name(target: Target) -> &'static str {
    match target {
        Target::Token => "podauth GetToken (cached)",
        Target::Status => "podauth Status",
        Target::Ping => "tonic ping (transport floor)",
        Target::Echo => "Unix echo (physical floor)",
    }
}

fn signed(kib: u64) -> i64 {
    i64::try_from(kib).unwrap_or(i64::MAX)
}

fn ratio(value: f64) -> String {
    format!("{value:.2}x")
}

fn micros(duration: Duration) -> String {
    let us = duration.as_secs_f64() * 1e6;
    if us < 10.0 { format!("{us:.1}") } else { thousands(us) }
}

fn millis(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1e3;
    match ms {
        ms if ms < 10.0 => format!("{ms:.2}"),
        ms if ms < 100.0 => format!("{ms:.1}"),
        ms => thousands(ms),
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn kib_change(before: u64, after: u64) -> String {
    format!("{:+} KiB", signed(after) - signed(before))
}

/// A whole number with thin separators every three digits: 12,345.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(12_345.6), "12,346");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }

    #[test]
    fn small_durations_keep_their_decimals() {
        assert_eq!(micros(Duration::from_nanos(8_260)), "8.3");
        assert_eq!(millis(Duration::from_micros(2_346)), "2.35");
        assert_eq!(millis(Duration::from_micros(48_760)), "48.8");
    }
}
