//! The SAML identity provider of the tests: SimpleSAMLphp from Debian under
//! PHP's built-in server, launched by `tests/idp/saml/start-idp.sh` with a
//! throwaway configuration and key pair in the test's own directory.
//!
//! The IdP must know the daemon's assertion consumer service URL when it
//! starts, and the daemon must know the IdP's single sign-on URL when it
//! starts; both derive from a port alone. So a test first picks the IdP's
//! port ([`SamlIdpPort::pick`]), starts the daemon with
//! [`SamlIdpPort::sso_url`], then starts the IdP for the daemon's callback
//! port ([`SamlIdpPort::start`]). The IdP is killed when its handle drops.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use url::Url;

use crate::bins::repo_root;
use crate::browser::{Browser, LoopbackPage};
use crate::fixture::{Fixture, free_port, within};

/// A user the IdP signs in and answers with Success; the login is the NameID.
pub const SAML_ALICE: &str = "alice";
/// [`SAML_ALICE`]'s password at the test IdP.
pub const SAML_ALICE_PASSWORD: &str = "alice-password";
/// A second user who signs in with Success.
pub const SAML_BOB: &str = "bob";
/// [`SAML_BOB`]'s password at the test IdP.
pub const SAML_BOB_PASSWORD: &str = "bob-password";
/// A user whose login the IdP answers with a signed `Responder` /
/// `RequestDenied` response and no assertion.
pub const SAML_REFUSED: &str = "refused";
/// [`SAML_REFUSED`]'s password at the test IdP.
pub const SAML_REFUSED_PASSWORD: &str = "refused-password";
/// The status message the IdP sends with its refusal of [`SAML_REFUSED`].
pub const SAML_REFUSAL_MESSAGE: &str = "The test IdP refuses user refused.";

/// Entity ids of the reference Pods, all registered at the IdP, so that a
/// test with several Pods gives each its own audience.
pub const SAML_POD_ENTITY_IDS: [&str; 3] =
    ["https://pod-a.test/saml", "https://pod-b.test/saml", "https://pod-c.test/saml"];

/// The IdP's login form: its username field.
const LOGIN_FORM: &str = "form[name=f] input#username";
/// How long the launcher may take to print its settings and answer.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Bound on one readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(50);

/// The port an IdP will listen on, picked before the daemon starts.
#[derive(Debug, Clone, Copy)]
pub struct SamlIdpPort(u16);

impl SamlIdpPort {
    /// A free loopback port for the IdP.
    pub fn pick() -> Self {
        Self(free_port())
    }

    /// The single sign-on URL (HTTP-Redirect binding) the IdP will serve.
    pub fn sso_url(self) -> Url {
        let url = format!("http://127.0.0.1:{}/saml2/idp/SSOService.php", self.0);
        Url::parse(&url).expect("a loopback URL parses")
    }

