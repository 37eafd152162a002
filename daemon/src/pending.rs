//! The registry of challenges waiting for the browser.
//!
//! A request that needs the loopback server registers a *chain*: one link per
//! Pod, each with its own single-use key (OIDC `state` or SAML `RelayState`)
//! and the URL that starts it at the IdP. A callback is matched to its link
//! by key alone, on its method's own route (a SAML RelayState means nothing
//! to the OIDC callback, nor an OIDC state to the SAML ACS); the link's
//! acceptor turns the callback into a proof, and the browser is sent on to
//! the next unanswered link, so one visit answers every Pod. Everything
//! about a chain lives here and goes away when its [`ChainGuard`] is
//! dropped: on success, failure, deadline or client exit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use secrecy::SecretString;
use tokio::sync::mpsc;
use url::Url;

use crate::error::ProveError;
use crate::methods::saml::ResponseSummary;
use crate::methods::{Method, Proof, ProofKind};

/// What the browser brought back for one link.
#[derive(Debug)]
pub enum CallbackPayload {
    /// OIDC: an authorization code, and the issuer (RFC 9207) if sent.
    AuthCode {
        /// The code.
        code: SecretString,
        /// The `iss` parameter.
        issuer: Option<String>,
    },
    /// SAML: the posted form, and what the agent read from the response.
    Saml {
        /// The `SAMLResponse` value, as posted.
        response: SecretString,
        /// The `RelayState` value.
        relay_state: String,
        /// `InResponseTo` and status, read from the decoded response.
        summary: ResponseSummary,
    },
    /// A post that can never be accepted (for example over the size limit);
    /// it fails the request with the reason.
    Invalid {
        /// Why.
        reason: String,
    },
    /// The IdP refused, with its error code and description.
    Refused {
        /// The error code, e.g. `access_denied`.
        error: String,
        /// The description.
        description: Option<String>,
    },
}

/// Turns a link's callback payload into its proof, or refuses it.
pub type Acceptor = Box<dyn FnOnce(CallbackPayload) -> Result<ProofKind, ProveError> + Send>;

/// One Pod's step of a chain, as the method describes it.
pub struct LinkSpec {
    /// The Pod.
    pub pod_id: String,
    /// The single-use key the callback carries.
    pub key: String,
    /// Where the browser starts this link at the IdP.
    pub url: Url,
    /// Checks the callback and builds the proof.
    pub acceptor: Acceptor,
}

impl std::fmt::Debug for LinkSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkSpec").field("pod_id", &self.pod_id).finish_non_exhaustive()
    }
}

/// What a chain's owner hears from the registry.
#[derive(Debug)]
pub enum ChainAnswer {
    /// A Pod's proof.
    Proof(Proof),
    /// The chain failed; no more answers follow.
    Failed(ProveError),
}

/// What the callback handler should show the browser.
#[derive(Debug)]
pub enum CallbackOutcome {
    /// Go on to the next Pod of the same request.
    Next(Url),
    /// Every Pod of the request is answered; the tab may be closed.
    Finished,
    /// The request failed because of this callback.
    Failed(ProveError),
    /// No waiting challenge has that key: unknown, expired or already used.
    Unknown,
}

/// A waiting request as `Status` shows it.
#[derive(Debug, Clone)]
pub struct PendingSummary {
    /// The request id.
    pub request_id: String,
    /// Its method.
    pub method: Method,
    /// Its environment.
    pub environment: String,
    /// Pods not yet answered.
    pub waiting_pod_ids: Vec<String>,
    /// Its deadline.
    pub deadline: Instant,
}

struct Link {
    pod_id: String,
    key: String,
    url: Url,
    acceptor: Option<Acceptor>,
}

struct Chain {
    request_id: String,
    method: Method,
    environment: String,
    deadline: Instant,
    links: Vec<Link>,
    answers: mpsc::UnboundedSender<ChainAnswer>,
}

#[derive(Default)]
struct Inner {
    /// Key of every unanswered link to (chain id, link index).
    keys: HashMap<String, (u64, usize)>,
    chains: HashMap<u64, Chain>,
}

/// The registry, shared by the methods and the loopback server.
#[derive(Default)]
pub struct Pending {
    inner: Mutex<Inner>,
    next_chain: AtomicU64,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Pending")
            .field("chains", &inner.chains.len())
            .field("keys", &inner.keys.len())
            .finish()
    }
}

/// Removes its chain from the registry when dropped.
#[derive(Debug)]
pub struct ChainGuard {
    pending: Arc<Pending>,
    chain: u64,
}

impl Drop for ChainGuard {
    fn drop(&mut self) {
        let mut inner = self.pending.lock();
        if let Some(chain) = inner.chains.remove(&self.chain) {
            for link in &chain.links {
                inner.keys.remove(&link.key);
            }
        }
    }
}

