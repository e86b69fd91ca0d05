//! Typed, multi-auth client for AWS AppSync GraphQL APIs and API Gateway REST APIs.
//!
//! Point a [`Client`] at an Amplify configuration (Gen1 `amplifyconfiguration.json` or Gen2
//! `amplify_outputs.json`, or a [`Config`] built in code) and call any configured API in any
//! auth mode: API keys, IAM (SigV4), Cognito user pools, OpenID Connect, Lambda authorizers,
//! or none; queries and mutations over HTTP, subscriptions over AppSync's realtime WebSocket,
//! and API Gateway REST calls.
//!
//! ```no_run
//! use appsync_client::{AuthMode, Client, Config, GraphQLRequest};
//! use serde_json::json;
//!
//! # async fn run() -> appsync_client::Result<()> {
//! let client = Client::builder()
//!     .config(Config::from_path("amplify_outputs.json")?)
//!     .build()?;
//! let response = client
//!     .graphql(GraphQLRequest::new("query Get($id: ID!) { getNote(id: $id) { content } }")
//!         .variables(json!({"id": "n1"})))
//!     .auth_mode(AuthMode::ApiKey)
//!     .send()
//!     .await?;
//! println!("{:?} {:?}", response.data, response.errors);
//! # Ok(()) }
//! ```
//!
//! The guide — configuration, choosing the endpoint and the mode, every auth mode, typed
//! operations from `appsync-codegen`, subscriptions, REST, reliability — is the project's
//! README: <https://github.com/appsync-rs/appsync-rs#readme>. `ARCHITECTURE.md` there shows
//! the layers of this crate.

pub mod auth;
mod channel;
mod client;
pub mod config;
mod endpoint;
mod error;
mod events;
mod graphql;
mod headers;
mod operation;
mod options;
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
pub use auth::{
    AuthMode, IdentityNotifier, PermanentError, Token, TokenKind, TokenProvider, TokenRequest,
};
pub use channel::{FailedEvent, PublishResult, PublishedEvent, MAX_PUBLISH_EVENTS};
pub use client::{Client, ClientBuilder};
pub use config::{Config, EndpointConfig, EndpointType};
pub use endpoint::AuthStrategy;
pub use error::{BoxError, Error, Result};
pub use events::{EventsApi, PublishCall};
pub use graphql::GraphQLCall;
pub use headers::{headers_fn, HeaderProvider, HeadersFn, Interceptor, RequestContext};
pub use operation::{
    GraphQLError, GraphQLRequest, Location, Operation, OperationKind, PathSegment, Response,
};
pub use realtime::{
    ChannelEvent, ChannelSubscribeCall, ChannelSubscription, ConnectionState, ConnectionStates,
    Disruption, HandshakeMethod, RealtimeOptions, ReconnectPolicy, SubscribeCall, Subscription,
    SubscriptionEvent,
};
pub use rest::{RestApi, RestCall, RestResponse};
pub use secret::Secret;
pub use transport::RetryPolicy;

/// Re-exported so generated code and users name the same versions.
pub use graphql_client;

/// The guide's examples (the project README), compiled as doc tests; not part of the docs.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
