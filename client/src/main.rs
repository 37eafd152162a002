//! `podauth`: the command-line client of the podauth agent. Parses the
//! command line, runs one command, and exits with its status.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("podauth: cannot start: {error}");
            return cli::Exit::Failure.into();
        }
    };
    runtime.block_on(cli::run(args)).into()
}
