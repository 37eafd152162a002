//! A scripted stand-in for an IdP, for the faults a real provider will not
//! produce on demand: `slow_down`, 5xx answers, connections dropped without
//! an answer. It serves just enough of an OpenID Provider (discovery and
//! device authorization) for the daemon to start a device-code login, and
//! answers each token request with the next step of its script; once the
//! script is used up, with `authorization_pending`.
//!
//! Everything else in the suite runs against the real provider.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Client id of the scripted environment.
pub const SCRIPTED_CLIENT_ID: &str = "podauth-scripted";
/// The user code every device authorization shows.
pub const SCRIPTED_USER_CODE: &str = "SCRP-TEST";
/// `interval` of the device authorization, in seconds.
pub const SCRIPTED_INTERVAL_SECONDS: u64 = 1;
/// Largest request the fake reads.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// One answer of the token endpoint.
#[derive(Debug, Clone)]
pub enum Answer {
    /// An OAuth error (HTTP 400), such as `slow_down`.
    Error(&'static str),
    /// A bare HTTP status with no OAuth body, such as 503.
    Status(u16),
    /// The connection closed with no answer at all.
    Hangup,
    /// Tokens for the user `subject`, with a refresh token.
    Tokens {
        /// The `sub` of the ID token.
        subject: String,
    },
}

#[derive(Debug, Default)]
struct State {
    script: Vec<Answer>,
    polls: Vec<Instant>,
}

/// A running scripted IdP, stopped when dropped.
#[derive(Debug)]
pub struct ScriptedIdp {
    issuer: String,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl ScriptedIdp {
    /// Starts the fake on a free loopback port; its token endpoint answers
    /// with `script`, one step per request.
    pub async fn start(script: Vec<Answer>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the scripted idp");
        let port = listener.local_addr().expect("a bound address").port();
        let issuer = format!("http://127.0.0.1:{port}");
        let mut script = script;
        script.reverse();
        let state = Arc::new(Mutex::new(State { script, polls: Vec::new() }));

        let task = tokio::spawn({
            let state = Arc::clone(&state);
            let issuer = issuer.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, issuer.clone(), Arc::clone(&state)));
                }
            }
        });
        Self { issuer, state, task }
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// When each token request arrived.
    pub fn polls(&self) -> Vec<Instant> {
        self.state.lock().expect("the fake's state").polls.clone()
    }

    /// The config table of an environment `name` at this IdP.
    pub fn environment_table(&self, name: &str) -> String {
        format!(
            "\n[environments.{name}]\nissuer = \"{}\"\nclient_id = \"{SCRIPTED_CLIENT_ID}\"\n",
            self.issuer
        )
    }
}

impl Drop for ScriptedIdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request and answers it; every connection carries one.
async fn serve(mut stream: TcpStream, issuer: String, state: Arc<Mutex<State>>) {
    let Some((path, _body)) = read_request(&mut stream).await else { return };
    let (status, body) = match path.as_str() {
        "/.well-known/openid-configuration" => (200, discovery(&issuer)),
        "/device/auth" => (200, device_authorization(&issuer)),
        "/token" => {
            let answer = {
                let mut state = state.lock().expect("the fake's state");
                state.polls.push(Instant::now());
                state.script.pop().unwrap_or(Answer::Error("authorization_pending"))
            };
            match answer {
                Answer::Error(error) => (400, json!({ "error": error }).to_string()),
                Answer::Status(status) => (status, "<h1>unavailable</h1>".to_owned()),
                Answer::Hangup => return,
                Answer::Tokens { subject } => (200, tokens(&subject)),
            }
        }
        _ => (404, json!({ "error": "not_found" }).to_string()),
    };
    let head = format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The request's path (without query) and body; `None` if the peer went
/// away or sent something that is not HTTP/1.1.
async fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if buffer.len() > MAX_REQUEST_BYTES {
            return None;
        }
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..read]);
    };

    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let target = head.lines().next()?.split_whitespace().nth(1)?.to_owned();
    let length: usize = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length.min(MAX_REQUEST_BYTES) {
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..read]);
    }
    let path = target.split('?').next().unwrap_or_default().to_owned();
    Some((path, buffer[head_end..].to_vec()))
}

fn discovery(issuer: &str) -> String {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "device_authorization_endpoint": format!("{issuer}/device/auth"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
    })
    .to_string()
}

fn device_authorization(issuer: &str) -> String {
    json!({
        "device_code": "scripted-device-code",
        "user_code": SCRIPTED_USER_CODE,
        "verification_uri": format!("{issuer}/device"),
        "verification_uri_complete": format!("{issuer}/device?user_code={SCRIPTED_USER_CODE}"),
        "expires_in": 600,
        "interval": SCRIPTED_INTERVAL_SECONDS,
    })
    .to_string()
}

/// A token response whose ID token names `subject` (unsigned: the daemon
/// reads the subject of tokens it got straight from the token endpoint).
fn tokens(subject: &str) -> String {
    let claims = URL_SAFE_NO_PAD.encode(json!({ "sub": subject }).to_string());
    let id_token = format!("e30.{claims}.scripted");
    json!({
        "access_token": format!("scripted-access-{subject}"),
        "refresh_token": format!("scripted-refresh-{subject}"),
        "id_token": id_token,
        "token_type": "Bearer",
        "expires_in": 3600,
    })
    .to_string()
}
