//! `GET /api/auth/callback/auth0`: the OIDC redirect.
//!
//! The callback is matched to its pending challenge by `state` alone. A
//! malformed callback is answered with a 400 page and never consumes a
//! state; an unknown, expired or used state changes nothing.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use secrecy::SecretString;
use tracing::{debug, instrument};

use super::pages;
use crate::methods::Method;
use crate::pending::{CallbackOutcome, CallbackPayload, Pending};

/// Longest `state` the agent ever issues is 22 bytes; this bounds junk.
const MAX_STATE_BYTES: usize = 256;
/// Codes are short; bounds junk while admitting any real IdP's.
const MAX_CODE_BYTES: usize = 4096;
/// Bounds on the IdP's error fields, which are shown to the user.
const MAX_ERROR_BYTES: usize = 256;
const MAX_DESCRIPTION_BYTES: usize = 1024;

/// The query of a callback, each parameter at most once.
#[derive(Default)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<SecretString>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

/// Handles the OIDC redirect.
#[instrument(skip_all, fields(route = "/api/auth/callback/auth0"))]
pub(super) async fn auth_code(
    State(pending): State<Arc<Pending>>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = match parse(query.as_deref().unwrap_or_default()) {
        Ok(query) => query,
        Err(reason) => {
            debug!(reason, "malformed callback");
            return pages::bad_request(&reason);
        }
    };
    let Some(state) = query.state else {
        return pages::bad_request("the callback carries no state parameter");
    };

    let payload = match (query.code, query.error) {
        (_, Some(error)) => {
            let description = query.error_description.as_deref().map(printable);
            CallbackPayload::Refused { error: printable(&error), description }
        }
        (Some(code), None) => CallbackPayload::AuthCode { code, issuer: query.iss },
        (None, None) => {
            return pages::bad_request("the callback carries neither a code nor an error");
        }
    };

    let outcome = pending.answer(&state, Method::AuthCode, payload);
    debug!(outcome = outcome_name(&outcome), "callback answered");
    pages::outcome(outcome)
}

fn outcome_name(outcome: &CallbackOutcome) -> &'static str {
    match outcome {
        CallbackOutcome::Next(_) => "next",
        CallbackOutcome::Finished => "finished",
        CallbackOutcome::Failed(_) => "failed",
        CallbackOutcome::Unknown => "unknown",
    }
}

/// The IdP's error text with control characters replaced, so it can reach
/// terminals and log lines without escape sequences or forged lines.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect()
}

/// Parses the query, refusing repeated or oversized parameters; unknown
/// parameters (IdPs add their own) are ignored.
fn parse(query: &str) -> Result<CallbackQuery, String> {
    let mut parsed = CallbackQuery::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let (limit, repeated) = match name.as_ref() {
            "state" => (MAX_STATE_BYTES, parsed.state.is_some()),
            "code" => (MAX_CODE_BYTES, parsed.code.is_some()),
            "error" => (MAX_ERROR_BYTES, parsed.error.is_some()),
            "error_description" => (MAX_DESCRIPTION_BYTES, parsed.error_description.is_some()),
            "iss" => (MAX_DESCRIPTION_BYTES, parsed.iss.is_some()),
            _ => continue,
        };
        if repeated {
            return Err(format!("parameter {name} appears more than once"));
        }
        if value.len() > limit {
            return Err(format!("parameter {name} is longer than {limit} bytes"));
        }
        let value = value.into_owned();
        match name.as_ref() {
            "state" => parsed.state = Some(value),
            "code" => parsed.code = Some(SecretString::from(value)),
            "error" => parsed.error = Some(value),
            "error_description" => parsed.error_description = Some(value),
            _ => parsed.iss = Some(value),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_never_pass() {
        assert_eq!(printable("x\u{1b}[2J\nfake"), "x\u{fffd}[2J\u{fffd}fake");
    }

    #[test]
    fn repeated_state_is_refused() {
        let err = parse("state=a&state=b&code=c").err().unwrap();
        assert!(err.contains("state"), "{err}");
    }

    #[test]
    fn oversized_code_is_refused() {
        let query = format!("state=a&code={}", "x".repeat(MAX_CODE_BYTES + 1));
        assert!(parse(&query).err().unwrap().contains("code"));
    }

    #[test]
    fn extra_parameters_are_ignored() {
        let parsed = parse("state=s&code=c&iss=http%3A%2F%2Fidp&session_state=x").unwrap();
        assert_eq!(parsed.state.as_deref(), Some("s"));
        assert_eq!(parsed.iss.as_deref(), Some("http://idp"));
    }
}