impl Pending {
    /// An empty registry.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated
        // in a way later calls would misread, so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a chain. Answers arrive on the receiver; dropping the guard
    /// withdraws every link that is still waiting.
    pub fn register(
        self: &Arc<Self>,
        request_id: &str,
        method: Method,
        environment: &str,
        deadline: Instant,
        links: Vec<LinkSpec>,
    ) -> (ChainGuard, mpsc::UnboundedReceiver<ChainAnswer>) {
        let (answers, receiver) = mpsc::unbounded_channel();
        let chain_id = self.next_chain.fetch_add(1, Ordering::Relaxed);
        let chain = Chain {
            request_id: request_id.to_owned(),
            method,
            environment: environment.to_owned(),
            deadline,
            links: links
                .into_iter()
                .map(|spec| Link {
                    pod_id: spec.pod_id,
                    key: spec.key,
                    url: spec.url,
                    acceptor: Some(spec.acceptor),
                })
                .collect(),
            answers,
        };

        let mut inner = self.lock();
        for (index, link) in chain.links.iter().enumerate() {
            inner.keys.insert(link.key.clone(), (chain_id, index));
        }
        inner.chains.insert(chain_id, chain);
        drop(inner);

        (ChainGuard { pending: Arc::clone(self), chain: chain_id }, receiver)
    }

    /// Answers the link whose key is `key`, for a callback that arrived on
    /// the route of method `route`. The key is consumed whatever the
    /// outcome; an unknown key, or the key of another method's chain,
    /// changes nothing.
    pub fn answer(&self, key: &str, route: Method, payload: CallbackPayload) -> CallbackOutcome {
        let (chain_id, index, acceptor, pod_id, answers) = {
            let mut inner = self.lock();
            let Some(&(chain_id, index)) = inner.keys.get(key) else {
                return CallbackOutcome::Unknown;
            };
            let Some(chain) = inner.chains.get_mut(&chain_id) else {
                return CallbackOutcome::Unknown;
            };
            if chain.method != route {
                // An OIDC state posted to the SAML ACS, or a RelayState
                // sent to the OIDC callback: not a key of that route.
                return CallbackOutcome::Unknown;
            }
            if chain.deadline <= Instant::now() {
                // The owner is about to time out and drop the chain.
                return CallbackOutcome::Unknown;
            }
            let link = &mut chain.links[index];
            let Some(acceptor) = link.acceptor.take() else {
                return CallbackOutcome::Unknown;
            };
            let pod_id = link.pod_id.clone();
            let answers = chain.answers.clone();
            inner.keys.remove(key);
            (chain_id, index, acceptor, pod_id, answers)
        };

        // Refusals fail the request without consulting the acceptor.
        let result = match payload {
            CallbackPayload::Refused { error, description } => {
                Err(ProveError::IdpRefused { pod_id: Some(pod_id.clone()), error, description })
            }
            payload => acceptor(payload),
        };

        match result {
            Ok(kind) => {
                let _ = answers.send(ChainAnswer::Proof(Proof { pod_id, kind }));
                match self.next_link(chain_id, index) {
                    Some(url) => CallbackOutcome::Next(url),
                    None => CallbackOutcome::Finished,
                }
            }
            Err(error) => {
                self.withdraw(chain_id);
                let _ = answers.send(ChainAnswer::Failed(error.clone()));
                CallbackOutcome::Failed(error)
            }
        }
    }

    /// The URL of the next unanswered link after `index`, wrapping around.
    fn next_link(&self, chain_id: u64, index: usize) -> Option<Url> {
        let inner = self.lock();
        let chain = inner.chains.get(&chain_id)?;
        let count = chain.links.len();
        (1..count)
            .map(|step| &chain.links[(index + step) % count])
            .find(|link| link.acceptor.is_some())
            .map(|link| link.url.clone())
    }

    /// Makes every remaining key of a failed chain unknown at once.
    fn withdraw(&self, chain_id: u64) {
        let mut inner = self.lock();
        let Inner { keys, chains } = &mut *inner;
        if let Some(chain) = chains.get_mut(&chain_id) {
            for link in &mut chain.links {
                link.acceptor = None;
                keys.remove(&link.key);
            }
        }
    }

    /// Every waiting request, oldest first.
    pub fn snapshot(&self) -> Vec<PendingSummary> {
        let inner = self.lock();
        let mut ids: Vec<&u64> = inner.chains.keys().collect();
        ids.sort();
        ids.into_iter()
            .filter_map(|id| inner.chains.get(id))
            .map(|chain| PendingSummary {
                request_id: chain.request_id.clone(),
                method: chain.method,
                environment: chain.environment.clone(),
                waiting_pod_ids: chain
                    .links
                    .iter()
                    .filter(|link| link.acceptor.is_some())
                    .map(|link| link.pod_id.clone())
                    .collect(),
                deadline: chain.deadline,
            })
            .collect()
    }

