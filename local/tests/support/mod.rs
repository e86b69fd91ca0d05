//! Shared helpers for appsync-local's integration tests: a server with every mode, clients, a
//! raw `graphql-ws` client and a raw Events client.
#![allow(dead_code)]

pub mod events;
pub mod local;
pub mod ws;
