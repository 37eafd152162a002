//! Requests to the daemon's loopback server from outside any browser: the
//! forged, replayed and late callbacks an attacker or a stale tab sends.

use std::time::Duration;

use crate::daemon::Daemon;

/// Bound on one request.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// A loopback server's answer.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header of a redirect.
    pub location: Option<String>,
    /// The body.
    pub body: String,
}

/// `GET url` without following redirects.
pub async fn get(url: &str) -> Answer {
    let http = reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("build an http client");
    let response = http.get(url).send().await.unwrap_or_else(|e| panic!("GET {url} failed: {e}"));
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.unwrap_or_else(|e| panic!("GET {url}: no body: {e}"));
    Answer { status, location, body }
}

/// `GET` the daemon's OIDC callback with `query` (already encoded).
pub async fn callback(daemon: &Daemon, query: &str) -> Answer {
    get(&format!("{}?{query}", daemon.redirect_uri())).await
}

/// A callback carrying `state` and a made-up code, as a forger sends it.
pub async fn forged_code(daemon: &Daemon, state: &str) -> Answer {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("state", state)
        .append_pair("code", "forged-code")
        .finish();
    callback(daemon, &query).await
}
