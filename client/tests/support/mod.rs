//! Shared helpers for the integration tests: a recording loopback server, a SigV4 verifier,
//! JWT minting, and the AppSync simulator from npm.
#![allow(dead_code)]

pub mod server;
pub mod sigv4;
pub mod simulator;
