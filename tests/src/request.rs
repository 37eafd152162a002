//! Proof requests as a client sends them, and [`ProveRun`], which reads a
//! `Prove` stream with a bound on every wait.

use std::time::Duration;

use podauth::Client;
use podauth::methods::{OIDC_AUTH_CODE, OIDC_DEVICE_CODE};
use podauth::v1::{self as pb, prove_event::Event};

use crate::LOCAL_CLIENT_ID;
use crate::fixture::within;

/// How long a stream may stay silent before the test fails.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(30);

/// An `oidc-auth-code` request for `pods` of environment `local`; the
/// daemon opens no browser (the test drives one itself).
pub fn auth_code(pods: &[&str]) -> pb::ProveRequest {
    request(OIDC_AUTH_CODE, pods, LOCAL_CLIENT_ID)
}

/// An `oidc-device-code` request for `pods` of environment `local`.
pub fn device_code(pods: &[&str]) -> pb::ProveRequest {
    request(OIDC_DEVICE_CODE, pods, LOCAL_CLIENT_ID)
}

/// A request by `method` for `pods`, each sending `client_id`.
pub fn request(method: &str, pods: &[&str], client_id: &str) -> pb::ProveRequest {
    pb::ProveRequest {
        method: method.to_owned(),
        challenges: pods.iter().map(|pod| podauth::oidc_challenge(pod, client_id)).collect(),
        environment: String::new(),
        timeout_seconds: None,
        open_browser: Some(false),
    }
}

/// One `Prove` call in progress: the events read so far.
#[derive(Debug)]
pub struct ProveRun {
    stream: tonic::Streaming<pb::ProveEvent>,
    /// User actions received so far.
    pub user_actions: Vec<pb::UserAction>,
    /// Proofs received so far.
    pub proofs: Vec<pb::Proof>,
    done: bool,
}

impl ProveRun {
    /// Sends `request`; a request the daemon refuses up front is `Err`.
    pub async fn start(
        client: &mut Client,
        request: pb::ProveRequest,
    ) -> Result<Self, tonic::Status> {
        let stream = within(EVENT_TIMEOUT, "the Prove call", client.prove(request)).await;
        let stream = stream.map_err(|error| match error {
            podauth::ClientError::Status(status) => status,
            other => panic!("Prove failed below gRPC: {other}"),
        })?;
        Ok(Self { stream, user_actions: Vec::new(), proofs: Vec::new(), done: false })
    }

    /// Sends `request` and fails the test if the daemon refuses it.
    pub async fn started(client: &mut Client, request: pb::ProveRequest) -> Self {
        Self::start(client, request).await.unwrap_or_else(|status| {
            panic!("Prove refused: {:?}: {}", status.code(), status.message())
        })
    }

    /// The next event, or `None` once the stream has ended with `Done`.
    pub async fn next_event(&mut self) -> Result<Option<Event>, tonic::Status> {
        if self.done {
            return Ok(None);
        }
        let message = within(EVENT_TIMEOUT, "the next Prove event", self.stream.message()).await?;
        let event = message.and_then(|m| m.event);
        match &event {
            Some(Event::UserAction(action)) => self.user_actions.push(action.clone()),
            Some(Event::Proof(proof)) => self.proofs.push(proof.clone()),
            Some(Event::Done(_)) | None => {
                self.done = true;
                return Ok(None);
            }
        }
        Ok(event)
    }

    /// Reads until `count` user actions have arrived in all, and returns
    /// the newest. A stream that ends or fails first fails the test.
    pub async fn user_actions(&mut self, count: usize) -> &[pb::UserAction] {
        while self.user_actions.len() < count {
            match self.next_event().await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    panic!("the stream ended after {} user actions", self.user_actions.len())
                }
                Err(status) => {
                    panic!("the stream failed: {:?}: {}", status.code(), status.message())
                }
            }
        }
        &self.user_actions[..count]
    }

    /// The first user action.
    pub async fn first_action(&mut self) -> pb::UserAction {
        self.user_actions(1).await[0].clone()
    }

    /// Reads to the end: every proof on success, the status on failure.
    pub async fn finish(&mut self) -> Result<Vec<pb::Proof>, tonic::Status> {
        while self.next_event().await?.is_some() {}
        Ok(self.proofs.clone())
    }

    /// Reads to the end and fails the test unless the stream ends in
    /// `Done`.
    pub async fn proofs(&mut self) -> Vec<pb::Proof> {
        self.finish().await.unwrap_or_else(|status| {
            panic!("the proof failed: {:?}: {}", status.code(), status.message())
        })
    }

    /// Reads to the end and returns the status it failed with; a stream
    /// that ends in `Done` fails the test.
    pub async fn failure(&mut self) -> tonic::Status {
        match self.finish().await {
            Ok(proofs) => panic!("expected the request to fail; it gave {} proofs", proofs.len()),
            Err(status) => status,
        }
    }
}

/// The `state` parameter of an authorize URL.
pub fn state_of(url: &str) -> String {
    query_param(url, "state").unwrap_or_else(|| panic!("no state in {url}"))
}

/// A query parameter of `url`.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).unwrap_or_else(|e| panic!("{url:?} is not a URL: {e}"));
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// The auth-code part of a proof.
pub fn auth_code_proof(proof: &pb::Proof) -> &pb::AuthCodeProof {
    match &proof.kind {
        Some(pb::proof::Kind::AuthCode(auth)) => auth,
        other => panic!("pod {}: expected an auth-code proof, got {other:?}", proof.pod_id),
    }
}

/// The device-code part of a proof.
pub fn device_code_proof(proof: &pb::Proof) -> &pb::DeviceCodeProof {
    match &proof.kind {
        Some(pb::proof::Kind::DeviceCode(device)) => device,
        other => panic!("pod {}: expected a device-code proof, got {other:?}", proof.pod_id),
    }
}
