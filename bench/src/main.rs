//! `podauth-bench`: measures podauthd beside its floors (a bare tonic ping
//! and a bare Unix-socket echo) and beside ssh-agent, and prints one table.
//!
//! Run without a subcommand it is the conductor: it starts the daemon and
//! the floor servers and re-executes itself as the client workers, so that
//! clients never share a process with the server they measure. The hidden
//! subcommands are those roles.

mod daemon;
mod floor;
mod load;
mod machine;
mod process_time;
mod proof;
mod report;
mod round_trip;
mod run;
mod startup;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Benchmarks podauthd and prints the table of docs/benchmarks.md.
#[derive(Debug, Parser)]
#[command(name = "podauth-bench", about)]
struct Args {
    /// Short runs that only check every measurement still works (for CI);
    /// the figures are then rough
    #[arg(long)]
    quick: bool,

    /// Where `podauthd` and `podauth` are [default: beside this binary]
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,

    #[command(subcommand)]
    role: Option<Role>,
}

/// The processes the conductor starts.
#[derive(Debug, Subcommand)]
enum Role {
    /// Client worker: N concurrent clients calling one target
    #[command(hide = true)]
    Load(load::LoadArgs),
    /// The transport floor: a tonic unary ping service on a Unix socket
    #[command(hide = true)]
    ServePing(floor::ServeArgs),
    /// The physical floor: a Unix-socket echo server
    #[command(hide = true)]
    ServeEcho(floor::ServeArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();

    let result = match args.role {
        Some(Role::Load(load)) => load::main(load),
        Some(Role::ServePing(serve)) => floor::serve_ping(serve),
        Some(Role::ServeEcho(serve)) => floor::serve_echo(serve),
        None => run::main(args.quick, args.bin_dir),
    };

    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("podauth-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}
