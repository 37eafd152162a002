//! `POST /api/saml`: the SAML assertion consumer service (HTTP-POST
//! binding).
//!
//! The form is read as a stream with bounded memory, so that a response far
//! over the limit is refused (413) without buffering it, while its
//! `RelayState` still tells the waiting client why. Every other bad post is
//! answered with a 4xx page and consumes nothing: the challenge it names
//! keeps waiting for a good response.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use tracing::{debug, instrument};

use super::pages;
use crate::methods::Method;
use crate::methods::saml::decode_response;
use crate::pending::{CallbackOutcome, CallbackPayload, Pending};

/// Largest `SAMLResponse` accepted, encoded. Responses for users in many
/// groups run to hundreds of KiB; this admits them with room to spare.
pub const MAX_SAML_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Past this many body bytes the post is not read any further.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Longest `RelayState` read; the agent issues 22 bytes.
const MAX_RELAY_STATE_BYTES: usize = 1024;
/// Longest field name worth keeping.
const MAX_KEY_BYTES: usize = 64;

/// `GET /api/saml`: the ACS only takes the HTTP-POST binding.
pub(super) async fn get_not_allowed() -> Response {
    let mut response = pages::page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "This SAML assertion consumer service takes the HTTP-POST binding only: \
         configure the IdP to POST the response here.",
    );
    response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
}

/// Handles a posted SAML response.
#[instrument(skip_all, fields(route = "/api/saml"))]
pub(super) async fn acs(
    State(pending): State<Arc<Pending>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return pages::page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported form",
            "Post the SAML response as application/x-www-form-urlencoded.",
        );
    }

    let form = match read_form(body).await {
        Ok(form) => form,
        Err(reason) => return pages::bad_request(&reason),
    };

    // Too large is decided before anything else: a body cut short at
    // MAX_BODY_BYTES may have lost its RelayState, and is still too large.
    if form.response_too_large || form.body_too_large {
        let reason = if form.response_too_large {
            format!(
                "the IdP posted a SAML response over the limit of {MAX_SAML_RESPONSE_BYTES} bytes"
            )
        } else {
            format!("the post is over the limit of {MAX_BODY_BYTES} bytes")
        };
        let known = form.relay_state.is_some_and(|relay_state| {
            let payload = CallbackPayload::Invalid { reason: reason.clone() };
            !matches!(pending.answer(&relay_state, Method::Saml, payload), CallbackOutcome::Unknown)
        });
        debug!(known, "oversized saml post");
        return pages::page(StatusCode::PAYLOAD_TOO_LARGE, "Response too large", &reason);
    }

    let Some(relay_state) = form.relay_state else {
        return pages::bad_request("the post carries no RelayState");
    };
    let Some(response) = form.saml_response else {
        return pages::bad_request("the post carries no SAMLResponse");
    };
    let summary = match decode_response(response.expose_secret()) {
        Ok(summary) => summary,
        Err(reason) => return pages::bad_request(&reason),
    };

    let payload = CallbackPayload::Saml { response, relay_state: relay_state.clone(), summary };
    pages::outcome(pending.answer(&relay_state, Method::Saml, payload))
}

/// The two fields of the form that matter.
#[derive(Debug, Default)]
struct PostedForm {
    saml_response: Option<SecretString>,
    relay_state: Option<String>,
    response_too_large: bool,
    /// The body went past `MAX_BODY_BYTES` and was not read to its end.
    body_too_large: bool,
}

/// Reads `application/x-www-form-urlencoded` field by field, keeping at most
/// the limits above in memory.
async fn read_form(body: Body) -> Result<PostedForm, String> {
    let mut parser = FormParser::default();
    let mut stream = body.into_data_stream();
    let mut read = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("cannot read the post: {e}"))?;
        read += chunk.len();
        parser.feed(&chunk)?;
        if read > MAX_BODY_BYTES {
            let mut form = parser.finish()?;
            form.body_too_large = true;
            return Ok(form);
        }
    }
    parser.finish()
}

#[derive(Default)]
struct FormParser {
    form: PostedForm,
    key: Vec<u8>,
    value: Vec<u8>,
    in_value: bool,
    value_overflow: bool,
}

