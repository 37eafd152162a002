//! The small pages the loopback server shows in the browser. Every page is
//! `no-store` and sends no referrer, so callback URLs carrying codes are
//! neither cached nor leaked to the next site.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::pending::CallbackOutcome;

/// The browser's next step after a callback.
pub(super) fn outcome(outcome: CallbackOutcome) -> Response {
    match outcome {
        CallbackOutcome::Next(url) => with_headers(Redirect::to(url.as_str()).into_response()),
        CallbackOutcome::Finished => page(
            StatusCode::OK,
            "Identity confirmed",
            "The tool that asked has its answer. You may close this tab.",
        ),
        CallbackOutcome::Failed(error) => page(
            StatusCode::BAD_REQUEST,
            "Identity not confirmed",
            &format!(
                "The request failed: {error}. The tool that asked has been told; you may close this tab."
            ),
        ),
        CallbackOutcome::Unknown => page(
            StatusCode::BAD_REQUEST,
            "Unknown or expired sign-in",
            "This sign-in is unknown, expired or already used. Start again from your tool.",
        ),
    }
}

/// A 400 page for a malformed request.
pub(super) fn bad_request(reason: &str) -> Response {
    page(StatusCode::BAD_REQUEST, "Bad request", reason)
}

/// `GET /`: says what this port is.
pub(super) async fn index() -> Response {
    page(
        StatusCode::OK,
        "podauth",
        "This is the podauth challenge handler. Identity providers send your browser here; \
         there is nothing to do on this page.",
    )
}

/// Anything else.
pub(super) async fn not_found() -> Response {
    page(StatusCode::NOT_FOUND, "Not found", "The podauth challenge handler has no such page.")
}

/// A page with `status`, `title` and one paragraph; both texts are escaped.
pub(super) fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;\
         padding:0 1em;line-height:1.5}}</style></head>\n\
         <body><h1>{title}</h1>\n<p id=\"message\">{message}</p></body></html>\n",
        title = escape(title),
        message = escape(message),
    );
    let mut response =
        (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    with_headers(response)
}

fn with_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Escapes text for HTML element content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
    }
}
