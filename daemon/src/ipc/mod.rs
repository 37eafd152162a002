//! The client edge: the Unix socket, the peer check on every connection,
//! and the gRPC service that turns protocol messages into the agent's types.

mod convert;
pub mod peer;
pub mod service;
pub mod socket;
