//! `podauth completions SHELL` and the man page, both generated from the
//! clap definitions so they never drift from the real flags.

use clap::{Args as ClapArgs, CommandFactory};
use clap_complete::Shell;

use super::{Args, Failure};

#[derive(Debug, ClapArgs)]
pub(crate) struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    shell: Shell,
}

/// Prints the completion script for a shell.
pub(crate) fn completions(args: CompletionsArgs) -> Result<(), Failure> {
    let mut command = Args::command();
    clap_complete::generate(args.shell, &mut command, "podauth", &mut std::io::stdout());
    Ok(())
}

/// Prints the man page.
pub(crate) fn man() -> Result<(), Failure> {
    clap_mangen::Man::new(Args::command())
        .render(&mut std::io::stdout())
        .map_err(|e| Failure::other(format!("cannot write the man page: {e}")))
}
