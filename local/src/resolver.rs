//! User resolvers: what they receive and how they fail (like AppSync's `util.error`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use crate::auth::{BoxFuture, Identity};
use crate::store::Store;

/// What a resolver receives.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ResolverRequest {
    /// The type whose field is resolved, e.g. `Query`.
    pub type_name: String,
    /// The field.
    pub field_name: String,
    /// The arguments, as JSON (AWSJSON values still as strings).
    pub arguments: Value,
    /// The parent object (null for root fields).
    pub source: Value,
    /// The caller.
    pub identity: Identity,
    /// The in-memory store the default resolvers use.
    pub store: Store,
}

/// A resolver's error, shaped like AppSync's `util.error(message, errorType, data, errorInfo)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolverError {
    /// The message.
    pub message: String,
    /// The `errorType`.
    pub error_type: Option<String>,
    /// The `data`.
    pub data: Option<Value>,
    /// The `errorInfo`.
    pub error_info: Option<Value>,
}

impl ResolverError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ResolverError {
            message: message.into(),
            error_type: None,
            data: None,
            error_info: None,
        }
    }

    /// Sets `errorType`.
    pub fn error_type(mut self, t: impl Into<String>) -> Self {
        self.error_type = Some(t.into());
        self
    }

    /// Sets `data`.
    pub fn data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// Sets `errorInfo`.
    pub fn error_info(mut self, info: Value) -> Self {
        self.error_info = Some(info);
        self
    }
}

impl fmt::Display for ResolverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ResolverError {}

/// A resolver function.
pub(crate) type Resolver =
    Arc<dyn Fn(ResolverRequest) -> BoxFuture<'static, Result<Value, ResolverError>> + Send + Sync>;

/// Wraps an async closure as a resolver.
pub(crate) fn resolver<F, Fut>(f: F) -> Resolver
where
    F: Fn(ResolverRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ResolverError>> + Send + 'static,
{
    Arc::new(move |r| Box::pin(f(r)))
}
