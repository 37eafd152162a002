//! Nothing lost to a crash: the daemon refreshes over and over (every
//! `GetToken` is due) and is killed with SIGKILL at a random moment, 100
//! rounds per store. After every kill the store holds a whole session,
//! never a torn one, and the next daemon carries on with it.
//!
//! A kill can cost the session only inside a refresh: from the moment the
//! request reaches the provider, which rotates the refresh token whether or
//! not anyone reads its answer, until the new token is stored. The store
//! then holds the old token, whose next use the provider takes for a replay.
//! The daemon's log tells where each kill fell; the suite asserts that no
//! kill outside a refresh costs the session, checks the lost rounds against
//! the provider's own `invalid_grant` tally, logs in again after each, and
//! prints the figures.

use std::path::Path;
use std::time::{Duration, Instant};

use podauth_tests::fixture::within;
use podauth_tests::session::{self, ProviderSide};
use podauth_tests::{ALICE, Browser, Daemon, Fixture, LOCAL_ENVIRONMENT, Provider, TokenStore};
use rand::Rng;
use tonic::Code;

/// Rounds of refresh-and-kill per store.
const ROUNDS: usize = 100;
/// The kill falls this long, at most, after refreshing starts.
const MAX_KILL_DELAY: Duration = Duration::from_millis(30);
/// Larger than any access token's lifetime: every `GetToken` refreshes.
const ALWAYS_DUE_MARGIN_SECONDS: u64 = 7 * 24 * 3600;
/// Bound on one round's refresh loop after the kill.
const ROUND_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keyring_session_survives_kill_9_during_refreshes() {
    let fixture = Fixture::new("session_crash_keyring");
    let store = TokenStore::keyring(&fixture).await;
    kill_during_refreshes(&fixture, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_session_survives_kill_9_during_refreshes() {
    let fixture = Fixture::new("session_crash_file");
    let store = TokenStore::file(&fixture);
    kill_during_refreshes(&fixture, &store).await;
}

/// The daemon's log lines of one refresh, in the order it writes them.
const REFRESH_STARTED: &str = "refreshing access token";
const REFRESH_GRANTED: &str = "refresh granted; storing it";
const REFRESH_STORED: &str = "access token refreshed";

/// Where in the refreshes a kill fell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moment {
    /// Between refreshes: every rotated refresh token was stored.
    Safe,
    /// A refresh had started: its request was on its way to the provider,
    /// or the provider was answering it.
    ProviderAnswering,
    /// The daemon had the answer but had not finished storing it.
    Storing,
}

/// How many refreshes the daemon's log shows started, granted and stored.
#[derive(Debug, Clone, Copy, Default)]
struct Marks {
    started: u64,
    granted: u64,
    stored: u64,
}

impl Marks {
    fn read(log: &Path) -> Self {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let count = |needle: &str| text.lines().filter(|l| l.contains(needle)).count() as u64;
        Self {
            started: count(REFRESH_STARTED),
            granted: count(REFRESH_GRANTED),
            stored: count(REFRESH_STORED),
        }
    }

    /// Where the kill fell, from the killed daemon's log before and after
    /// the round: a refresh started (its request may be at the provider)
    /// and not yet stored, and whether its answer had come.
    fn moment(before: Self, after: Self) -> Moment {
        let stored = after.stored - before.stored;
        match after.started - before.started - stored {
            0 => Moment::Safe,
            1 if after.granted - before.granted > stored => Moment::Storing,
            1 => Moment::ProviderAnswering,
            _ => panic!("one refresh at a time, yet the log went {before:?} -> {after:?}"),
        }
    }
}

/// The median time, in milliseconds, from a refresh's start to the
/// provider's answer, and from the answer to the end of the store write,
/// over the completed refreshes in every daemon log of the test.
fn median_phases(fixture: &Fixture) -> (f64, f64) {
    let mut asking = Vec::new();
    let mut storing = Vec::new();
    let logs = std::fs::read_dir(fixture.path()).expect("the test directory");
    for entry in logs.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("podauthd-") && name.ends_with(".log")) {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let (mut started, mut granted) = (None, None);
        for line in text.lines() {
            let at = seconds_of_day(line);
            if line.contains(REFRESH_STARTED) {
                (started, granted) = (at, None);
            } else if line.contains(REFRESH_GRANTED) {
                granted = at;
            } else if let (true, Some(t0), Some(t1), Some(t2)) =
                (line.contains(REFRESH_STORED), started, granted, at)
            {
                asking.push((t1 - t0) * 1e3);
                storing.push((t2 - t1) * 1e3);
            }
        }
    }
    (median(&mut asking), median(&mut storing))
}

