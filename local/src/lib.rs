//! A local AWS AppSync-compatible server for tests and quickstarts: `POST /graphql` and the
//! realtime socket for a schema, with AppSync's auth rules really enforced.

mod amplify;
mod auth;
mod builder;
mod dates;
mod engine;
mod error;
mod faults;
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
pub use faults::{Faults, SocketCommand};
pub use resolver::ResolverRequest;
pub use schema::AWS_PRELUDE;
pub use server::LocalAppSync;
pub use store::Store;
pub use token::TokenSpec;
