//! Auth environments: which IdP answers, which client id Pods must send, and
//! which audiences and scopes are asked for.
//!
//! `production` and `staging` are built in with the platform's public values;
//! any other environment comes from the config file.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use url::Url;

use crate::error::Error;

/// Path of the OIDC redirect on the loopback server, as the IdPs list it.
pub const AUTH_CODE_CALLBACK_PATH: &str = "/api/auth/callback/auth0";
/// Path of the SAML assertion consumer service on the loopback server.
pub const SAML_ACS_PATH: &str = "/api/saml";

/// Audience of identity proofs for Pods.
pub const PROOF_AUDIENCE: &str = "https://am.bitfount.com/api/access/modellerProofOfIdentity";
/// Scope of identity proofs for Pods.
pub const PROOF_SCOPE: &str = "execute:task";
/// Audience of the user's own session with the platform.
pub const API_AUDIENCE: &str = "https://hub.bitfount.com/api";
/// Scopes of the user's own session with the platform.
pub const SESSION_SCOPES: &str = "profile openid offline_access";

/// Name of the environment used when neither request nor config names one.
pub const DEFAULT_ENVIRONMENT: &str = "production";

/// Where an environment's IdP lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdpLocation {
    /// An Auth0-style domain (held as `https://<domain>/`) with Auth0's fixed
    /// endpoint paths; no discovery.
    AuthDomain(Url),
    /// An OpenID Provider issuer whose endpoints come from discovery.
    Issuer(Url),
}

/// One resolved auth environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// The name clients use to pick it.
    pub name: String,
    /// The IdP.
    pub idp: IdpLocation,
    /// The OIDC client id that Pods of this environment send.
    pub client_id: String,
    /// Audience asked for in identity proofs.
    pub proof_audience: String,
    /// Scope asked for in identity proofs.
    pub proof_scope: String,
    /// Audience of the user's own session.
    pub api_audience: String,
    /// Scopes of the user's own session.
    pub session_scopes: String,
    /// Device authorization endpoint, when discovery does not name one.
    pub device_authorization_endpoint: Option<Url>,
    /// SAML single sign-on URL (HTTP-Redirect binding).
    pub saml_sso_url: Option<Url>,
    /// Loopback host the IdP redirects to (`localhost`, `127.0.0.1`, `::1`).
    pub redirect_host: String,
    /// Loopback port the IdP redirects to.
    pub redirect_port: u16,
}

impl Environment {
    /// The issuer URL: the configured one, or `https://<auth domain>/`.
    pub fn issuer(&self) -> &Url {
        match &self.idp {
            IdpLocation::Issuer(url) | IdpLocation::AuthDomain(url) => url,
        }
    }

    /// The host of the IdP, the only host whose pages the agent opens.
    pub fn idp_host(&self) -> &str {
        self.issuer().host_str().unwrap_or_default()
    }

    /// The loopback base URL the IdP redirects to, e.g. `http://localhost:29206`.
    pub fn loopback_base(&self) -> String {
        let host = &self.redirect_host;
        if host.contains(':') {
            format!("http://[{host}]:{}", self.redirect_port)
        } else {
            format!("http://{host}:{}", self.redirect_port)
        }
    }

    /// The OIDC `redirect_uri` registered at the IdP.
    pub fn redirect_uri(&self) -> String {
        format!("{}{AUTH_CODE_CALLBACK_PATH}", self.loopback_base())
    }

    /// The SAML assertion consumer service URL registered at the IdP.
    pub fn saml_acs_url(&self) -> String {
        format!("{}{SAML_ACS_PATH}", self.loopback_base())
    }
}

/// An environment as written in the config file; every key but the client
/// id and one of `issuer` or `auth_domain` is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    issuer: Option<String>,
    auth_domain: Option<String>,
    client_id: Option<String>,
    proof_audience: Option<String>,
    proof_scope: Option<String>,
    api_audience: Option<String>,
    session_scopes: Option<String>,
    device_authorization_endpoint: Option<String>,
    saml_sso_url: Option<String>,
    redirect_host: Option<String>,
    redirect_port: Option<u16>,
}

/// Loopback defaults that environments inherit unless they set their own.
#[derive(Debug, Clone)]
pub struct LoopbackDefaults {
    /// Host, `localhost` unless configured.
    pub host: String,
    /// Port, 29206 unless configured.
    pub port: u16,
}

/// All environments known to the daemon, by name.
#[derive(Debug, Clone)]
pub struct Environments {
    by_name: BTreeMap<String, Environment>,
    default: String,
}

