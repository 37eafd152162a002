//! The unit files of `packaging/`: the systemd user units pass
//! `systemd-analyze verify --user` with no warning, and say what the
//! daemon relies on (notify readiness, reload by SIGHUP, the socket where
//! every client looks, private modes); a broken unit fails the same check,
//! so a pass means something. The launchd agent is a well-formed plist.

use std::path::PathBuf;

use podauth_tests::units::{self, SERVICE, SOCKET};
use podauth_tests::{Fixture, bins, cli};
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packaged_units_pass_systemd_analyze_verify() {
    let fixture = Fixture::new("units_verify");
    let copies = units::copies_running(&fixture, "units", &bins::podauthd());
    let output = units::verify(&fixture, &copies).await;
    units::assert_verified(&output, &copies);

    let service = std::fs::read_to_string(units::packaged(SERVICE)).unwrap();
    for line in ["Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "Requires=podauthd.socket"] {
        assert!(service.lines().any(|l| l == line), "{SERVICE} has {line}:\n{service}");
    }
    // %t is $XDG_RUNTIME_DIR: the path every client tries without settings.
    let socket = std::fs::read_to_string(units::packaged(SOCKET)).unwrap();
    for line in ["ListenStream=%t/podauth/agent.sock", "SocketMode=0600", "DirectoryMode=0700"] {
        assert!(socket.lines().any(|l| l == line), "{SOCKET} has {line}:\n{socket}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_fails_a_broken_unit() {
    let fixture = Fixture::new("units_broken");
    let copies = units::copies_running(&fixture, "units", &bins::podauthd());
    let service = &copies[0];
    let text = std::fs::read_to_string(service).unwrap();

    // A misspelt key is only a warning, on stderr.
    std::fs::write(service, text.replace("Type=notify", "Typ=notify")).unwrap();
    let misspelt = units::verify(&fixture, std::slice::from_ref(service)).await;
    assert!(misspelt.stderr.contains("Unknown key"), "{misspelt:?}");

    // A daemon that is not there fails outright.
    let missing = fixture.join("nowhere/podauthd");
    let copies = units::copies_running(&fixture, "units-missing", &missing);
    let output = units::verify(&fixture, &copies).await;
    assert_ne!(output.code, Some(0), "{output:?}");
    assert!(output.stderr.contains(&missing.display().to_string()), "{}", output.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_launchd_agent_is_a_plist_running_podauthd() {
    let plist: PathBuf = bins::repo_root().join("packaging/launchd/dev.podauth.agent.plist");
    // Python's plistlib reads plists as launchd does; no macOS needed.
    let mut command = Command::new("python3");
    command.arg("-c").arg(
        "import json, plistlib, sys\n\
         print(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))",
    );
    command.arg(&plist);
    let output = cli::output(command, "python3 plistlib").await;
    output.assert_code(cli::EXIT_OK);

    let agent: serde_json::Value = serde_json::from_str(&output.stdout).expect("plist as JSON");
    assert_eq!(agent["Label"], "dev.podauth.agent", "{agent}");
    assert_eq!(agent["ProgramArguments"][0], "/usr/local/bin/podauthd", "{agent}");
    assert_eq!(agent["RunAtLoad"], true, "{agent}");
}