    /// Number of keys still waiting for a callback.
    pub fn waiting_keys(&self) -> usize {
        self.lock().keys.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use secrecy::ExposeSecret;

    use super::*;

    fn link(pod: &str, key: &str) -> LinkSpec {
        LinkSpec {
            pod_id: pod.into(),
            key: key.into(),
            url: Url::parse(&format!("http://idp/auth?state={key}")).unwrap(),
            acceptor: Box::new(|payload| match payload {
                CallbackPayload::AuthCode { code, .. } => Ok(ProofKind::AuthCode {
                    code,
                    verifier: SecretString::from("v"),
                    redirect_uri: "r".into(),
                }),
                _ => Err(ProveError::InvalidRequest("wrong payload".into())),
            }),
        }
    }

    /// A callback on the auth-code route, where these chains belong.
    fn callback(pending: &Pending, key: &str, payload: CallbackPayload) -> CallbackOutcome {
        pending.answer(key, Method::AuthCode, payload)
    }

    fn code(value: &str) -> CallbackPayload {
        CallbackPayload::AuthCode { code: SecretString::from(value), issuer: None }
    }

    fn register(
        pending: &Arc<Pending>,
        keys: &[&str],
    ) -> (ChainGuard, mpsc::UnboundedReceiver<ChainAnswer>) {
        let links = keys.iter().enumerate().map(|(i, k)| link(&format!("pod{i}"), k)).collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        pending.register("r1", Method::AuthCode, "test", deadline, links)
    }

    #[test]
    fn chain_walks_every_link_then_finishes() {
        let pending = Pending::new();
        let (_guard, mut answers) = register(&pending, &["a", "b", "c"]);

        let next = |outcome| match outcome {
            CallbackOutcome::Next(url) => url.to_string(),
            other => panic!("expected the next link, got {other:?}"),
        };
        assert!(next(callback(&pending, "a", code("1"))).ends_with("state=b"));
        assert!(next(callback(&pending, "b", code("2"))).ends_with("state=c"));
        assert!(matches!(callback(&pending, "c", code("3")), CallbackOutcome::Finished));

        for expected in ["1", "2", "3"] {
            let Ok(ChainAnswer::Proof(proof)) = answers.try_recv() else { panic!("no proof") };
            let ProofKind::AuthCode { code, .. } = proof.kind else { panic!("wrong kind") };
            assert_eq!(code.expose_secret(), expected);
        }
    }

    #[test]
    fn keys_are_single_use_and_unknown_keys_change_nothing() {
        let pending = Pending::new();
        let (_guard, _answers) = register(&pending, &["a", "b"]);

        assert!(matches!(callback(&pending, "zzz", code("x")), CallbackOutcome::Unknown));
        assert_eq!(pending.waiting_keys(), 2);
        assert!(matches!(callback(&pending, "a", code("1")), CallbackOutcome::Next(_)));
        assert!(matches!(callback(&pending, "a", code("1")), CallbackOutcome::Unknown));
        assert_eq!(pending.waiting_keys(), 1);
    }

    #[test]
    fn refusal_fails_the_whole_chain_only() {
        let pending = Pending::new();
        let (_guard, mut answers) = register(&pending, &["a", "b"]);
        let (_other, _other_answers) = register(&pending, &["x"]);

        let refused = CallbackPayload::Refused { error: "access_denied".into(), description: None };
        assert!(matches!(callback(&pending, "a", refused), CallbackOutcome::Failed(_)));
        assert!(matches!(
            answers.try_recv(),
            Ok(ChainAnswer::Failed(ProveError::IdpRefused { .. }))
        ));
        assert!(matches!(callback(&pending, "b", code("2")), CallbackOutcome::Unknown));
        assert_eq!(pending.waiting_keys(), 1, "the other request still waits");
    }

    #[test]
    fn keys_answer_only_on_their_methods_route() {
        let pending = Pending::new();
        let (_guard, _answers) = register(&pending, &["a"]);

        let payload = CallbackPayload::Invalid { reason: "posted to the SAML ACS".into() };
        assert!(matches!(pending.answer("a", Method::Saml, payload), CallbackOutcome::Unknown));
        assert_eq!(pending.waiting_keys(), 1, "the key was not consumed");
        assert!(matches!(callback(&pending, "a", code("1")), CallbackOutcome::Finished));
    }

    #[test]
    fn dropping_the_guard_withdraws_the_chain() {
        let pending = Pending::new();
        let (guard, _answers) = register(&pending, &["a", "b"]);
        assert_eq!(pending.snapshot().len(), 1);
        drop(guard);
        assert!(pending.snapshot().is_empty());
        assert!(matches!(callback(&pending, "a", code("1")), CallbackOutcome::Unknown));
    }
}
