//! The shared session: one login per environment that every client uses.
//!
//! [`Sessions`] holds each environment's session behind its own async lock,
//! so any number of concurrent `GetToken` callers cause at most one refresh:
//! the first refreshes, the rest wait and find the new token. A rotated
//! refresh token is written to the store before anyone is answered with the
//! new access token; if that write fails the session stays in memory, marked
//! unsaved, and every later call retries the write before answering.

pub mod file_store;
pub mod keyring_store;
pub mod login;
pub mod session;
pub mod store;
pub mod token_endpoint;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OnceCell;
use tracing::{debug, info, warn};

use self::session::Session;
use self::store::{FileStore, StoreChoice, TimedStore};
use self::token_endpoint::{Granted, TokenRequestError};
use crate::environment::Environment;
use crate::error::TokenError;
use crate::idp::Idp;

/// Access-token lifetime assumed when the IdP names none.
const DEFAULT_ACCESS_LIFETIME: Duration = Duration::from_secs(300);

/// A valid access token, as `GetToken` returns it.
#[derive(Debug)]
pub struct AccessToken {
    /// The token.
    pub token: SecretString,
    /// When it expires.
    pub expires_at: SystemTime,
    /// Its type, normally `Bearer`.
    pub token_type: String,
}

/// A session as `Status` shows it.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    /// The environment.
    pub environment: String,
    /// The signed-in user.
    pub subject: String,
    /// When the access token expires.
    pub access_expires_at: SystemTime,
}

/// How sessions behave; from the config.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// Refresh when the access token has less than this left.
    pub refresh_margin: Duration,
    /// Whether access tokens are written to the store (else memory only).
    pub persist_access_tokens: bool,
}

#[derive(Debug, Default)]
struct Slot {
    loaded: bool,
    session: Option<Session>,
    unsaved: bool,
}

/// Every environment's session, and the store behind them.
#[derive(Debug)]
pub struct Sessions {
    store: OnceCell<TimedStore>,
    choice: StoreChoice,
    file: FileStore,
    store_timeout: Duration,
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
    uid: u32,
}

impl Sessions {
    /// Sessions kept in the store `choice` names; the store is opened on
    /// first use (or by [`Sessions::open_store`]).
    pub fn new(choice: StoreChoice, file: FileStore, store_timeout: Duration) -> Self {
        Self {
            store: OnceCell::new(),
            choice,
            file,
            store_timeout,
            slots: Mutex::new(HashMap::new()),
            uid: podauth_proto::current_uid(),
        }
    }

    /// Opens the store (probing the keyring for `auto`).
    pub async fn open_store(&self) -> &TimedStore {
        self.store
            .get_or_init(|| store::open(self.choice, self.file.clone(), self.store_timeout))
            .await
    }

    /// The store's backend and why, once opened.
    pub fn store_info(&self) -> Option<(&'static str, String)> {
        self.store.get().map(|s| (s.backend(), s.reason().to_owned()))
    }

    /// Stable ASCII key of an environment's session for this user.
    fn key(&self, env: &Environment) -> String {
        format!("session-{}-uid{}", env.name, self.uid)
    }

