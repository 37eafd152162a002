//! The daemon's lifecycle: take the socket (bound here, or passed by the
//! service manager), bind the loopback server, serve gRPC and HTTP, tell the
//! service manager when ready, reload the config on request, and on
//! shutdown fail pending requests with "stopping", drain, and clean up.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::StreamExt;
use podauth_proto::v1::FILE_DESCRIPTOR_SET;
use podauth_proto::v1::agent_server::AgentServer;
use tokio::net::UnixListener;
use tokio::sync::{mpsc, watch};
use tonic::transport::Server;
use tracing::{info, warn};

use crate::agent::Agent;
use crate::config::Config;
use crate::error::Error;
use crate::ipc::authority::AuthorityFix;
use crate::ipc::service::AgentService;
use crate::ipc::{peer, socket};
use crate::web;

/// Where the agent's socket comes from.
#[derive(Debug)]
pub enum Listener {
    /// Bind this path (stale sockets replaced, live ones refused).
    Bind(PathBuf),
    /// A listening socket passed by the service manager (socket
    /// activation), and its path.
    Activated(std::os::unix::net::UnixListener, PathBuf),
}

/// Produces a fresh config when the daemon is asked to reload.
pub type ConfigLoader = Box<dyn Fn() -> Result<Config, Error> + Send + Sync>;

/// What starts and stops the daemon besides its config.
pub struct Lifecycle<S> {
    /// Resolves when the daemon should stop.
    pub shutdown: S,
    /// Each message asks for a config reload.
    pub reload: mpsc::Receiver<()>,
    /// Reads the config again.
    pub load_config: ConfigLoader,
}

impl<S> std::fmt::Debug for Lifecycle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle").finish_non_exhaustive()
    }
}

/// Runs the daemon until `lifecycle.shutdown` resolves.
pub async fn run<S>(
    config: Config,
    listener: Listener,
    lifecycle: Lifecycle<S>,
) -> Result<(), Error>
where
    S: Future<Output = ()> + Send + 'static,
{
    let uid = podauth_proto::current_uid();
    let (listener, socket_path, _socket_cleanup) = match listener {
        Listener::Bind(path) => {
            let (listener, cleanup) = socket::bind(&path, uid)?.into_parts();
            (listener, path, Some(cleanup))
        }
        Listener::Activated(listener, path) => {
            let io = |source| Error::Io {
                operation: "cannot use the socket passed for",
                path: path.clone(),
                source,
            };
            listener.set_nonblocking(true).map_err(io)?;
            (UnixListener::from_std(listener).map_err(io)?, path, None)
        }
    };
    let web_listeners = web::bind(&config.environments).await?;

    let callback_url =
        config.environments.get(None).map(|env| env.loopback_base()).unwrap_or_default();
    let agent = Agent::new(config, socket_path.clone()).map_err(|e| Error::Io {
        operation: "cannot set up the http client for",
        path: socket_path.clone(),
        source: std::io::Error::other(e),
    })?;
    let (stop, stopping) = watch::channel(false);

    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<AgentServer<AgentService>>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| Error::Io {
            operation: "cannot build the reflection service for",
            path: socket_path.clone(),
            source: std::io::Error::other(e),
        })?;
    let service = AgentService::new(agent.clone(), callback_url.clone(), stopping.clone());

    let mut grpc_stopping = stopping.clone();
    // grpc-core clients send the socket path as `:authority`; see `AuthorityFix`.
    let incoming = peer::incoming(listener, uid).map(|stream| stream.map(AuthorityFix::new));
    let grpc = Server::builder()
        .add_service(health_service)
        .add_service(reflection)
        .add_service(AgentServer::new(service))
        .serve_with_incoming_shutdown(incoming, async move {
            let _ = grpc_stopping.wait_for(|stop| *stop).await;
        });
    let http = web::serve(web_listeners, web::router(agent.pending().clone()), stopping);

    let Lifecycle { shutdown, reload, load_config } = lifecycle;
    tokio::spawn(async move {
        shutdown.await;
        info!("stopping");
        notify(&[sd_notify::NotifyState::Stopping]);
        let _ = stop.send(true);
    });
    tokio::spawn(reloads(Arc::clone(&agent), reload, load_config));

    info!(socket = %socket_path.display(), callback_url, pid = std::process::id(), "ready");
    notify(&[sd_notify::NotifyState::Ready]);

    // Probing the keyring may take seconds; do it after ready, so Status
    // can report the store and the first GetToken need not wait for it.
    let probing = Arc::clone(&agent);
    tokio::spawn(async move {
        let store = probing.sessions().open_store().await;
        info!(backend = store.backend(), reason = store.reason(), "session store ready");
    });

    let (grpc, http) = tokio::join!(grpc, http);
    grpc?;
    http.map_err(|source| Error::Io {
        operation: "loopback server failed for",
        path: socket_path,
        source,
    })?;
    info!("stopped");
    Ok(())
}

/// Applies each reload request; a config that fails to load keeps the old
/// one in force.
async fn reloads(agent: Arc<Agent>, mut requests: mpsc::Receiver<()>, load: ConfigLoader) {
    while requests.recv().await.is_some() {
        let mut reloading = vec![sd_notify::NotifyState::Reloading];
        reloading.extend(sd_notify::NotifyState::monotonic_usec_now().ok());
        notify(&reloading);
        match load() {
            Ok(config) => {
                let path = config.config_path.as_ref().map(|p| p.display().to_string());
                match agent.replace_config(config) {
                    Ok(()) => info!(config = path, "config reloaded"),
                    Err(reason) => {
                        warn!(
                            config = path,
                            reason, "config reload refused; keeping the previous config"
                        );
                    }
                }
            }
            Err(error) => {
                // The file of the config in force is the one read again;
                // the error alone may not name it (an unknown default).
                let kept = agent.config();
                let path = kept.config_path.as_ref().map(|p| p.display().to_string());
                let error = with_causes(&error);
                warn!(config = path, error, "config reload failed; keeping the previous config");
            }
        }
        notify(&[sd_notify::NotifyState::Ready]);
    }
}

/// `error: cause: cause`, so that a log line says why (an unreadable
/// file's I/O error is its source, not part of its message).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Tells the service manager, when there is one (`NOTIFY_SOCKET`).
fn notify(states: &[sd_notify::NotifyState<'_>]) {
    if let Err(error) = sd_notify::notify(states) {
        warn!(%error, "cannot notify the service manager");
    }
}
