//! Requests to an IdP's token and revocation endpoints (RFC 6749, RFC 8628,
//! RFC 7009), with errors that keep the IdP's error code apart from
//! transport trouble, and never carry a token.

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

/// Tokens granted by the token endpoint.
#[derive(Debug)]
pub struct Granted {
    /// The access token.
    pub access_token: SecretString,
    /// A new refresh token, when the IdP sent one (rotation).
    pub refresh_token: Option<SecretString>,
    /// Lifetime of the access token in seconds.
    pub expires_in: Option<u64>,
    /// The ID token, when `openid` was granted.
    pub id_token: Option<SecretString>,
    /// The token type.
    pub token_type: String,
}

/// A failed token request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenRequestError {
    /// The IdP answered with an OAuth error.
    #[error("{error}{}", description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The error code, e.g. `invalid_grant`.
        error: String,
        /// The description.
        description: Option<String>,
    },
    /// Network trouble or a 5xx: worth retrying.
    #[error("{0}")]
    Transient(String),
    /// The IdP answered something that is not a token response.
    #[error("{0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct SuccessBody {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    id_token: Option<String>,
    token_type: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    error_description: Option<String>,
}

/// POSTs `form` to the token endpoint.
pub async fn request(
    http: &reqwest::Client,
    token_url: &Url,
    form: &[(&str, &str)],
) -> Result<Granted, TokenRequestError> {
    let response = http
        .post(token_url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .map_err(|e| {
            TokenRequestError::Transient(format!("cannot reach {token_url}: {}", without_url(&e)))
        })?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| {
        TokenRequestError::Transient(format!(
            "cannot read the answer of {token_url}: {}",
            without_url(&e)
        ))
    })?;

    if status.is_success() {
        let body: SuccessBody = serde_json::from_slice(&body).map_err(|e| {
            TokenRequestError::Malformed(format!(
                "{token_url} answered {status} with no token response: {}",
                e.classify_name()
            ))
        })?;
        return Ok(Granted {
            access_token: SecretString::from(body.access_token),
            refresh_token: body.refresh_token.filter(|t| !t.is_empty()).map(SecretString::from),
            expires_in: body.expires_in,
            id_token: body.id_token.map(SecretString::from),
            token_type: body.token_type.unwrap_or_else(|| "Bearer".into()),
        });
    }
    if status.is_server_error() {
        return Err(TokenRequestError::Transient(format!("{token_url} answered {status}")));
    }
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(error) => Err(TokenRequestError::Refused {
            error: error.error,
            description: error.error_description,
        }),
        Err(_) => Err(TokenRequestError::Malformed(format!(
            "{token_url} answered {status} without an OAuth error"
        ))),
    }
}

/// RFC 7009: asks the IdP to revoke a refresh token; true when it said yes.
pub async fn revoke(
    http: &reqwest::Client,
    revocation_url: &Url,
    refresh_token: &str,
    client_id: &str,
) -> Result<bool, TokenRequestError> {
    let form =
        [("token", refresh_token), ("token_type_hint", "refresh_token"), ("client_id", client_id)];
    let response = http.post(revocation_url.clone()).form(&form).send().await.map_err(|e| {
        TokenRequestError::Transient(format!("cannot reach {revocation_url}: {}", without_url(&e)))
    })?;
    Ok(response.status().is_success())
}

/// A reqwest error's text without the URL it may carry (ours carry no
/// secrets in URLs, but the form bodies never show up either way).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "");
    }
    text.trim().to_owned()
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "JSON of the wrong shape",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}
