//! podauthd, the podauth agent: one daemon per user that answers Pod
//! identity challenges for every client.
//!
//! The flow of one request can be read off the modules: a client calls
//! `Prove` on the socket ([`ipc`]), the [`agent`] validates it and runs its
//! [`methods`] entry, which registers its challenges in [`pending`] and opens
//! the [`browser`]; the IdP sends the browser to the loopback server
//! ([`web`]), which resolves the pending challenge; the proof streams back.

pub mod agent;
pub mod browser;
pub mod config;
pub mod daemon;
pub mod environment;
pub mod error;
pub mod idp;
pub mod ipc;
pub mod methods;
pub mod pending;
pub mod tokens;
pub mod web;

pub use config::Config;
pub use daemon::{ConfigLoader, Lifecycle, Listener, run};
pub use error::{Error, ProveError, TokenError};
