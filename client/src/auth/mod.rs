//! Auth modes and the providers of credentials and tokens that each mode needs.

pub(crate) mod api_key;
#[cfg(feature = "cognito")]
pub mod cognito;
pub(crate) mod iam;
pub(crate) mod pools;
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

/// Says "the signed-in identity changed" (a sign-in, a sign-out, another user) to every client
/// given it with [`ClientBuilder::identity_notifier`](crate::ClientBuilder::identity_notifier):
/// their cached tokens and credentials are dropped before the next call, and their realtime
/// sockets reconnect at once with fresh auth, resuming every subscription (each gets
/// `Resumed`). Cheap to clone; clones notify the same clients.
#[derive(Clone)]
pub struct IdentityNotifier(std::sync::Arc<tokio::sync::watch::Sender<u64>>);

impl IdentityNotifier {
    /// A notifier no client listens to yet.
    pub fn new() -> Self {
        IdentityNotifier(std::sync::Arc::new(tokio::sync::watch::channel(0).0))
    }

    /// The identity changed: every listening client refreshes its auth.
    pub fn notify(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.subscribe()
    }
}

impl Default for IdentityNotifier {
    fn default() -> Self {
        IdentityNotifier::new()
    }
}

impl fmt::Debug for IdentityNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityNotifier")
            .field("changes", &*self.0.borrow())
            .finish()
    }
}

/// The auth layer's state, shared by HTTP calls and realtime sockets: the credentials cache,
/// one token cache per mode, the clock skew learned from servers, and which user-pool token
/// each kind of endpoint gets by default.
pub(crate) struct Auth {
    credentials: Option<iam::CredentialsCache>,
    tokens: std::collections::HashMap<appsync_types::AuthMode, token::TokenCache>,
    skew: iam::ClockSkew,
    user_pool_token: TokenKind,
    rest_user_pool_token: TokenKind,
    provider_timeout: std::time::Duration,
    /// Identity changes, and the last one seen (caches are cleared when it moves).
    identity: Option<tokio::sync::watch::Receiver<u64>>,
    identity_seen: std::sync::atomic::AtomicU64,
}

impl Auth {
    pub(crate) fn new(
        credentials: Option<iam::CredentialsCache>,
        tokens: std::collections::HashMap<appsync_types::AuthMode, token::TokenCache>,
        user_pool_token: TokenKind,
        rest_user_pool_token: TokenKind,
        provider_timeout: std::time::Duration,
        identity: Option<tokio::sync::watch::Receiver<u64>>,
    ) -> Self {
        Auth {
            identity_seen: std::sync::atomic::AtomicU64::new(
                identity.as_ref().map_or(0, |r| *r.borrow()),
            ),
            identity,
            credentials,
            tokens,
            skew: iam::ClockSkew::default(),
            user_pool_token,
            rest_user_pool_token,
            provider_timeout,
        }
    }

    /// The token kind to send in `mode` (to a REST endpoint with `rest`), unless the call says.
    pub(crate) fn token_kind(
        &self,
        mode: appsync_types::AuthMode,
        rest: bool,
        asked: Option<TokenKind>,
    ) -> TokenKind {
        match (mode, rest) {
            (appsync_types::AuthMode::UserPools, true) => {
                asked.unwrap_or(self.rest_user_pool_token)
            }
            (appsync_types::AuthMode::UserPools, false) => asked.unwrap_or(self.user_pool_token),
            _ => TokenKind::Access,
        }
    }

    /// Clears every cache if the identity changed since it was last looked at.
    fn observe_identity(&self) {
        let Some(rx) = &self.identity else {
            return;
        };
        let now = *rx.borrow();
        if self
            .identity_seen
            .swap(now, std::sync::atomic::Ordering::SeqCst)
            != now
        {
            tracing::debug!("the identity changed: cached tokens and credentials are dropped");
            for cache in self.tokens.values() {
                cache.clear();
            }
            if let Some(c) = &self.credentials {
                c.clear();
            }
        }
    }

    /// The identity changes, for realtime sockets to reconnect on.
    pub(crate) fn identity_changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.identity.clone()
    }

    /// A token for `mode` from its provider's cache; `whom` says where a per-call token could
    /// have been given instead (for the error when no provider is registered).
    pub(crate) async fn token(
        &self,
        mode: appsync_types::AuthMode,
        kind: TokenKind,
        whom: &str,
    ) -> crate::error::Result<token::Lease> {
        self.observe_identity();
        let cache = self.tokens.get(&mode).ok_or_else(|| {
            crate::error::Error::auth(format!(
                "{mode} needs a token: register a provider with \
                 ClientBuilder::token_provider(AuthMode::{mode:?}, ..) or pass .auth_token(..) on {whom}"
            ))
        })?;
        cache.get(kind).await
    }

    /// Forgets a token the server refused (if it is still the cached one); false when the mode
    /// has no provider (nothing fresh can be had).
    pub(crate) async fn invalidate_token(
        &self,
        mode: appsync_types::AuthMode,
        kind: TokenKind,
        generation: u64,
    ) -> bool {
        match self.tokens.get(&mode) {
            Some(cache) => {
                cache.invalidate(kind, generation).await;
                true
            }
            None => false,
        }
    }

    /// AWS credentials, from the cache or the provider.
    pub(crate) async fn credentials(
        &self,
    ) -> crate::error::Result<aws_credential_types::Credentials> {
        self.observe_identity();
        self.credentials
            .as_ref()
            .ok_or_else(|| {
                crate::error::Error::auth(
                    "AWS_IAM needs AWS credentials: set ClientBuilder::credentials_provider(..) \
                     (any aws_credential_types ProvideCredentials, e.g. from aws-config)",
                )
            })?
            .get()
            .await
    }

    /// Forgets the cached credentials; false when there is no provider.
    pub(crate) async fn invalidate_credentials(&self) -> bool {
        match &self.credentials {
            Some(c) => {
                c.invalidate().await;
                true
            }
            None => false,
        }
    }

    /// Now, as the servers see it.
    pub(crate) fn now(&self) -> std::time::SystemTime {
        self.skew.now()
    }

    /// Learns the clock skew from a server's `Date`; whether it changed much.
    pub(crate) fn learn_skew(&self, server_date: std::time::SystemTime) -> bool {
        self.skew.learn(server_date)
    }

    /// The limit on one provider call.
    pub(crate) fn provider_timeout(&self) -> std::time::Duration {
        self.provider_timeout
    }

    /// Whether AWS credentials are configured.
    pub(crate) fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The modes with a token provider, sorted.
    pub(crate) fn token_modes(&self) -> Vec<appsync_types::AuthMode> {
        let mut modes: Vec<_> = self.tokens.keys().copied().collect();
        modes.sort();
        modes
    }
}
