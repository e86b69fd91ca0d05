//! API Gateway REST calls by `apiName`: any method, path, query, headers, JSON or bytes body.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use std::sync::Arc;

use crate::auth::iam::Service;
use crate::config::{Config, EndpointType};
use crate::endpoint::{select, Want};
use crate::error::{Error, Result};
use crate::options::{call_options, CallOptions};
use crate::transport::{status_error, Call, Transport};

/// RFC 3986 unreserved characters stay; everything else is percent-encoded (space as `%20`),
/// so the query signs the same on both sides, and a path segment holds no `/`, `%`, `?` or `#`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// What a path given to [`RestApi::request`] may hold as it is: RFC 3986 `pchar`s and `/`. The
/// rest (space, `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`, controls, non-ASCII) is
/// percent-encoded; `%` is handled apart (it must start an escape).
const PATH_KEEPS: &[u8] = b"-._~!$&'()*+,;=:@/";

/// A REST API: start calls on it with [`RestApi::get`], [`RestApi::post`], ….
#[derive(Clone)]
pub struct RestApi {
    config: Arc<Config>,
    transport: Arc<Transport>,
    api_name: Option<String>,
}

impl fmt::Debug for RestApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestApi")
            .field("api_name", &self.api_name)
            .finish_non_exhaustive()
    }
}

impl RestApi {
    pub(crate) fn new(
        (config, transport): (Arc<Config>, Arc<Transport>),
        api_name: Option<String>,
    ) -> Self {
        RestApi {
            config,
            transport,
            api_name,
        }
    }

    /// A call with any method; `path` is appended to the endpoint's URL (with its stage).
    ///
    /// `path` is a URL path, **already percent-encoded**: `%41` is sent as `%41` (which the
    /// server reads as `A`), and `%2F` as an encoded slash inside a segment. Characters a URL
    /// path cannot hold (space, non-ASCII, `"`, `\`, …) are encoded for you. Refused, when the
    /// call is sent: `?` and `#` (use [`RestCall::query`]), a `%` that does not start an escape,
    /// `.` and `..` segments (they would be resolved away, possibly out of the stage) and
    /// empty segments inside the path (`a//b`). Put user-supplied text in a path with
    /// [`RestCall::path_segment`].
    pub fn request(&self, method: Method, path: impl Into<String>) -> RestCall {
        RestCall {
            config: self.config.clone(),
            transport: self.transport.clone(),
            method,
            path: path.into(),
            segments: Vec::new(),
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
    config: Arc<Config>,
    transport: Arc<Transport>,
    method: Method,
    path: String,
    /// Raw text, each appended to `path` as one encoded segment.
    segments: Vec<String>,
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
    /// Appends one path segment of raw text (an id, a name) after the path, percent-encoded
    /// so that it stays one segment: `/`, `%`, `?`, `#`, spaces and every other character but
    /// `A-Z a-z 0-9 - . _ ~` are encoded. `.` and `..` (and an empty segment) cannot be made
    /// safe this way, since URL parsers and servers resolve them even encoded: the call is
    /// refused with [`Error::is_request`](crate::Error::is_request).
    ///
    /// `client.rest("items").get("/items").path_segment("a/b")` calls `/items/a%2Fb`.
    pub fn path_segment(mut self, segment: impl Into<String>) -> Self {
        self.segments.push(segment.into());
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
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

    /// Sends the call; a non-2xx answer is an error with its status, error type and body.
    pub async fn send(self) -> Result<RestResponse> {
        let body = self
            .body
            .map_err(|e| Error::request(format!("the JSON body could not be serialized: {e}")))?;
        let selected = select(
            &self.config,
            EndpointType::Rest,
            Want {
                api_name: self.options.api_name.as_deref(),
                auth_mode: self.options.auth_mode,
                ..Want::default()
            },
        )?;
        let path = rest_path(&self.path, &self.segments)?;
        let url = join_url(selected.endpoint.url(), &path, &self.query)?;
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
            kind: None,
            operation_name: None,
        };
        let resp = self.transport.execute(call).await?;
        if !resp.status.is_success() {
            return Err(status_error(resp));
        }
        Ok(RestResponse {
            status: resp.status,
            headers: resp.headers,
            body: resp.body,
        })
    }
}

call_options!(impl[] RestCall {
    header: "Adds a header (signed too, with IAM). It replaces a client-wide or provider header \
             of that name; a name given twice on the call sends both values.",
    auth_mode: "Uses this auth mode instead of the endpoint's (and, on `Client::rest_default`, \
                the REST endpoint configured for it).",
    api_key: "The API key (`x-api-key`, for usage plans) for this call instead of the \
              configured one.",
    auth_token: "The `Authorization` token for this call instead of the token provider's.",
    token_kind: "For user pools: which token to send on this call (default: the ID token, as \
                 API Gateway's Cognito authorizer wants, or `ClientBuilder::rest_user_pool_token`).",
    timeout: "The timeout of each attempt (default: `ClientBuilder::timeout`).",
    retry: "Whether to retry on network errors, 429 and 5xx (default: only GET and HEAD).",
});

/// The encoded path of a call: `path` (already percent-encoded; what a URL path cannot hold is
/// encoded) and each raw segment fully encoded after it. Refuses what would be resolved away
/// or change meaning: `?`, `#`, a bare `%`, `.`/`..` and empty inner segments.
fn rest_path(path: &str, segments: &[String]) -> Result<String> {
    if path.contains('?') || path.contains('#') {
        return Err(Error::request(format!(
            "REST path {path:?} holds '?' or '#'; pass query parameters with .query(name, value)"
        )));
    }
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let escape = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
            if escape.is_none() {
                return Err(Error::request(format!(
                    "REST path {path:?} holds a '%' that does not start an escape like %2F: the \
                     path is taken as already percent-encoded; write '%25' for a literal '%', or \
                     pass the text with .path_segment(..), which encodes it"
                )));
            }
            out.push_str(&path[i..i + 3]);
            i += 3;
        } else if b.is_ascii_alphanumeric() || PATH_KEEPS.contains(&b) {
            out.push(char::from(b));
            i += 1;
        } else {
            out.push_str(&format!("%{b:02X}"));
            i += 1;
        }
    }
    let trimmed = out.trim_start_matches('/');
    let inner = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if !inner.is_empty() {
        for seg in inner.split('/') {
            check_segment(seg, path)?;
        }
    }
    if segments.is_empty() {
        return Ok(out);
    }
    let mut out = out.trim_end_matches('/').to_owned();
    for seg in segments {
        let encoded = utf8_percent_encode(seg, UNRESERVED).to_string();
        check_segment(&encoded, seg)?;
        out.push('/');
        out.push_str(&encoded);
    }
    Ok(out)
}

