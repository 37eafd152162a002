//! `podauth`: the command-line client of the podauth agent. Parses the
//! command line, runs one command, and exits with its status.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    restore_sigpipe();
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

/// Dies quietly on a closed pipe (`podauth status | head -1`), as command
/// line tools do, instead of panicking on the failed write: Rust starts
/// programs with SIGPIPE ignored.
fn restore_sigpipe() {
    // Setting a signal's disposition to the default before any thread is
    // started touches no Rust-managed state.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