    /// Starts the IdP, accepting responses to the three loopback spellings
    /// of `/api/saml` on `callback_port`, and waits until it answers.
    pub async fn start(self, fixture: &Fixture, callback_port: u16) -> SamlIdp {
        let dir = fixture.join("saml-idp");
        let log = fixture.join("saml-idp.log");
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));

        let script = repo_root().join("tests/idp/saml/start-idp.sh");
        let mut child = Command::new("bash")
            .arg(&script)
            .arg(self.0.to_string())
            .arg(callback_port.to_string())
            .env("SAML_IDP_DIR", &dir)
            .env("SAML_IDP_SP_ENTITY_IDS", SAML_POD_ENTITY_IDS.join(" "))
            .env("SAML_IDP_WORKERS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));

        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let settings = within(START_TIMEOUT, "the SAML IdP's settings", async {
            read_settings(&mut stdout).await
        })
        .await;
        let Some(settings) = settings else {
            let status = child.wait().await;
            panic!(
                "the SAML IdP launcher stopped early ({status:?}):\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };

        let setting = |key: &str| {
            settings.get(key).cloned().unwrap_or_else(|| panic!("start-idp.sh printed no {key}"))
        };
        let cert_path = PathBuf::from(setting("SAML_IDP_CERT"));
        let cert_pem = std::fs::read_to_string(&cert_path).unwrap_or_else(|e| {
            panic!("cannot read the IdP certificate {}: {e}", cert_path.display())
        });
        let mut idp = SamlIdp {
            port: self.0,
            entity_id: setting("SAML_IDP_ENTITY_ID"),
            sso_url: self.sso_url(),
            cert_pem,
            log,
            _stdout: stdout,
            child,
        };
        assert_eq!(setting("SAML_IDP_SSO_URL"), idp.sso_url.as_str(), "the IdP's SSO URL");

        idp.wait_ready(&setting("SAML_IDP_METADATA_URL")).await;
        idp
    }
}

/// A running SAML IdP.
#[derive(Debug)]
pub struct SamlIdp {
    port: u16,
    entity_id: String,
    sso_url: Url,
    cert_pem: String,
    log: PathBuf,
    // Held open: PHP inherits the launcher's stdout.
    _stdout: Lines<BufReader<ChildStdout>>,
    child: Child,
}

impl SamlIdp {
    /// Its entity id, the `Issuer` of its responses.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// Its single sign-on URL (HTTP-Redirect binding).
    pub fn sso_url(&self) -> &Url {
        &self.sso_url
    }

    /// Its signing certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// PHP's access log and errors so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Opens `sso_url` in `browser`, signs in at the IdP's login page as
    /// `user`, and waits for the daemon's page at the end of the chain: the
    /// IdP posts its response to the daemon, which sends the browser on to
    /// the next Pod's SSO URL, where the IdP session answers at once.
    pub async fn sign_in(
        &self,
        browser: &Browser,
        sso_url: &str,
        user: &str,
        password: &str,
    ) -> LoopbackPage {
        browser.goto(sso_url).await;
        browser.wait_for(LOGIN_FORM).await;
        browser.fill("#username", user).await;
        browser.fill("#password", password).await;
        browser.click("#submit_button").await;
        browser.loopback_page().await
    }

    /// How many times the login form was submitted, from PHP's access log.
    pub fn login_posts(&self) -> usize {
        self.log()
            .lines()
            .filter(|line| line.contains("POST /module.php/core/loginuserpass.php"))
            .count()
    }

    /// Polls the metadata URL until it answers 200, failing the test if the
    /// server exits first (for example, its port was taken).
    async fn wait_ready(&mut self, metadata_url: &str) {
        let http = reqwest::Client::builder()
            .timeout(PROBE_TIMEOUT)
            .build()
            .expect("build an http client");
        let ready = within(START_TIMEOUT, "the SAML IdP's metadata", async {
            loop {
                if let Ok(response) = http.get(metadata_url).send().await {
                    if response.status().is_success() {
                        return true;
                    }
                }
                if self.child.try_wait().is_ok_and(|status| status.is_some()) {
                    return false;
                }
                tokio::time::sleep(PROBE_INTERVAL).await;
            }
        })
        .await;
        assert!(ready, "the SAML IdP on port {} exited while starting:\n{}", self.port, self.log());
    }
}

/// Reads the launcher's `SAML_IDP_*=VALUE` lines up to the last setting it
/// prints before starting PHP; `None` if its output ends first.
async fn read_settings(
    stdout: &mut Lines<BufReader<ChildStdout>>,
) -> Option<HashMap<String, String>> {
    let mut settings = HashMap::new();
    while let Ok(Some(line)) = stdout.next_line().await {
        if let Some((key, value)) = line.split_once('=') {
            settings.insert(key.to_owned(), value.to_owned());
        }
        if line.starts_with("SAML_IDP_ACS_URL=") && settings.contains_key("SAML_IDP_CERT") {
            return Some(settings);
        }
    }
    None
}
