//! The daemon-side cost of one auth-code proof, for 1 and for 50 Pods in
//! one request, with no IdP and no browser.
//!
//! This process plays the browser: from each authorize URL the daemon hands
//! out it takes the `state`, calls the daemon's real callback with a code,
//! and follows the 303 to the next Pod's authorize URL, until the final
//! page. Meanwhile the gRPC stream delivers one proof per Pod, then ends.
//!
//! Two figures: the wall time from sending `Prove` to the end of its stream
//! (an upper bound, since it includes this process's work as client and
//! as browser), and the CPU time the daemon spent per proof, from `/proc`.

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use podauth::v1::{self as pb, prove_event::Event};
use podauth::{Client, methods};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use url::Url;

use crate::daemon::{self, Daemon};
use crate::stats;

/// Pods per request.
pub(crate) const POD_COUNTS: [usize; 2] = [1, 50];
/// The code the browser brings back for every Pod.
const CODE: &str = "bench-code";

/// The cost of proofs of one size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProofCost {
    /// Pods in the request.
    pub(crate) pods: usize,
    /// Proofs measured.
    pub(crate) runs: usize,
    /// Median wall time, `Prove` sent to stream ended.
    pub(crate) wall: Duration,
    /// Slowest wall time.
    pub(crate) wall_max: Duration,
    /// Daemon CPU time per proof.
    pub(crate) daemon_cpu: Duration,
}

/// Measures `runs` proofs of each size on `daemon`, after one unmeasured
/// proof of that size.
pub(crate) async fn measure(daemon: &Daemon, runs: usize) -> anyhow::Result<Vec<ProofCost>> {
    let mut client = Client::connect_to(&daemon.socket)
        .await
        .with_context(|| format!("cannot connect to {}", daemon.socket.display()))?;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .context("cannot build the HTTP client that plays the browser")?;
    let callback = Url::parse(&format!("http://127.0.0.1:{}/api/auth/callback/auth0", daemon.port))
        .context("cannot build the callback URL")?;

    let mut costs = Vec::new();
    for pods in POD_COUNTS {
        prove(&mut client, &browser, &callback, pods).await?;

        let cpu_before = daemon.cpu_time()?;
        let mut walls = Vec::with_capacity(runs);
        for _ in 0..runs {
            walls.push(prove(&mut client, &browser, &callback, pods).await?);
        }
        let cpu = daemon.cpu_time()?.saturating_sub(cpu_before);

        costs.push(ProofCost {
            pods,
            runs,
            wall: stats::median(&walls).unwrap_or_default(),
            wall_max: walls.iter().max().copied().unwrap_or_default(),
            daemon_cpu: cpu / u32::try_from(runs.max(1)).unwrap_or(u32::MAX),
        });
    }
    Ok(costs)
}

/// One proof for `pods` Pods, checked; its wall time.
async fn prove(
    client: &mut Client,
    browser: &reqwest::Client,
    callback: &Url,
    pods: usize,
) -> anyhow::Result<Duration> {
    let request = pb::ProveRequest {
        method: methods::OIDC_AUTH_CODE.to_owned(),
        challenges: (0..pods)
            .map(|pod| podauth::oidc_challenge(&format!("pod-{pod:02}"), daemon::CLIENT_ID))
            .collect(),
        environment: daemon::ENVIRONMENT.to_owned(),
        timeout_seconds: None,
        open_browser: Some(false),
    };

    let started = Instant::now();
    let mut stream = client.prove(request).await.context("Prove failed")?;
    let first_url = match stream.message().await.context("Prove stream failed")? {
        Some(pb::ProveEvent { event: Some(Event::UserAction(action)) }) => action.url,
        other => bail!("Prove began with {other:?}, not a user action"),
    };

    let (browsed, proofs) = tokio::join!(browse(browser, callback, &first_url, pods), async {
        let mut proofs = Vec::new();
        while let Some(event) = stream.message().await.context("Prove stream failed")? {
            match event.event {
                Some(Event::Proof(proof)) => proofs.push(proof),
                Some(Event::Done(_)) | None => {}
                Some(Event::UserAction(_)) => bail!("Prove asked for a second user action"),
            }
        }
        anyhow::Ok(proofs)
    });
    browsed?;
    let proofs = proofs?;
    let wall = started.elapsed();

    ensure!(proofs.len() == pods, "{pods} Pods got {} proofs", proofs.len());
    for proof in &proofs {
        match &proof.kind {
            Some(pb::proof::Kind::AuthCode(code)) if code.auth_code == CODE => {}
            _ => bail!("pod {} got a proof without the browser's code", proof.pod_id),
        }
    }
    Ok(wall)
}

/// Plays the browser from the first authorize URL to the final page.
async fn browse(
    browser: &reqwest::Client,
    callback: &Url,
    first_url: &str,
    pods: usize,
) -> anyhow::Result<()> {
    let mut authorize = Url::parse(first_url).context("the user action's URL is not a URL")?;
    for visit in 1..=pods {
        let state = authorize
            .query_pairs()
            .find_map(|(name, value)| (name == "state").then(|| value.into_owned()))
            .with_context(|| format!("authorize URL {visit} carries no state"))?;
        let mut url = callback.clone();
        url.query_pairs_mut().append_pair("code", CODE).append_pair("state", &state);

        let response = browser.get(url).send().await.context("callback request failed")?;
        match response.status() {
            StatusCode::SEE_OTHER if visit < pods => {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .context("a 303 from the callback without a Location")?;
                authorize = Url::parse(location).context("the callback's Location is not a URL")?;
            }
            StatusCode::OK if visit == pods => return Ok(()),
            status => bail!("callback {visit} of {pods} answered {status}"),
        }
    }
    bail!("no Pods to visit")
}
