//! The `podauth.v1.Agent` gRPC service.
//!
//! `Prove` validates the request before the stream starts, so a bad request
//! is refused with a status and no side effect; then a task runs the method,
//! forwarding its events, until it finishes, the client goes away, or the
//! daemon stops. Dropping the method's future withdraws its pending
//! challenges.

use std::pin::pin;
use std::sync::Arc;

use podauth_proto::v1 as pb;
use podauth_proto::v1::agent_server::Agent as AgentRpc;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::{Instrument, debug, info, info_span, warn};

use super::convert;
use crate::agent::Agent;
use crate::error::ProveError;
use crate::methods::Events;

/// Events buffered per request between the method and the client.
const EVENT_BUFFER: usize = 32;

/// The gRPC face of the agent.
#[derive(Debug, Clone)]
pub struct AgentService {
    agent: Arc<Agent>,
    callback_url: String,
    stopping: watch::Receiver<bool>,
}

impl AgentService {
    /// A service over `agent`; `stopping` turns true when the daemon stops.
    pub fn new(agent: Arc<Agent>, callback_url: String, stopping: watch::Receiver<bool>) -> Self {
        Self { agent, callback_url, stopping }
    }
}

#[tonic::async_trait]
impl AgentRpc for AgentService {
    async fn list_methods(
        &self,
        _request: Request<pb::ListMethodsRequest>,
    ) -> Result<Response<pb::ListMethodsResponse>, Status> {
        Ok(Response::new(convert::methods()))
    }

    type ProveStream = ReceiverStream<Result<pb::ProveEvent, Status>>;

    async fn prove(
        &self,
        request: Request<pb::ProveRequest>,
    ) -> Result<Response<Self::ProveStream>, Status> {
        let request = convert::raw_request(request.into_inner())
            .and_then(|raw| self.agent.validate(raw))
            .map_err(|error| {
                debug!(%error, "prove request refused");
                convert::status(&error)
            })?;

        let span = info_span!(
            "prove",
            request_id = %request.id,
            method = %request.method,
            environment = %request.environment.name,
            pods = request.challenges.len(),
        );
        let (out, stream) = mpsc::channel(EVENT_BUFFER);
        let agent = Arc::clone(&self.agent);
        let mut stopping = self.stopping.clone();
        tokio::spawn(
            async move {
                info!("proof requested");
                let (events, mut received) = Events::channel(EVENT_BUFFER);
                let mut work = pin!(agent.prove(&request, &events));
                let mut stop = pin!(async move {
                    let _ = stopping.wait_for(|stop| *stop).await;
                });

                let result = loop {
                    tokio::select! {
                        Some(event) = received.recv() => {
                            if out.send(Ok(convert::event(event))).await.is_err() {
                                break None;
                            }
                        }
                        result = &mut work => break Some(result),
                        () = out.closed() => break None,
                        () = &mut stop => break Some(Err(ProveError::Stopping)),
                    }
                };

                let Some(result) = result else {
                    info!("client went away; request cancelled");
                    return;
                };
                // The method may have queued events just before finishing.
                while let Ok(event) = received.try_recv() {
                    let _ = out.send(Ok(convert::event(event))).await;
                }
                match result {
                    Ok(()) => {
                        info!("proof completed");
                        let _ = out.send(Ok(convert::done())).await;
                    }
                    Err(error) => {
                        warn!(%error, "proof failed");
                        let _ = out.send(Err(convert::status(&error))).await;
                    }
                }
            }
            .instrument(span),
        );

        Ok(Response::new(ReceiverStream::new(stream)))
    }

    async fn status(
        &self,
        _request: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusResponse>, Status> {
        let status = self.agent.status(self.callback_url.clone());
        let now = std::time::Instant::now();
        let environments = &status.config.environments;
        Ok(Response::new(pb::StatusResponse {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_seconds: status.uptime.as_secs(),
            pid: std::process::id(),
            socket_path: status.socket_path.display().to_string(),
            callback_url: status.callback_url,
            default_environment: environments.default_name().to_owned(),
            environments: environments.names(),
            pending: status
                .pending
                .into_iter()
                .map(|p| pb::PendingRequest {
                    request_id: p.request_id,
                    method: p.method.name().to_owned(),
                    environment: p.environment,
                    waiting_pod_ids: p.waiting_pod_ids,
                    seconds_left: p.deadline.saturating_duration_since(now).as_secs(),
                })
                .collect(),
            config_path: status
                .config
                .config_path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        }))
    }
}
