//! Tokens for the user-pools, OIDC and Lambda modes: the provider trait and a shared cache that
//! refreshes once under concurrency.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine;

use super::refresh::{provider_error, Fetched, Refreshing};
use super::AuthMode;
use crate::error::{BoxError, Error, Result};
use crate::secret::Secret;

/// A boxed, sendable future, as returned by [`TokenProvider::token`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which user-pool token to send. AppSync accepts both; Amplify sends the access token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// The access token (the default for user pools, as in Amplify).
    #[default]
    Access,
    /// The ID token (carries the user's attributes; needed by some resolvers).
    Id,
}

/// What the client asks a [`TokenProvider`] for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRequest {
    /// The mode the token is for.
    pub mode: AuthMode,
    /// For user pools: the access or the ID token. Other modes ask for [`TokenKind::Access`].
    pub kind: TokenKind,
    /// The server refused the last token (HTTP 401) or it expired: do not return a cached one.
    pub force_refresh: bool,
}

/// A token and, if known, when it expires.
#[derive(Clone)]
pub struct Token {
    value: Secret,
    expires_at: Option<SystemTime>,
}

impl Token {
    /// A token; its expiry is read from the JWT `exp` claim when it is a JWT.
    pub fn new(value: impl Into<Secret>) -> Self {
        Token {
            value: value.into(),
            expires_at: None,
        }
    }

    /// Sets the expiry explicitly (it wins over the JWT `exp`).
    pub fn with_expiry(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// The token.
    pub fn value(&self) -> &Secret {
        &self.value
    }

    /// When it expires: the explicit expiry, else the JWT `exp` claim, else unknown.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at.or_else(|| jwt_expiry(self.value.expose()))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &self.value)
            .field("expires_at", &self.expires_at())
            .finish()
    }
}

/// Reads `exp` (seconds since the epoch) from a JWT's payload without verifying it; the server
/// verifies, the client only needs to know when to refresh.
pub(crate) fn jwt_expiry(token: &str) -> Option<SystemTime> {
    let token = token.strip_prefix("Bearer ").unwrap_or(token);
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    if exp.is_nan() {
        return None;
    }
    if exp < 0.0 {
        // Before 1970: long expired, whatever it means.
        return Some(SystemTime::UNIX_EPOCH);
    }
    // Too far out for `Duration` or `SystemTime`: as good as no expiry, so none is known.
    SystemTime::UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(exp).ok()?)
}

/// Gives tokens for a mode. Registered per mode with
/// [`ClientBuilder::token_provider`](crate::ClientBuilder::token_provider); the client caches
/// the token until shortly before it expires and calls the provider once however many calls
/// wait for it.
///
/// Closures work through [`token_fn`]; a fixed token through [`StaticToken`].
pub trait TokenProvider: Send + Sync + 'static {
    /// Returns a token for the request.
    fn token<'a>(&'a self, request: &'a TokenRequest) -> BoxFuture<'a, Result<Token, BoxError>>;
}

/// A provider from an async closure: `token_fn(|req| async move { Ok(Token::new(fetch().await?)) })`.
pub fn token_fn<F, Fut>(f: F) -> TokenFn<F>
where
    F: Fn(TokenRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Token, BoxError>> + Send + 'static,
{
    TokenFn(f)
}

/// A [`TokenProvider`] made by [`token_fn`].
pub struct TokenFn<F>(F);

impl<F> fmt::Debug for TokenFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenFn")
    }
}

