//! The HTTP pipeline: headers, auth, interceptors, SigV4 last, `reqwest`, retries and the 401
//! token refresh.

use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use url::Url;

use crate::auth::iam::{sign_request, Service};
use crate::auth::token::{BoxFuture, Lease};
use crate::auth::{api_key, AuthMode, TokenKind};
use crate::client::ClientInner;
use crate::config::{EndpointConfig, EndpointType};
use crate::error::{BoxError, Error, Kind, Result};
use crate::graphql::GraphQLError;
use crate::secret::Secret;

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

/// When and how often to retry: only calls that are safe to repeat (queries, GET/HEAD, or
/// calls that opt in), on network errors, 429 and 5xx, with full-jitter exponential backoff.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    max_retries: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Two retries, 100 ms base delay, 2 s cap.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// At most `n` retries after the first try.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The first backoff ceiling; it doubles per retry.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// The largest backoff ceiling.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Full jitter: a random delay in `[0, min(max, base * 2^attempt)]`.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .min(self.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// Per-call choices shared by GraphQL and REST calls.
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

/// One logical HTTP call, tried one or more times.
pub(crate) struct Call<'a> {
    pub endpoint: &'a EndpointConfig,
    pub mode: AuthMode,
    pub service: Service,
    pub method: Method,
    pub url: std::borrow::Cow<'a, Url>,
    pub body: Bytes,
    pub content_type: Option<&'static str>,
    pub accept_json: bool,
    pub options: &'a CallOptions,
    /// Whether retries on network errors, 429 and 5xx are safe.
    pub retry_safe: bool,
}

