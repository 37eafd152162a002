//! Round trips: every target at 1, 8 and 64 clients, the clients in a
//! worker process of their own.
//!
//! The targets take turns within each round, and a ratio to a floor is
//! taken round by round before its median over the rounds: on a shared or
//! virtual machine the cost of waking a thread changes from one second to
//! the next, and a ratio of runs made seconds apart stays true through it.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, ensure};
use tokio::process::Command;

use crate::load::{LoadResult, Target};
use crate::run::Settings;
use crate::stats::{self, Latencies};

/// Concurrent clients of each run.
pub(crate) const CLIENT_COUNTS: [usize; 3] = [1, 8, 64];
/// Every target, podauth first.
pub(crate) const TARGETS: [Target; 4] = [Target::Token, Target::Status, Target::Ping, Target::Echo];

/// The sockets of the three servers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sockets<'a> {
    /// podauthd.
    pub(crate) agent: &'a Path,
    /// The tonic ping floor.
    pub(crate) ping: &'a Path,
    /// The echo floor.
    pub(crate) echo: &'a Path,
}

impl Sockets<'_> {
    fn of(&self, target: Target) -> &Path {
        match target {
            Target::Token | Target::Status => self.agent,
            Target::Ping => self.ping,
            Target::Echo => self.echo,
        }
    }
}

/// The figures of one target at one client count, over the rounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell {
    /// Median over rounds of each latency figure; the max is the largest.
    pub(crate) latencies: Latencies,
    /// Median over rounds, calls per second.
    pub(crate) throughput: f64,
}

/// Every run, by target and client count, in round order.
#[derive(Debug, Default)]
pub(crate) struct RoundTrips {
    runs: Vec<(Target, usize, Vec<LoadResult>)>,
}

impl RoundTrips {
    fn results(&self, target: Target, clients: usize) -> Option<&[LoadResult]> {
        self.runs
            .iter()
            .find(|(t, c, _)| (*t, *c) == (target, clients))
            .map(|(_, _, results)| results.as_slice())
    }

    fn record(&mut self, target: Target, clients: usize, result: LoadResult) {
        match self.runs.iter_mut().find(|(t, c, _)| (*t, *c) == (target, clients)) {
            Some((_, _, results)) => results.push(result),
            None => self.runs.push((target, clients, vec![result])),
        }
    }

    /// The figures of `target` at `clients`.
    pub(crate) fn cell(&self, target: Target, clients: usize) -> Option<Cell> {
        let results = self.results(target, clients)?;
        let pick = |figure: fn(&Latencies) -> Duration| {
            let values: Vec<Duration> = results.iter().map(|r| figure(&r.latencies)).collect();
            stats::median(&values)
        };
        let throughputs: Vec<f64> = results.iter().map(LoadResult::throughput).collect();
        Some(Cell {
            latencies: Latencies {
                p50: pick(|l| l.p50)?,
                p99: pick(|l| l.p99)?,
                max: results.iter().map(|r| r.latencies.max).max()?,
            },
            throughput: stats::median(&throughputs)?,
        })
    }

    /// `target`'s p50 over `floor`'s, round by round, and the median of
    /// those ratios: each ratio compares runs made seconds apart, so a
    /// change in how busy the machine is does not pass for a difference.
    pub(crate) fn latency_ratio(
        &self,
        target: Target,
        floor: Target,
        clients: usize,
    ) -> Option<f64> {
        self.paired(target, floor, clients, |r| r.latencies.p50.as_secs_f64())
    }

    /// `target`'s throughput over `floor`'s, paired by round as
    /// [`RoundTrips::latency_ratio`] pairs them.
    pub(crate) fn throughput_ratio(
        &self,
        target: Target,
        floor: Target,
        clients: usize,
    ) -> Option<f64> {
        self.paired(target, floor, clients, LoadResult::throughput)
    }

    fn paired(
        &self,
        target: Target,
        floor: Target,
        clients: usize,
        figure: fn(&LoadResult) -> f64,
    ) -> Option<f64> {
        let ours = self.results(target, clients)?;
        let theirs = self.results(floor, clients)?;
        let ratios: Vec<f64> =
            ours.iter().zip(theirs).map(|(ours, theirs)| figure(ours) / figure(theirs)).collect();
        stats::median(&ratios)
    }
}

/// Measures every cell. Within a round the targets run back to back at
/// each client count, in an order that rotates from round to round, so
/// that no target always follows the same one.
pub(crate) async fn measure(
    sockets: Sockets<'_>,
    settings: &Settings,
) -> anyhow::Result<RoundTrips> {
    let plan = [
        format!("--warmup-ms={}", settings.warmup.as_millis()),
        format!("--measure-ms={}", settings.window.as_millis()),
    ];
    let mut round_trips = RoundTrips::default();
    for round in 0..settings.rounds {
        for clients in CLIENT_COUNTS {
            for turn in 0..TARGETS.len() {
                let target = TARGETS[(turn + round) % TARGETS.len()];
                let result = worker(target, sockets.of(target), clients, &plan).await?;
                round_trips.record(target, clients, result);
            }
        }
    }
    Ok(round_trips)
}

/// Runs `requests` calls per client, all measured; for the memory check.
pub(crate) async fn fixed(
    target: Target,
    socket: &Path,
    clients: usize,
    requests: u64,
) -> anyhow::Result<LoadResult> {
    worker(target, socket, clients, &[format!("--requests={requests}")]).await
}

/// Starts a client worker and reads its line.
async fn worker(
    target: Target,
    socket: &Path,
    clients: usize,
    plan: &[String],
) -> anyhow::Result<LoadResult> {
    let exe = std::env::current_exe().context("cannot find the benchmark's own binary")?;
    let target_name = target.flag();
    let output = Command::new(&exe)
        .args(["load", "--target", &target_name, "--clients", &clients.to_string()])
        .arg("--socket")
        .arg(socket)
        .args(plan)
        .output()
        .await
        .with_context(|| format!("cannot start the client worker {}", exe.display()))?;

    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "client worker for {target_name} at {clients} clients failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let line = stdout.lines().last().unwrap_or_default();
    LoadResult::parse(line)
}
