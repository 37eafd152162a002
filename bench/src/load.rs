//! The client worker: a process of its own that opens one connection per
//! client to one target, drives them all at once (for a warm-up and then a
//! measured window, or for a fixed number of requests each), checks every
//! answer, and prints one line for the conductor.
//!
//! Every target is driven by the same loop on the same runtime, so podauth
//! and its floors are measured the same way.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use hyper_util::rt::TokioIo;
use podauth::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::task::JoinSet;
use tonic::transport::{Channel, Endpoint};

use crate::daemon;
use crate::floor::pb;
use crate::floor::pb::floor_client::FloorClient;
use crate::stats::{self, Latencies};

/// What the clients call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Target {
    /// podauthd's cached `GetToken`.
    Token,
    /// podauthd's `Status`.
    Status,
    /// The tonic ping floor.
    Ping,
    /// The Unix-socket echo floor.
    Echo,
}

impl Target {
    /// The name the worker's `--target` takes.
    pub(crate) fn flag(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|value| value.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// One run of the worker.
#[derive(Debug, clap::Args)]
pub(crate) struct LoadArgs {
    /// What to call
    #[arg(long, value_enum)]
    target: Target,

    /// The target's socket
    #[arg(long)]
    socket: PathBuf,

    /// Concurrent clients, each with its own connection
    #[arg(long)]
    clients: usize,

    /// Calls before the measured window, to warm connections and caches
    #[arg(long, default_value_t = 0)]
    warmup_ms: u64,

    /// Length of the measured window
    #[arg(long, default_value_t = 0)]
    measure_ms: u64,

    /// Instead of a window: this many requests per client, all measured
    #[arg(long)]
    requests: Option<u64>,
}

/// When the clients stop and which calls count.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Calls starting inside `[from, until)` count; none start after.
    Window { from: Instant, until: Instant },
    /// Exactly this many calls per client, all counted.
    Count(u64),
}

/// What the worker reports: how many calls counted, over how long, and
/// their latencies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadResult {
    /// Calls counted.
    pub(crate) requests: u64,
    /// The span they were counted over (all clients at once).
    pub(crate) window: Duration,
    /// Round-trip latencies of those calls.
    pub(crate) latencies: Latencies,
}

impl LoadResult {
    /// Calls per second over the window.
    pub(crate) fn throughput(&self) -> f64 {
        self.requests as f64 / self.window.as_secs_f64()
    }

    /// The line the worker prints.
    fn to_line(self) -> String {
        let Latencies { p50, p99, max } = self.latencies;
        format!(
            "requests={} window_ns={} p50_ns={} p99_ns={} max_ns={}",
            self.requests,
            self.window.as_nanos(),
            p50.as_nanos(),
            p99.as_nanos(),
            max.as_nanos()
        )
    }

    /// Reads the line the worker printed.
    pub(crate) fn parse(line: &str) -> anyhow::Result<Self> {
        let field = |name: &str| -> anyhow::Result<u64> {
            let value = line
                .split_whitespace()
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                .with_context(|| format!("worker output {line:?} has no {name}"))?;
            value.parse().with_context(|| format!("worker output {line:?}: bad {name}"))
        };
        let nanos = |name: &str| field(name).map(Duration::from_nanos);
        Ok(Self {
            requests: field("requests")?,
            window: nanos("window_ns")?,
            latencies: Latencies {
                p50: nanos("p50_ns")?,
                p99: nanos("p99_ns")?,
                max: nanos("max_ns")?,
            },
        })
    }
}

/// A client's connection to its target.
enum Connection {
    Agent(Client),
    Floor(FloorClient<Channel>),
    Echo { stream: UnixStream, message: Vec<u8>, reply: Vec<u8> },
}

/// Runs the worker and prints its line.
pub(crate) fn main(args: LoadArgs) -> anyhow::Result<()> {
    ensure!(args.clients > 0, "--clients must be at least 1");
    ensure!(args.requests.is_some() || args.measure_ms > 0, "give --measure-ms or --requests");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the client worker's runtime")?;
    let result = runtime.block_on(drive_all(&args))?;
    println!("{}", result.to_line());
    Ok(())
}