/// A raw answer.
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The `host` header value: host, plus the port when it is not the scheme's default.
pub(crate) fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue)> {
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

fn authorization_value(token: &Secret) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(token.expose())
        .map_err(|_| Error::auth("the token contains characters not allowed in a header"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// `x-amzn-ErrorType` without the `:<detail>` suffix API Gateway and AppSync may append.
pub(crate) fn error_type_header(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("x-amzn-errortype")?.to_str().ok()?;
    let t = v.split(':').next().unwrap_or(v).trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Builds the status error: the `errors` envelope (AppSync), or `message`/`Message` (API Gateway).
pub(crate) fn status_error(resp: RawResponse) -> Error {
    let error_type = error_type_header(&resp.headers);
    let mut errors: Vec<GraphQLError> = Vec::new();
    let mut message = None;
    if let Ok(serde_json::Value::Object(obj)) =
        serde_json::from_slice::<serde_json::Value>(&resp.body)
    {
        if let Some(v) = obj.get("errors") {
            let v = match v {
                serde_json::Value::Object(_) => serde_json::Value::Array(vec![v.clone()]),
                other => other.clone(),
            };
            errors = serde_json::from_value(v).unwrap_or_default();
        }
        message = ["message", "Message", "errorMessage"]
            .iter()
            .find_map(|k| obj.get(*k).and_then(|m| m.as_str()).map(str::to_owned));
    }
    Error::status(resp.status, error_type, errors, message, resp.body)
}

pub(crate) fn http_date(headers: &HeaderMap) -> Option<SystemTime> {
    httpdate(headers.get(http::header::DATE)?.to_str().ok()?)
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form servers must send.
fn httpdate(s: &str) -> Option<SystemTime> {
    let mut it = s.split_whitespace();
    let _wday = it.next()?;
    let day: u64 = it.next()?.parse().ok()?;
    let month = match it.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp as i64 + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + sec;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

impl ClientInner {
    /// Builds one attempt's request: headers, auth, interceptors, then the signature.
    pub(crate) async fn build_request(
        &self,
        call: &Call<'_>,
        attempt: u32,
    ) -> Result<(http::Request<Bytes>, Option<Lease>)> {
        // Only interceptors and header providers see the context: build it for them alone.
        let context =
            (!self.interceptors.is_empty() || !self.header_providers.is_empty()).then(|| {
                RequestContext {
                    api_name: call.endpoint.name().to_owned(),
                    endpoint_type: call.endpoint.endpoint_type(),
                    auth_mode: call.mode,
                    attempt,
                }
            });
        let mut req = http::Request::builder()
            .method(call.method.clone())
            .uri(call.url.as_str())
            .body(call.body.clone())
            .map_err(|e| Error::request("the request could not be built").with_source(e))?;
        let h = req.headers_mut();
        let host = if call.url.host_str() == call.endpoint.url().host_str()
            && call.url.port() == call.endpoint.url().port()
        {
            call.endpoint.host_value().clone()
        } else {
            HeaderValue::from_str(&host_header(&call.url))
                .map_err(|_| Error::request("the URL's host cannot be a header"))?
        };
        h.insert(http::header::HOST, host);
        if let Some(ct) = call.content_type {
            h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        if call.accept_json {
            h.insert(
                http::header::ACCEPT,
                HeaderValue::from_static("application/json"),
            );
        }
        for (n, v) in &self.default_headers {
            h.append(n.clone(), v.clone());
        }
        if let Some(context) = &context {
            for p in &self.header_providers {
                let more = p
                    .headers(context)
                    .await
                    .map_err(|e| Error::request("a header provider failed").with_source(e))?;
                for (n, v) in more.iter() {
                    h.insert(n.clone(), v.clone());
                }
            }
        }
        for (n, v) in parse_headers(&call.options.headers)? {
            if let Some(n) = n {
                h.insert(n, v);
            }
        }

        let mut lease = None;
        match call.mode {
            AuthMode::ApiKey => {
                let key = call
                    .options
                    .api_key
                    .as_ref()
                    .or(call.endpoint.api_key())
                    .ok_or_else(|| {
                        Error::auth(format!(
                            "API_KEY needs a key: endpoint {:?} has none configured ({}); pass .api_key(..) on the call",
                            call.endpoint.name(),
                            call.endpoint.key_path()
                        ))
                    })?;
                let value = match (&call.options.api_key, call.endpoint.api_key_value()) {
                    (None, Some(cached)) => cached.clone(),
                    _ => api_key::header_value(key)?,
                };
                h.insert(api_key::HEADER, value);
            }
            AuthMode::UserPools | AuthMode::Oidc | AuthMode::Lambda => {
                let value = match &call.options.auth_token {
                    Some(t) => t.clone(),
                    None => {
                        let cache = self.tokens.get(&call.mode).ok_or_else(|| {
                            Error::auth(format!(
                                "{} needs a token: register a provider with ClientBuilder::token_provider(AuthMode::{:?}, ..) or pass .auth_token(..) on the call",
                                call.mode, call.mode
                            ))
                        })?;
                        let kind = match call.mode {
                            AuthMode::UserPools => {
                                call.options.token_kind.unwrap_or(self.user_pool_token)
                            }
                            _ => TokenKind::Access,
                        };
                        let l = cache.get(kind).await?;
                        let v = l.value.clone();
                        lease = Some(l);
                        v
                    }
                };
                h.insert(http::header::AUTHORIZATION, authorization_value(&value)?);
            }
            AuthMode::Iam | AuthMode::None => {}
        }

        if let Some(context) = &context {
            for i in &self.interceptors {
                i.intercept(&mut req, context).map_err(|e| {
                    Error::request("an interceptor refused the request").with_source(e)
                })?;
            }
        }

        if call.mode == AuthMode::Iam {
            let creds = self
                .credentials
                .as_ref()
                .ok_or_else(|| {
                    Error::auth(
                        "AWS_IAM needs AWS credentials: set ClientBuilder::credentials_provider(..) \
                         (any aws_credential_types ProvideCredentials, e.g. from aws-config)",
                    )
                })?
                .get()
                .await?;
            let region = call.endpoint.region().ok_or_else(|| {
                Error::config(format!(
                    "AWS_IAM needs a region for endpoint {:?}: set {}.region",
                    call.endpoint.name(),
                    call.endpoint.key_path()
                ))
            })?;
            sign_request(&mut req, &creds, region, call.service, self.skew.now())?;
        }
        Ok((req, lease))
    }

    async fn send_once(&self, req: http::Request<Bytes>, timeout: Duration) -> Result<RawResponse> {
        let mut req = reqwest::Request::try_from(req).map_err(|e| {
            Error::request("the request could not be built").with_source(e.without_url())
        })?;
        *req.timeout_mut() = Some(timeout);
        let resp = self.http.execute(req).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?;
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    /// Runs a call: retries when safe, refreshes a refused token once, learns the clock skew
    /// from a refused signature once. Non-2xx answers are returned, not turned into errors.
    pub(crate) async fn execute(&self, call: Call<'_>) -> Result<RawResponse> {
        let timeout = call.options.timeout.unwrap_or(self.timeout);
        let retry = call.options.retry.unwrap_or(call.retry_safe);
        let mut attempt = 0u32;
        let mut retries = 0u32;
        let mut refreshed = false;
        let mut reskewed = false;
        loop {
            let (req, lease) = self.build_request(&call, attempt).await?;
            attempt += 1;
            match self.send_once(req, timeout).await {
                Ok(resp) => {
                    let s = resp.status;
                    if s == StatusCode::UNAUTHORIZED && !refreshed {
                        if let Some(l) = &lease {
                            refreshed = true;
                            if let Some(cache) = self.tokens.get(&call.mode) {
                                cache.invalidate(l.kind, l.generation).await;
                            }
                            tracing::debug!(mode = %call.mode, "401: refreshing the token and retrying once");
                            continue;
                        }
                    }
                    if call.mode == AuthMode::Iam
                        && !reskewed
                        && (s == StatusCode::FORBIDDEN || s == StatusCode::UNAUTHORIZED)
                    {
                        reskewed = true;
                        if let Some(date) = http_date(&resp.headers) {
                            if self.skew.learn(date) {
                                continue;
                            }
                        }
                        // Temporary credentials that the server says expired: fetch new ones once.
                        let expired = error_type_header(&resp.headers)
                            .is_some_and(|t| t == "ExpiredTokenException");
                        if expired && call.options.auth_token.is_none() {
                            if let Some(c) = &self.credentials {
                                c.invalidate().await;
                                continue;
                            }
                        }
                    }
                    let retryable = s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error();
                    if retryable && retry && retries < self.retry.max_retries {
                        tokio::time::sleep(self.retry.delay(retries)).await;
                        retries += 1;
                        tracing::debug!(status = %s, retries, "retrying");
                        continue;
                    }
                    return Ok(resp);
                }
                Err(e)
                    if matches!(e.kind(), Kind::Transport | Kind::Timeout)
                        && retry
                        && retries < self.retry.max_retries =>
                {
                    tokio::time::sleep(self.retry.delay(retries)).await;
                    retries += 1;
                    tracing::debug!(error = %e, retries, "retrying after a network error");
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_dates() {
        let t = httpdate("Sun, 30 Aug 2015 12:36:00 GMT").unwrap();
        assert_eq!(
            t,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
        );
        assert!(httpdate("yesterday").is_none());
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        let p = RetryPolicy::default();
        for a in 0..40 {
            assert!(p.delay(a) <= Duration::from_secs(2));
        }
    }

    #[test]
    fn host_keeps_non_default_ports() {
        assert_eq!(
            host_header(&Url::parse("http://127.0.0.1:8080/g").unwrap()),
            "127.0.0.1:8080"
        );
        assert_eq!(
            host_header(&Url::parse("https://a.example.com:443/g").unwrap()),
            "a.example.com"
        );
    }
}
