//! The one error type of the crate: opaque, with `is_*()` predicates and a source chain.

use std::error::Error as StdError;
use std::fmt;

use crate::operation::GraphQLError;

/// A boxed error from a provider, an interceptor or a lower layer.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// `Result<T, appsync_client::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate, except GraphQL errors in a `200` answer, which
/// are data ([`crate::Response::errors`]).
///
/// Ask what it is with the `is_*()` predicates; the message says what was wrong and, for
/// configuration, where. No secret (API key, token, signature) is ever part of it.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    message: String,
    source: Option<BoxError>,
    http: Option<HttpFailure>,
    /// The GraphQL error entries of a non-2xx answer's body or of a realtime error frame.
    errors: Vec<GraphQLError>,
    /// AppSync's or API Gateway's id of the request that failed, when the server sent one.
    request_id: Option<String>,
    /// Which attempt of the call failed (0 for the first try).
    attempt: Option<u32>,
}

/// What a non-2xx HTTP answer carried.
#[derive(Debug)]
struct HttpFailure {
    status: http::StatusCode,
    error_type: Option<String>,
    body: bytes::Bytes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Bad configuration (file or builder).
    Config,
    /// No endpoint or auth mode fits the call.
    Selection,
    /// A credentials or token provider failed, or a mode lacks what it needs.
    Auth,
    /// The request could not be built (bad header, path, body).
    Request,
    /// A network failure: connect, reset, TLS.
    Transport,
    /// A timeout.
    Timeout,
    /// A non-2xx HTTP status.
    Status,
    /// The answer could not be decoded.
    Decode,
    /// The realtime connection or a subscription failed.
    Realtime,
    /// An answer was larger than the configured limit.
    TooLarge,
}