    fn slot(&self, env: &Environment) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(slots.entry(env.name.clone()).or_default())
    }

    /// A valid access token for `env`, refreshing it when due.
    pub async fn token(
        &self,
        idp: &Idp,
        env: &Environment,
        settings: SessionSettings,
    ) -> Result<AccessToken, TokenError> {
        let slot = self.slot(env);
        let mut slot = slot.lock().await;
        self.load_once(env, &mut slot).await?;
        self.flush_unsaved(env, &mut slot, settings).await?;

        let Some(session) = slot.session.as_ref() else {
            return Err(TokenError::NotLoggedIn { environment: env.name.clone() });
        };
        if let Some(token) = usable(session, settings.refresh_margin) {
            return Ok(token);
        }

        self.refresh(idp, env, &mut slot, settings).await
    }

    /// Stores a new session for `env` (after a login) and holds it.
    pub async fn install(
        &self,
        env: &Environment,
        session: Session,
        settings: SessionSettings,
    ) -> Result<(), TokenError> {
        let slot = self.slot(env);
        let mut slot = slot.lock().await;
        let stored = session.to_stored(settings.persist_access_tokens);
        self.open_store().await.save(&self.key(env), stored).await?;
        *slot = Slot { loaded: true, session: Some(session), unsaved: false };
        Ok(())
    }

    /// Revokes the refresh token where the IdP offers revocation, then
    /// forgets the session. Returns (was logged in, revoked).
    pub async fn logout(&self, idp: &Idp, env: &Environment) -> Result<(bool, bool), TokenError> {
        let slot = self.slot(env);
        let mut slot = slot.lock().await;
        self.load_once(env, &mut slot).await?;
        let Some(session) = slot.session.take() else {
            self.open_store().await.delete(&self.key(env)).await?;
            return Ok((false, false));
        };

        let revoked = match idp.endpoints(env).await.ok().and_then(|e| e.revocation.clone()) {
            Some(url) => {
                let token = session.refresh_token.expose_secret();
                token_endpoint::revoke(idp.http(), &url, token, &env.client_id).await.unwrap_or_else(|error| {
                    warn!(environment = %env.name, %error, "revocation failed; forgetting the session anyway");
                    false
                })
            }
            None => false,
        };
        self.open_store().await.delete(&self.key(env)).await?;
        *slot = Slot { loaded: true, session: None, unsaved: false };
        info!(environment = %env.name, revoked, "logged out");
        Ok((true, revoked))
    }

    /// The sessions held in memory, for `Status`; a session busy refreshing
    /// is left out rather than waited for.
    pub fn snapshot(&self) -> Vec<SessionSummary> {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let mut list: Vec<SessionSummary> = slots
            .iter()
            .filter_map(|(name, slot)| {
                let slot = slot.try_lock().ok()?;
                let session = slot.session.as_ref()?;
                Some(SessionSummary {
                    environment: name.clone(),
                    subject: session.subject.clone(),
                    access_expires_at: session.access_expires_at,
                })
            })
            .collect();
        list.sort_by(|a, b| a.environment.cmp(&b.environment));
        list
    }

    async fn load_once(&self, env: &Environment, slot: &mut Slot) -> Result<(), TokenError> {
        if slot.loaded {
            return Ok(());
        }
        slot.session = self.read_store(env).await?;
        slot.loaded = true;
        Ok(())
    }

    async fn read_store(&self, env: &Environment) -> Result<Option<Session>, TokenError> {
        let Some(text) = self.open_store().await.load(&self.key(env)).await? else {
            return Ok(None);
        };
        Session::from_stored(&text)
            .map(Some)
            .map_err(|reason| TokenError::Corrupt { environment: env.name.clone(), reason })
    }

    async fn flush_unsaved(
        &self,
        env: &Environment,
        slot: &mut Slot,
        settings: SessionSettings,
    ) -> Result<(), TokenError> {
        if let (true, Some(session)) = (slot.unsaved, slot.session.as_ref()) {
            let stored = session.to_stored(settings.persist_access_tokens);
            self.open_store().await.save(&self.key(env), stored).await?;
            slot.unsaved = false;
        }
        Ok(())
    }

    /// Refreshes with the held refresh token. On `invalid_grant` the store
    /// is read again first: another daemon may have rotated the token.
    async fn refresh(
        &self,
        idp: &Idp,
        env: &Environment,
        slot: &mut Slot,
        settings: SessionSettings,
    ) -> Result<AccessToken, TokenError> {
        let endpoints = idp.endpoints(env).await?;
        let mut retried = false;
        loop {
            let Some(session) = slot.session.as_ref() else {
                return Err(TokenError::NotLoggedIn { environment: env.name.clone() });
            };
            let used = session.refresh_token.expose_secret().to_owned();
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", used.as_str()),
                ("client_id", &env.client_id),
            ];
            debug!(environment = %env.name, "refreshing access token");

            match token_endpoint::request(idp.http(), &endpoints.token, &form).await {
                Ok(granted) => {
                    debug!(environment = %env.name, "refresh granted; storing it");
                    let renewed = renewed_session(session, granted);
                    slot.session = Some(renewed);
                    slot.unsaved = true;
                    // The rotated refresh token is stored before anyone
                    // sees the new access token.
                    self.flush_unsaved(env, slot, settings).await?;
                    info!(environment = %env.name, "access token refreshed");
                    let session = slot
                        .session
                        .as_ref()
                        .ok_or_else(|| TokenError::NotLoggedIn { environment: env.name.clone() })?;
                    return usable(session, Duration::ZERO).ok_or_else(|| {
                        TokenError::IdpUnreachable {
                            environment: env.name.clone(),
                            reason: "the refreshed access token is already expired".into(),
                        }
                    });
                }
                Err(TokenRequestError::Refused { error, description })
                    if error == "invalid_grant" =>
                {
                    let stored = self.read_store(env).await?;
                    let rotated_elsewhere =
                        stored.as_ref().is_some_and(|s| s.refresh_token.expose_secret() != used);
                    if rotated_elsewhere && !retried {
                        debug!(environment = %env.name, "store holds a newer refresh token; retrying with it");
                        slot.session = stored;
                        retried = true;
                        if let Some(token) =
                            slot.session.as_ref().and_then(|s| usable(s, settings.refresh_margin))
                        {
                            return Ok(token);
                        }
                        continue;
                    }
                    self.open_store().await.delete(&self.key(env)).await?;
                    slot.session = None;
                    slot.unsaved = false;
                    let reason = description.map_or(error.clone(), |d| format!("{error}: {d}"));
                    warn!(environment = %env.name, reason, "refresh token rejected; session cleared");
                    return Err(TokenError::LoginAgain { environment: env.name.clone(), reason });
                }
                Err(error) => {
                    return Err(TokenError::IdpUnreachable {
                        environment: env.name.clone(),
                        reason: error.to_string(),
                    });
                }
            }
        }
    }
}

