//! The HTTP layer: one `Transport` per client owns the `reqwest` client and runs each call's
//! pipeline (headers, auth, interceptors, SigV4 last), its retries, the 401 token refresh, the
//! clock-skew retry, and the limits on answers.

use std::sync::Arc;
use std::time::Duration;

use appsync_types::AuthMode;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use url::Url;

use crate::auth::iam::{sign_parts, Service};
use crate::auth::token::Lease;
use crate::auth::{api_key, Auth};
use crate::config::{host_header, EndpointConfig, EndpointType};
use crate::endpoint::AuthStrategy;
use crate::error::{Error, Kind, Result};
use crate::headers::{
    error_type_header, http_date, overlay, parse_headers, Headers, Interceptor, RequestContext,
    USER_AGENT,
};
use crate::operation::{GraphQLError, OperationKind};
use crate::options::CallOptions;
use crate::secret::Secret;

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
    /// The GraphQL operation's kind and name, for the span (`None` for REST).
    pub kind: Option<OperationKind>,
    pub operation_name: Option<&'a str>,
}

/// A raw answer.
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Which attempt got it (0 for the first try).
    pub attempt: u32,
}

fn authorization_value(token: &Secret) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(token.expose())
        .map_err(|_| Error::auth("the token contains characters not allowed in a header"))?;
    v.set_sensitive(true);
    Ok(v)
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
    let (headers, attempt) = (resp.headers, resp.attempt);
    Error::status(resp.status, error_type, errors, message, resp.body)
        .with_request_meta(Some(&headers), attempt)
}

/// The host (and port) a `Location` names, for a redirect error: never its path or query, which
/// may carry a token. A relative location names the request's own host.
fn location_host(headers: &HeaderMap, request: &Url) -> String {
    let Some(loc) = headers.get(http::header::LOCATION) else {
        return "nowhere (no Location header)".to_owned();
    };
    let Ok(loc) = loc.to_str() else {
        return "an unreadable Location".to_owned();
    };
    match request.join(loc) {
        Ok(u) if u.host_str().is_some() => format!("{}://{}", u.scheme(), host_header(&u)),
        _ => "an invalid Location".to_owned(),
    }
}

/// A `reqwest` request as an `http` one (for interceptors and `into_http_request`).
pub(crate) fn to_http(mut req: reqwest::Request) -> Result<http::Request<Bytes>> {
    let body = req
        .body()
        .and_then(reqwest::Body::as_bytes)
        .map(Bytes::copy_from_slice)
        .unwrap_or_default();
    let mut out = http::Request::builder()
        .method(req.method().clone())
        .uri(req.url().as_str())
        .body(body)
        .map_err(|e| Error::request("the request could not be built").with_source(e))?;
    *out.headers_mut() = std::mem::take(req.headers_mut());
    Ok(out)
}

/// The HTTP layer of a client.
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    auth: Arc<Auth>,
    headers: Arc<Headers>,
    interceptors: Vec<Arc<dyn Interceptor>>,
    timeout: Duration,
    retry: RetryPolicy,
    max_response_size: u64,
    strategy: AuthStrategy,
}

impl Transport {
    #[allow(clippy::too_many_arguments)] // one per setting of the builder, called once
    pub(crate) fn new(
        http: reqwest::Client,
        auth: Arc<Auth>,
        headers: Arc<Headers>,
        interceptors: Vec<Arc<dyn Interceptor>>,
        timeout: Duration,
        retry: RetryPolicy,
        max_response_size: u64,
        strategy: AuthStrategy,
    ) -> Self {
        Transport {
            strategy,
            http,
            auth,
            headers,
            interceptors,
            timeout,
            retry,
            max_response_size,
        }
    }

    /// The auth layer (for the call builders' multi-auth choice).
    pub(crate) fn auth(&self) -> &Auth {
        &self.auth
    }

    /// How calls that name no mode choose one, unless the call says.
    pub(crate) fn strategy(&self) -> AuthStrategy {
        self.strategy
    }

    /// The number of interceptors, the timeout and the retry policy (for `Client`'s `Debug`).
    pub(crate) fn describe(&self) -> (usize, Duration, &RetryPolicy) {
        (self.interceptors.len(), self.timeout, &self.retry)
    }

