//! A test daemon and a SAML IdP that know each other: the daemon's default
//! auth environment names the IdP's single sign-on URL, and the IdP accepts
//! responses to the daemon's loopback `/api/saml`.
//!
//! The environment is written to the daemon's own
//! `$XDG_CONFIG_HOME/podauth/config.toml`, the file it reads when started
//! without `--config`; the harness then sets only its callback port. With
//! an OpenID [`Provider`] the same environment serves the OIDC methods too,
//! so SAML and OIDC clients share one daemon and one port.

use crate::daemon::{Daemon, DaemonOptions};
use crate::fixture::Fixture;
use crate::provider::Provider;
use crate::saml_idp::{SamlIdp, SamlIdpPort};
use crate::{LOCAL_CLIENT_ID, LOCAL_ENVIRONMENT};

/// Issuer of the environment when a test runs no OpenID Provider; the
/// `saml` method never contacts it.
const NO_OIDC_ISSUER: &str = "http://127.0.0.1:9/";
/// Seconds a request may wait for the browser.
const REQUEST_TIMEOUT_SECONDS: u64 = 120;

/// The daemon and the IdP of one test; both stop when dropped.
#[derive(Debug)]
pub struct SamlEnv {
    /// The daemon, whose default environment is [`LOCAL_ENVIRONMENT`].
    pub daemon: Daemon,
    /// The IdP.
    pub idp: SamlIdp,
}

impl SamlEnv {
    /// Starts a daemon for SAML only, and its IdP.
    pub async fn start(fixture: &Fixture) -> Self {
        Self::start_with(fixture, None).await
    }

    /// Starts a daemon whose environment also names `provider` for the
    /// OIDC methods, and the IdP.
    pub async fn start_with(fixture: &Fixture, provider: Option<&Provider>) -> Self {
        let idp_port = SamlIdpPort::pick();
        let issuer = provider.map_or_else(|| NO_OIDC_ISSUER.to_owned(), Provider::issuer);
        let config = format!(
            "default_environment = \"{LOCAL_ENVIRONMENT}\"\n\
             browser = \"none\"\n\
             request_timeout_seconds = {REQUEST_TIMEOUT_SECONDS}\n\
             \n\
             [environments.{LOCAL_ENVIRONMENT}]\n\
             issuer = \"{issuer}\"\n\
             client_id = \"{LOCAL_CLIENT_ID}\"\n\
             saml_sso_url = \"{}\"\n",
            idp_port.sso_url()
        );
        let config_dir = fixture.subdir("home/.config/podauth");
        std::fs::write(config_dir.join("config.toml"), config).unwrap_or_else(|e| {
            panic!("cannot write the daemon config in {}: {e}", config_dir.display())
        });

        // Without a provider the harness passes no --config, so the daemon
        // reads the file above; the callback port comes by variable.
        let daemon = Daemon::start_with(fixture, None, DaemonOptions::default()).await;
        let idp = idp_port.start(fixture, daemon.callback_port()).await;
        Self { daemon, idp }
    }
}
