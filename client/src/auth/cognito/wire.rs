//! The AWS JSON-RPC calls to Cognito (`POST /`, `x-amz-target: <Service>.<Op>`, JSON in and
//! out), unsigned, over `reqwest`; Cognito's error answers (`__type`, `message`) as [`CognitoError`].

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Error, Kind, Result};

/// The largest Cognito answer read (tokens are a few KiB; nothing legitimate comes near this).
const MAX_ANSWER: usize = 1024 * 1024;

/// The `user-agent` of Cognito calls (the client's own, as the HTTP layer sends it).
const USER_AGENT: &str = concat!("appsync-rs/", env!("CARGO_PKG_VERSION"));

/// Whether a URL's host is loopback (plain HTTP is allowed there).
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A URL's scheme, host and port only (never its user info, path or query), for messages.
pub(crate) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The default limit on one Cognito call.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// What Cognito answered when it refused a call: its error type (`__type` without the
/// namespace before `#`), its message, and the HTTP status. Found in the source chain of the
/// crate's [`Error`](crate::Error) with [`CognitoError::find`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CognitoError {
    code: Option<String>,
    message: String,
    status: u16,
}

impl CognitoError {
    /// The error type, e.g. `NotAuthorizedException`, `UserNotFoundException`,
    /// `CodeMismatchException`, `ResourceNotFoundException`; `None` when the answer had none.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Cognito's message (values the client sent as secrets are replaced by `<redacted>`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the error type is `code`.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// The Cognito answer behind an error of this crate, if there is one in its source chain.
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a CognitoError> {
        let mut e: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(cur) = e {
            if let Some(c) = cur.downcast_ref::<CognitoError>() {
                return Some(c);
            }
            e = cur.source();
        }
        None
    }

    /// Reads an error answer: `{"__type": "ns#Code", "message": "..."}` (or `Message`), with
    /// the `x-amzn-ErrorType` header as a fallback for the type.
    pub(crate) fn from_answer(
        status: u16,
        header_type: Option<&str>,
        body: &[u8],
        secrets: &[&str],
    ) -> CognitoError {
        let parsed: Option<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_slice(body).ok();
        let field = |k: &str| {
            parsed
                .as_ref()
                .and_then(|o| o.get(k))
                .and_then(|v| v.as_str())
        };
        let code = field("__type")
            .or(header_type)
            .map(|t| {
                // `aws.protocoltests#Code`, and the header's `Code:http://…` form.
                let t = t.rsplit('#').next().unwrap_or(t);
                t.split(':').next().unwrap_or(t)
            })
            .map(|t| cut(t, 100))
            .filter(|t| !t.is_empty());
        let message = field("message")
            .or_else(|| field("Message"))
            .map(|m| cut(m, 500))
            .unwrap_or_else(|| format!("HTTP {status}"));
        CognitoError {
            code,
            message: scrub(message, secrets),
            status,
        }
    }
}

impl fmt::Display for CognitoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{c}: {}", self.message),
            None => write!(f, "HTTP {}: {}", self.status, self.message),
        }
    }
}

impl std::error::Error for CognitoError {}

/// At most `n` characters of `s` (server text in errors stays short).
fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Replaces every secret the request carried (a server may echo one: a test server does) by
/// `<redacted>`.
fn scrub(mut text: String, secrets: &[&str]) -> String {
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        if text.contains(*s) {
            text = text.replace(*s, "<redacted>");
        }
    }
    text
}

/// The default endpoint of a Cognito service (`cognito-idp`, `cognito-identity`) in a region.
pub(crate) fn default_endpoint(service: &str, region: &str) -> Result<Url> {
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Error::config(format!(
            "{region:?} is not a region name (expected e.g. \"us-east-1\")"
        )));
    }
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    Url::parse(&format!("https://{service}.{region}.{suffix}/"))
        .map_err(|e| Error::config(format!("the {service} endpoint: {e}")))
}

