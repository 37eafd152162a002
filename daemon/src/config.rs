//! Daemon configuration in layers: built-in defaults, then the TOML file at
//! `$XDG_CONFIG_HOME/podauth/config.toml` (every key optional), then
//! `PODAUTH_*` variables, then command-line flags (applied by the binary).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::browser::BrowserCommand;
use crate::environment::{
    DEFAULT_ENVIRONMENT, EnvironmentConfig, Environments, LoopbackDefaults, parse_loopback_host,
};
use crate::error::Error;
use crate::tokens::SessionSettings;
use crate::tokens::store::{FileStore, StoreChoice};

/// Host of the loopback challenge-handler server unless configured.
pub const DEFAULT_CALLBACK_HOST: &str = "localhost";
/// Port of the loopback challenge-handler server unless configured.
pub const DEFAULT_CALLBACK_PORT: u16 = 29206;
/// How long a user has to finish in the browser unless the request says.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// The longest deadline a request may ask for.
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// Refresh an access token when it has less than this left.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// How long one call to the session store may take.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// The config file as written; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    default_environment: Option<String>,
    callback_host: Option<String>,
    callback_port: Option<u16>,
    browser: Option<String>,
    request_timeout_seconds: Option<u64>,
    token_store: Option<String>,
    refresh_margin_seconds: Option<u64>,
    persist_access_tokens: Option<bool>,
    store_timeout_seconds: Option<u64>,
    #[serde(default)]
    environments: BTreeMap<String, EnvironmentConfig>,
}

/// The daemon's whole configuration, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, when one was found.
    pub config_path: Option<PathBuf>,
    /// Auth environments, built-in and configured.
    pub environments: Environments,
    /// How to open a browser.
    pub browser: BrowserCommand,
    /// Default deadline of a request.
    pub request_timeout: Duration,
    /// Which session store to use.
    pub token_store: StoreChoice,
    /// Directory of the file store.
    pub state_dir: PathBuf,
    /// How sessions refresh and what they persist.
    pub sessions: SessionSettings,
    /// How long one store call may take.
    pub store_timeout: Duration,
}

