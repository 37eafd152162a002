//! The loopback challenge-handler server: where the IdP sends the browser
//! back. One router, built by [`router`], listens on 127.0.0.1 and ::1 at
//! every configured port and is shared by all requests.

mod callback;
mod pages;
mod saml;

pub use saml::MAX_SAML_RESPONSE_BYTES;

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::environment::{AUTH_CODE_CALLBACK_PATH, Environments, SAML_ACS_PATH};
use crate::error::Error;
use crate::pending::Pending;

/// The loopback router over the pending registry.
pub fn router(pending: Arc<Pending>) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route(AUTH_CODE_CALLBACK_PATH, get(callback::auth_code))
        .route(SAML_ACS_PATH, post(saml::acs).get(saml::get_not_allowed))
        .fallback(pages::not_found)
        .with_state(pending)
}

/// Binds every address the environments redirect to: for `localhost`,
/// 127.0.0.1 (required) and ::1 (where the machine has IPv6 loopback).
pub async fn bind(environments: &Environments) -> Result<Vec<TcpListener>, Error> {
    let mut addresses = BTreeSet::new();
    for env in environments.iter() {
        let port = env.redirect_port;
        match env.redirect_host.as_str() {
            "127.0.0.1" => {
                addresses.insert((SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port), true))
            }
            "::1" => addresses.insert((SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port), true)),
            _ => {
                addresses.insert((SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port), true));
                addresses.insert((SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port), false))
            }
        };
    }
    // An address needed by one environment and optional for another is needed.
    let required: BTreeSet<SocketAddr> =
        addresses.iter().filter(|(_, required)| *required).map(|(a, _)| *a).collect();
    let all: BTreeSet<SocketAddr> = addresses.into_iter().map(|(a, _)| a).collect();

    let mut listeners = Vec::new();
    for address in all {
        match TcpListener::bind(address).await {
            Ok(listener) => {
                info!(%address, "listening for idp callbacks");
                listeners.push(listener);
            }
            Err(source)
                if !required.contains(&address) && ipv6_unavailable(address.ip(), &source) =>
            {
                warn!(%address, error = %source, "no ipv6 loopback; callbacks on 127.0.0.1 only");
            }
            Err(source) => {
                return Err(Error::BindCallback { address: address.to_string(), source });
            }
        }
    }
    Ok(listeners)
}

fn ipv6_unavailable(ip: IpAddr, error: &io::Error) -> bool {
    ip.is_ipv6() && error.kind() != io::ErrorKind::AddrInUse
}

/// Serves `router` on every listener until `stopping` turns true.
pub async fn serve(
    listeners: Vec<TcpListener>,
    router: Router,
    stopping: watch::Receiver<bool>,
) -> io::Result<()> {
    let servers = listeners.into_iter().map(|listener| {
        let mut stopping = stopping.clone();
        let router = router.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopping.wait_for(|stop| *stop).await;
                })
                .await
        })
    });
    for server in futures_util::future::join_all(servers).await {
        server.map_err(io::Error::other)??;
    }
    Ok(())
}
