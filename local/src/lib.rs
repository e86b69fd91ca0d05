//! A local AWS AppSync-compatible server for tests and quickstarts.
//!
//! This crate is being built: it will serve `POST /graphql` and the realtime socket for a schema
//! and enforce AppSync's auth rules. See the project README for its status.