impl Environments {
    /// The built-in environments plus those of the config file, which may
    /// replace a built-in one of the same name.
    pub fn new(
        configured: BTreeMap<String, EnvironmentConfig>,
        default: String,
        loopback: &LoopbackDefaults,
    ) -> Result<Self, Error> {
        let mut by_name = BTreeMap::new();
        for builtin in builtins(loopback) {
            by_name.insert(builtin.name.clone(), builtin);
        }
        for (name, config) in configured {
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(Error::InvalidEnvironment {
                    environment: name,
                    key: "name".into(),
                    reason: "use ASCII letters, digits, '-', '_' and '.' only".into(),
                });
            }
            let environment = from_config(&name, config, loopback)?;
            by_name.insert(name, environment);
        }

        if !by_name.contains_key(&default) {
            return Err(Error::UnknownDefaultEnvironment {
                name: default,
                known: by_name.keys().cloned().collect(),
            });
        }
        Ok(Self { by_name, default })
    }

    /// The environment of that name, or the default one for `None` or "".
    pub fn get(&self, name: Option<&str>) -> Option<&Environment> {
        let name = name.filter(|n| !n.is_empty()).unwrap_or(&self.default);
        self.by_name.get(name)
    }

    /// The default environment's name.
    pub fn default_name(&self) -> &str {
        &self.default
    }

    /// Every environment's name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.by_name.keys().cloned().collect()
    }

    /// Every environment.
    pub fn iter(&self) -> impl Iterator<Item = &Environment> {
        self.by_name.values()
    }
}

struct Builtin {
    name: &'static str,
    auth_domain: &'static str,
    client_id: &'static str,
    saml_sso_url: &'static str,
}

const BUILTINS: [Builtin; 2] = [
    Builtin {
        name: "production",
        auth_domain: "auth.bitfount.com",
        client_id: "8iCJ33Kp6hc9ofrXTzr5GLxMRHWrlzZO",
        saml_sso_url: "https://prod-bitfount.eu.auth0.com/samlp/8iCJ33Kp6hc9ofrXTzr5GLxMRHWrlzZO",
    },
    Builtin {
        name: "staging",
        auth_domain: "auth.staging.bitfount.com",
        client_id: "Wk4XZHDKfY8F3OYcKdagIHETt6JYwX08",
        saml_sso_url: "https://dev-bitfount.eu.auth0.com/samlp/Wk4XZHDKfY8F3OYcKdagIHETt6JYwX08",
    },
];

fn builtins(loopback: &LoopbackDefaults) -> impl Iterator<Item = Environment> + '_ {
    BUILTINS.iter().filter_map(|b| {
        Some(Environment {
            name: b.name.to_owned(),
            idp: IdpLocation::AuthDomain(parse_auth_domain(b.auth_domain).ok()?),
            client_id: b.client_id.to_owned(),
            proof_audience: PROOF_AUDIENCE.to_owned(),
            proof_scope: PROOF_SCOPE.to_owned(),
            api_audience: API_AUDIENCE.to_owned(),
            session_scopes: SESSION_SCOPES.to_owned(),
            device_authorization_endpoint: None,
            saml_sso_url: Url::parse(b.saml_sso_url).ok(),
            redirect_host: loopback.host.clone(),
            redirect_port: loopback.port,
        })
    })
}

fn from_config(
    name: &str,
    config: EnvironmentConfig,
    loopback: &LoopbackDefaults,
) -> Result<Environment, Error> {
    let invalid = |key: &str, reason: String| Error::InvalidEnvironment {
        environment: name.to_owned(),
        key: key.to_owned(),
        reason,
    };

    let idp = match (config.issuer, config.auth_domain) {
        (Some(issuer), None) => {
            IdpLocation::Issuer(parse_http_url(&issuer).map_err(|r| invalid("issuer", r))?)
        }
        (None, Some(domain)) => IdpLocation::AuthDomain(
            parse_auth_domain(&domain).map_err(|r| invalid("auth_domain", r))?,
        ),
        (Some(_), Some(_)) => {
            return Err(invalid("issuer", "set either issuer or auth_domain, not both".into()));
        }
        (None, None) => return Err(invalid("issuer", "set issuer or auth_domain".into())),
    };
    let client_id = config
        .client_id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| invalid("client_id", "missing or empty".into()))?;

    let optional_url = |key: &str, value: Option<String>| {
        value.map(|v| parse_http_url(&v).map_err(|r| invalid(key, r))).transpose()
    };
    let device_authorization_endpoint =
        optional_url("device_authorization_endpoint", config.device_authorization_endpoint)?;
    let saml_sso_url = optional_url("saml_sso_url", config.saml_sso_url)?;

    let redirect_host = match config.redirect_host {
        Some(host) => parse_loopback_host(&host).map_err(|r| invalid("redirect_host", r))?,
        None => loopback.host.clone(),
    };

    Ok(Environment {
        name: name.to_owned(),
        idp,
        client_id,
        proof_audience: config.proof_audience.unwrap_or_else(|| PROOF_AUDIENCE.to_owned()),
        proof_scope: config.proof_scope.unwrap_or_else(|| PROOF_SCOPE.to_owned()),
        api_audience: config.api_audience.unwrap_or_else(|| API_AUDIENCE.to_owned()),
        session_scopes: config.session_scopes.unwrap_or_else(|| SESSION_SCOPES.to_owned()),
        device_authorization_endpoint,
        saml_sso_url,
        redirect_host,
        redirect_port: match config.redirect_port {
            Some(0) => {
                return Err(invalid(
                    "redirect_port",
                    "must be a fixed port from 1 to 65535".into(),
                ));
            }
            Some(port) => port,
            None => loopback.port,
        },
    })
}

