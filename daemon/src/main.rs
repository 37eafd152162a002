//! `podauthd`: parses flags, sets up logging, takes the socket (its own, or
//! one passed by systemd or launchd), runs the daemon until SIGTERM or
//! Ctrl-C, reloads the config on SIGHUP, and maps the outcome to an exit
//! code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use podauthd::{Config, Lifecycle, Listener};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;
use tracing_subscriber::EnvFilter;

/// The podauth agent: answers Pod identity challenges for every client of
/// this user, through one socket and one loopback port.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Config file [default: $XDG_CONFIG_HOME/podauth/config.toml, if present]
    #[arg(long, env = "PODAUTH_CONFIG")]
    config: Option<PathBuf>,

    /// Socket to listen on, unless the service manager passes one
    /// [default: $PODAUTH_SOCK, else $XDG_RUNTIME_DIR/podauth/agent.sock]
    #[arg(long)]
    socket: Option<PathBuf>,

    /// Loopback port for IdP callbacks [default: $PODAUTH_CALLBACK_PORT, else 29206]
    #[arg(long)]
    callback_port: Option<u16>,

    /// Log format [default: journal under systemd, else human]
    #[arg(long, value_enum)]
    log_format: Option<LogFormat>,

    /// More logging: -v for debug, -vv for trace (RUST_LOG overrides)
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Lines for people, on stderr.
    Human,
    /// One JSON object per line, on stderr.
    Json,
    /// The systemd journal, with structured fields.
    Journal,
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.log_format, args.verbose);

    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("podauthd: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let port = args.callback_port.map(|p| p.to_string());
    let explicit_config = args.config.clone();
    let load_config = move || {
        let var = |name: &str| match (name, &port) {
            ("PODAUTH_CALLBACK_PORT", Some(port)) => Some(port.clone()),
            _ => std::env::var(name).ok().filter(|v| !v.is_empty()),
        };
        Config::load(explicit_config.as_deref(), &var)
    };
    let config = load_config()?;
    let listener = listener(args.socket)?;

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        // The handlers go in before the daemon says it is ready: a service
        // manager may signal it the moment after, and the default action
        // of SIGTERM and SIGHUP is to kill the process.
        let shutdown = shutdown_signal().context("cannot handle SIGTERM and SIGINT")?;
        let hangups = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;

        let (reload_tx, reload) = mpsc::channel(1);
        tokio::spawn(reload_signal(hangups, reload_tx));
        let lifecycle = Lifecycle { shutdown, reload, load_config: Box::new(load_config) };
        podauthd::run(config, listener, lifecycle).await?;
        Ok(())
    })
}

/// The socket passed by the service manager (`LISTEN_FDS`), else the one
/// named by the flag or the shared path rule.
fn listener(flag: Option<PathBuf>) -> anyhow::Result<Listener> {
    let mut passed = listenfd::ListenFd::from_env();
    if let Some(listener) = passed.take_unix_listener(0)? {
        let path = listener
            .local_addr()?
            .as_pathname()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("<passed socket>"));
        return Ok(Listener::Activated(listener, path));
    }
    let path = match flag {
        Some(path) => path,
        None => podauth_proto::socket_path()?.0,
    };
    Ok(Listener::Bind(path))
}

/// A future that resolves on SIGTERM or SIGINT, with both handlers
/// installed by the time this returns.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Turns each SIGHUP into a reload request.
async fn reload_signal(mut hangups: Signal, requests: mpsc::Sender<()>) {
    while hangups.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading config");
        let _ = requests.try_send(());
    }
}

fn init_logging(format: Option<LogFormat>, verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "podauthd=debug,info",
        _ => "podauthd=trace,debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // systemd sets JOURNAL_STREAM for services whose output goes to the journal.
    let under_systemd = std::env::var_os("JOURNAL_STREAM").is_some();
    let format =
        format.unwrap_or(if under_systemd { LogFormat::Journal } else { LogFormat::Human });

    // Colours only for a person at a terminal; the journal and log files
    // get plain text.
    let ansi = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Journal => match tracing_journald::layer() {
            Ok(journal) => {
                use tracing_subscriber::layer::SubscriberExt;
                use tracing_subscriber::util::SubscriberInitExt;
                let filter =
                    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
                tracing_subscriber::registry().with(filter).with(journal).init();
            }
            Err(error) => {
                builder.init();
                tracing::warn!(%error, "no journal to log to; logging to stderr");
            }
        },
    }
}