/// Refuses an (encoded) segment that URL parsers or servers would resolve: empty, `.`, `..`,
/// also when written `%2E`.
fn check_segment(encoded: &str, given: &str) -> Result<()> {
    let dots = encoded.to_ascii_lowercase().replace("%2e", ".");
    let why = match dots.as_str() {
        "" => "an empty segment (a doubled '/')",
        "." | ".." => "a '.' or '..' segment",
        _ => return Ok(()),
    };
    Err(Error::request(format!(
        "REST path {given:?} holds {why}, which URL parsers and servers resolve away, possibly out \
         of the API's stage; it is never sent"
    )))
}

/// Base URL (with its stage) + encoded path, without doubled slashes, + RFC 3986-encoded query.
pub(crate) fn join_url(base: &Url, path: &str, query: &[(String, String)]) -> Result<Url> {
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
            q.push_str(&utf8_percent_encode(k, UNRESERVED).to_string());
            q.push('=');
            q.push_str(&utf8_percent_encode(v, UNRESERVED).to_string());
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

    fn path(p: &str, segs: &[&str]) -> Result<String> {
        rest_path(p, &segs.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn paths_are_percent_encoded_text_and_segments_raw_text() {
        // Kept as given: escapes, pchars.
        assert_eq!(path("/a%41/b%2Fc", &[]).unwrap(), "/a%41/b%2Fc");
        assert_eq!(path("/a:b@c!$&'()*+,;=", &[]).unwrap(), "/a:b@c!$&'()*+,;=");
        // Encoded for you: what a URL path cannot hold.
        assert_eq!(
            path("/a b/é/\\/\"^`{|}", &[]).unwrap(),
            "/a%20b/%C3%A9/%5C/%22%5E%60%7B%7C%7D"
        );
        assert_eq!(path("/items/", &[]).unwrap(), "/items/");
        assert_eq!(path("", &[]).unwrap(), "");
        // Segments: everything but unreserved is encoded.
        assert_eq!(
            path("/items/", &["a/b%41", "x y", "...", "ü?#"]).unwrap(),
            "/items/a%2Fb%2541/x%20y/.../%C3%BC%3F%23"
        );
        assert_eq!(path("", &["a"]).unwrap(), "/a");
        // Refused.
        for (p, segs) in [
            ("/a/../b", &[][..]),
            ("/a/./b", &[]),
            ("/..", &[]),
            ("/a/%2e%2E/b", &[]),
            ("/a/.%2E", &[]),
            ("/a//b", &[]),
            ("/a%4", &[]),
            ("/a%zz", &[]),
            ("/100%", &[]),
            ("/x", &[".."]),
            ("/x", &["."]),
            ("/x", &[""]),
        ] {
            let e = path(p, segs).unwrap_err();
            assert!(e.is_request(), "{p} {segs:?}");
        }
        // A backslash is data, not a separator: `..\` is no dot segment.
        assert_eq!(path("/a\\..", &[]).unwrap(), "/a%5C..");
    }

    #[test]
    fn joins_paths_and_queries() {
        let base = Url::parse("https://x.execute-api.us-east-1.amazonaws.com/prod/").unwrap();
        let p = rest_path("/items/a b", &[]).unwrap();
        let u = join_url(&base, &p, &[("q".into(), "x y+z".into())]).unwrap();
        assert_eq!(
            u.as_str(),
            "https://x.execute-api.us-east-1.amazonaws.com/prod/items/a%20b?q=x%20y%2Bz"
        );
        let base = Url::parse("https://h.example.com/dev?k=1").unwrap();
        assert_eq!(
            join_url(&base, "items", &[]).unwrap().as_str(),
            "https://h.example.com/dev/items?k=1"
        );
        assert!(rest_path("items?x=1", &[]).unwrap_err().is_request());
    }
}
