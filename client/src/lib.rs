//! The podauth client library: connects to the agent's socket (found by the
//! same rule the daemon uses) and calls the `podauth.v1.Agent` service.
//!
//! ```no_run
//! # async fn demo() -> Result<(), podauth::ClientError> {
//! let mut client = podauth::Client::connect().await?;
//! let status = client.status().await?;
//! println!("podauthd {} on {}", status.version, status.socket_path);
//! # Ok(()) }
//! ```

use std::io;
use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use podauth_proto::v1 as pb;
use podauth_proto::v1::agent_client::AgentClient;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint};

pub use podauth_proto::methods;
pub use podauth_proto::v1;

/// Why a call to the agent failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The socket path could not be resolved.
    #[error(transparent)]
    SocketPath(#[from] podauth_proto::SocketPathError),
    /// Nothing answers on the socket.
    #[error("podauthd is not running on {}: {source}", path.display())]
    NotRunning {
        /// The socket tried.
        path: PathBuf,
        /// Why the connection failed.
        #[source]
        source: io::Error,
    },
    /// The connection failed in another way.
    #[error("cannot connect to podauthd on {}: {source}", path.display())]
    Connect {
        /// The socket tried.
        path: PathBuf,
        /// The transport error.
        #[source]
        source: tonic::transport::Error,
    },
    /// The agent answered with an error status.
    #[error("{}", .0.message())]
    Status(#[from] tonic::Status),
}

impl ClientError {
    /// The gRPC status code, when the agent answered with one.
    pub fn code(&self) -> Option<tonic::Code> {
        match self {
            Self::Status(status) => Some(status.code()),
            _ => None,
        }
    }
}

/// A connection to the agent.
#[derive(Debug, Clone)]
pub struct Client {
    rpc: AgentClient<Channel>,
    socket: PathBuf,
}

impl Client {
    /// Connects to the agent at the socket path of this environment
    /// (`$PODAUTH_SOCK`, else `$XDG_RUNTIME_DIR/podauth/agent.sock`, ...).
    pub async fn connect() -> Result<Self, ClientError> {
        let (path, _source) = podauth_proto::socket_path()?;
        Self::connect_to(&path).await
    }

    /// Connects to the agent at `path`.
    pub async fn connect_to(path: &Path) -> Result<Self, ClientError> {
        // Fail fast with a clear error when nothing listens, before tonic
        // wraps the cause in a transport error.
        if let Err(source) = UnixStream::connect(path).await {
            return Err(ClientError::NotRunning { path: path.to_owned(), source });
        }

        let socket = path.to_owned();
        let connector_path = socket.clone();
        // The URI is required by tonic but unused: every connection goes to
        // the socket.
        let channel = Endpoint::from_static("http://podauthd.invalid")
            .connect_with_connector(tower::service_fn(move |_| {
                let path = connector_path.clone();
                async move { Ok::<_, io::Error>(TokioIo::new(UnixStream::connect(path).await?)) }
            }))
            .await
            .map_err(|source| ClientError::Connect { path: socket.clone(), source })?;
        Ok(Self { rpc: AgentClient::new(channel), socket })
    }

    /// The socket this client talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The agent's status.
    pub async fn status(&mut self) -> Result<pb::StatusResponse, ClientError> {
        Ok(self.rpc.status(pb::StatusRequest {}).await?.into_inner())
    }

    /// The methods the agent speaks.
    pub async fn methods(&mut self) -> Result<Vec<pb::MethodInfo>, ClientError> {
        Ok(self.rpc.list_methods(pb::ListMethodsRequest {}).await?.into_inner().methods)
    }

    /// Starts a proof; events stream in as the user acts.
    pub async fn prove(
        &mut self,
        request: pb::ProveRequest,
    ) -> Result<tonic::Streaming<pb::ProveEvent>, ClientError> {
        Ok(self.rpc.prove(request).await?.into_inner())
    }

    /// Starts a login for the shared session; a user action, then done.
    pub async fn login(
        &mut self,
        request: pb::LoginRequest,
    ) -> Result<tonic::Streaming<pb::LoginEvent>, ClientError> {
        Ok(self.rpc.login(request).await?.into_inner())
    }

    /// A valid access token of the shared session of `environment` (empty:
    /// the agent's default).
    pub async fn token(&mut self, environment: &str) -> Result<pb::GetTokenResponse, ClientError> {
        let request = pb::GetTokenRequest { environment: environment.to_owned() };
        Ok(self.rpc.get_token(request).await?.into_inner())
    }

    /// Ends the shared session of `environment`.
    pub async fn logout(&mut self, environment: &str) -> Result<pb::LogoutResponse, ClientError> {
        let request = pb::LogoutRequest { environment: environment.to_owned() };
        Ok(self.rpc.logout(request).await?.into_inner())
    }

    /// Runs a proof to the end and collects its user actions and proofs.
    pub async fn prove_all(&mut self, request: pb::ProveRequest) -> Result<Outcome, ClientError> {
        let mut stream = self.prove(request).await?;
        let mut outcome = Outcome::default();
        while let Some(event) = stream.message().await? {
            match event.event {
                Some(pb::prove_event::Event::UserAction(action)) => {
                    outcome.user_actions.push(action)
                }
                Some(pb::prove_event::Event::Proof(proof)) => outcome.proofs.push(proof),
                Some(pb::prove_event::Event::Done(_)) | None => {}
            }
        }
        Ok(outcome)
    }
}

/// Everything one proof request produced.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// What the user was asked to do.
    pub user_actions: Vec<pb::UserAction>,
    /// One proof per Pod.
    pub proofs: Vec<pb::Proof>,
}

/// A challenge carrying an OIDC client id.
pub fn oidc_challenge(pod_id: &str, client_id: &str) -> pb::Challenge {
    pb::Challenge {
        pod_id: pod_id.to_owned(),
        kind: Some(pb::challenge::Kind::ClientId(client_id.to_owned())),
    }
}
