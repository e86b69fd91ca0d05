//! Auth modes and the providers of credentials and tokens that each mode needs.

pub(crate) mod api_key;
pub(crate) mod iam;
pub(crate) mod refresh;
pub mod token;

use std::fmt;

pub use token::{Token, TokenKind, TokenProvider, TokenRequest};

/// Wraps a provider's error to say that trying again cannot help (the user signed out, a
/// refresh token was revoked, the credentials were deleted). Return it, boxed, from a
/// [`TokenProvider`] (or as the source of an AWS credentials error): realtime sockets then end
/// their subscriptions with the error instead of retrying forever.
#[derive(Debug)]
pub struct PermanentError(crate::error::BoxError);

impl PermanentError {
    /// Wraps an error (a message, or any error type).
    pub fn new(error: impl Into<crate::error::BoxError>) -> Self {
        PermanentError(error.into())
    }
}

impl fmt::Display for PermanentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (permanent)", self.0)
    }
}

impl std::error::Error for PermanentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

pub use appsync_types::{AuthMode, UnknownAuthMode};