impl Error {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                source: None,
                http: None,
                errors: Vec::new(),
                request_id: None,
                attempt: None,
            }),
        }
    }

    /// A new error of the same kind, with another message.
    pub(crate) fn same_kind(&self, message: impl Into<String>) -> Self {
        Error::new(self.inner.kind, message)
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Adds what support needs to find the failed request: the server's request id (from the
    /// answer's headers, when there was an answer) and the attempt number.
    pub(crate) fn with_request_meta(
        mut self,
        headers: Option<&http::HeaderMap>,
        attempt: u32,
    ) -> Self {
        if let Some(id) = headers.and_then(request_id_header) {
            self.inner.request_id = Some(id);
        }
        self.inner.attempt = Some(attempt);
        self
    }

    /// Sets the server's request id (of a refused WebSocket upgrade, say).
    pub(crate) fn with_request_id(mut self, id: Option<String>) -> Self {
        if id.is_some() {
            self.inner.request_id = id;
        }
        self
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(Kind::Config, message)
    }

    pub(crate) fn selection(message: impl Into<String>) -> Self {
        Error::new(Kind::Selection, message)
    }

    pub(crate) fn auth(message: impl Into<String>) -> Self {
        Error::new(Kind::Auth, message)
    }

    pub(crate) fn request(message: impl Into<String>) -> Self {
        Error::new(Kind::Request, message)
    }

    pub(crate) fn decode(message: impl Into<String>) -> Self {
        Error::new(Kind::Decode, message)
    }

    /// An answer that could not be decoded but said why (e.g. a `200` with only
    /// `errorMessage`): its message is kept as an error entry too.
    pub(crate) fn decode_errors(message: impl Into<String>, errors: Vec<GraphQLError>) -> Self {
        let mut e = Error::new(Kind::Decode, message);
        e.inner.errors = errors;
        e
    }

    pub(crate) fn too_large(message: impl Into<String>) -> Self {
        Error::new(Kind::TooLarge, message)
    }

    /// A 3xx answer, never followed (see `transport`): its status is kept, its `Location` only
    /// as the host it names, which the message already says.
    pub(crate) fn redirect(status: http::StatusCode, message: impl Into<String>) -> Self {
        let mut e = Error::new(Kind::Status, message);
        e.inner.http = Some(HttpFailure {
            status,
            error_type: None,
            body: bytes::Bytes::new(),
        });
        e
    }

    pub(crate) fn status(
        status: http::StatusCode,
        error_type: Option<String>,
        errors: Vec<GraphQLError>,
        message: Option<String>,
        body: bytes::Bytes,
    ) -> Self {
        let mut text = format!("HTTP {status}");
        if let Some(t) = &error_type {
            text.push_str(&format!(" ({t})"));
        }
        let detail = message.or_else(|| errors.first().map(|e| e.message.clone()));
        if let Some(m) = detail {
            text.push_str(": ");
            text.push_str(&m);
        }
        let mut e = Error::new(Kind::Status, text);
        e.inner.http = Some(HttpFailure {
            status,
            error_type,
            body,
        });
        e.inner.errors = errors;
        e
    }

    pub(crate) fn realtime(message: impl Into<String>) -> Self {
        Error::new(Kind::Realtime, message)
    }

    /// A realtime failure that carries the error entries of an `error` or `connection_error`
    /// frame (see [`Error::graphql_errors`]); the first entry's type and message are appended
    /// to the message.
    pub(crate) fn realtime_errors(message: impl Into<String>, errors: Vec<GraphQLError>) -> Self {
        let mut text = message.into();
        if let Some(first) = errors.first() {
            text.push_str(": ");
            text.push_str(&first.to_string());
        }
        let mut e = Error::new(Kind::Realtime, text);
        e.inner.errors = errors;
        e
    }

    /// A realtime failure with the error entries of a frame, whose message already says what
    /// they are.
    pub(crate) fn realtime_errors_quoted(
        message: impl Into<String>,
        errors: Vec<GraphQLError>,
    ) -> Self {
        let mut e = Error::new(Kind::Realtime, message);
        e.inner.errors = errors;
        e
    }

    /// A realtime connection refused at the HTTP upgrade: the status and `errorType` are
    /// kept ([`Error::status_code`], [`Error::error_type`]), with the body's errors.
    pub(crate) fn realtime_refused(
        message: impl Into<String>,
        status: http::StatusCode,
        error_type: Option<String>,
        errors: Vec<GraphQLError>,
        body: bytes::Bytes,
    ) -> Self {
        let mut e = Error::realtime_errors(message, errors);
        e.inner.http = Some(HttpFailure {
            status,
            error_type,
            body,
        });
        e
    }

    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Error::new(Kind::Timeout, message)
    }

    pub(crate) fn kind(&self) -> Kind {
        self.inner.kind
    }

    /// The configuration (file or builder) is invalid.
    pub fn is_config(&self) -> bool {
        self.inner.kind == Kind::Config
    }

    /// No configured endpoint or auth mode fits the call (unknown `api_name`, several
    /// candidates, a mode the API or the operation does not allow).
    pub fn is_selection(&self) -> bool {
        self.inner.kind == Kind::Selection
    }

    /// Credentials, a token or an API key could not be had for the chosen mode.
    pub fn is_auth(&self) -> bool {
        self.inner.kind == Kind::Auth
    }

    /// The request itself was invalid (a header name, a path, a body that would not serialize).
    pub fn is_request(&self) -> bool {
        self.inner.kind == Kind::Request
    }

    /// The network failed (connect, TLS, reset).
    pub fn is_transport(&self) -> bool {
        self.inner.kind == Kind::Transport
    }

    /// A timeout elapsed.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == Kind::Timeout
    }

    /// The server answered with a non-2xx status; see [`Error::status_code`].
    pub fn is_status(&self) -> bool {
        self.inner.kind == Kind::Status
    }

    /// The server answered with a redirect (3xx), which is never followed: AppSync and API
    /// Gateway never redirect, and following one would send the auth headers elsewhere. Also
    /// [`Error::is_status`].
    pub fn is_redirect(&self) -> bool {
        self.status_code()
            .is_some_and(|s| s.is_redirection() && self.inner.kind == Kind::Status)
    }

    /// An answer was larger than the limit
    /// ([`ClientBuilder::max_response_size`](crate::ClientBuilder::max_response_size)); reading
    /// stopped at the limit.
    pub fn is_too_large(&self) -> bool {
        self.inner.kind == Kind::TooLarge
    }

    /// The answer could not be decoded.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == Kind::Decode
    }

    /// The realtime connection or a subscription failed.
    pub fn is_realtime(&self) -> bool {
        self.inner.kind == Kind::Realtime
    }

    /// The HTTP status of a non-2xx answer.
    pub fn status_code(&self) -> Option<http::StatusCode> {
        self.inner.http.as_ref().map(|h| h.status)
    }

    /// AppSync's or API Gateway's error type: the `x-amzn-ErrorType` header (without its
    /// `:`-suffix), else the first error's `errorType` (of the body, or of a realtime error
    /// frame).
    pub fn error_type(&self) -> Option<&str> {
        self.inner
            .http
            .as_ref()
            .and_then(|h| h.error_type.as_deref())
            .or_else(|| {
                self.inner
                    .errors
                    .iter()
                    .find_map(|e| e.error_type.as_deref())
            })
    }

    /// The errors parsed from a non-2xx answer's body (`{"errors": [...]}`), or carried by a
    /// realtime `error` / `connection_error` frame, if any.
    pub fn graphql_errors(&self) -> &[GraphQLError] {
        &self.inner.errors
    }

    /// The raw body of a non-2xx answer.
    pub fn body(&self) -> Option<&[u8]> {
        self.inner.http.as_ref().map(|h| h.body.as_ref())
    }

    /// The id the server gave the failed request: AppSync's and API Gateway's
    /// `x-amzn-RequestId`, else API Gateway's `x-amz-apigw-id`. Quote it to AWS support; it is
    /// also in the message and on the call's `appsync.http` tracing span. `None` when no answer
    /// came (a network error, a timeout) or the answer had no id.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// Which attempt of an HTTP call failed: 0 for the first try, then 1, 2… for each retry
    /// (as [`RequestContext::attempt`](crate::RequestContext)). `None` for failures before
    /// any request was sent.
    pub fn attempt(&self) -> Option<u32> {
        self.inner.attempt
    }
}