/// An absolute `http` or `https` URL with a host.
fn parse_http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{text:?} is not an http(s) URL with a host"));
    }
    Ok(url)
}

/// A bare host name such as `auth.example.com`, as `https://<host>/`.
fn parse_auth_domain(text: &str) -> Result<Url, String> {
    let url = Url::parse(&format!("https://{text}/"))
        .map_err(|e| format!("{text:?} is not a host name: {e}"))?;
    match url.host_str() {
        Some(host) if host == text.to_ascii_lowercase() && url.port().is_none() => Ok(url),
        _ => Err(format!("{text:?} is not a bare host name (no scheme, port or path)")),
    }
}

/// `localhost`, `127.0.0.1` or `::1` (brackets allowed): the loopback server
/// never listens anywhere else.
pub(crate) fn parse_loopback_host(text: &str) -> Result<String, String> {
    let host = text.trim_start_matches('[').trim_end_matches(']');
    match host {
        "localhost" | "127.0.0.1" | "::1" => Ok(host.to_owned()),
        _ => Err(format!("{text:?} is not a loopback host (localhost, 127.0.0.1 or ::1)")),
    }
}

impl fmt::Display for IdpLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AuthDomain(url) | Self::Issuer(url) => write!(f, "{url}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> LoopbackDefaults {
        LoopbackDefaults { host: "localhost".into(), port: 29206 }
    }

    fn parse(toml_text: &str) -> Result<Environments, Error> {
        let configured: BTreeMap<String, EnvironmentConfig> = toml::from_str(toml_text).unwrap();
        Environments::new(configured, DEFAULT_ENVIRONMENT.into(), &loopback())
    }

    #[test]
    fn builtins_need_no_config() {
        let envs = parse("").unwrap();
        let prod = envs.get(None).unwrap();
        assert_eq!(prod.name, "production");
        assert_eq!(prod.client_id, "8iCJ33Kp6hc9ofrXTzr5GLxMRHWrlzZO");
        assert_eq!(prod.issuer().as_str(), "https://auth.bitfount.com/");
        assert_eq!(prod.redirect_uri(), "http://localhost:29206/api/auth/callback/auth0");
        let staging = envs.get(Some("staging")).unwrap();
        assert_eq!(staging.idp_host(), "auth.staging.bitfount.com");
    }

    #[test]
    fn configured_environment_with_ipv6_redirect() {
        let envs = parse(
            r#"[local]
               issuer = "http://127.0.0.1:3000"
               client_id = "abc"
               redirect_host = "[::1]"
               redirect_port = 4000"#,
        )
        .unwrap();
        let local = envs.get(Some("local")).unwrap();
        assert_eq!(local.redirect_uri(), "http://[::1]:4000/api/auth/callback/auth0");
        assert_eq!(local.idp_host(), "127.0.0.1");
        assert_eq!(local.proof_scope, "execute:task");
    }

    #[test]
    fn errors_name_environment_and_key() {
        let err = parse("[x]\nissuer = \"ftp://a\"\nclient_id = \"c\"").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"x\"") && text.contains("issuer"), "{text}");

        let err = parse("[x]\nauth_domain = \"a.com/path\"\nclient_id = \"c\"").unwrap_err();
        assert!(err.to_string().contains("auth_domain"), "{err}");

        let err = parse("[x]\nissuer = \"http://a\"").unwrap_err();
        assert!(err.to_string().contains("client_id"), "{err}");

        let err =
            parse("[x]\nissuer = \"http://a\"\nclient_id = \"c\"\nredirect_host = \"0.0.0.0\"")
                .unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
    }

    #[test]
    fn unknown_default_is_refused() {
        let err = Environments::new(BTreeMap::new(), "nope".into(), &loopback()).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        assert!(err.to_string().contains("production"), "{err}");
    }
}
