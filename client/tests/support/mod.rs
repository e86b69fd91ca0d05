//! Shared helpers for the integration tests: a recording loopback server, a misbehaving raw
//! one, a SigV4 verifier, JWT minting, a capturing `tracing` subscriber, and the AppSync
//! simulator from npm.
#![allow(dead_code)]

pub mod fake_cognito;
pub mod local;
pub mod moto;
pub mod server;
pub mod simulator;
pub mod trace;

/// The SigV4 verifier of appsync-local: written from the spec, independent of `aws-sigv4`.
pub use appsync_local::sigv4;