/// The time of day of a log line's leading RFC 3339 timestamp, in seconds.
fn seconds_of_day(line: &str) -> Option<f64> {
    let time = line.split_whitespace().next()?.split_once('T')?.1.trim_end_matches('Z');
    let mut fields = time.split(':').map(str::parse::<f64>);
    let (hours, minutes, seconds) =
        (fields.next()?.ok()?, fields.next()?.ok()?, fields.next()?.ok()?);
    Some(hours * 3600.0 + minutes * 60.0 + seconds)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One round's outcome.
#[derive(Debug)]
struct Round {
    moment: Moment,
    lost: bool,
    answered: u64,
}

async fn kill_during_refreshes(fixture: &Fixture, store: &TokenStore) {
    let provider = Provider::start(fixture).await;
    let mut options = store.daemon_options();
    options.config_keys.push(format!("refresh_margin_seconds = {ALWAYS_DUE_MARGIN_SECONDS}"));
    let mut daemon = Daemon::start_with(fixture, Some(&provider), options.clone()).await;
    let browser = Browser::start(fixture).await;
    session::login_by_device_code(&daemon, &browser, ALICE).await;

    let started = Instant::now();
    let mut rounds = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let log = daemon.log_path().to_owned();
        let before = Marks::read(&log);
        let delay = rand::rng().random_range(Duration::ZERO..=MAX_KILL_DELAY);
        let answered = refresh_until_killed(daemon, delay).await;
        let after = Marks::read(&log);

        // Whatever the moment, the entry is whole (`session` fails the
        // test on a torn one) and still there.
        let stored = store.session(LOCAL_ENVIRONMENT).await;
        let stored = stored.unwrap_or_else(|| panic!("round {round}: the kill lost the entry"));
        assert_eq!(stored.subject, ALICE, "round {round}");

        daemon = Daemon::start_with(fixture, Some(&provider), options.clone()).await;
        let lost = match daemon.client().await.token("").await {
            Ok(_) => false,
            Err(error) if error.code() == Some(Code::Unauthenticated) => {
                assert!(error.to_string().contains("log in again"), "round {round}: {error}");
                assert!(store.entry(LOCAL_ENVIRONMENT).await.is_none(), "round {round}");
                true
            }
            Err(error) => panic!("round {round}: GetToken after the restart failed: {error}"),
        };

        let moment = Marks::moment(before, after);
        assert!(
            !(lost && moment == Moment::Safe),
            "round {round}: the session was lost although no refresh was under way"
        );
        if lost {
            session::login_again_by_auth_code(&daemon, &browser).await;
        }
        rounds.push(Round { moment, lost, answered });
    }
    let elapsed = started.elapsed();
    browser.close().await;

    // The provider saw one replayed refresh token per lost round, no more.
    let lost: Vec<usize> = (0..ROUNDS).filter(|&r| rounds[r].lost).collect();
    let refused = session::refused_refreshes(&provider).await;
    assert_eq!(refused, lost.len() as u64, "replays seen by the provider; lost rounds {lost:?}");
    let token = daemon.client().await.token("").await.expect("the session works at the end");
    assert_eq!(ProviderSide::new(&provider).subject_of(&token.access_token).await, ALICE);

    let count = |moment: Moment, lost: bool| {
        rounds.iter().filter(|r| r.moment == moment && r.lost == lost).count()
    };
    let answered: u64 = rounds.iter().map(|r| r.answered).sum();
    let (asking, storing) = median_phases(fixture);
    eprintln!(
        "figure: {} store, median refresh: {asking:.1} ms until the provider's answer, \
         {storing:.1} ms more until it is stored",
        store.backend()
    );
    eprintln!(
        "figure: {} store, {ROUNDS} kill -9 rounds in {elapsed:?}, {answered} tokens answered, \
         {} refreshes at the provider; session lost in {} rounds: {} killed while the \
         provider answered, {} between its answer and the store write; kept in {} rounds \
         killed outside a refresh and in {} killed inside one",
        store.backend(),
        session::refreshes(&provider).await,
        lost.len(),
        count(Moment::ProviderAnswering, true),
        count(Moment::Storing, true),
        count(Moment::Safe, false),
        count(Moment::ProviderAnswering, false) + count(Moment::Storing, false),
    );
    if store.secret_service().is_none() {
        let dir = store.dir();
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").file_name().to_string_lossy().into())
            .collect();
        names.sort();
        let session_file = store.file_path(LOCAL_ENVIRONMENT);
        let expected = session_file.file_name().expect("a file name").to_string_lossy();
        assert_eq!(names, [expected.as_ref()], "the file store holds nothing but the session");
    }
    let inside = ROUNDS - count(Moment::Safe, false);
    assert!(inside > 0, "no kill fell inside a refresh: the rounds test nothing");
}

/// Asks for tokens over and over (each one a refresh) and kills the daemon
/// with SIGKILL `delay` after the first request; returns how many were
/// answered.
async fn refresh_until_killed(daemon: Daemon, delay: Duration) -> u64 {
    let mut client = daemon.client().await;
    let refreshing = tokio::spawn(async move {
        let mut answered = 0;
        while client.token("").await.is_ok() {
            answered += 1;
        }
        answered
    });
    tokio::time::sleep(delay).await;
    daemon.kill().await;
    within(ROUND_TIMEOUT, "the refresh loop to notice the kill", refreshing)
        .await
        .expect("the refresh loop ends")
}
