//! The vocabulary every appsync-rs crate speaks: AppSync's auth modes, operation kinds, and the
//! AWS prelude (scalars and `@aws_*` directives) that AppSync leaves implicit in a schema.
//!
//! ```
//! use appsync_types::{AuthMode, OperationKind};
//!
//! let mode: AuthMode = "AMAZON_COGNITO_USER_POOLS".parse().unwrap();
//! assert_eq!(mode, AuthMode::UserPools);
//! assert_eq!(mode.to_string(), "AMAZON_COGNITO_USER_POOLS");
//! assert_eq!(AuthMode::from_directive("aws_iam"), Some(AuthMode::Iam));
//! assert!(AuthMode::APPSYNC.iter().all(|m| *m != AuthMode::None));
//! assert_eq!(OperationKind::Mutation.as_str(), "mutation");
//! assert!(appsync_types::AWS_PRELUDE.contains("scalar AWSDateTime"));
//! ```

use std::fmt;
use std::str::FromStr;

/// The AWS scalars and the `@aws_*` auth and subscription directives, as GraphQL SDL: what
/// AppSync declares implicitly, added to every schema by codegen and appsync-local.
pub const AWS_PRELUDE: &str = include_str!("aws-prelude.graphql");

/// The names of AppSync's directives (without `@`).
pub mod directives {
    /// Allows `API_KEY`.
    pub const API_KEY: &str = "aws_api_key";
    /// Allows `AWS_IAM`.
    pub const IAM: &str = "aws_iam";
    /// Allows `AMAZON_COGNITO_USER_POOLS`, optionally for some `cognito_groups` only.
    pub const COGNITO_USER_POOLS: &str = "aws_cognito_user_pools";
    /// Allows `OPENID_CONNECT`.
    pub const OIDC: &str = "aws_oidc";
    /// Allows `AWS_LAMBDA`.
    pub const LAMBDA: &str = "aws_lambda";
    /// The legacy user-pools group check (`cognito_groups`), meaningful only when user pools
    /// is the API's sole mode.
    pub const AUTH: &str = "aws_auth";
    /// Wires a subscription field to the mutations that trigger it.
    pub const SUBSCRIBE: &str = "aws_subscribe";
    /// The argument naming user-pool groups.
    pub const COGNITO_GROUPS: &str = "cognito_groups";
}

/// How a request is authorized: AppSync's five modes plus the client-only `NONE`.
///
/// The string forms are the ones in Amplify config files (`API_KEY`, `AWS_IAM`,
/// `AMAZON_COGNITO_USER_POOLS`, `OPENID_CONNECT`, `AWS_LAMBDA`, `NONE`); parsing also takes
/// Amplify JS's short names (`apiKey`, `iam`, `identityPool`, `userPool`, `oidc`, `lambda`,
/// `none`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AuthMode {
    /// `API_KEY`: the `x-api-key` header (`@aws_api_key`).
    ApiKey,
    /// `AWS_IAM`: a SigV4 signature from AWS credentials (`@aws_iam`).
    Iam,
    /// `AMAZON_COGNITO_USER_POOLS`: a Cognito user-pool JWT in `Authorization`
    /// (`@aws_cognito_user_pools`, and the legacy `@aws_auth`).
    UserPools,
    /// `OPENID_CONNECT`: an OIDC JWT in `Authorization` (`@aws_oidc`).
    Oidc,
    /// `AWS_LAMBDA`: an opaque token in `Authorization`, checked by a Lambda authorizer
    /// (`@aws_lambda`).
    Lambda,
    /// `NONE`: not an AppSync mode; a client adds nothing (its headers and interceptors still
    /// run), for custom or proxied endpoints.
    None,
}

impl AuthMode {
    /// Every mode, `NONE` last.
    pub const ALL: &'static [AuthMode] = &[
        AuthMode::ApiKey,
        AuthMode::Iam,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Lambda,
        AuthMode::None,
    ];

    /// The five modes an AppSync API (and its schema's directives) can have: all but `NONE`.
    pub const APPSYNC: &'static [AuthMode] = &[
        AuthMode::ApiKey,
        AuthMode::Iam,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Lambda,
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

    /// Whether the mode sends a token (a JWT or an opaque one) in `Authorization`.
    pub fn uses_token(self) -> bool {
        matches!(
            self,
            AuthMode::UserPools | AuthMode::Oidc | AuthMode::Lambda
        )
    }

    /// Whether AppSync has this mode (all but `NONE`).
    pub fn is_appsync(self) -> bool {
        self != AuthMode::None
    }

    /// The directive that allows this mode in a schema (`NONE` has none).
    pub fn directive(self) -> Option<&'static str> {
        Some(match self {
            AuthMode::ApiKey => directives::API_KEY,
            AuthMode::Iam => directives::IAM,
            AuthMode::UserPools => directives::COGNITO_USER_POOLS,
            AuthMode::Oidc => directives::OIDC,
            AuthMode::Lambda => directives::LAMBDA,
            AuthMode::None => return None,
        })
    }

    /// The mode a directive allows (`aws_iam` → `AWS_IAM`); `None` for any other name.
    /// The legacy `aws_auth` is not one: it restricts user pools to groups.
    pub fn from_directive(name: &str) -> Option<AuthMode> {
        AuthMode::APPSYNC
            .iter()
            .copied()
            .find(|m| m.directive() == Some(name))
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

/// Query, mutation or subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationKind {
    /// A query: safe to retry.
    Query,
    /// A mutation: never retried unless the call asks.
    Mutation,
    /// A subscription: runs over the realtime socket.
    Subscription,
}

impl OperationKind {
    /// The GraphQL keyword: `query`, `mutation` or `subscription`.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Query => "query",
            OperationKind::Mutation => "mutation",
            OperationKind::Subscription => "subscription",
        }
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in AuthMode::ALL {
            assert_eq!(m.as_str().parse::<AuthMode>().unwrap(), *m);
            assert_eq!(m.to_string(), m.as_str());
        }
        assert_eq!("identityPool".parse::<AuthMode>().unwrap(), AuthMode::Iam);
        let e = "COGNITO".parse::<AuthMode>().unwrap_err();
        assert!(e.to_string().contains("\"COGNITO\""));
    }

    #[test]
    fn directives_name_the_appsync_modes() {
        for m in AuthMode::APPSYNC {
            assert_eq!(AuthMode::from_directive(m.directive().unwrap()), Some(*m));
        }
        assert_eq!(AuthMode::None.directive(), None);
        assert_eq!(AuthMode::from_directive(directives::AUTH), None);
        assert_eq!(AuthMode::from_directive("aws_subscribe"), None);
        for d in [
            directives::API_KEY,
            directives::IAM,
            directives::COGNITO_USER_POOLS,
            directives::OIDC,
            directives::LAMBDA,
            directives::AUTH,
            directives::SUBSCRIBE,
        ] {
            assert!(
                AWS_PRELUDE.contains(&format!("directive @{d}")),
                "{d} is declared"
            );
        }
    }
}
