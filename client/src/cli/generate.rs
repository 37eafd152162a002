//! `podauth completions SHELL` and the man pages, both generated from the
//! clap definitions so they never drift from the real flags.

use std::path::PathBuf;

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

#[derive(Debug, ClapArgs)]
pub(crate) struct ManArgs {
    /// Write podauth.1 and one page per subcommand (podauth-prove.1, ...)
    /// into this directory instead of printing podauth.1
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Prints the main page, or writes every page into a directory: the main
/// page refers to one page per subcommand, so a package ships them all.
pub(crate) fn man(args: ManArgs) -> Result<(), Failure> {
    // `podauth help` is clap's own; it gets no page, and none is named.
    let mut command = Args::command().disable_help_subcommand(true);
    let Some(dir) = args.dir else {
        command.build();
        return clap_mangen::Man::new(command)
            .render(&mut std::io::stdout())
            .map_err(|e| Failure::other(format!("cannot write the man page: {e}")));
    };

    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::other(format!("cannot create {}: {e}", dir.display())))?;
    clap_mangen::generate_to(command, &dir).map_err(|e| {
        Failure::other(format!("cannot write the man pages into {}: {e}", dir.display()))
    })
}
