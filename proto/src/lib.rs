//! The podauth agent protocol and where to find the agent.
//!
//! `v1` is generated from `proto/podauth/v1/agent.proto` at build time and is
//! never edited by hand. [`socket_path`] is the one rule by which the daemon
//! and every client agree on the agent's socket, so that a client started
//! without `XDG_RUNTIME_DIR` still finds a daemon started with it.

mod redact;
mod socket_path;

pub use socket_path::{
    MAX_SOCKET_PATH_BYTES, SocketPathError, SocketSource, current_uid, socket_path,
    socket_path_from,
};

/// Package `podauth.v1`: messages, the `Agent` client and server.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)] // generated code
pub mod v1 {
    tonic::include_proto!("podauth.v1");

    /// The encoded descriptor set of the protocol, served by gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("podauth_descriptor");
}

/// The exact method names of the protocol, in the order they are listed.
pub mod methods {
    /// RFC 8628 device authorization: the default.
    pub const OIDC_DEVICE_CODE: &str = "oidc-device-code";
    /// Authorization code with PKCE through the loopback server.
    pub const OIDC_AUTH_CODE: &str = "oidc-auth-code";
    /// SAML 2.0 Web Browser SSO through the loopback server.
    pub const SAML: &str = "saml";
    /// All three, default first.
    pub const ALL: [&str; 3] = [OIDC_DEVICE_CODE, OIDC_AUTH_CODE, SAML];
    /// The method used when a request names none.
    pub const DEFAULT: &str = OIDC_DEVICE_CODE;
}