/// Checks an endpoint given in place of the default: a URL, HTTPS unless on loopback (or
/// allowed).
pub(crate) fn checked_endpoint(raw: &str, allow_insecure_http: bool) -> Result<Url> {
    let url = Url::parse(raw)
        .map_err(|e| Error::config(format!("the Cognito endpoint {raw:?} is not a URL: {e}")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure_http || is_loopback(&url) => Ok(url),
        "http" => Err(Error::config(format!(
            "the Cognito endpoint {} is plain http to a non-loopback host; use https, or allow \
             it with allow_insecure_http(true)",
            origin(&url)
        ))),
        other => Err(Error::config(format!(
            "the Cognito endpoint has scheme {other:?}; expected https"
        ))),
    }
}

/// An HTTP client for Cognito calls: no redirects (a redirect would carry passwords and tokens
/// elsewhere), a connect timeout, the crate's user agent.
pub(crate) fn default_http() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| Error::config("the HTTP client for Cognito could not be built").with_source(e))
}

/// One Cognito service at one endpoint.
#[derive(Clone)]
pub(crate) struct Rpc {
    http: reqwest::Client,
    url: Url,
    /// `AWSCognitoIdentityProviderService` or `AWSCognitoIdentityService`.
    service: &'static str,
    timeout: Duration,
}

impl fmt::Debug for Rpc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rpc")
            .field("url", &origin(&self.url))
            .field("service", &self.service)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why a call failed: Cognito refused it (with its answer), or it never got an answer.
#[derive(Debug)]
pub(crate) enum CallError {
    /// Cognito answered with an error.
    Refused(CognitoError),
    /// No usable answer: network, timeout, a body that is not the expected JSON.
    Failed(Error),
}

impl CallError {
    /// The crate's error, saying what was being done (`what`), the Cognito answer as source.
    pub(crate) fn into_error(self, what: &str) -> Error {
        match self {
            CallError::Refused(c) => Error::auth(format!("{what}: {c}")).with_source(c),
            CallError::Failed(e) => e.same_kind(format!("{what}: {e}")).with_source(e),
        }
    }

    /// The Cognito answer, if Cognito answered.
    pub(crate) fn refusal(&self) -> Option<&CognitoError> {
        match self {
            CallError::Refused(c) => Some(c),
            CallError::Failed(_) => None,
        }
    }
}

impl Rpc {
    pub(crate) fn new(
        http: reqwest::Client,
        url: Url,
        service: &'static str,
        timeout: Duration,
    ) -> Self {
        Rpc {
            http,
            url,
            service,
            timeout,
        }
    }

    /// Calls `op` with `body`; `secrets` are the values in the body that must never show in an
    /// error (a server's message may echo them).
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        op: &str,
        body: &serde_json::Value,
        secrets: &[&str],
    ) -> std::result::Result<T, CallError> {
        let target = format!("{}.{op}", self.service);
        let fut = async {
            let resp = self
                .http
                .post(self.url.clone())
                .header("content-type", "application/x-amz-json-1.1")
                .header("x-amz-target", &target)
                .body(body.to_string())
                .send()
                .await
                .map_err(|e| {
                    // reqwest's error names the URL only; the body is never in it.
                    CallError::Failed(
                        Error::new(Kind::Transport, format!("{op}: the request failed"))
                            .with_source(e.without_url()),
                    )
                })?;
            let status = resp.status();
            let header_type = resp
                .headers()
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let request_id = resp
                .headers()
                .get("x-amzn-requestid")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = read_limited(resp).await.map_err(CallError::Failed)?;
            if !status.is_success() {
                tracing::debug!(op, status = status.as_u16(), request_id = ?request_id, "Cognito refused the call");
                return Err(CallError::Refused(CognitoError::from_answer(
                    status.as_u16(),
                    header_type.as_deref(),
                    &body,
                    secrets,
                )));
            }
            serde_json::from_slice::<T>(&body).map_err(|e| {
                CallError::Failed(Error::decode(format!(
                    "{op}: Cognito's answer is not what was expected: {}",
                    // serde's message names a field or a type, never the value.
                    cut(&e.to_string(), 200)
                )))
            })
        };
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(CallError::Failed(Error::timeout(format!(
                "{op}: Cognito did not answer within {:?}",
                self.timeout
            )))),
        }
    }
}