/// The request id of an answer: `x-amzn-RequestId` (AppSync, API Gateway), else
/// `x-amz-apigw-id` (API Gateway's own), else `x-amz-request-id`. Header names are
/// case-insensitive.
pub(crate) fn request_id_header(headers: &http::HeaderMap) -> Option<String> {
    ["x-amzn-requestid", "x-amz-apigw-id", "x-amz-request-id"]
        .iter()
        .find_map(|n| headers.get(*n)?.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        // A broken server could send anything; an id is short.
        .map(|v| v.chars().take(128).collect())
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(h) = &self.inner.http {
            d.field("status", &h.status)
                .field("error_type", &h.error_type);
        }
        if !self.inner.errors.is_empty() {
            d.field("errors", &self.inner.errors.len());
        }
        if let Some(id) = &self.inner.request_id {
            d.field("request_id", id);
        }
        if let Some(a) = self.inner.attempt {
            d.field("attempt", &a);
        }
        if let Some(s) = &self.inner.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        if let Some(id) = &self.inner.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn StdError + 'static))
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        // reqwest's messages carry the URL, which for realtime may hold auth; strip it.
        let e = e.without_url();
        let kind = if e.is_timeout() {
            Kind::Timeout
        } else if e.is_builder() {
            Kind::Request
        } else {
            Kind::Transport
        };
        let message = match kind {
            Kind::Timeout => "the request timed out".to_owned(),
            Kind::Request => "the HTTP request could not be built".to_owned(),
            _ => "the HTTP request failed".to_owned(),
        };
        Error::new(kind, message).with_source(e)
    }
}
