//! Socket activation by `systemd-socket-activate`: nothing runs until the
//! first client connects; then `podauthd` starts on the socket it is
//! handed (it binds none of its own), answers that very connection, and
//! proves an identity by device code that the reference Pod accepts. On
//! SIGTERM it exits 0 and leaves the socket to the service manager, which
//! owns it and will start the next daemon on it.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::time::Duration;

use podauth::Client;
use podauth_tests::activation::Activation;
use podauth_tests::fixture::free_port;
use podauth_tests::request;
use podauth_tests::{
    ALICE, Browser, Fixture, LOCAL_CLIENT_ID, Pod, ProveRun, Provider, bins, daemon,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_client_starts_the_daemon_on_the_passed_socket() {
    let fixture = Fixture::new("activation_prove");
    let provider = Provider::start(&fixture).await;
    let config = daemon::write_config(&fixture, &provider, free_port());
    let socket = fixture.subdir("run").join("agent.sock");
    let config_arg = config.display().to_string();
    let podauthd = bins::podauthd();
    let mut activation =
        Activation::start(&fixture, &socket, &podauthd, &["--config", &config_arg]).await;
    let inode = std::fs::metadata(&socket).expect("the activator's socket").ino();
    assert!(!activation.executed(), "nothing runs before a client comes");

    // The first connection starts the daemon, and is answered by it.
    let mut client = Client::connect_to(&socket).await.expect("connect to the passed socket");
    let status = client.status().await.expect("Status through the passed socket");
    assert_eq!(status.pid, activation.pid(), "the activator became the daemon");
    assert_eq!(status.socket_path, socket.display().to_string());
    assert!(activation.executed(), "{}", activation.log());
    assert_eq!(std::fs::metadata(&socket).unwrap().ino(), inode, "the daemon bound no socket");

    // A whole device-code proof through it.
    let browser = Browser::start(&fixture).await;
    let mut run = ProveRun::started(&mut client, request::device_code(&["pod-a"])).await;
    let proofs = run.proofs().await;
    let action = run.user_actions[0].clone();
    let pod = Pod::new(&provider, LOCAL_CLIENT_ID);
    let polling = tokio::spawn({
        let proof = proofs[0].clone();
        async move { pod.accept(&proof).await }
    });
    browser.approve_device(&action.url, &action.user_code, ALICE).await;
    let identity = polling.await.expect("the Pod's task").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(identity.sub, ALICE);
    browser.close().await;

    activation.signal("TERM");
    let exit = activation.wait_exit(Duration::from_secs(2)).await;
    assert_eq!(exit.code(), Some(0), "{}", activation.log());
    let left = std::fs::symlink_metadata(&socket).expect("the passed socket stays");
    assert!(left.file_type().is_socket() && left.ino() == inode, "the same socket stays");
}