async fn drive_all(args: &LoadArgs) -> anyhow::Result<LoadResult> {
    let mut connections = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        connections.push(connect(args.target, &args.socket).await?);
    }

    let start = Instant::now();
    let plan = match args.requests {
        Some(count) => Plan::Count(count),
        None => {
            let from = start + Duration::from_millis(args.warmup_ms);
            Plan::Window { from, until: from + Duration::from_millis(args.measure_ms) }
        }
    };
    let mut clients = JoinSet::new();
    for connection in connections {
        clients.spawn(drive(connection, args.target, plan));
    }

    let mut samples = Vec::new();
    while let Some(client) = clients.join_next().await {
        samples.extend(client.context("a client task panicked")??);
    }
    let window = match plan {
        Plan::Window { from, until } => until - from,
        Plan::Count(_) => start.elapsed(),
    };

    let requests = samples.len() as u64;
    let latencies = stats::summarize(samples).context("no call completed in the window")?;
    Ok(LoadResult { requests, window, latencies })
}

/// Calls the target in a loop, returning the latencies (ns) that count.
async fn drive(mut connection: Connection, target: Target, plan: Plan) -> anyhow::Result<Vec<u64>> {
    let mut samples = Vec::new();
    let mut done = 0;
    loop {
        let sent = Instant::now();
        let counts = match plan {
            Plan::Window { from, until } if sent < until => sent >= from,
            Plan::Count(count) if done < count => true,
            _ => return Ok(samples),
        };

        call(&mut connection, target).await?;
        if counts {
            let nanos = u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX);
            samples.push(nanos);
        }
        done += 1;
    }
}

/// One round trip, with its answer checked.
async fn call(connection: &mut Connection, target: Target) -> anyhow::Result<()> {
    match (connection, target) {
        (Connection::Agent(client), Target::Token) => {
            let token = client.token(daemon::ENVIRONMENT).await.context("GetToken failed")?;
            ensure!(token.access_token == daemon::token(), "GetToken answered a wrong token");
        }
        (Connection::Agent(client), Target::Status) => {
            let status = client.status().await.context("Status failed")?;
            ensure!(status.pid != 0, "Status answered without a pid");
        }
        (Connection::Floor(client), Target::Ping) => {
            let request = pb::PingRequest { name: daemon::ENVIRONMENT.to_owned() };
            let reply = client.ping(request).await.context("ping failed")?.into_inner();
            ensure!(reply.payload.len() == daemon::TOKEN_BYTES, "ping answered a wrong payload");
        }
        (Connection::Echo { stream, message, reply }, Target::Echo) => {
            stream.write_all(message).await.context("echo: write failed")?;
            stream.read_exact(reply).await.context("echo: read failed")?;
            ensure!(reply == message, "echo answered other bytes");
        }
        (_, target) => bail!("internal: connection of the wrong kind for {target:?}"),
    }
    Ok(())
}

async fn connect(target: Target, socket: &Path) -> anyhow::Result<Connection> {
    let failed = || format!("cannot connect to {target:?} on {}", socket.display());
    match target {
        Target::Token | Target::Status => {
            Ok(Connection::Agent(Client::connect_to(socket).await.with_context(failed)?))
        }
        Target::Ping => {
            // Built as podauth's client builds its channel, so the client
            // side costs the same for podauth and for the floor.
            let path = socket.to_owned();
            let connector = tower::service_fn(move |_| {
                let path = path.clone();
                async move {
                    let stream = UnixStream::connect(path).await?;
                    Ok::<_, io::Error>(TokioIo::new(stream))
                }
            });
            let channel = Endpoint::from_static("http://floor.invalid")
                .connect_with_connector(connector)
                .await
                .with_context(failed)?;
            Ok(Connection::Floor(FloorClient::new(channel)))
        }
        Target::Echo => {
            let stream = UnixStream::connect(socket).await.with_context(failed)?;
            let message = vec![b'e'; daemon::TOKEN_BYTES];
            Ok(Connection::Echo { stream, reply: vec![0; message.len()], message })
        }
    }
}
