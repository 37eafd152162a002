//! `podauthd`: parses flags, sets up logging, runs the daemon until SIGTERM
//! or Ctrl-C, and maps the outcome to an exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use podauthd::Config;
use tracing_subscriber::EnvFilter;

/// The podauth agent: answers Pod identity challenges for every client of
/// this user, through one socket and one loopback port.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Config file [default: $XDG_CONFIG_HOME/podauth/config.toml, if present]
    #[arg(long, env = "PODAUTH_CONFIG")]
    config: Option<PathBuf>,

    /// Socket to listen on [default: $PODAUTH_SOCK, else $XDG_RUNTIME_DIR/podauth/agent.sock]
    #[arg(long)]
    socket: Option<PathBuf>,

    /// Loopback port for IdP callbacks [default: $PODAUTH_CALLBACK_PORT, else 29206]
    #[arg(long)]
    callback_port: Option<u16>,

    /// More logging: -v for debug, -vv for trace (RUST_LOG overrides)
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging(args.verbose);

    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("podauthd: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let socket_path = match args.socket {
        Some(path) => path,
        None => podauth_proto::socket_path()?.0,
    };
    let port = args.callback_port.map(|p| p.to_string());
    let var = |name: &str| match (name, &port) {
        ("PODAUTH_CALLBACK_PORT", Some(port)) => Some(port.clone()),
        _ => std::env::var(name).ok().filter(|v| !v.is_empty()),
    };
    let config = Config::load(args.config.as_deref(), &var)?;

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(podauthd::run(config, socket_path, shutdown_signal()))?;
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the daemon");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "podauthd=debug,info",
        _ => "podauthd=trace,debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colours only for a person at a terminal; journald and log files get
    // plain text.
    let ansi = std::io::stderr().is_terminal();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}