/// The session after a refresh: the new access token, and the rotated
/// refresh token when the IdP sent one.
fn renewed_session(old: &Session, granted: Granted) -> Session {
    let lifetime = granted.expires_in.map_or(DEFAULT_ACCESS_LIFETIME, Duration::from_secs);
    Session {
        subject: old.subject.clone(),
        refresh_token: granted
            .refresh_token
            .unwrap_or_else(|| SecretString::from(old.refresh_token.expose_secret().to_owned())),
        access_token: Some(granted.access_token),
        access_expires_at: SystemTime::now() + lifetime,
        token_type: granted.token_type,
    }
}

/// The session's access token if it stays valid for `margin`.
fn usable(session: &Session, margin: Duration) -> Option<AccessToken> {
    if !session.access_valid_for(margin) {
        return None;
    }
    let token = session.access_token.as_ref()?;
    Some(AccessToken {
        token: SecretString::from(token.expose_secret().to_owned()),
        expires_at: session.access_expires_at,
        token_type: session.token_type.clone(),
    })
}

/// A fresh session from a login's grant.
pub(crate) fn new_session(granted: Granted) -> Result<Session, String> {
    let refresh_token = granted
        .refresh_token
        .ok_or("the identity provider granted no refresh token (is offline_access allowed?)")?;
    let subject = granted
        .id_token
        .as_ref()
        .and_then(|t| session::jwt_subject(t.expose_secret()))
        .or_else(|| session::jwt_subject(granted.access_token.expose_secret()))
        .unwrap_or_else(|| "unknown".into());
    let lifetime = granted.expires_in.map_or(DEFAULT_ACCESS_LIFETIME, Duration::from_secs);
    Ok(Session {
        subject,
        refresh_token,
        access_token: Some(granted.access_token),
        access_expires_at: SystemTime::now() + lifetime,
        token_type: granted.token_type,
    })
}
