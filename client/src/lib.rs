//! Typed, multi-auth client for AWS AppSync GraphQL APIs and API Gateway REST APIs.
//!
//! The guide below is the project README; its examples are compiled as doc tests.
#![doc = include_str!("../../README.md")]

pub mod auth;
mod client;
pub mod config;
mod endpoint;
mod error;
mod graphql;
mod realtime;
mod rest;
mod secret;
mod transport;
pub mod types;

/// Unstable entry points for the fuzz targets in `fuzz/` (feature `fuzzing`; not for users).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use auth::token::{token_fn, StaticToken};
pub use auth::{AuthMode, PermanentError, Token, TokenKind, TokenProvider, TokenRequest};
pub use client::{Client, ClientBuilder};
pub use config::{Config, EndpointConfig, EndpointType};
pub use error::{BoxError, Error, Result};
pub use graphql::{
    GraphQLCall, GraphQLError, GraphQLRequest, Location, Operation, OperationKind, PathSegment,
    Response,
};
pub use realtime::{
    ConnectionState, ConnectionStates, Disruption, HandshakeMethod, RealtimeOptions,
    ReconnectPolicy, SubscribeCall, Subscription, SubscriptionEvent,
};
pub use rest::{RestApi, RestCall, RestResponse};
pub use secret::Secret;
pub use transport::{headers_fn, HeaderProvider, Interceptor, RequestContext, RetryPolicy};

/// Re-exported so generated code and users name the same versions.
pub use graphql_client;
