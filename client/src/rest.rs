//! API Gateway REST calls by `apiName`: any method, path, query, headers, JSON or bytes body.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::auth::iam::Service;
use crate::auth::{AuthMode, TokenKind};
use crate::client::Client;
use crate::config::EndpointType;
use crate::endpoint::{select, Want};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::transport::{status_error, Call, CallOptions};

/// RFC 3986 unreserved characters stay; everything else is percent-encoded (space as `%20`),
/// so the query signs the same on both sides.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A REST API: start calls on it with [`RestApi::get`], [`RestApi::post`], ….
#[derive(Clone, Debug)]
pub struct RestApi {
    client: Client,
    api_name: Option<String>,
}

impl RestApi {
    pub(crate) fn new(client: Client, api_name: Option<String>) -> Self {
        RestApi { client, api_name }
    }

    /// A call with any method; `path` is appended to the endpoint's URL (with its stage).
    pub fn request(&self, method: Method, path: impl Into<String>) -> RestCall {
        RestCall {
            client: self.client.clone(),
            method,
            path: path.into(),
            query: Vec::new(),
            body: Ok(Bytes::new()),
            content_type: None,
            options: CallOptions {
                api_name: self.api_name.clone(),
                ..CallOptions::default()
            },
        }
    }

    /// `GET path`.
    pub fn get(&self, path: impl Into<String>) -> RestCall {
        self.request(Method::GET, path)
    }

    /// `POST path`.
    pub fn post(&self, path: impl Into<String>) -> RestCall {
        self.request(Method::POST, path)
    }

    /// `PUT path`.
    pub fn put(&self, path: impl Into<String>) -> RestCall {
        self.request(Method::PUT, path)
    }

    /// `PATCH path`.
    pub fn patch(&self, path: impl Into<String>) -> RestCall {
        self.request(Method::PATCH, path)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: impl Into<String>) -> RestCall {
        self.request(Method::DELETE, path)
    }

    /// `HEAD path`.
    pub fn head(&self, path: impl Into<String>) -> RestCall {
        self.request(Method::HEAD, path)
    }
}

/// A REST call being set up; finish with [`RestCall::send`].
#[must_use = "a call does nothing until .send().await"]
pub struct RestCall {
    client: Client,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: std::result::Result<Bytes, String>,
    content_type: Option<&'static str>,
    options: CallOptions,
}

impl fmt::Debug for RestCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestCall")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RestCall {
    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a header (signed too, with IAM).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.headers.push((name.into(), value.into()));
        self
    }

    /// A JSON body (`content-type: application/json`).
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        self.body = serde_json::to_vec(body)
            .map(Into::into)
            .map_err(|e| e.to_string());
        self.content_type = Some("application/json");
        self
    }

    /// A raw body; set `content-type` with [`RestCall::header`].
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Ok(body.into());
        self.content_type = None;
        self
    }

    /// Uses this auth mode instead of the endpoint's.
    pub fn auth_mode(mut self, mode: AuthMode) -> Self {
        self.options.auth_mode = Some(mode);
        self
    }

    /// The API key for this call instead of the configured one.
    pub fn api_key(mut self, key: impl Into<Secret>) -> Self {
        self.options.api_key = Some(key.into());
        self
    }

    /// The `Authorization` token for this call instead of the token provider's.
    pub fn auth_token(mut self, token: impl Into<Secret>) -> Self {
        self.options.auth_token = Some(token.into());
        self
    }

    /// For user pools: which token to send on this call.
    pub fn token_kind(mut self, kind: TokenKind) -> Self {
        self.options.token_kind = Some(kind);
        self
    }

    /// The timeout of each attempt.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Whether to retry on network errors, 429 and 5xx (default: only GET and HEAD).
    pub fn retry(mut self, retry: bool) -> Self {
        self.options.retry = Some(retry);
        self
    }

    /// Sends the call; a non-2xx answer is an error with its status, error type and body.
    pub async fn send(self) -> Result<RestResponse> {
        use tracing::Instrument;
        let inner = &self.client.inner;
        let body = self
            .body
            .map_err(|e| Error::request(format!("the JSON body could not be serialized: {e}")))?;
        let selected = select(
            &inner.config,
            EndpointType::Rest,
            Want {
                api_name: self.options.api_name.as_deref(),
                auth_mode: self.options.auth_mode,
                ..Want::default()
            },
        )?;
        let url = join_url(selected.endpoint.url(), &self.path, &self.query)?;
        let span = tracing::debug_span!(
            "appsync.rest",
            api = selected.endpoint.name(),
            mode = %selected.mode,
            method = %self.method,
        );
        async {
            let call = Call {
                endpoint: selected.endpoint,
                mode: selected.mode,
                service: Service::ExecuteApi,
                method: self.method.clone(),
                url: std::borrow::Cow::Owned(url),
                body,
                content_type: self.content_type,
                accept_json: false,
                options: &self.options,
                retry_safe: matches!(self.method, Method::GET | Method::HEAD),
            };
            let resp = inner.execute(call).await?;
            if !resp.status.is_success() {
                return Err(status_error(resp));
            }
            Ok(RestResponse {
                status: resp.status,
                headers: resp.headers,
                body: resp.body,
            })
        }
        .instrument(span)
        .await
    }
}

/// Base URL (with its stage) + path, without doubled slashes, + RFC 3986-encoded query.
pub(crate) fn join_url(base: &Url, path: &str, query: &[(String, String)]) -> Result<Url> {
    if path.contains('?') || path.contains('#') {
        return Err(Error::request(format!(
            "REST path {path:?} holds '?' or '#'; pass query parameters with .query(name, value)"
        )));
    }
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    if !query.is_empty() {
        let mut q = url.query().map(str::to_owned).unwrap_or_default();
        for (k, v) in query {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&utf8_percent_encode(k, QUERY).to_string());
            q.push('=');
            q.push_str(&utf8_percent_encode(v, QUERY).to_string());
        }
        url.set_query(Some(&q));
    }
    Ok(url)
}

/// A 2xx REST answer.
#[derive(Debug, Clone)]
pub struct RestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl RestResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.body)
            .map_err(|e| Error::decode("the body is not UTF-8").with_source(e))
    }

    /// The body decoded from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::decode(format!("the body is not the expected JSON: {e}")).with_source(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_paths_and_queries() {
        let base = Url::parse("https://x.execute-api.us-east-1.amazonaws.com/prod/").unwrap();
        let u = join_url(&base, "/items/a b", &[("q".into(), "x y+z".into())]).unwrap();
        assert_eq!(
            u.as_str(),
            "https://x.execute-api.us-east-1.amazonaws.com/prod/items/a%20b?q=x%20y%2Bz"
        );
        let base = Url::parse("https://h.example.com/dev?k=1").unwrap();
        assert_eq!(
            join_url(&base, "items", &[]).unwrap().as_str(),
            "https://h.example.com/dev/items?k=1"
        );
        assert!(join_url(&base, "items?x=1", &[]).unwrap_err().is_request());
    }
}
