//! A method name the daemon does not speak is refused up front, with the
//! list of the names it does speak, through the library and the command.

use podauth_tests::cli::{self, EXIT_USAGE};
use podauth_tests::request;
use podauth_tests::{Daemon, Fixture, LOCAL_CLIENT_ID, ProveRun, Provider};
use tonic::Code;

/// A plausible method podauth does not have.
const UNKNOWN_METHOD: &str = "oidc-implicit";
/// The valid names, default first, as the daemon lists them.
const VALID_NAMES: &str = "oidc-device-code, oidc-auth-code, saml";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_method_is_refused_with_the_valid_names() {
    let fixture = Fixture::new("unknown_method");
    let provider = Provider::start(&fixture).await;
    let daemon = Daemon::start(&fixture, &provider).await;

    let mut client = daemon.client().await;
    let refused =
        ProveRun::start(&mut client, request::request(UNKNOWN_METHOD, &["pod-a"], LOCAL_CLIENT_ID));
    let status = refused.await.expect_err("an unknown method is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains(UNKNOWN_METHOD), "{}", status.message());
    assert!(status.message().contains(VALID_NAMES), "{}", status.message());
    assert!(daemon.pending().await.is_empty());

    let names: Vec<String> = client.methods().await.unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(names.join(", "), VALID_NAMES, "ListMethods agrees with the refusal");

    let args =
        ["prove", "--method", UNKNOWN_METHOD, "--pod", "pod-a", "--client-id", LOCAL_CLIENT_ID];
    let output = cli::run(daemon.socket(), &args).await;
    output.assert_code(EXIT_USAGE);
    assert!(output.stderr.contains(VALID_NAMES), "{}", output.stderr);
}
