//! A login by device code polls the token endpoint as RFC 8628 says. With
//! the real provider: a code the user refuses ends the login with
//! PERMISSION_DENIED, one nobody confirms with DEADLINE_EXCEEDED, each with
//! its own message. With a scripted token endpoint, for what the provider
//! never sends: `slow_down` adds five seconds to the interval, 5xx answers
//! and dropped connections are polled through, and `expired_token` ends
//! the login as expired.

use std::time::{Duration, Instant};

use podauth::methods::OIDC_DEVICE_CODE;
use podauth::v1 as pb;
use podauth_tests::provider::ProviderOptions;
use podauth_tests::scripted_idp::{Answer, SCRIPTED_INTERVAL_SECONDS, ScriptedIdp};
use podauth_tests::session::{LOGIN_TIMEOUT_SECONDS, LoginRun};
use podauth_tests::{Browser, Daemon, DaemonOptions, Fixture, Provider, TokenStore};
use tonic::Code;

/// The scripted IdP's environment in the daemon's config.
const SCRIPTED_ENVIRONMENT: &str = "scripted";
/// The user the scripted IdP signs in.
const SCRIPTED_USER: &str = "carol@podauth.test";
/// Device code lifetime at the real provider in the expiry test.
const SHORT_DEVICE_CODE_TTL_SECONDS: u32 = 3;
/// RFC 8628 section 3.5: what each `slow_down` adds.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// A poll may come this much before its interval is up (timer and clock
/// granularity); the daemon sleeps the interval after each answer.
const EARLY: Duration = Duration::from_millis(50);
/// A poll may come this much after its interval (two HTTP round trips on a
/// busy machine); far less than a `slow_down` step.
const LATE: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_code_ends_the_login_as_denied() {
    let fixture = Fixture::new("polling_denied");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start_with(&fixture, Some(&provider), file_store(&fixture)).await;
    let browser = Browser::start(&fixture).await;

    let mut client = daemon.client().await;
    let mut run = LoginRun::start(&mut client, OIDC_DEVICE_CODE).await.expect("login starts");
    let action = run.user_action().await;
    browser.refuse_device(&action.url).await;
    browser.close().await;

    let status = run.finish().await.expect_err("a refused login fails");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let message = status.message();
    assert!(message.contains("refused") && message.contains("access_denied"), "{message}");
    assert!(!message.contains("expired"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfirmed_code_ends_the_login_as_expired() {
    let fixture = Fixture::new("polling_expired");
    let options = ProviderOptions {
        device_code_ttl_seconds: SHORT_DEVICE_CODE_TTL_SECONDS,
        ..ProviderOptions::default()
    };
    let provider = Provider::start_with(&fixture, options).await;
    let daemon = Daemon::start_with(&fixture, Some(&provider), file_store(&fixture)).await;

    let mut client = daemon.client().await;
    let started = Instant::now();
    let mut run = LoginRun::start(&mut client, OIDC_DEVICE_CODE).await.expect("login starts");
    run.user_action().await;
    let status = run.finish().await.expect_err("nobody confirms the code");
    let took = started.elapsed();

    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    let message = status.message();
    assert!(message.contains("expired"), "{message}");
    assert!(!message.contains("refused"), "{message}");
    let ttl = Duration::from_secs(SHORT_DEVICE_CODE_TTL_SECONDS.into());
    assert!(took <= ttl + Duration::from_secs(2), "the login ended {took:?} after it began");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_down_adds_five_seconds_to_the_interval() {
    let fixture = Fixture::new("polling_slow_down");
    let script = vec![
        Answer::Error("authorization_pending"),
        Answer::Error("slow_down"),
        Answer::Tokens { subject: SCRIPTED_USER.into() },
    ];
    let (idp, done) = scripted_login(&fixture, script).await;
    assert_eq!(done.expect("the login ends").subject, SCRIPTED_USER);

    let gaps = gaps(&idp.polls());
    let interval = Duration::from_secs(SCRIPTED_INTERVAL_SECONDS);
    assert_eq!(gaps.len(), 2, "three polls: {gaps:?}");
    assert_near(gaps[0], interval, "before slow_down");
    assert_near(gaps[1], interval + SLOW_DOWN_STEP, "after slow_down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_dropped_connections_are_polled_through() {
    let fixture = Fixture::new("polling_transient");
    let script = vec![
        Answer::Status(503),
        Answer::Hangup,
        Answer::Status(502),
        Answer::Error("authorization_pending"),
        Answer::Tokens { subject: SCRIPTED_USER.into() },
    ];
    let (idp, done) = scripted_login(&fixture, script).await;
    assert_eq!(done.expect("transient failures are retried").subject, SCRIPTED_USER);

    // Every poll one interval after the last: no slow-down for a 5xx.
    let gaps = gaps(&idp.polls());
    assert_eq!(gaps.len(), 4, "five polls: {gaps:?}");
    for gap in gaps {
        assert_near(gap, Duration::from_secs(SCRIPTED_INTERVAL_SECONDS), "after a failure");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_ends_the_login_as_expired() {
    let fixture = Fixture::new("polling_expired_token");
    let script = vec![Answer::Error("authorization_pending"), Answer::Error("expired_token")];
    let (idp, done) = scripted_login(&fixture, script).await;

    let status = done.expect_err("an expired code ends the login");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("expired"), "{}", status.message());
    assert_eq!(idp.polls().len(), 2, "no poll after expired_token");
}

/// A daemon with the file store (nothing of the machine's keyring).
fn file_store(fixture: &Fixture) -> DaemonOptions {
    TokenStore::file(fixture).daemon_options()
}

/// Logs in to the scripted environment by device code and returns the
/// fake (with its record of polls) and the login's end.
async fn scripted_login(
    fixture: &Fixture,
    script: Vec<Answer>,
) -> (ScriptedIdp, Result<pb::LoginDone, tonic::Status>) {
    let idp = ScriptedIdp::start(script).await;
    let provider = Provider::start(fixture).await;
    let mut options = file_store(fixture);
    options.config_tables = idp.environment_table(SCRIPTED_ENVIRONMENT);
    let daemon = Daemon::start_with(fixture, Some(&provider), options).await;

    let request = pb::LoginRequest {
        environment: SCRIPTED_ENVIRONMENT.into(),
        method: OIDC_DEVICE_CODE.into(),
        timeout_seconds: Some(LOGIN_TIMEOUT_SECONDS),
        open_browser: Some(false),
    };
    let mut client = daemon.client().await;
    let mut run = LoginRun::start_with(&mut client, request).await.expect("login starts");
    let action = run.user_action().await;
    assert!(action.url.starts_with(idp.issuer()), "{action:?}");
    let done = run.finish().await;
    (idp, done)
}

fn gaps(polls: &[Instant]) -> Vec<Duration> {
    polls.windows(2).map(|pair| pair[1] - pair[0]).collect()
}

fn assert_near(gap: Duration, expected: Duration, what: &str) {
    assert!(
        gap + EARLY >= expected && gap <= expected + LATE,
        "{what}: polled {gap:?} apart, expected {expected:?}"
    );
}
