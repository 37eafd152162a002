//! The agent: the state every request shares (configuration, IdP client,
//! pending registry) and the one entry point that validates a request and
//! hands it to its method.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::browser::BrowserCommand;
use crate::config::{Config, MAX_REQUEST_TIMEOUT};
use crate::environment::Environment;
use crate::error::ProveError;
use crate::idp::Idp;
use crate::methods::{self, Challenge, ChallengeKind, Events, Method, ProofRequest};
use crate::pending::{Pending, PendingSummary};
use crate::tokens::store::FileStore;
use crate::tokens::{SessionSummary, Sessions};

/// Most Pods one request may name.
pub const MAX_CHALLENGES: usize = 256;
/// Longest Pod identifier accepted, in bytes.
pub const MAX_POD_ID_BYTES: usize = 512;

/// A request as it arrives from a client, before validation.
#[derive(Debug, Default)]
pub struct RawRequest {
    /// Method name; empty for the default.
    pub method: String,
    /// Environment name; empty for the default.
    pub environment: String,
    /// The challenges.
    pub challenges: Vec<Challenge>,
    /// Deadline asked for, if any.
    pub timeout: Option<Duration>,
    /// Whether the agent may open a browser.
    pub open_browser: bool,
}

/// What `Status` reports.
#[derive(Debug)]
pub struct StatusSnapshot {
    /// Time since start.
    pub uptime: Duration,
    /// The socket.
    pub socket_path: PathBuf,
    /// The loopback server's base URL.
    pub callback_url: String,
    /// The config in force.
    pub config: Arc<Config>,
    /// Waiting requests.
    pub pending: Vec<PendingSummary>,
    /// Sessions held.
    pub sessions: Vec<SessionSummary>,
    /// The session store's backend and why it was chosen, once opened.
    pub store: Option<(&'static str, String)>,
}

/// Shared state of the daemon.
#[derive(Debug)]
pub struct Agent {
    config: RwLock<Arc<Config>>,
    idp: Idp,
    pending: Arc<Pending>,
    sessions: Sessions,
    started: Instant,
    socket_path: PathBuf,
    next_request: AtomicU64,
}

impl Agent {
    /// A new agent for `config`, serving on `socket_path`.
    pub fn new(config: Config, socket_path: PathBuf) -> Result<Arc<Self>, reqwest::Error> {
        let sessions = Sessions::new(
            config.token_store,
            FileStore::new(config.state_dir.clone()),
            config.store_timeout,
        );
        Ok(Arc::new(Self {
            sessions,
            config: RwLock::new(Arc::new(config)),
            idp: Idp::new()?,
            pending: Pending::new(),
            started: Instant::now(),
            socket_path,
            next_request: AtomicU64::new(1),
        }))
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Puts a reloaded config in force for requests that start from now
    /// on. The loopback server keeps the hosts and ports it bound at start,
    /// so a config that moves them is refused (redirect URIs would point
    /// where nothing listens); the session store also stays as it was.
    pub fn replace_config(&self, config: Config) -> Result<(), String> {
        let old = self.config();
        let ports = |c: &Config| {
            let mut ports: Vec<(String, u16)> =
                c.environments.iter().map(|e| (e.redirect_host.clone(), e.redirect_port)).collect();
            ports.sort();
            ports.dedup();
            ports
        };
        if ports(&old) != ports(&config) {
            return Err("the new config moves the callback hosts or ports, which the loopback \
                        server bound at start; restart podauthd to apply it"
                .into());
        }
        if old.token_store != config.token_store || old.state_dir != config.state_dir {
            tracing::warn!("token store settings changed; they take effect after a restart");
        }
        *self.config.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(config);
        Ok(())
    }

    /// The IdP client.
    pub fn idp(&self) -> &Idp {
        &self.idp
    }

    /// The pending registry.
    pub fn pending(&self) -> &Arc<Pending> {
        &self.pending
    }

    /// The shared sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// How to open a browser.
    pub fn browser(&self) -> BrowserCommand {
        self.config().browser.clone()
    }

    /// The environment of that name; the default one for "".
    pub fn environment(&self, name: &str) -> Result<Environment, ProveError> {
        let config = self.config();
        let environments = &config.environments;
        let wanted = (!name.is_empty()).then_some(name);
        environments.get(wanted).cloned().ok_or_else(|| ProveError::UnknownEnvironment {
            given: name.to_owned(),
            known: environments.names(),
        })
    }

    /// A deadline asked for by a client, checked; the default when unset.
    pub fn timeout(&self, asked: Option<Duration>) -> Result<Duration, ProveError> {
        match asked {
            None => Ok(self.config().request_timeout),
            Some(t) if t.is_zero() || t > MAX_REQUEST_TIMEOUT => {
                Err(ProveError::InvalidRequest(format!(
                    "timeout must be between 1 and {} seconds, got {}",
                    MAX_REQUEST_TIMEOUT.as_secs(),
                    t.as_secs()
                )))
            }
            Some(t) => Ok(t),
        }
    }

    /// Checks a client's request and resolves its method and environment.
    /// Everything refused here is refused before any IdP or browser is
    /// involved.
    pub fn validate(&self, raw: RawRequest) -> Result<ProofRequest, ProveError> {
        let method = Method::parse(&raw.method)?;
        let environment = self.environment(&raw.environment)?;
        let timeout = self.timeout(raw.timeout)?;

        let request = ProofRequest {
            id: format!("r{}", self.next_request.fetch_add(1, Ordering::Relaxed)),
            method,
            environment,
            challenges: raw.challenges,
            open_browser: raw.open_browser,
            timeout,
        };
        challenges_checked(&request)?;
        Ok(request)
    }

    /// Runs a validated request to the end, sending its events.
    pub async fn prove(&self, request: &ProofRequest, events: &Events) -> Result<(), ProveError> {
        match request.method {
            Method::DeviceCode => methods::device_code::prove(self, request, events).await,
            Method::AuthCode => methods::auth_code::prove(self, request, events).await,
            Method::Saml => methods::saml::prove(self, request, events).await,
        }
    }

    /// The agent's state for `Status`.
    pub fn status(&self, callback_url: String) -> StatusSnapshot {
        StatusSnapshot {
            uptime: self.started.elapsed(),
            socket_path: self.socket_path.clone(),
            callback_url,
            config: self.config(),
            pending: self.pending.snapshot(),
            sessions: self.sessions.snapshot(),
            store: self.sessions.store_info(),
        }
    }
}

/// At least one challenge, not too many; Pod ids present, unique, printable;
/// each challenge of the kind its method takes, and OIDC client ids of the
/// request's environment (a Pod of another environment must not get a code
/// for a foreign client).
fn challenges_checked(request: &ProofRequest) -> Result<(), ProveError> {
    let invalid = |text: String| Err(ProveError::InvalidRequest(text));
    if request.challenges.is_empty() {
        return invalid("no challenges: give at least one pod".into());
    }
    if request.challenges.len() > MAX_CHALLENGES {
        return invalid(format!(
            "{} challenges in one request; at most {MAX_CHALLENGES}",
            request.challenges.len()
        ));
    }

    let env = &request.environment;
    let mut seen = HashSet::new();
    for challenge in &request.challenges {
        let pod = &challenge.pod_id;
        if pod.is_empty() || pod.len() > MAX_POD_ID_BYTES || pod.chars().any(char::is_control) {
            return invalid(format!(
                "pod id {pod:?} must be 1 to {MAX_POD_ID_BYTES} bytes without control characters"
            ));
        }
        if !seen.insert(pod.as_str()) {
            return invalid(format!("pod {pod:?} appears twice"));
        }

        match (&challenge.kind, request.method) {
            (ChallengeKind::ClientId(client_id), Method::DeviceCode | Method::AuthCode) => {
                if *client_id != env.client_id {
                    return Err(ProveError::ForeignClientId {
                        pod_id: pod.clone(),
                        client_id: client_id.clone(),
                        environment: env.name.clone(),
                    });
                }
            }
            (ChallengeKind::Saml { .. }, Method::Saml) => {}
            (ChallengeKind::ClientId(_), Method::Saml) => {
                return invalid(format!(
                    "pod {pod:?}: method saml needs a SAML request, not a client id"
                ));
            }
            (ChallengeKind::Saml { .. }, method) => {
                return invalid(format!(
                    "pod {pod:?}: method {method} needs a client id, not a SAML request"
                ));
            }
        }
    }
    Ok(())
}
