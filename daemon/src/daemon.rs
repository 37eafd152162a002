//! The daemon's lifecycle: bind the socket and the loopback server, serve
//! gRPC and HTTP until told to stop, then drain and clean up.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use podauth_proto::v1::FILE_DESCRIPTOR_SET;
use podauth_proto::v1::agent_server::AgentServer;
use tokio::sync::watch;
use tonic::transport::Server;
use tracing::info;

use crate::agent::Agent;
use crate::config::Config;
use crate::error::Error;
use crate::ipc::service::AgentService;
use crate::ipc::{peer, socket};
use crate::web;

/// Runs the daemon on `socket_path` until `shutdown` resolves. Pending
/// requests are then failed with a "stopping" error, connections drain,
/// and the socket file is removed.
pub async fn run(
    config: Config,
    socket_path: PathBuf,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let uid = podauth_proto::current_uid();
    let (listener, _socket_cleanup) = socket::bind(&socket_path, uid)?.into_parts();
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
    let grpc = Server::builder()
        .add_service(health_service)
        .add_service(reflection)
        .add_service(AgentServer::new(service))
        .serve_with_incoming_shutdown(peer::incoming(listener, uid), async move {
            let _ = grpc_stopping.wait_for(|stop| *stop).await;
        });
    let http = web::serve(web_listeners, web::router(agent.pending().clone()), stopping);

    tokio::spawn(async move {
        shutdown.await;
        info!("stopping");
        let _ = stop.send(true);
    });
    info!(socket = %socket_path.display(), callback_url, pid = std::process::id(), "ready");

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
