//! The `podauth.v1.Agent` gRPC service.
//!
//! Streaming calls (`Prove`, `Login`) validate their request before the
//! stream starts, so a bad request is refused with a status and no side
//! effect; then a task runs the work, forwarding its events, until it
//! finishes, the client goes away, or the daemon stops. Dropping the work's
//! future withdraws its pending challenges.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use podauth_proto::v1 as pb;
use podauth_proto::v1::agent_server::Agent as AgentRpc;
use secrecy::ExposeSecret;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::{Instrument, debug, info, info_span, warn};

use super::convert;
use crate::agent::Agent;
use crate::error::ProveError;
use crate::methods::{Event, Events, Method};
use crate::tokens::login;
use crate::tokens::session::unix;

/// Events buffered per request between the work and the client.
const EVENT_BUFFER: usize = 32;

type EventStream<T> = ReceiverStream<Result<T, Status>>;

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

    /// Runs `work` in a task, streaming its events (converted by `event`)
    /// and then its final message or status to the client.
    fn stream<T, W>(
        &self,
        work: impl FnOnce(Events) -> W + Send + 'static,
        event: fn(Event) -> T,
        span: tracing::Span,
    ) -> EventStream<T>
    where
        T: Send + 'static,
        W: Future<Output = Result<T, Status>> + Send,
    {
        let (out, stream) = mpsc::channel(EVENT_BUFFER);
        let mut stopping = self.stopping.clone();
        let task = async move {
            let (events, mut received) = Events::channel(EVENT_BUFFER);
            let mut work = pin!(work(events));
            let mut stop = pin!(async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            });

            let result = loop {
                tokio::select! {
                    Some(item) = received.recv() => {
                        if out.send(Ok(event(item))).await.is_err() {
                            break None;
                        }
                    }
                    result = &mut work => break Some(result),
                    () = out.closed() => break None,
                    () = &mut stop => break Some(Err(convert::status(&ProveError::Stopping))),
                }
            };

            let Some(result) = result else {
                info!("client went away; request cancelled");
                return;
            };
            // The work may have queued events just before finishing.
            while let Ok(item) = received.try_recv() {
                let _ = out.send(Ok(event(item))).await;
            }
            let _ = out.send(result).await;
        };
        tokio::spawn(task.instrument(span));
        ReceiverStream::new(stream)
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

    type ProveStream = EventStream<pb::ProveEvent>;

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
        let agent = Arc::clone(&self.agent);
        let work = move |events: Events| async move {
            info!("proof requested");
            match agent.prove(&request, &events).await {
                Ok(()) => {
                    info!("proof completed");
                    Ok(convert::done())
                }
                Err(error) => {
                    warn!(%error, "proof failed");
                    Err(convert::status(&error))
                }
            }
        };
        Ok(Response::new(self.stream(work, convert::event, span)))
    }

    async fn status(
        &self,
        _request: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusResponse>, Status> {
        let status = self.agent.status(self.callback_url.clone());
        let now = std::time::Instant::now();
        let environments = &status.config.environments;
        let (store_backend, store_reason) = status
            .store
            .map(|(backend, reason)| (backend.to_owned(), reason))
            .unwrap_or_else(|| ("not yet opened".into(), String::new()));
        Ok(Response::new(pb::StatusResponse {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_seconds: status.uptime.as_secs(),
            pid: std::process::id(),
            socket_path: status.socket_path.display().to_string(),
            callback_url: status.callback_url,
            default_environment: environments.default_name().to_owned(),
            environments: environments.names(),
            environment_details: environments
                .iter()
                .map(|e| pb::EnvironmentInfo {
                    name: e.name.clone(),
                    client_id: e.client_id.clone(),
                    issuer: e.issuer().to_string(),
                    saml_sso_url: e
                        .saml_sso_url
                        .as_ref()
                        .map(|u| u.to_string())
                        .unwrap_or_default(),
                })
                .collect(),
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
            store_backend,
            store_reason,
            sessions: status
                .sessions
                .into_iter()
                .map(|s| pb::SessionInfo {
                    environment: s.environment,
                    subject: s.subject,
                    access_token_expires_at_unix: to_i64(unix(s.access_expires_at)),
                })
                .collect(),
        }))
    }

    type LoginStream = EventStream<pb::LoginEvent>;

    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<Self::LoginStream>, Status> {
        let request = request.into_inner();
        let refused = |error: ProveError| convert::status(&error);
        let env = self.agent.environment(&request.environment).map_err(refused)?;
        let method = Method::parse(&request.method).map_err(refused)?;
        if method == Method::Saml {
            return Err(Status::invalid_argument(
                "login takes oidc-device-code or oidc-auth-code; saml gives no session",
            ));
        }
        let timeout = self
            .agent
            .timeout(request.timeout_seconds.map(|s| Duration::from_secs(u64::from(s))))
            .map_err(refused)?;
        let open_browser = request.open_browser.unwrap_or(true);

        let span = info_span!("login", environment = %env.name, method = %method);
        let agent = Arc::clone(&self.agent);
        let work = move |events: Events| async move {
            let settings = agent.config().sessions;
            match login::login(&agent, &env, method, timeout, open_browser, settings, &events).await
            {
                Ok(done) => Ok(pb::LoginEvent {
                    event: Some(pb::login_event::Event::Done(pb::LoginDone {
                        environment: env.name.clone(),
                        subject: done.subject,
                        access_token_expires_at_unix: to_i64(unix(done.access_expires_at)),
                    })),
                }),
                Err(error) => {
                    warn!(%error, "login failed");
                    Err(convert::token_status(&error))
                }
            }
        };
        Ok(Response::new(self.stream(work, convert::login_event, span)))
    }

    async fn get_token(
        &self,
        request: Request<pb::GetTokenRequest>,
    ) -> Result<Response<pb::GetTokenResponse>, Status> {
        let request = request.into_inner();
        let env = self.agent.environment(&request.environment).map_err(|e| convert::status(&e))?;
        let settings = self.agent.config().sessions;
        let token = self.agent.sessions().token(self.agent.idp(), &env, settings).await.map_err(
            |error| {
                debug!(environment = %env.name, %error, "no token");
                convert::token_status(&error)
            },
        )?;
        Ok(Response::new(pb::GetTokenResponse {
            access_token: token.token.expose_secret().to_owned(),
            expires_at_unix: to_i64(unix(token.expires_at)),
            token_type: token.token_type,
        }))
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let request = request.into_inner();
        let env = self.agent.environment(&request.environment).map_err(|e| convert::status(&e))?;
        let (was_logged_in, revoked) = self
            .agent
            .sessions()
            .logout(self.agent.idp(), &env)
            .await
            .map_err(|error| convert::token_status(&error))?;
        Ok(Response::new(pb::LogoutResponse { was_logged_in, revoked }))
    }
}

fn to_i64(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}
