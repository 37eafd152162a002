//! The conductor: starts the servers, runs every measurement in an order
//! that keeps them apart, and prints the table.
//!
//! The order matters for memory: the daemon's idle size is read before any
//! load, the size "after 64 clients" after the round trips (which end at 64
//! clients), and the 10,000 requests of the growth check come after that.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, ensure};

use crate::daemon::{self, Sandbox};
use crate::floor::FloorProcess;
use crate::load::Target;
use crate::report::{Memory, Report};
use crate::{machine, process_time, proof, round_trip, startup};

/// Requests of the memory growth check, in every mode.
const GROWTH_REQUESTS: u64 = 10_000;
/// Clients sharing those requests.
const GROWTH_CLIENTS: usize = 10;
/// Pause before the idle size is read, for the store to be opened.
const SETTLE: Duration = Duration::from_millis(300);

/// How long and how often each measurement runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Short runs for CI.
    pub(crate) quick: bool,
    /// Rounds of round trips; each figure is the median over them.
    pub(crate) rounds: usize,
    /// Calls before each measured window.
    pub(crate) warmup: Duration,
    /// Each measured window.
    pub(crate) window: Duration,
    /// Runs of each command in the whole-process comparison.
    pub(crate) process_runs: usize,
    /// Starts of each kind.
    pub(crate) start_runs: usize,
    /// Proofs of each size.
    pub(crate) proof_runs: usize,
}

impl Settings {
    fn full() -> Self {
        Self {
            quick: false,
            rounds: 9,
            warmup: Duration::from_millis(100),
            window: Duration::from_millis(600),
            process_runs: 200,
            start_runs: 20,
            proof_runs: 30,
        }
    }

    fn quick() -> Self {
        Self {
            quick: true,
            rounds: 1,
            warmup: Duration::from_millis(50),
            window: Duration::from_millis(200),
            process_runs: 10,
            start_runs: 3,
            proof_runs: 3,
        }
    }

    /// One line on what this mode measures.
    pub(crate) fn describe(&self) -> String {
        let mode = if self.quick {
            "quick mode: rough figures, a check that all runs"
        } else {
            "full run"
        };
        format!(
            "{mode}; round trips: {} round(s) of a {} ms window after {} ms of warm-up per \
             cell; figures are medians over rounds, ratios medians of each round's ratio",
            self.rounds,
            self.window.as_millis(),
            self.warmup.as_millis()
        )
    }
}

/// Runs the whole benchmark and prints the table.
pub(crate) fn main(quick: bool, bin_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let settings = if quick { Settings::quick() } else { Settings::full() };
    let bin_dir = match bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()
            .context("cannot find the benchmark's own binary")?
            .parent()
            .context("the benchmark's binary has no directory")?
            .to_owned(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the conductor's runtime")?;
    let report = runtime.block_on(measure(settings, bin_dir))?;
    report.print();
    Ok(())
}

async fn measure(settings: Settings, bin_dir: PathBuf) -> anyhow::Result<Report> {
    let podauthd = bin_dir.join("podauthd");
    let podauth = bin_dir.join("podauth");
    for binary in [&podauthd, &podauth] {
        ensure!(binary.exists(), "{} is missing: build it, or give --bin-dir", binary.display());
    }
    let load_before = machine::load_average();
    let sandbox = Sandbox::new(podauthd)?;

    progress("starting podauthd and the floor servers");
    let ping = FloorProcess::start("serve-ping", sandbox.path("ping.sock"), daemon::TOKEN_BYTES)?;
    let echo = FloorProcess::start("serve-echo", sandbox.path("echo.sock"), 0)?;
    let agent = sandbox.start("agent.sock").await?;
    tokio::time::sleep(SETTLE).await;
    let idle = agent.memory()?;

    progress("round trips at 1, 8 and 64 clients");
    let sockets =
        round_trip::Sockets { agent: &agent.socket, ping: &ping.socket, echo: &echo.socket };
    let round_trips = round_trip::measure(sockets, &settings).await?;
    let after_64 = agent.memory()?;

    progress("10,000 more requests for the memory check");
    let per_client = GROWTH_REQUESTS / GROWTH_CLIENTS as u64;
    round_trip::fixed(Target::Token, &agent.socket, GROWTH_CLIENTS, per_client).await?;
    let after_growth = agent.memory()?;
    let memory = Memory { idle, after_64, after_growth, growth_requests: GROWTH_REQUESTS };

    progress("auth-code proofs for 1 and 50 Pods");
    let proofs = proof::measure(&agent, settings.proof_runs).await?;

    progress("whole-process times");
    let processes =
        process_time::measure(&sandbox, &podauth, &agent.socket, settings.process_runs)?;
    drop((agent, ping, echo));

    progress("start to ready, by hand and by socket activation");
    let startup = startup::measure(&sandbox, settings.start_runs).await?;

    Ok(Report {
        settings,
        machine: machine::describe(),
        binaries: bin_dir.display().to_string(),
        load: (load_before, machine::load_average()),
        round_trips,
        processes,
        memory,
        startup,
        proofs,
    })
}

/// Progress goes to stderr, so stdout holds only the table.
fn progress(step: &str) {
    eprintln!("podauth-bench: {step}...");
}