/// Reads `PODAUTH_*` variables; a function so tests need not touch the
/// process environment.
pub type VarLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Config {
    /// Loads the config: `explicit` (a `--config` flag) or `$PODAUTH_CONFIG`
    /// must exist; the XDG default may be missing, and then the built-in
    /// defaults apply.
    pub fn load(explicit: Option<&Path>, var: VarLookup<'_>) -> Result<Self, Error> {
        let explicit =
            explicit.map(Path::to_path_buf).or_else(|| var("PODAUTH_CONFIG").map(PathBuf::from));
        let (path, text) = match explicit {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| Error::ReadConfig { path: path.clone(), source })?;
                (Some(path), text)
            }
            None => match default_path() {
                Some(path) if path.exists() => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|source| Error::ReadConfig { path: path.clone(), source })?;
                    (Some(path), text)
                }
                _ => (None, String::new()),
            },
        };
        Self::from_toml(&text, path, var)
    }

    /// Builds the config from TOML text and variables.
    pub fn from_toml(text: &str, path: Option<PathBuf>, var: VarLookup<'_>) -> Result<Self, Error> {
        let file: FileConfig = toml::from_str(text).map_err(|e| Error::ParseConfig {
            path: path.clone().unwrap_or_else(|| PathBuf::from("<config>")),
            message: e.to_string(),
        })?;

        let host = match var("PODAUTH_CALLBACK_HOST").or(file.callback_host) {
            Some(host) => parse_loopback_host(&host).map_err(|reason| Error::InvalidVariable {
                variable: "PODAUTH_CALLBACK_HOST or callback_host",
                value: host.clone(),
                reason,
            })?,
            None => DEFAULT_CALLBACK_HOST.to_owned(),
        };
        let port = match var("PODAUTH_CALLBACK_PORT") {
            Some(text) => text.parse::<u16>().map_err(|e| Error::InvalidVariable {
                variable: "PODAUTH_CALLBACK_PORT",
                value: text.clone(),
                reason: e.to_string(),
            })?,
            None => file.callback_port.unwrap_or(DEFAULT_CALLBACK_PORT),
        };
        // The IdP must list the exact redirect port: an ephemeral one could
        // never be registered.
        if port == 0 {
            return Err(Error::InvalidVariable {
                variable: "PODAUTH_CALLBACK_PORT, --callback-port or callback_port",
                value: "0".into(),
                reason: "the callback port must be a fixed port from 1 to 65535".into(),
            });
        }
        let request_timeout = match var("PODAUTH_REQUEST_TIMEOUT") {
            Some(text) => text.parse::<u64>().map(Duration::from_secs).map_err(|e| {
                Error::InvalidVariable {
                    variable: "PODAUTH_REQUEST_TIMEOUT",
                    value: text.clone(),
                    reason: e.to_string(),
                }
            })?,
            None => {
                file.request_timeout_seconds.map_or(DEFAULT_REQUEST_TIMEOUT, Duration::from_secs)
            }
        };
        let browser = match var("PODAUTH_BROWSER").or(file.browser) {
            Some(command) => {
                BrowserCommand::parse(&command).map_err(|reason| Error::InvalidVariable {
                    variable: "PODAUTH_BROWSER or browser",
                    value: command,
                    reason,
                })?
            }
            None => BrowserCommand::from_env(var("BROWSER")),
        };

        let token_store = match var("PODAUTH_TOKEN_STORE").or(file.token_store) {
            Some(text) => StoreChoice::parse(&text).map_err(|reason| Error::InvalidVariable {
                variable: "PODAUTH_TOKEN_STORE or token_store",
                value: text.clone(),
                reason,
            })?,
            None => StoreChoice::Auto,
        };
        let state_dir = var("PODAUTH_STATE_DIR").map_or_else(FileStore::default_dir, PathBuf::from);
        let sessions = SessionSettings {
            refresh_margin: file
                .refresh_margin_seconds
                .map_or(DEFAULT_REFRESH_MARGIN, Duration::from_secs),
            persist_access_tokens: file.persist_access_tokens.unwrap_or(true),
        };
        let store_timeout =
            file.store_timeout_seconds.map_or(DEFAULT_STORE_TIMEOUT, Duration::from_secs);

        let default = var("PODAUTH_ENVIRONMENT")
            .or(file.default_environment)
            .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_owned());
        let loopback = LoopbackDefaults { host, port };
        let environments = Environments::new(file.environments, default, &loopback)?;

        Ok(Self {
            config_path: path,
            environments,
            browser,
            request_timeout: request_timeout.min(MAX_REQUEST_TIMEOUT),
            token_store,
            state_dir,
            sessions,
            store_timeout,
        })
    }
}

/// `$XDG_CONFIG_HOME/podauth/config.toml` (or the platform's equivalent).
pub fn default_path() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.config_dir().join("podauth").join("config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_vars(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn empty_config_gives_defaults() {
        let config = Config::from_toml("", None, &no_vars).unwrap();
        let prod = config.environments.get(None).unwrap();
        assert_eq!(prod.redirect_port, DEFAULT_CALLBACK_PORT);
        assert_eq!(config.request_timeout, DEFAULT_REQUEST_TIMEOUT);
    }

    #[test]
    fn variables_override_file() {
        let vars = |name: &str| match name {
            "PODAUTH_CALLBACK_PORT" => Some("4100".to_owned()),
            "PODAUTH_ENVIRONMENT" => Some("staging".to_owned()),
            _ => None,
        };
        let config = Config::from_toml("callback_port = 4000", None, &vars).unwrap();
        let env = config.environments.get(None).unwrap();
        assert_eq!(env.name, "staging");
        assert_eq!(env.redirect_port, 4100);
    }

    #[test]
    fn unknown_key_is_an_error_with_its_name() {
        let err = Config::from_toml("callback_prot = 1", None, &no_vars).unwrap_err();
        assert!(err.to_string().contains("callback_prot"), "{err}");
    }

    #[test]
    fn port_zero_is_refused() {
        // An ephemeral port could never be listed at the IdP.
        let err = Config::from_toml("callback_port = 0", None, &no_vars).unwrap_err();
        assert!(err.to_string().contains("fixed port"), "{err}");
    }

    #[test]
    fn bad_port_variable_names_variable() {
        let vars = |name: &str| (name == "PODAUTH_CALLBACK_PORT").then(|| "http".to_owned());
        let err = Config::from_toml("", None, &vars).unwrap_err();
        assert!(err.to_string().contains("PODAUTH_CALLBACK_PORT"), "{err}");
    }
}