/// The answer's body, at most [`MAX_ANSWER`] bytes.
async fn read_limited(mut resp: reqwest::Response) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > MAX_ANSWER {
                    return Err(Error::too_large(format!(
                        "Cognito's answer is larger than {MAX_ANSWER} bytes"
                    )));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) => {
                return Err(
                    Error::new(Kind::Transport, "reading Cognito's answer failed")
                        .with_source(e.without_url()),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_are_read_whatever_their_shape() {
        let e = CognitoError::from_answer(
            400,
            None,
            br#"{"__type":"com.amazonaws.cognito#NotAuthorizedException","message":"Incorrect username or password."}"#,
            &[],
        );
        assert_eq!(e.code(), Some("NotAuthorizedException"));
        assert_eq!(e.message(), "Incorrect username or password.");
        assert!(e.is("NotAuthorizedException"));
        let e = CognitoError::from_answer(
            400,
            Some("ResourceNotFoundException:http://internal.amazon.com/"),
            br#"{"Message":"gone"}"#,
            &[],
        );
        assert_eq!(e.code(), Some("ResourceNotFoundException"));
        assert_eq!(e.message(), "gone");
        let e = CognitoError::from_answer(500, None, b"<html>oops</html>", &[]);
        assert_eq!((e.code(), e.message()), (None, "HTTP 500"));
        assert_eq!(e.to_string(), "HTTP 500: HTTP 500");
        // Huge and odd values: cut, never a panic.
        let long = format!(
            r#"{{"__type":"{}","message":"{}"}}"#,
            "X".repeat(10_000),
            "é".repeat(10_000)
        );
        let e = CognitoError::from_answer(400, None, long.as_bytes(), &[]);
        assert!(e.message().chars().count() <= 501);
        assert!(e.code().unwrap().chars().count() <= 101);
        for body in [
            &b"null"[..],
            b"[]",
            b"{\"__type\":5}",
            b"{\"__type\":\"#\"}",
            b"",
        ] {
            let _ = CognitoError::from_answer(400, None, body, &[]);
        }
    }

    #[test]
    fn echoed_secrets_are_scrubbed() {
        let e = CognitoError::from_answer(
            400,
            None,
            br#"{"__type":"NotAuthorizedException","message":"bad hash uwJX8OUNFBFq="}"#,
            &["uwJX8OUNFBFq="],
        );
        assert_eq!(e.message(), "bad hash <redacted>");
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            default_endpoint("cognito-idp", "eu-west-1")
                .unwrap()
                .as_str(),
            "https://cognito-idp.eu-west-1.amazonaws.com/"
        );
        assert_eq!(
            default_endpoint("cognito-identity", "cn-north-1")
                .unwrap()
                .as_str(),
            "https://cognito-identity.cn-north-1.amazonaws.com.cn/"
        );
        assert!(default_endpoint("cognito-idp", "evil.com/x").is_err());
        assert!(default_endpoint("cognito-idp", "").is_err());
        assert!(checked_endpoint("http://127.0.0.1:5000/", false).is_ok());
        assert!(checked_endpoint("http://cognito.example.com/", false).is_err());
        assert!(checked_endpoint("http://cognito.example.com/", true).is_ok());
        assert!(
            checked_endpoint("https://cognito-idp-fips.us-east-1.amazonaws.com/", false).is_ok()
        );
        assert!(checked_endpoint("ftp://x/", true).is_err());
    }
}
