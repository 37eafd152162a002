//! The command line: arguments, dispatch, and how failures become messages
//! and exit codes.

/// `println!` that ends the program quietly when stdout is a closed pipe
/// (`podauth status | head -1`) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::output::write_line(&mut std::io::stdout(), format_args!($($arg)*))
    };
}

/// `eprintln!` that ends the program quietly when stderr is a closed pipe.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::output::write_line(&mut std::io::stderr(), format_args!($($arg)*))
    };
}

mod generate;
mod output;
mod prove;
mod service;
mod session;
mod status;
mod task;
mod waiting;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use podauth::{Client, ClientError};

/// Prove your identity to Pods through the podauth agent.
#[derive(Debug, Parser)]
#[command(
    name = "podauth",
    version,
    about = "Prove your identity to Pods through the podauth agent",
    propagate_version = true
)]
pub(crate) struct Args {
    /// Agent socket [default: $PODAUTH_SOCK, else $XDG_RUNTIME_DIR/podauth/agent.sock]
    #[arg(long, global = true, value_name = "PATH")]
    socket: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the agent's version, socket, callback URL and pending requests
    Status(status::StatusArgs),
    /// List the identity verification methods and the default
    Methods(status::MethodsArgs),
    /// Prove your identity to one or more Pods
    Prove(prove::ProveArgs),
    /// Sign in once for every tool: the agent keeps and refreshes the session
    Login(session::LoginArgs),
    /// Print a valid access token of the session, for `$(podauth token)`
    Token(session::TokenArgs),
    /// End the session: revoke it at the IdP and forget it
    Logout(session::LogoutArgs),
    /// Install, remove or inspect the user service that starts podauthd at login
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(generate::CompletionsArgs),
    /// Print the man page (roff), or write every page into a directory
    #[command(hide = true)]
    Man(generate::ManArgs),
}

/// Exit codes; distinct so that scripts can tell the cases apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// It worked.
    Success = 0,
    /// Anything not covered below.
    Failure = 1,
    /// The command line or the request was wrong (clap uses 2 as well).
    Usage = 2,
    /// No agent answers on the socket.
    NotRunning = 3,
    /// The agent or the IdP refused, or the user did not finish in time.
    ProofFailed = 4,
    /// There is no session, or it ended: run `podauth login`.
    NotLoggedIn = 5,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// Runs one command and reports its failure on stderr.
pub(crate) async fn run(args: Args) -> Exit {
    let result = match args.command {
        // Commands that need no agent.
        Command::Service(command) => service::run(command).await,
        Command::Completions(command) => generate::completions(command),
        Command::Man(command) => generate::man(command),
        command => match connect(args.socket).await {
            Ok(client) => with_agent(client, command).await,
            Err(error) => Err(error.into()),
        },
    };

    match result {
        Ok(()) => Exit::Success,
        Err(failure) => {
            errln!("podauth: {}", failure.message);
            if let Some(hint) = failure.hint {
                errln!("hint: {hint}");
            }
            failure.exit
        }
    }
}

async fn with_agent(client: Client, command: Command) -> Result<(), Failure> {
    match command {
        Command::Status(command) => status::status(client, command).await,
        Command::Methods(command) => status::methods(client, command).await,
        Command::Prove(command) => prove::prove(client, command).await,
        Command::Login(command) => session::login(client, command).await,
        Command::Token(command) => session::token(client, command).await,
        Command::Logout(command) => session::logout(client, command).await,
        Command::Service(_) | Command::Completions(_) | Command::Man(_) => {
            Err(Failure::other("internal: command dispatched twice"))
        }
    }
}

async fn connect(socket: Option<PathBuf>) -> Result<Client, ClientError> {
    match socket {
        Some(path) => Client::connect_to(&path).await,
        None => Client::connect().await,
    }
}

/// A failed command: what to print and how to exit.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    hint: Option<String>,
    exit: Exit,
}

impl Failure {
    /// A failure of the command line itself.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self { message: message.into(), hint: Some("see podauth --help".into()), exit: Exit::Usage }
    }

    /// A local failure, such as writing output.
    pub(crate) fn other(message: impl Into<String>) -> Self {
        Self { message: message.into(), hint: None, exit: Exit::Failure }
    }
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Self {
        let message = error.to_string();
        match &error {
            ClientError::NotRunning { .. } => Self {
                message,
                hint: Some(
                    "start the agent with `systemctl --user start podauthd`, or run `podauthd &`"
                        .into(),
                ),
                exit: Exit::NotRunning,
            },
            ClientError::SocketPath(_) => Self { message, hint: None, exit: Exit::Usage },
            ClientError::Status(status) => match status.code() {
                tonic::Code::InvalidArgument => Self { message, hint: None, exit: Exit::Usage },
                tonic::Code::Unauthenticated => {
                    Self { message, hint: None, exit: Exit::NotLoggedIn }
                }
                tonic::Code::DeadlineExceeded => Self {
                    message,
                    hint: Some(
                        "run it again and finish in the browser in time, or allow longer with \
                         --timeout SECS"
                            .into(),
                    ),
                    exit: Exit::ProofFailed,
                },
                tonic::Code::Unavailable if status.message().is_empty() => Self {
                    message: "the agent closed the connection (is the socket another user's?)"
                        .into(),
                    hint: None,
                    exit: Exit::Failure,
                },
                _ => Self { message, hint: None, exit: Exit::ProofFailed },
            },
            _ => Self { message, hint: None, exit: Exit::Failure },
        }
    }
}
