//! Start to ready: the time from starting podauthd to the first `Status` it
//! serves.
//!
//! Started by hand, the clock starts at spawn and a client retries until
//! the socket answers. Under socket activation, `systemd-socket-activate`
//! holds the socket and starts podauthd on the first connection, so the
//! clock starts when the client first connects: that wait is what the
//! first user of a socket-activated agent sees.

use std::io;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::daemon::{self, Daemon, Sandbox};
use crate::stats;

/// How long the activator may take to create its socket.
const ACTIVATOR_LIMIT: Duration = Duration::from_secs(5);

/// Median and slowest of one way of starting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StartTimes {
    /// The median run.
    pub(crate) median: Duration,
    /// The slowest run.
    pub(crate) max: Duration,
}

/// Both ways of starting.
#[derive(Debug)]
pub(crate) struct Startup {
    /// Runs of each.
    pub(crate) runs: usize,
    /// By hand.
    pub(crate) by_hand: StartTimes,
    /// By socket activation, or why it could not be measured.
    pub(crate) activated: Result<StartTimes, String>,
}

/// Starts podauthd `runs` times each way, the two ways taking turns.
pub(crate) async fn measure(sandbox: &Sandbox, runs: usize) -> anyhow::Result<Startup> {
    let mut by_hand = Vec::new();
    let mut activated = Vec::new();
    let mut activation_failure = None;
    for run in 0..runs {
        by_hand.push(start_by_hand(sandbox, run).await?);
        if activation_failure.is_none() {
            match start_activated(sandbox, run).await {
                Ok(time) => activated.push(time),
                Err(error) => activation_failure = Some(format!("{error:#}")),
            }
        }
    }

    Ok(Startup {
        runs,
        by_hand: summarize(&by_hand),
        activated: match activation_failure {
            Some(reason) => Err(reason),
            None => Ok(summarize(&activated)),
        },
    })
}

async fn start_by_hand(sandbox: &Sandbox, run: usize) -> anyhow::Result<Duration> {
    let socket = sandbox.path(&format!("by-hand-{run}.sock"));
    let port = daemon::free_port()?;
    let mut command = sandbox.podauthd(&socket, port)?;

    let started = Instant::now();
    let child = command.spawn().context("cannot start podauthd")?;
    let daemon = Daemon::new(child, socket, port);
    daemon::first_status(&daemon.socket, started).await
}

async fn start_activated(sandbox: &Sandbox, run: usize) -> anyhow::Result<Duration> {
    let socket = sandbox.path(&format!("activated-{run}.sock"));
    let port = daemon::free_port()?;
    let child = match sandbox.activated_podauthd(&socket, port)?.stdin(Stdio::null()).spawn() {
        Ok(child) => child,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            bail!("systemd-socket-activate is not installed (Debian package systemd)")
        }
        Err(error) => return Err(error).context("cannot start systemd-socket-activate"),
    };
    // Once podauthd has replaced the activator, this is podauthd.
    let daemon = Daemon::new(child, socket, port);

    let waiting = Instant::now();
    while !daemon.socket.exists() {
        if waiting.elapsed() > ACTIVATOR_LIMIT {
            bail!("systemd-socket-activate made no socket within {ACTIVATOR_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }

    daemon::first_status(&daemon.socket, Instant::now()).await
}

fn summarize(times: &[Duration]) -> StartTimes {
    StartTimes {
        median: stats::median(times).unwrap_or_default(),
        max: times.iter().max().copied().unwrap_or_default(),
    }
}
