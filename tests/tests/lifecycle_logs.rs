//! `--log-format json`: every line the daemon writes on stderr is one JSON
//! object with a timestamp, a level and a message, from start through a
//! proof to the end, and a request's lines carry the request's span. The
//! device code handed to the client is not among them.

use std::time::Duration;

use podauth_tests::request::{self, device_code_proof};
use podauth_tests::{Daemon, DaemonOptions, Fixture, ProveRun, Provider};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line() {
    let fixture = Fixture::new("logs_json");
    let provider = Provider::start(&fixture).await;
    let options = DaemonOptions {
        args: vec!["--log-format".into(), "json".into()],
        ..DaemonOptions::default()
    };
    let mut daemon = Daemon::start_with(&fixture, Some(&provider), options).await;

    let mut client = daemon.client().await;
    let mut run = ProveRun::started(&mut client, request::device_code(&["pod-a"])).await;
    let proofs = run.proofs().await;
    let device_code = device_code_proof(&proofs[0]).device_code.clone();
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(2)).await.code(), Some(0));

    let log = daemon.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
        })
        .collect();
    for line in &lines {
        assert!(line.is_object(), "{line}");
        for key in ["timestamp", "level", "message"] {
            assert!(line[key].is_string(), "{key} in {line}");
        }
    }
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    for expected in ["ready", "proof requested", "proof completed", "stopping", "stopped"] {
        assert!(messages.contains(&expected), "{expected:?} in {messages:?}");
    }

    let ready = lines.iter().find(|l| l["message"] == "ready").expect("the ready line");
    assert_eq!(ready["socket"], daemon.socket().display().to_string(), "fields are keys: {ready}");
    let requested =
        lines.iter().find(|l| l["message"] == "proof requested").expect("the request line");
    assert_eq!(requested["span"]["name"], "prove", "{requested}");
    assert_eq!(requested["span"]["method"], "oidc-device-code", "{requested}");
    assert!(!log.contains(&device_code), "the device code is not logged");
}
