//! The crate's errors: why a server could not start, and a resolver's error in AppSync's shape.

use std::fmt;

use serde_json::Value;

/// An error starting the server: a bad schema, bad settings, or a port that could not be bound.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// A resolver's error, shaped like AppSync's `util.error(message, errorType, data, errorInfo)`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
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
