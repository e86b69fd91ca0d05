//! Shared helpers for appsync-local's integration tests: a server with every mode, and clients.
#![allow(dead_code)]

pub mod local;
pub mod ws;