    /// Builds one attempt's request: headers, auth, interceptors, then the signature.
    pub(crate) async fn build_request(
        &self,
        call: &Call<'_>,
        attempt: u32,
    ) -> Result<(reqwest::Request, Option<Lease>)> {
        // Only interceptors and header providers see the context: build it for them alone.
        let context = (!self.interceptors.is_empty() || self.headers.has_providers()).then(|| {
            RequestContext {
                api_name: call.endpoint.name().to_owned(),
                endpoint_type: call.endpoint.endpoint_type(),
                auth_mode: call.mode,
                attempt,
            }
        });
        // Built once, as `reqwest` sends it: the URL was parsed when the configuration was, and
        // the body is shared, not copied.
        let mut req = reqwest::Request::new(call.method.clone(), call.url.as_ref().clone());
        *req.body_mut() = Some(reqwest::Body::from(call.body.clone()));
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
        // Later layers win by name: default headers, then each provider, then the call's own.
        self.headers.apply(h, context.as_ref()).await?;
        let h = req.headers_mut();
        overlay(h, &parse_headers(&call.options.headers)?);
        // reqwest would add these after signing, unsigned; set here, they are signed like the
        // rest (a header set above, e.g. a user's `user-agent`, is kept).
        if !h.contains_key(http::header::ACCEPT) {
            h.insert(http::header::ACCEPT, HeaderValue::from_static("*/*"));
        }
        if !h.contains_key(http::header::USER_AGENT) {
            h.insert(
                http::header::USER_AGENT,
                HeaderValue::from_static(USER_AGENT),
            );
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
                        let rest = call.endpoint.endpoint_type() == EndpointType::Rest;
                        let kind = self
                            .auth
                            .token_kind(call.mode, rest, call.options.token_kind);
                        let l = self.auth.token(call.mode, kind, "the call").await?;
                        let v = l.value.clone();
                        lease = Some(l);
                        v
                    }
                };
                h.insert(http::header::AUTHORIZATION, authorization_value(&value)?);
            }
            // IAM is signed last; NONE adds nothing.
            _ => {}
        }

        if let Some(context) = context.as_ref().filter(|_| !self.interceptors.is_empty()) {
            // Interceptors see (and may change) an `http::Request`, the public type.
            let mut http_req = to_http(req)?;
            for i in &self.interceptors {
                i.intercept(&mut http_req, context).map_err(|e| {
                    Error::request("an interceptor refused the request").with_source(e)
                })?;
            }
            req = reqwest::Request::try_from(http_req).map_err(|e| {
                Error::request("the intercepted request could not be built")
                    .with_source(e.without_url())
            })?;
        }

        if call.mode == AuthMode::Iam {
            let creds = self.auth.credentials().await?;
            let region = call.endpoint.region().ok_or_else(|| {
                Error::config(format!(
                    "AWS_IAM needs a region for endpoint {:?}: set {}.region",
                    call.endpoint.name(),
                    call.endpoint.key_path()
                ))
            })?;
            // Signed over the body as sent (an interceptor may have replaced it).
            let mut headers = std::mem::take(req.headers_mut());
            let body = req
                .body()
                .and_then(reqwest::Body::as_bytes)
                .unwrap_or_default();
            let signed = sign_parts(
                req.method(),
                req.url().as_str(),
                &mut headers,
                body,
                &creds,
                region,
                call.service,
                self.auth.now(),
            );
            *req.headers_mut() = headers;
            signed?;
        }
        Ok((req, lease))
    }

    /// One HTTP exchange. A redirect is an error (the client never follows one: see
    /// `ClientBuilder::build`), and the body is read chunk by chunk up to the size limit.
    async fn send_once(
        &self,
        mut req: reqwest::Request,
        url: &Url,
        timeout: Duration,
        attempt: u32,
        span: &tracing::Span,
    ) -> Result<RawResponse> {
        *req.timeout_mut() = Some(timeout);
        let mut resp = self
            .http
            .execute(req)
            .await
            .map_err(|e| Error::from(e).with_request_meta(None, attempt))?;
        let status = resp.status();
        let headers = std::mem::take(resp.headers_mut());
        span.record("status", status.as_u16());
        if let Some(id) = crate::error::request_id_header(&headers) {
            span.record("request_id", id.as_str());
        }
        if let Some(t) = error_type_header(&headers) {
            span.record("error_type", t.as_str());
        }
        if status.is_redirection() {
            let to = location_host(&headers, url);
            return Err(Error::redirect(
                status,
                format!(
                    "HTTP {status}: the server redirected to {to}; the redirect was not followed \
                     (AppSync and API Gateway never redirect, and following would send the auth \
                     headers there): check the endpoint URL"
                ),
            )
            .with_request_meta(Some(&headers), attempt));
        }
        let limit = self.max_response_size;
        let too_large = |headers: &HeaderMap| {
            Error::too_large(format!(
                "the HTTP {status} answer's body is larger than the limit of {limit} bytes \
                 (AppSync answers at most 5 MB, API Gateway 10 MB); raise it with \
                 ClientBuilder::max_response_size if this API really sends more"
            ))
            .with_request_meta(Some(headers), attempt)
        };
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(too_large(&headers));
        }
        // Most answers come in one chunk: kept as it is, without a copy.
        let mut first: Option<Bytes> = None;
        let mut more: Option<bytes::BytesMut> = None;
        let mut len = 0u64;
        loop {
            let chunk = resp
                .chunk()
                .await
                .map_err(|e| Error::from(e).with_request_meta(Some(&headers), attempt))?;
            let Some(chunk) = chunk else { break };
            len = len.saturating_add(chunk.len() as u64);
            if len > limit {
                return Err(too_large(&headers));
            }
            match (&mut more, first.take()) {
                (Some(buf), _) => buf.extend_from_slice(&chunk),
                (None, None) => first = Some(chunk),
                (None, Some(f)) => {
                    // The declared length sizes the buffer, capped: it is the server's word.
                    let hint = resp.content_length().unwrap_or(0).min(1 << 20) as usize;
                    let mut buf = bytes::BytesMut::with_capacity(hint.max(f.len() + chunk.len()));
                    buf.extend_from_slice(&f);
                    buf.extend_from_slice(&chunk);
                    more = Some(buf);
                }
            }
        }
        let body = match more {
            Some(buf) => buf.freeze(),
            None => first.unwrap_or_default(),
        };
        Ok(RawResponse {
            status,
            headers,
            body,
            attempt,
        })
    }

    /// Runs a call inside its `appsync.http` span (api, mode, operation kind, method; each
    /// attempt records its number, status, request id and error type).
    pub(crate) async fn execute(&self, call: Call<'_>) -> Result<RawResponse> {
        use tracing::field::Empty;
        use tracing::Instrument;
        let span = tracing::debug_span!(
            "appsync.http",
            api = call.endpoint.name(),
            mode = %call.mode,
            kind = call.kind.map_or("rest", OperationKind::as_str),
            operation = call.operation_name.unwrap_or(""),
            method = %call.method,
            attempt = Empty,
            status = Empty,
            request_id = Empty,
            error_type = Empty,
        );
        self.execute_attempts(call, &span)
            .instrument(span.clone())
            .await
    }

    /// Retries when safe, refreshes a refused token once, learns the clock skew from a refused
    /// signature once. Non-2xx answers are returned, not turned into errors.
    async fn execute_attempts(&self, call: Call<'_>, span: &tracing::Span) -> Result<RawResponse> {
        let timeout = call.options.timeout.unwrap_or(self.timeout);
        let retry = call.options.retry.unwrap_or(call.retry_safe);
        let mut attempt = 0u32;
        let mut retries = 0u32;
        let mut refreshed = false;
        let mut reskewed = false;
        loop {
            let (req, lease) = self.build_request(&call, attempt).await.map_err(|e| {
                // On a retry, a request was sent already: say which try failed.
                if attempt > 0 {
                    e.with_request_meta(None, attempt)
                } else {
                    e
                }
            })?;
            span.record("attempt", attempt);
            let sent = self.send_once(req, &call.url, timeout, attempt, span).await;
            attempt += 1;
            match sent {
                Ok(resp) => {
                    let s = resp.status;
                    if s == StatusCode::UNAUTHORIZED && !refreshed {
                        if let Some(l) = &lease {
                            refreshed = true;
                            self.auth
                                .invalidate_token(call.mode, l.kind, l.generation)
                                .await;
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
                            if self.auth.learn_skew(date) {
                                continue;
                            }
                        }
                        // Temporary credentials that the server says expired: fetch new ones once.
                        let expired = error_type_header(&resp.headers)
                            .is_some_and(|t| t == "ExpiredTokenException");
                        if expired
                            && call.options.auth_token.is_none()
                            && self.auth.invalidate_credentials().await
                        {
                            continue;
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
    use std::time::SystemTime;

    fn date_header(v: &[u8]) -> Option<SystemTime> {
        let mut h = HeaderMap::new();
        h.insert(http::header::DATE, HeaderValue::from_bytes(v).ok()?);
        http_date(&h)
    }

    #[test]
    fn parses_http_dates() {
        assert_eq!(
            date_header(b"Sun, 30 Aug 2015 12:36:00 GMT"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160))
        );
        assert_eq!(
            date_header(b"Sunday, 30-Aug-15 12:36:00 GMT"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160))
        );
        assert!(date_header(b"yesterday").is_none());
    }

    /// No `Date` header a server can send panics the parser.
    #[test]
    fn hostile_date_headers_never_panic() {
        let fixed = [
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Sat, 01 Jan 10000 00:00:00 GMT",
            "Mon, 01 Jan 0000 00:00:00 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
            "Sun, 99 Zzz 2015 99:99:99 GMT",
            "Sun, 30 Aug 18446744073709551616 12:36:00 GMT",
            "Sun, 30 Aug -9223372036854775808 12:36:00 GMT",
            "Sun, 30 Aug 2015 18446744073709551615:00:00 GMT",
            "Sun, 4294967296 Aug 2015 12:36:00 GMT",
            "Sun, 29 Feb 2015 12:36:00 GMT",
            "Sun,",
            "",
            "\u{e9}t\u{e9}, 30 Aug 2015 12:36:00 GMT",
        ];
        for d in fixed {
            let _ = date_header(d.as_bytes());
        }
        // Every numeric field pushed through large, negative and odd values.
        let nums = [
            "0",
            "-1",
            "00",
            "99",
            "2147483648",
            "9223372036854775807",
            "1e9",
            "+5",
        ];
        for y in nums {
            for day in nums {
                for t in nums {
                    let v = format!("Sun, {day} Aug {y} {t}:{t}:{t} GMT");
                    let _ = date_header(v.as_bytes());
                }
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            const CHARS: &[u8] = b"0123456789 :,-ADFGJMNOSTadefglnoprtuy\t";
            let bytes: Vec<u8> = (0..len)
                .map(|i| CHARS[(seed >> (i % 56)) as usize % CHARS.len()])
                .collect();
            let _ = date_header(&bytes);
        }
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
