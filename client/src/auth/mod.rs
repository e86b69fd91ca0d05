//! Auth modes and the providers of credentials and tokens that each mode needs.

pub(crate) mod api_key;
pub(crate) mod iam;
pub(crate) mod refresh;
pub mod token;

use std::fmt;
use std::str::FromStr;

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

/// How a request is authorized: AppSync's five modes plus the client-only `NONE`.
///
/// The string forms are the ones in Amplify config files (`API_KEY`, `AWS_IAM`,
/// `AMAZON_COGNITO_USER_POOLS`, `OPENID_CONNECT`, `AWS_LAMBDA`, `NONE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AuthMode {
    /// `API_KEY`: the `x-api-key` header.
    ApiKey,
    /// `AWS_IAM`: a SigV4 signature from AWS credentials.
    Iam,
    /// `AMAZON_COGNITO_USER_POOLS`: a Cognito user-pool JWT in `Authorization`.
    UserPools,
    /// `OPENID_CONNECT`: an OIDC JWT in `Authorization`.
    Oidc,
    /// `AWS_LAMBDA`: an opaque token in `Authorization`, checked by a Lambda authorizer.
    Lambda,
    /// `NONE`: the client adds nothing (headers and interceptors still run).
    None,
}

impl AuthMode {
    /// Every mode, in a fixed order.
    pub const ALL: [AuthMode; 6] = [
        AuthMode::ApiKey,
        AuthMode::Iam,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Lambda,
        AuthMode::None,
    ];

    /// The name used in config files and by AppSync, e.g. `AMAZON_COGNITO_USER_POOLS`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::ApiKey => "API_KEY",
            AuthMode::Iam => "AWS_IAM",
            AuthMode::UserPools => "AMAZON_COGNITO_USER_POOLS",
            AuthMode::Oidc => "OPENID_CONNECT",
            AuthMode::Lambda => "AWS_LAMBDA",
            AuthMode::None => "NONE",
        }
    }

    /// Whether the mode sends a token from a [`TokenProvider`] in `Authorization`.
    pub fn uses_token(self) -> bool {
        matches!(
            self,
            AuthMode::UserPools | AuthMode::Oidc | AuthMode::Lambda
        )
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown auth mode name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownAuthMode(pub String);

impl fmt::Display for UnknownAuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown authorization type {:?}; expected one of API_KEY, AWS_IAM, \
             AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT, AWS_LAMBDA, NONE",
            self.0
        )
    }
}

impl std::error::Error for UnknownAuthMode {}

impl FromStr for AuthMode {
    type Err = UnknownAuthMode;

    /// Parses the config-file names, and also the Amplify JS short names (`apiKey`, `iam`,
    /// `identityPool`, `userPool`, `oidc`, `lambda`, `none`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "API_KEY" | "apiKey" => AuthMode::ApiKey,
            "AWS_IAM" | "iam" | "identityPool" => AuthMode::Iam,
            "AMAZON_COGNITO_USER_POOLS" | "userPool" => AuthMode::UserPools,
            "OPENID_CONNECT" | "oidc" => AuthMode::Oidc,
            "AWS_LAMBDA" | "lambda" => AuthMode::Lambda,
            "NONE" | "none" => AuthMode::None,
            other => return Err(UnknownAuthMode(other.to_owned())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in AuthMode::ALL {
            assert_eq!(m.as_str().parse::<AuthMode>().unwrap(), m);
        }
        assert_eq!("identityPool".parse::<AuthMode>().unwrap(), AuthMode::Iam);
        let e = "COGNITO".parse::<AuthMode>().unwrap_err();
        assert!(e.to_string().contains("\"COGNITO\""));
    }
}
