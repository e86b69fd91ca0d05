//! A local AWS AppSync-compatible server for tests and quickstarts: `POST /graphql` and the
//! realtime socket for a schema, on 127.0.0.1, with AppSync's auth rules really enforced (API
//! keys, Cognito user-pool and OIDC JWTs it signs itself, tokens of external user pools checked
//! against their JWKS, IAM SigV4, a Lambda authorizer closure, and the `@aws_*` directives of
//! every field), `@aws_subscribe` wiring, default resolvers over an in-memory [`Store`], and
//! [`Faults`] to inject. It also serves an AppSync
//! Event API ([`EventApi`]: `POST /event` and the `/event/realtime` socket, channel namespaces
//! with their own auth modes, wildcard subscriptions), beside the GraphQL API or alone.
//!
//! ```
//! use appsync_local::{AuthMode, LocalAppSync};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let local = LocalAppSync::builder()
//!     .schema("type Note { id: ID! title: String } type Query { getNote(id: ID!): Note }")
//!     .default_auth_mode(AuthMode::ApiKey)
//!     .additional_auth_modes([AuthMode::UserPools])
//!     .api_key("da2-local")
//!     .user_pool("us-east-1_local", "client")
//!     .start()
//!     .await?;
//!
//! // Point a client at `local.graphql_url()`, or at the Amplify config it writes.
//! assert!(local.graphql_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(local.amplify_outputs()["data"]["default_authorization_type"], "API_KEY");
//! let token = local.user_pool_token("alice").groups(["admins"]).mint();
//! assert_eq!(token.split('.').count(), 3);
//! local.store().put("Note", json!({"id": "n1", "title": "hello"}))?;
//!
//! local.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The guide (every auth mode, realtime, faults, TLS for Amplify JS) is the
//! [appsync-rs README](https://github.com/appsync-rs/appsync-rs#appsync-local).

mod amplify;
mod auth;
mod builder;
mod dates;
mod engine;
mod error;
mod events;
mod faults;
mod fetch;
/// Unstable entry points for the fuzz targets in `fuzz/` (feature `fuzzing`; not for users).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod jwt;
mod realtime;
mod resolver;
mod scalars;
mod schema;
mod server;
pub mod sigv4;
mod state;
mod store;
mod tls;
mod token;

pub use auth::{AuthMode, Identity, LambdaAuthRequest, LambdaAuthResponse};
pub use builder::LocalAppSyncBuilder;
pub use error::{Error, ResolverError};
pub use events::{ChannelNamespace, EventApi};
pub use faults::{Faults, SocketCommand};
pub use resolver::ResolverRequest;
pub use schema::AWS_PRELUDE;
pub use server::LocalAppSync;
pub use store::Store;
pub use token::TokenSpec;
