//! The daemon's errors: [`Error`] for starting and running the daemon,
//! [`ProveError`] for one identity proof request.
//!
//! Messages say which operation failed on which input, in words a person can
//! act on. They never carry tokens, codes, verifiers or SAML responses.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Why the daemon could not start or keep running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file could not be read.
    #[error("cannot read config file {path}")]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The config file is not valid TOML of the expected shape.
    #[error("invalid config file {path}: {message}")]
    ParseConfig {
        /// The file.
        path: PathBuf,
        /// What the parser said, with line and column.
        message: String,
    },
    /// A `PODAUTH_*` variable holds a value that cannot be used.
    #[error("invalid value {value:?} in {variable}: {reason}")]
    InvalidVariable {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A key of a configured environment is wrong.
    #[error("environment {environment:?}: invalid {key}: {reason}")]
    InvalidEnvironment {
        /// The environment.
        environment: String,
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
    /// The default environment names none that exists.
    #[error("default environment {name:?} is not defined; known: {}", known.join(", "))]
    UnknownDefaultEnvironment {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// The socket path is unusable.
    #[error(transparent)]
    SocketPath(#[from] podauth_proto::SocketPathError),
    /// Another daemon already answers on the socket.
    #[error("another podauthd is already running on {path}; stop it first or set PODAUTH_SOCK")]
    AlreadyRunning {
        /// The socket.
        path: PathBuf,
    },
    /// Something that is not a socket sits where the socket belongs.
    #[error("{path} exists and is not a socket; refusing to replace it")]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// The socket directory belongs to another user or is open to others.
    #[error("socket directory {path} is unsafe: {reason}")]
    UnsafeSocketDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A filesystem or socket operation failed.
    #[error("{operation} {path}")]
    Io {
        /// What was being done, e.g. "cannot bind socket".
        operation: &'static str,
        /// On which path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The loopback challenge-handler server could not listen.
    #[error(
        "cannot listen for IdP callbacks on {address}: {source}; \
             is another tool using the port? set callback_port or PODAUTH_CALLBACK_PORT"
    )]
    BindCallback {
        /// The address, e.g. `127.0.0.1:29206`.
        address: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The gRPC server failed.
    #[error("grpc server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
}

/// Why one identity proof request failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ProveError {
    /// The method name is not one of the three.
    #[error("unknown method {given:?}; valid methods: {}", valid.join(", "))]
    UnknownMethod {
        /// The name given.
        given: String,
        /// The valid names.
        valid: Vec<&'static str>,
    },
    /// The environment name is not configured.
    #[error("unknown environment {given:?}; known environments: {}", known.join(", "))]
    UnknownEnvironment {
        /// The name given.
        given: String,
        /// The known names.
        known: Vec<String>,
    },
    /// The request is malformed; the text says how.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A Pod sent a client id of another environment.
    #[error(
        "pod {pod_id:?} sent client id {client_id:?}, which is not the client id of \
         environment {environment:?}; refusing to prove identity to a pod of another environment"
    )]
    ForeignClientId {
        /// The Pod.
        pod_id: String,
        /// What it sent.
        client_id: String,
        /// The environment of the request.
        environment: String,
    },
    /// The IdP could not be reached or answered nonsense.
    #[error("identity provider {url} is unreachable or misbehaving: {reason}")]
    IdpUnreachable {
        /// The URL tried.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The IdP refused, with its OAuth error code and description.
    #[error(
        "identity provider refused{}: {error}{}",
        pod_label(pod_id),
        description_suffix(description)
    )]
    IdpRefused {
        /// The Pod whose challenge was refused, when known.
        pod_id: Option<String>,
        /// The OAuth error code, e.g. `access_denied`.
        error: String,
        /// The IdP's description, when it gave one.
        description: Option<String>,
    },
    /// A callback or response did not match what the agent asked for.
    #[error("response for pod {pod_id:?} rejected: {reason}")]
    ResponseRejected {
        /// The Pod.
        pod_id: String,
        /// Why.
        reason: String,
    },
    /// The user did not finish in time.
    #[error("timed out after {}s waiting for the browser for pods: {}", waited.as_secs(), pods.join(", "))]
    TimedOut {
        /// The request's whole deadline.
        waited: Duration,
        /// The Pods still waiting.
        pods: Vec<String>,
    },
    /// The daemon is shutting down.
    #[error("podauthd is stopping; retry once it is back")]
    Stopping,
}

fn pod_label(pod_id: &Option<String>) -> String {
    pod_id.as_ref().map(|p| format!(" for pod {p:?}")).unwrap_or_default()
}

fn description_suffix(description: &Option<String>) -> String {
    description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
}

/// Why a session operation (login, token, logout) failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// No session for the environment.
    #[error("not logged in to environment {environment:?}; run `podauth login`")]
    NotLoggedIn {
        /// The environment.
        environment: String,
    },
    /// The IdP no longer accepts the session.
    #[error(
        "the session with environment {environment:?} has ended ({reason}); log in again with `podauth login`"
    )]
    LoginAgain {
        /// The environment.
        environment: String,
        /// What the IdP said.
        reason: String,
    },
    /// The user refused at the IdP.
    #[error("login to environment {environment:?} was refused at the identity provider: {reason}")]
    Denied {
        /// The environment.
        environment: String,
        /// What the IdP said.
        reason: String,
    },
    /// The device code or the request deadline expired before the user
    /// finished.
    #[error("login to environment {environment:?} expired before it was completed in the browser")]
    Expired {
        /// The environment.
        environment: String,
    },
    /// The session store failed.
    #[error(transparent)]
    Store(#[from] crate::tokens::store::StoreError),
    /// The stored entry cannot be read.
    #[error("the stored session for environment {environment:?} is unreadable: {reason}")]
    Corrupt {
        /// The environment.
        environment: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The IdP could not be reached or answered nonsense.
    #[error(
        "identity provider of environment {environment:?} is unreachable or misbehaving: {reason}"
    )]
    IdpUnreachable {
        /// The environment.
        environment: String,
        /// What went wrong.
        reason: String,
    },
    /// A proof-side failure during login (request checks, callback).
    #[error(transparent)]
    Prove(#[from] ProveError),
}
