//! What the two browser methods share once their links are built: register
//! the chain in the pending registry, send the browser to its first link,
//! tell the client, and forward one proof per Pod as the callbacks arrive.

use std::time::{Instant, SystemTime};

use tokio::sync::mpsc::UnboundedReceiver;
use tracing::{debug, info};

use super::{Event, Events, ProofRequest, UserAction};
use crate::agent::Agent;
use crate::error::ProveError;
use crate::pending::{ChainAnswer, LinkSpec};

/// Runs a chain of links, one per Pod of `request`, to the end.
pub(super) async fn run(
    agent: &Agent,
    request: &ProofRequest,
    links: Vec<LinkSpec>,
    events: &Events,
) -> Result<(), ProveError> {
    let Some(first_url) = links.first().map(|link| link.url.clone()) else {
        return Err(ProveError::InvalidRequest("no challenges".into()));
    };

    let env = &request.environment;
    let deadline = Instant::now() + request.timeout;
    let (_guard, mut answers) =
        agent.pending().register(&request.id, request.method, &env.name, deadline, links);

    let browser_opened = request.open_browser && agent.browser().open(&first_url);
    debug!(request_id = %request.id, browser_opened, "first url of the chain ready");
    events
        .send(Event::UserAction(UserAction {
            pod_ids: request.challenges.iter().map(|c| c.pod_id.clone()).collect(),
            url: first_url,
            user_code: None,
            verification_uri: None,
            expires_at: SystemTime::now() + request.timeout,
            browser_opened,
        }))
        .await;

    await_answers(request, deadline, &mut answers, events).await?;
    info!(request_id = %request.id, pods = request.challenges.len(), "every pod answered");
    Ok(())
}

/// Forwards one proof per Pod as the callbacks arrive, until all are in, one
/// fails, or the deadline passes.
async fn await_answers(
    request: &ProofRequest,
    deadline: Instant,
    answers: &mut UnboundedReceiver<ChainAnswer>,
    events: &Events,
) -> Result<(), ProveError> {
    let mut waiting: Vec<String> = request.challenges.iter().map(|c| c.pod_id.clone()).collect();
    while !waiting.is_empty() {
        let answer = tokio::time::timeout_at(deadline.into(), answers.recv()).await;
        match answer {
            Ok(Some(ChainAnswer::Proof(proof))) => {
                waiting.retain(|pod| *pod != proof.pod_id);
                events.send(Event::Proof(proof)).await;
            }
            Ok(Some(ChainAnswer::Failed(error))) => return Err(error),
            // The registry holds the sender while the chain is registered,
            // and the guard outlives this loop.
            Ok(None) => return Err(ProveError::Stopping),
            Err(_elapsed) => {
                return Err(ProveError::TimedOut { waited: request.timeout, pods: waiting });
            }
        }
    }
    Ok(())
}
