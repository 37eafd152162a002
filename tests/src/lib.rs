//! The end-to-end harness of podauth: everything a test needs to prove an
//! identity the way a user does, with nothing mocked.
//!
//! A test takes a [`Fixture`] (its own temporary directory and ports),
//! starts a real OpenID [`Provider`] and a real `podauthd` ([`Daemon`]),
//! asks the daemon for proofs through the client library or the `podauth`
//! command ([`cli`]), acts in headless Chromium ([`Browser`]) as the user
//! would, and hands every proof to a reference [`Pod`], which redeems it at
//! the provider and checks the signed token it gets back. Every process is
//! killed when its handle drops and every wait is bounded.

pub mod activation;
pub mod bins;
pub mod browser;
pub mod cli;
pub mod daemon;
pub mod debian;
pub mod fixture;
pub mod keyring;
pub mod loopback;
pub mod notify;
pub mod pod;
pub mod provider;
pub mod recorder;
pub mod request;
pub mod saml_acs;
pub mod saml_env;
pub mod saml_idp;
pub mod saml_pod;
pub mod scripted_idp;
pub mod session;
pub mod terminal;
pub mod token_store;
pub mod units;

pub use browser::Browser;
pub use daemon::{Daemon, DaemonOptions};
pub use fixture::Fixture;
pub use pod::{Identity, Pod, PodError};
pub use provider::Provider;
pub use recorder::BrowserRecorder;
pub use request::ProveRun;
pub use token_store::TokenStore;

/// The environment the test daemon uses by default.
pub const LOCAL_ENVIRONMENT: &str = "local";
/// A second environment at the same provider, with its own client.
pub const OTHER_ENVIRONMENT: &str = "other";
/// Client id of [`LOCAL_ENVIRONMENT`], registered at the test provider.
pub const LOCAL_CLIENT_ID: &str = "podauth-test";
/// Client id of [`OTHER_ENVIRONMENT`], registered at the test provider.
pub const OTHER_CLIENT_ID: &str = "podauth-other";
/// The audience of identity proofs; the Pod accepts tokens for it only.
pub const PROOF_AUDIENCE: &str = "https://am.bitfount.com/api/access/modellerProofOfIdentity";

/// A user who signs in at the provider; the login name becomes `sub`.
pub const ALICE: &str = "alice@podauth.test";
/// A second user, for tests that need two.
pub const BOB: &str = "bob@podauth.test";
/// The password typed at the provider (it takes any).
pub const PASSWORD: &str = "test-password-not-secret";

/// The login of the `n`th user of a test with many users.
pub fn numbered_user(n: usize) -> String {
    format!("user-{n}@podauth.test")
}
