//! Posts to the daemon's SAML assertion consumer service by hand, as a
//! misbehaving IdP or a forger would, and reads the page it answers with.
//!
//! The forged responses here are well-formed SAML that nobody signed: the
//! daemon must refuse them by `RelayState` and `InResponseTo` alone, since a
//! signature is the Pod's to check.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use url::Url;

/// Bound on one post, including a body of several MiB.
const POST_TIMEOUT: Duration = Duration::from_secs(30);
/// The SAML status of a successful response.
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// What the daemon answered.
#[derive(Debug, Clone)]
pub struct AcsAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The `Allow` header, if any.
    pub allow: Option<String>,
    /// The `Location` header of a redirect to the next Pod's SSO URL.
    pub location: Option<String>,
    /// The text of the page's `p#message`, unescaped enough to search.
    pub message: String,
}

/// A client of one daemon's `/api/saml`.
#[derive(Debug, Clone)]
pub struct Acs {
    url: String,
    http: reqwest::Client,
}

impl Acs {
    /// The ACS of the daemon whose callback port is `callback_port`.
    pub fn new(callback_port: u16) -> Self {
        let http = reqwest::Client::builder()
            .timeout(POST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("build an http client");
        Self { url: format!("http://localhost:{callback_port}/api/saml"), http }
    }

    /// Posts `fields` form-encoded, as an IdP's auto-post page does.
    pub async fn post_form(&self, fields: &[(&str, &str)]) -> AcsAnswer {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter().copied())
            .finish();
        self.post("application/x-www-form-urlencoded", body.into_bytes()).await
    }

    /// Posts `body` as it is, with `content_type`.
    pub async fn post(&self, content_type: &str, body: Vec<u8>) -> AcsAnswer {
        let request = self.http.post(&self.url).header("content-type", content_type).body(body);
        answer(request.send().await, &self.url).await
    }

    /// `GET /api/saml`, as an IdP configured for the Redirect binding would.
    pub async fn get(&self) -> AcsAnswer {
        answer(self.http.get(&self.url).send().await, &self.url).await
    }
}

async fn answer(sent: reqwest::Result<reqwest::Response>, url: &str) -> AcsAnswer {
    let response = sent.unwrap_or_else(|e| panic!("cannot reach the ACS {url}: {e}"));
    let status = response.status().as_u16();
    let header = |name: &str| {
        response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
    };
    let (allow, location) = (header("allow"), header("location"));
    let body = response.text().await.unwrap_or_else(|e| panic!("cannot read {url}'s page: {e}"));
    AcsAnswer { status, allow, location, message: page_message(&body) }
}

/// The text of `<p id="message">`, with the daemon's entity escapes undone.
fn page_message(body: &str) -> String {
    let Some(start) = body.find("<p id=\"message\">") else { return String::new() };
    let text = &body[start + "<p id=\"message\">".len()..];
    let text = text.split("</p>").next().unwrap_or_default();
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// An unsigned, well-formed SAML Response answering `in_response_to` with
/// Success, base64 as an IdP posts it, padded with an XML comment to at
/// least `min_bytes` of base64.
pub fn forged_response(in_response_to: &str, min_bytes: usize) -> String {
    let head = format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_forged\" Version=\"2.0\" \
         IssueInstant=\"2026-01-01T00:00:00Z\" InResponseTo=\"{in_response_to}\">\
         <saml:Issuer>https://forger.invalid/</saml:Issuer>\
         <samlp:Status><samlp:StatusCode Value=\"{STATUS_SUCCESS}\"/></samlp:Status>"
    );
    let tail = "</samlp:Response>";
    // Base64 takes 4 bytes for every 3.
    let padding = (min_bytes * 3 / 4).saturating_sub(head.len() + tail.len());
    let xml = format!("{head}<!--{}-->{tail}", "p".repeat(padding));
    STANDARD.encode(xml)
}

/// The `RelayState` the daemon put into an SSO URL it handed out.
pub fn relay_state_of(sso_url: &str) -> String {
    let url = Url::parse(sso_url).unwrap_or_else(|e| panic!("{sso_url:?} is not a URL: {e}"));
    url.query_pairs()
        .find(|(key, _)| key == "RelayState")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no RelayState in {sso_url}"))
}

/// `sso_url` with its `RelayState` replaced by `relay_state`: the browser
/// visit that makes the IdP answer one request with another's RelayState.
pub fn with_relay_state(sso_url: &str, relay_state: &str) -> String {
    let mut url = Url::parse(sso_url).unwrap_or_else(|e| panic!("{sso_url:?} is not a URL: {e}"));
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(key, value)| {
            let value =
                if key == "RelayState" { relay_state.to_owned() } else { value.into_owned() };
            (key.into_owned(), value)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.into()
}
