//! The client edge: the Unix socket, the peer check on every connection,
//! the `:authority` fix for grpc-core clients, and the gRPC service that
//! turns protocol messages into the agent's types.

pub mod authority;
mod convert;
pub mod peer;
pub mod service;
pub mod socket;