impl<F, Fut> TokenProvider for TokenFn<F>
where
    F: Fn(TokenRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Token, BoxError>> + Send + 'static,
{
    fn token<'a>(&'a self, request: &'a TokenRequest) -> BoxFuture<'a, Result<Token, BoxError>> {
        Box::pin((self.0)(request.clone()))
    }
}

/// A provider that always gives the same token.
#[derive(Clone, Debug)]
pub struct StaticToken(Token);

impl StaticToken {
    /// A fixed token.
    pub fn new(token: impl Into<Secret>) -> Self {
        StaticToken(Token::new(token))
    }
}

impl TokenProvider for StaticToken {
    fn token<'a>(&'a self, _request: &'a TokenRequest) -> BoxFuture<'a, Result<Token, BoxError>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
}

/// The cache in front of one mode's provider: one slot per [`TokenKind`].
pub(crate) struct TokenCache {
    mode: AuthMode,
    provider: Arc<dyn TokenProvider>,
    slots: [Refreshing<Secret>; 2],
}

/// A token handed out by the cache, with the generation to invalidate it by.
pub(crate) struct Lease {
    pub value: Secret,
    pub kind: TokenKind,
    pub generation: u64,
}

impl TokenCache {
    /// A cache whose provider calls may take at most `timeout` each.
    pub(crate) fn new(mode: AuthMode, provider: Arc<dyn TokenProvider>, timeout: Duration) -> Self {
        let what = format!("the {mode} token provider");
        TokenCache {
            mode,
            provider,
            slots: [
                Refreshing::new(what.clone(), timeout),
                Refreshing::new(what, timeout),
            ],
        }
    }

    fn slot(&self, kind: TokenKind) -> &Refreshing<Secret> {
        match kind {
            TokenKind::Access => &self.slots[0],
            TokenKind::Id => &self.slots[1],
        }
    }

    /// A valid token: the cached one, or a fresh one from the provider. Concurrent callers
    /// share one provider call; none of them holds a lock while it runs.
    pub(crate) async fn get(&self, kind: TokenKind) -> Result<Lease> {
        let mode = self.mode;
        let provider = self.provider.clone();
        let (value, generation) =
            self.slot(kind)
                .get(move |force_refresh| {
                    Box::pin(async move {
                        let request = TokenRequest {
                            mode,
                            kind,
                            force_refresh,
                        };
                        let token = provider.token(&request).await.map_err(|e| {
                            provider_error(&format!("the {mode} token provider"), e)
                        })?;
                        if token.value().expose().is_empty() {
                            return Err(Error::auth(format!(
                                "the {mode} token provider returned an empty token"
                            )));
                        }
                        Ok(Fetched {
                            expires_at: token.expires_at(),
                            value: token.value,
                        })
                    })
                })
                .await?;
        Ok(Lease {
            value,
            kind,
            generation,
        })
    }

    /// Drops every cached token (the identity changed).
    pub(crate) fn clear(&self) {
        for slot in &self.slots {
            slot.clear();
        }
    }

    /// Drops the cached token if it is still the one of `generation` (a newer one stays).
    pub(crate) async fn invalidate(&self, kind: TokenKind, generation: u64) {
        self.slot(kind).invalidate(generation);
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn jwt(exp: u64) -> String {
        jwt_with(&exp.to_string())
    }

    #[test]
    fn reads_jwt_expiry() {
        let t = Token::new(jwt(2_000_000_000));
        assert_eq!(
            t.expires_at(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000))
        );
        assert_eq!(Token::new("opaque").expires_at(), None);
        assert_eq!(jwt_expiry("a.!!!.c"), None);
    }

    fn jwt_with(exp_json: &str) -> String {
        let b = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.sig",
            b(r#"{"alg":"none"}"#),
            b(&format!(r#"{{"exp":{exp_json}}}"#))
        )
    }

    /// No `exp` a token can hold panics, whatever its size or type.
    #[test]
    fn any_exp_is_read_without_panicking() {
        let far = [
            "1e300",
            "1.7976931348623157e308",
            "18446744073709551615",
            "18446744073709551616",
            "9223372036854775807",
            "9223372036854775808",
            "1e19",
            "253402300800",
            "-1",
            "-1e300",
            "-0",
            "0.5",
            "-9223372036854775809",
            "\"2000000000\"",
            "null",
            "true",
            "[1]",
            "{\"a\":1}",
        ];
        for exp in far {
            let _ = Token::new(jwt_with(exp)).expires_at();
        }
        assert_eq!(jwt_expiry(&jwt_with("1e300")), None);
        assert_eq!(jwt_expiry(&jwt_with("-5")), Some(SystemTime::UNIX_EPOCH));
        assert_eq!(jwt_expiry(&jwt_with("\"2000000000\"")), None);
        // Generated: every power of ten and its negation, with fractions.
        for e in -320..=320 {
            for m in ["1", "9.99", "4.2"] {
                for sign in ["", "-"] {
                    let _ = jwt_expiry(&jwt_with(&format!("{sign}{m}e{e}")));
                }
            }
        }
    }

    /// A token whose `exp` is absurd still goes through the cache (which computes a refresh
    /// time from it) without a panic.
    #[tokio::test]
    async fn the_cache_survives_absurd_expiries() {
        for exp in [
            "1e300",
            "-1e300",
            "18446744073709551616",
            "9223372036854775807",
            "0",
        ] {
            let token = jwt_with(exp);
            let cache = TokenCache::new(
                AuthMode::Oidc,
                Arc::new(StaticToken::new(token)),
                Duration::from_secs(5),
            );
            cache.get(TokenKind::Access).await.unwrap();
            cache.get(TokenKind::Access).await.unwrap();
        }
        for at in [
            SystemTime::UNIX_EPOCH,
            SystemTime::UNIX_EPOCH + Duration::from_secs(u64::MAX / 4),
        ] {
            let p = token_fn(move |_| async move { Ok(Token::new("t").with_expiry(at)) });
            let cache = TokenCache::new(AuthMode::Oidc, Arc::new(p), Duration::from_secs(5));
            cache.get(TokenKind::Access).await.unwrap();
        }
    }

    #[tokio::test]
    async fn expired_tokens_are_refetched_and_invalidation_is_by_generation() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let provider = token_fn(move |req: TokenRequest| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move {
                // The first token is already expired; later ones are good for an hour.
                let exp = if n == 0 { 1 } else { 4_000_000_000 };
                assert_eq!(req.force_refresh, n > 0);
                Ok(Token::new(jwt(exp)))
            }
        });
        let cache = TokenCache::new(AuthMode::Oidc, Arc::new(provider), Duration::from_secs(5));
        let a = cache.get(TokenKind::Access).await.unwrap();
        let b = cache.get(TokenKind::Access).await.unwrap();
        assert_ne!(a.generation, b.generation);
        let c2 = cache.get(TokenKind::Access).await.unwrap();
        assert_eq!(b.generation, c2.generation);
        cache.invalidate(TokenKind::Access, a.generation).await; // stale: ignored
        assert_eq!(
            cache.get(TokenKind::Access).await.unwrap().generation,
            b.generation
        );
        cache.invalidate(TokenKind::Access, b.generation).await;
        assert_ne!(
            cache.get(TokenKind::Access).await.unwrap().generation,
            b.generation
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
