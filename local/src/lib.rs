//! A local AWS AppSync-compatible server for tests and quickstarts: `POST /graphql` and the
//! realtime socket for a schema, with AppSync's auth rules really enforced.

mod auth;
mod engine;
mod faults;
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
mod store;
mod tls;

pub use auth::{AuthMode, Identity, LambdaAuthRequest, LambdaAuthResponse};
pub use faults::{Faults, SocketCommand};
pub use resolver::{ResolverError, ResolverRequest};
pub use schema::AWS_PRELUDE;
pub use server::{Error, LocalAppSync, LocalAppSyncBuilder, TokenSpec};
pub use store::Store;