impl FormParser {
    fn feed(&mut self, bytes: &[u8]) -> Result<(), String> {
        for &byte in bytes {
            match (byte, self.in_value) {
                (b'&', _) => self.end_field()?,
                (b'=', false) => self.in_value = true,
                (byte, false) => {
                    if self.key.len() < MAX_KEY_BYTES {
                        self.key.push(byte);
                    }
                }
                (byte, true) => {
                    let limit = match self.key.as_slice() {
                        b"SAMLResponse" => MAX_SAML_RESPONSE_BYTES,
                        b"RelayState" => MAX_RELAY_STATE_BYTES,
                        _ => 0,
                    };
                    if self.value.len() < limit {
                        self.value.push(byte);
                    } else if limit > 0 {
                        self.value_overflow = true;
                    }
                }
            }
        }
        Ok(())
    }

    fn end_field(&mut self) -> Result<(), String> {
        let key = std::mem::take(&mut self.key);
        let value = std::mem::take(&mut self.value);
        let overflow = std::mem::take(&mut self.value_overflow);
        self.in_value = false;

        match key.as_slice() {
            b"SAMLResponse" => {
                if self.form.saml_response.is_some() || self.form.response_too_large {
                    return Err("SAMLResponse appears more than once".into());
                }
                if overflow {
                    self.form.response_too_large = true;
                } else {
                    self.form.saml_response = Some(SecretString::from(form_decode(&value)));
                }
            }
            b"RelayState" => {
                if self.form.relay_state.is_some() {
                    return Err("RelayState appears more than once".into());
                }
                if overflow {
                    return Err(format!("RelayState is longer than {MAX_RELAY_STATE_BYTES} bytes"));
                }
                self.form.relay_state = Some(form_decode(&value));
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(mut self) -> Result<PostedForm, String> {
        if !self.key.is_empty() || self.in_value {
            self.end_field()?;
        }
        Ok(self.form)
    }
}

/// Decodes one form value (`+` is a space, `%XX` a byte).
fn form_decode(value: &[u8]) -> String {
    let mut field = b"v=".to_vec();
    field.extend_from_slice(value);
    url::form_urlencoded::parse(&field).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(chunks: &[&[u8]]) -> Result<PostedForm, String> {
        let mut parser = FormParser::default();
        for chunk in chunks {
            parser.feed(chunk)?;
        }
        parser.finish()
    }

    #[test]
    fn fields_split_across_chunks_are_joined_and_decoded() {
        let form = parse(&[b"SAMLRes", b"ponse=ab%2Bc%3D&Relay", b"State=r+1&x=y"]).unwrap();
        assert_eq!(form.saml_response.unwrap().expose_secret(), "ab+c=");
        assert_eq!(form.relay_state.as_deref(), Some("r 1"));
    }

    #[test]
    fn oversized_response_keeps_relay_state() {
        let big = vec![b'A'; MAX_SAML_RESPONSE_BYTES + 10];
        let form = parse(&[b"SAMLResponse=", &big, b"&RelayState=abc"]).unwrap();
        assert!(form.response_too_large && form.saml_response.is_none());
        assert_eq!(form.relay_state.as_deref(), Some("abc"));
    }

    #[tokio::test]
    async fn body_cut_short_is_too_large_though_its_relay_state_was_not_read() {
        let megabyte = axum::body::Bytes::from(vec![b'A'; 1024 * 1024]);
        let mut chunks = vec![axum::body::Bytes::from_static(b"SAMLResponse=")];
        chunks.extend(std::iter::repeat_n(megabyte, MAX_BODY_BYTES / (1024 * 1024) + 1));
        chunks.push(axum::body::Bytes::from_static(b"&RelayState=abc"));
        let stream = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));

        let form = read_form(Body::from_stream(stream)).await.unwrap();
        assert!(form.body_too_large && form.response_too_large);
        assert_eq!(form.relay_state, None);
    }

    #[test]
    fn repeated_fields_are_refused() {
        assert!(parse(&[b"RelayState=a&RelayState=b"]).unwrap_err().contains("RelayState"));
        assert!(parse(&[b"SAMLResponse=a&SAMLResponse=b"]).unwrap_err().contains("SAMLResponse"));
    }
}
