//! The headers every request carries, whatever carries it (HTTP calls, realtime handshakes and
//! starts): the context header providers and interceptors see, the providers themselves, the
//! client's default headers, and parsing helpers for header names, values and server answers.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use appsync_types::AuthMode;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::auth::token::BoxFuture;
use crate::config::EndpointType;
use crate::error::{BoxError, Error, Result};

/// What an interceptor or header provider knows about the request in hand.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RequestContext {
    /// The endpoint's name.
    pub api_name: String,
    /// GraphQL or REST.
    pub endpoint_type: EndpointType,
    /// The auth mode in use.
    pub auth_mode: AuthMode,
    /// 0 for the first try, then 1, 2… for retries.
    pub attempt: u32,
}

/// Sees, and may change, every HTTP request after the auth headers are set and before the
/// request is signed (for `AWS_IAM`) and sent. A closure
/// `Fn(&mut http::Request<Bytes>, &RequestContext) -> Result<(), BoxError>` is one.
pub trait Interceptor: Send + Sync + 'static {
    /// Changes the request, or refuses it with an error.
    fn intercept(
        &self,
        request: &mut http::Request<Bytes>,
        context: &RequestContext,
    ) -> Result<(), BoxError>;
}

impl<F> Interceptor for F
where
    F: Fn(&mut http::Request<Bytes>, &RequestContext) -> Result<(), BoxError>
        + Send
        + Sync
        + 'static,
{
    fn intercept(
        &self,
        request: &mut http::Request<Bytes>,
        context: &RequestContext,
    ) -> Result<(), BoxError> {
        self(request, context)
    }
}

/// Gives headers for each request, asynchronously (e.g. a trace id or a header from a store).
pub trait HeaderProvider: Send + Sync + 'static {
    /// The headers to add.
    fn headers<'a>(
        &'a self,
        context: &'a RequestContext,
    ) -> BoxFuture<'a, Result<HeaderMap, BoxError>>;
}

/// A [`HeaderProvider`] from an async closure; see [`headers_fn`].
pub struct HeadersFn<F>(F);

/// A header provider from an async closure taking the [`RequestContext`].
pub fn headers_fn<F, Fut>(f: F) -> HeadersFn<F>
where
    F: Fn(RequestContext) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<HeaderMap, BoxError>> + Send + 'static,
{
    HeadersFn(f)
}

impl<F, Fut> HeaderProvider for HeadersFn<F>
where
    F: Fn(RequestContext) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<HeaderMap, BoxError>> + Send + 'static,
{
    fn headers<'a>(
        &'a self,
        context: &'a RequestContext,
    ) -> BoxFuture<'a, Result<HeaderMap, BoxError>> {
        Box::pin((self.0)(context.clone()))
    }
}

impl<F> fmt::Debug for HeadersFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HeadersFn")
    }
}

/// This crate's `user-agent`.
pub(crate) const USER_AGENT: &str = concat!("appsync-rs/", env!("CARGO_PKG_VERSION"));

pub(crate) fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::request(format!("invalid header name {name:?}")))?;
    let v = HeaderValue::from_str(value)
        .map_err(|_| Error::request(format!("invalid value for header {name:?}")))?;
    Ok((n, v))
}

pub(crate) fn parse_headers(headers: &[(String, String)]) -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        let (n, v) = parse_header(k, v)?;
        map.append(n, v);
    }
    Ok(map)
}

/// `x-amzn-ErrorType` without the `:<detail>` suffix API Gateway and AppSync may append.
pub(crate) fn error_type_header(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("x-amzn-errortype")?.to_str().ok()?;
    let t = v.split(':').next().unwrap_or(v).trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// The server's `Date` header, if it is a valid HTTP date (any of the three forms RFC 9110
/// allows, years 1970 to 9999); anything else is `None`, never a panic.
pub(crate) fn http_date(headers: &HeaderMap) -> Option<SystemTime> {
    httpdate::parse_http_date(headers.get(http::header::DATE)?.to_str().ok()?).ok()
}

/// Puts each header of `layer` onto `headers`, replacing the values an earlier layer gave that
/// name and keeping every value this layer gives it (`.header(k, "1").header(k, "2")` sends
/// both).
pub(crate) fn overlay(headers: &mut HeaderMap, layer: &HeaderMap) {
    for name in layer.keys() {
        headers.remove(name);
        for value in layer.get_all(name) {
            headers.append(name.clone(), value.clone());
        }
    }
}

/// The client's own headers: fixed ones, then those of each provider (bounded by a timeout).
pub(crate) struct Headers {
    default: HeaderMap,
    providers: Vec<Arc<dyn HeaderProvider>>,
    timeout: Duration,
}

impl Headers {
    pub(crate) fn new(
        default: HeaderMap,
        providers: Vec<Arc<dyn HeaderProvider>>,
        timeout: Duration,
    ) -> Self {
        Headers {
            default,
            providers,
            timeout,
        }
    }

    /// Whether any provider needs a [`RequestContext`].
    pub(crate) fn has_providers(&self) -> bool {
        !self.providers.is_empty()
    }

    /// The default headers' names (for `Debug`).
    pub(crate) fn names(&self) -> impl Iterator<Item = &HeaderName> {
        self.default.keys()
    }

    /// Puts the default headers, then each provider's, onto `headers`: later layers win by name.
    pub(crate) async fn apply(
        &self,
        headers: &mut HeaderMap,
        context: Option<&RequestContext>,
    ) -> Result<()> {
        overlay(headers, &self.default);
        let Some(context) = context else {
            return Ok(());
        };
        for p in &self.providers {
            let limit = self.timeout;
            let more = tokio::time::timeout(limit, p.headers(context))
                .await
                .map_err(|_| {
                    Error::timeout(format!("a header provider did not answer within {limit:?}"))
                })?
                .map_err(|e| Error::request("a header provider failed").with_source(e))?;
            overlay(headers, &more);
        }
        Ok(())
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Headers")
            .field("default", &self.default.keys().collect::<Vec<_>>())
            .field("providers", &self.providers.len())
            .finish()
    }
}
