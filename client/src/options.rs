//! The per-call options shared by the three call builders, and the macro that gives each
//! builder its setters (one implementation; each builder's own doc line says what the setting
//! means for it).

use std::fmt;
use std::time::Duration;

use appsync_types::AuthMode;

use crate::auth::{Auth, TokenKind};
use crate::config::{Config, EndpointConfig, EndpointType};
use crate::endpoint::{select, select_multi, AuthStrategy, Selected, Want};
use crate::error::Result;
use crate::secret::Secret;

/// The per-call choices of every call builder (GraphQL, REST, subscriptions): one type, so
/// that a setting means the same wherever it is offered.
#[derive(Clone, Default)]
pub(crate) struct CallOptions {
    pub api_name: Option<String>,
    pub auth_mode: Option<AuthMode>,
    pub headers: Vec<(String, String)>,
    pub api_key: Option<Secret>,
    pub auth_token: Option<Secret>,
    pub token_kind: Option<TokenKind>,
    pub timeout: Option<Duration>,
    pub retry: Option<bool>,
    pub skip_mode_check: bool,
    pub strategy: Option<AuthStrategy>,
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallOptions")
            .field("api_name", &self.api_name)
            .field("auth_mode", &self.auth_mode)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("api_key", &self.api_key)
            .field("auth_token", &self.auth_token)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl CallOptions {
    /// Whether the call picks its mode with [`AuthStrategy::Multi`]: asked for on the call or
    /// the client, and no mode named on the call.
    pub(crate) fn multi(&self, client_default: AuthStrategy) -> bool {
        self.auth_mode.is_none() && self.strategy.unwrap_or(client_default) == AuthStrategy::Multi
    }

    /// Whether the client can send `mode` to `endpoint` on this call: a key, credentials (and a
    /// region), or a token (the call's own, or a provider's).
    pub(crate) fn can_send(&self, auth: &Auth, endpoint: &EndpointConfig, mode: AuthMode) -> bool {
        match mode {
            AuthMode::ApiKey => self.api_key.is_some() || endpoint.api_key().is_some(),
            AuthMode::Iam => auth.has_credentials() && endpoint.region().is_some(),
            m if m.uses_token() => self.auth_token.is_some() || auth.token_modes().contains(&m),
            _ => false,
        }
    }

    /// The multi-auth candidates of a GraphQL call, in order (see [`AuthStrategy::Multi`]).
    pub(crate) fn select_graphql_multi<'a>(
        &self,
        config: &'a Config,
        auth: &Auth,
        allowed_modes: Option<&'static [AuthMode]>,
        operation: Option<&str>,
    ) -> Result<Vec<Selected<'a>>> {
        select_multi(
            config,
            EndpointType::GraphQL,
            Want {
                api_name: self.api_name.as_deref(),
                auth_mode: None,
                allowed_modes: allowed_modes.filter(|_| !self.skip_mode_check),
                operation,
            },
            |endpoint, mode| self.can_send(auth, endpoint, mode),
        )
    }

    /// The endpoint of type `ty` and the mode these options choose (rules in `endpoint.rs`).
    pub(crate) fn select_of<'a>(
        &self,
        config: &'a Config,
        ty: EndpointType,
    ) -> Result<Selected<'a>> {
        select(
            config,
            ty,
            Want {
                api_name: self.api_name.as_deref(),
                auth_mode: self.auth_mode,
                ..Want::default()
            },
        )
    }

    /// The GraphQL endpoint and mode these options choose (rules in `endpoint.rs`), checked
    /// against a typed operation's allowed modes unless the call skips the check.
    pub(crate) fn select_graphql<'a>(
        &self,
        config: &'a Config,
        allowed_modes: Option<&'static [AuthMode]>,
        operation: Option<&str>,
    ) -> Result<Selected<'a>> {
        select(
            config,
            EndpointType::GraphQL,
            Want {
                api_name: self.api_name.as_deref(),
                auth_mode: self.auth_mode,
                allowed_modes: allowed_modes.filter(|_| !self.skip_mode_check),
                operation,
            },
        )
    }
}

/// Setters of [`CallOptions`] for a builder with an `options: CallOptions` field:
/// `call_options!(impl[T] GraphQLCall<T> { api_name: "doc", auth_mode: "doc", … });` — only the
/// setters listed are offered, each with the builder's own doc.
macro_rules! call_options {
    (impl[$($generics:tt)*] $builder:ty { $($setter:ident : $doc:literal),* $(,)? }) => {
        impl<$($generics)*> $builder {
            $( $crate::options::call_options!(@setter $setter, $doc); )*
        }
    };
    (@setter api_name, $doc:literal) => {
        #[doc = $doc]
        pub fn api_name(mut self, name: impl Into<String>) -> Self {
            self.options.api_name = Some(name.into());
            self
        }
    };
    (@setter auth_mode, $doc:literal) => {
        #[doc = $doc]
        pub fn auth_mode(mut self, mode: appsync_types::AuthMode) -> Self {
            self.options.auth_mode = Some(mode);
            self
        }
    };
    (@setter header, $doc:literal) => {
        #[doc = $doc]
        pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.options.headers.push((name.into(), value.into()));
            self
        }
    };
    (@setter api_key, $doc:literal) => {
        #[doc = $doc]
        pub fn api_key(mut self, key: impl Into<$crate::Secret>) -> Self {
            self.options.api_key = Some(key.into());
            self
        }
    };
    (@setter auth_token, $doc:literal) => {
        #[doc = $doc]
        pub fn auth_token(mut self, token: impl Into<$crate::Secret>) -> Self {
            self.options.auth_token = Some(token.into());
            self
        }
    };
    (@setter token_kind, $doc:literal) => {
        #[doc = $doc]
        pub fn token_kind(mut self, kind: $crate::TokenKind) -> Self {
            self.options.token_kind = Some(kind);
            self
        }
    };
    (@setter timeout, $doc:literal) => {
        #[doc = $doc]
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.timeout = Some(timeout);
            self
        }
    };
    (@setter retry, $doc:literal) => {
        #[doc = $doc]
        pub fn retry(mut self, retry: bool) -> Self {
            self.options.retry = Some(retry);
            self
        }
    };
    (@setter auth_strategy, $doc:literal) => {
        #[doc = $doc]
        pub fn auth_strategy(mut self, strategy: $crate::AuthStrategy) -> Self {
            self.options.strategy = Some(strategy);
            self
        }
    };
    (@setter skip_auth_mode_check, $doc:literal) => {
        #[doc = $doc]
        pub fn skip_auth_mode_check(mut self) -> Self {
            self.options.skip_mode_check = true;
            self
        }
    };
}

pub(crate) use call_options;
