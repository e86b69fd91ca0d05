//! AWS_IAM: SigV4 signing with `aws-sigv4`, a credentials cache, and the clock skew learned from
//! servers.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;

use super::refresh::{Fetched, Refreshing};
use crate::error::{Error, Result};

/// The service name to sign for: AppSync GraphQL or API Gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    AppSync,
    ExecuteApi,
    /// The AWS SigV4 test suite's vectors sign for a service called `service`.
    #[cfg(test)]
    TestSuite,
}

impl Service {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Service::AppSync => "appsync",
            Service::ExecuteApi => "execute-api",
            #[cfg(test)]
            Service::TestSuite => "service",
        }
    }
}

/// The largest clock skew believed. AWS refuses signatures more than 5 minutes off, so real
/// skews are minutes; a server `Date` a day or more away from our clock is a broken server or
/// proxy (or a hostile one), and believing it would break every later signature.
pub(crate) const MAX_SKEW: Duration = Duration::from_secs(24 * 3600);

/// The difference between the servers' clock and ours, shared by all signing (HTTP and realtime).
/// It never exceeds [`MAX_SKEW`] either way.
#[derive(Clone, Default)]
pub(crate) struct ClockSkew(Arc<AtomicI64>);

impl ClockSkew {
    /// Now, as the server sees it.
    pub(crate) fn now(&self) -> SystemTime {
        let skew = self.0.load(Ordering::Relaxed);
        let now = SystemTime::now();
        let shift = Duration::from_secs(skew.unsigned_abs());
        // Only `learn` stores a skew, within MAX_SKEW; the fallback is for a clock near the
        // ends of `SystemTime`'s range.
        let shifted = if skew >= 0 {
            now.checked_add(shift)
        } else {
            now.checked_sub(shift)
        };
        shifted.unwrap_or(now)
    }

    /// Learns the skew from a server's `Date` header; returns whether it changed by more than
    /// a minute (then a signature refused for its date is worth one retry). A date more than
    /// [`MAX_SKEW`] away is ignored with a warning and changes nothing.
    pub(crate) fn learn(&self, server_date: SystemTime) -> bool {
        let now = SystemTime::now();
        let (ahead, by) = match server_date.duration_since(now) {
            Ok(d) => (true, d),
            Err(e) => (false, e.duration()),
        };
        if by > MAX_SKEW {
            tracing::warn!(
                skew_seconds = by.as_secs(),
                server_ahead = ahead,
                max_seconds = MAX_SKEW.as_secs(),
                "ignoring the server's Date header: it is further from our clock than any real \
                 clock skew (check the server, a proxy in between, or this machine's clock)"
            );
            return false;
        }
        // Within MAX_SKEW, so the cast cannot wrap.
        let secs = by.as_secs() as i64;
        let skew = if ahead { secs } else { -secs };
        let old = self.0.swap(skew, Ordering::Relaxed);
        if (skew - old).abs() > 60 {
            tracing::info!(
                skew_seconds = skew,
                "learned the clock skew from the server"
            );
            true
        } else {
            false
        }
    }
}

impl fmt::Debug for ClockSkew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClockSkew({}s)", self.0.load(Ordering::Relaxed))
    }
}

/// Credentials from any provider, cached until shortly before they expire; one provider call at
/// a time whoever asks, bounded by a timeout.
pub(crate) struct CredentialsCache {
    provider: SharedCredentialsProvider,
    cache: Refreshing<Credentials>,
}

impl CredentialsCache {
    pub(crate) fn new(provider: SharedCredentialsProvider, timeout: Duration) -> Self {
        CredentialsCache {
            provider,
            cache: Refreshing::new("the AWS credentials provider", timeout),
        }
    }

    pub(crate) async fn get(&self) -> Result<Credentials> {
        let provider = self.provider.clone();
        let (creds, _) = self
            .cache
            .get(move |_| {
                Box::pin(async move {
                    let creds = provider.provide_credentials().await.map_err(|e| {
                        Error::auth("the AWS credentials provider failed").with_source(e)
                    })?;
                    Ok(Fetched {
                        expires_at: creds.expiry(),
                        value: creds,
                    })
                })
            })
            .await?;
        Ok(creds)
    }

    /// Forgets the cached credentials (the identity changed).
    pub(crate) fn clear(&self) {
        self.cache.clear();
    }

    /// Forgets the cached credentials (after the server refused them).
    pub(crate) async fn invalidate(&self) {
        self.cache.clear();
    }
}

impl fmt::Debug for CredentialsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsCache").finish_non_exhaustive()
    }
}

/// Double-encoded paths (every service here but S3), and no path normalisation: the canonical
/// URI is the path exactly as sent. Dot segments and `//`, which normalisation would change,
/// never reach the signer (REST paths refuse them), so AWS's own normalisation agrees.
fn signing_settings() -> SigningSettings {
    let mut s = SigningSettings::default();
    s.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    s
}

/// Signs a request in place with SigV4 over its exact body and every header it has, adding
/// `x-amz-date`, `x-amz-security-token` (temporary credentials) and `authorization`.
pub(crate) fn sign_request(
    request: &mut http::Request<Bytes>,
    credentials: &Credentials,
    region: &str,
    service: Service,
    time: SystemTime,
) -> Result<()> {
    let method = request.method().clone();
    let uri = request.uri().to_string();
    let mut headers = std::mem::take(request.headers_mut());
    let r = sign_parts(
        &method,
        &uri,
        &mut headers,
        request.body(),
        credentials,
        region,
        service,
        time,
    );
    *request.headers_mut() = headers;
    r
}

/// Signs a request given by its parts, adding `x-amz-date`, `x-amz-security-token` (temporary
/// credentials) and `authorization` to `headers`, over the exact body and every header.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_parts(
    method: &http::Method,
    uri: &str,
    headers: &mut http::HeaderMap,
    body: &[u8],
    credentials: &Credentials,
    region: &str,
    service: Service,
    time: SystemTime,
) -> Result<()> {
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service.as_str())
        .time(time)
        .settings(signing_settings())
        .build()
        .map_err(|e| Error::auth("could not set up SigV4 signing").with_source(e))?
        .into();
    normalize_header_values(headers);
    let mut signed = Vec::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        let value = value.to_str().map_err(|_| {
            Error::request(format!(
                "header {name} is not visible ASCII and cannot be signed"
            ))
        })?;
        signed.push((name.as_str(), value));
    }
    let signable = SignableRequest::new(
        method.as_str(),
        uri,
        signed.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| Error::request("the request cannot be signed").with_source(e))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| Error::auth("SigV4 signing failed").with_source(e))?
        .into_parts();
    let (new_headers, _params) = instructions.into_parts();
    for header in new_headers {
        let mut value = http::HeaderValue::from_str(header.value())
            .map_err(|_| Error::auth("SigV4 signing made an invalid header"))?;
        // The signature and the session token stay out of `Debug` output.
        value.set_sensitive(header.sensitive() || header.name() == "authorization");
        let name = http::HeaderName::from_bytes(header.name().as_bytes())
            .map_err(|_| Error::auth("SigV4 signing made an invalid header"))?;
        headers.insert(name, value);
    }
    Ok(())
}

/// Rewrites each header value as SigV4 canonicalises it: runs of spaces and tabs become one
/// space, ends trimmed. `aws-sigv4` collapses spaces but keeps tabs, which AWS, botocore and
/// Amplify collapse, so an unnormalised `a<TAB>b` would be signed differently from how it is
/// checked; normalised first, what is sent is what is signed.
fn normalize_header_values(headers: &mut http::HeaderMap) {
    for value in headers.values_mut() {
        let bytes = value.as_bytes();
        let clean = !bytes.contains(&b'\t')
            && !bytes.windows(2).any(|w| w == b"  ")
            && bytes.first() != Some(&b' ')
            && bytes.last() != Some(&b' ');
        if clean {
            continue;
        }
        let mut out = Vec::with_capacity(bytes.len());
        for word in bytes
            .split(|b| *b == b' ' || *b == b'\t')
            .filter(|w| !w.is_empty())
        {
            if !out.is_empty() {
                out.push(b' ');
            }
            out.extend_from_slice(word);
        }
        // Removing spaces and tabs from a valid value leaves a valid value.
        if let Ok(mut v) = http::HeaderValue::from_bytes(&out) {
            v.set_sensitive(value.is_sensitive());
            *value = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors of the AWS SigV4 test suite (`aws-signing-test-suite/v4` in the `aws-sigv4`
    /// 1.6.4 sources): each request goes through the crate's own `sign_request`, and the whole
    /// result is compared with the suite's signed request: every header, the `Authorization`
    /// value in full (its signature covers the canonical request and the string to sign).
    #[test]
    fn sign_request_matches_the_aws_suite_vectors() {
        struct Vector {
            name: &'static str,
            uri: &'static str,
            headers: &'static [(&'static str, &'static str)],
            session_token: Option<&'static str>,
            /// Every header of the suite's signed request except `Authorization`.
            signed_headers_sent: &'static [(&'static str, &'static str)],
            authorization: &'static str,
        }
        const SCOPE: &str =
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
        let vectors = [
            Vector {
                name: "get-vanilla",
                uri: "https://example.amazonaws.com/",
                headers: &[("host", "example.amazonaws.com")],
                session_token: None,
                signed_headers_sent: &[
                    ("host", "example.amazonaws.com"),
                    ("x-amz-date", "20150830T123600Z"),
                ],
                authorization: "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            },
            Vector {
                // The suite sends the value unnormalised; this crate sends it as it signs it.
                name: "get-header-value-trim",
                uri: "https://example.amazonaws.com/",
                headers: &[
                    ("host", "example.amazonaws.com"),
                    ("my-header1", " value1"),
                    ("my-header2", "\"a   b   c\""),
                ],
                session_token: None,
                signed_headers_sent: &[
                    ("host", "example.amazonaws.com"),
                    ("my-header1", "value1"),
                    ("my-header2", "\"a b c\""),
                    ("x-amz-date", "20150830T123600Z"),
                ],
                authorization: "SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
            },
            Vector {
                name: "get-vanilla-with-session-token",
                uri: "https://example.amazonaws.com/",
                headers: &[("host", "example.amazonaws.com")],
                session_token: Some(
                    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
                ),
                signed_headers_sent: &[
                    ("host", "example.amazonaws.com"),
                    (
                        "x-amz-security-token",
                        "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
                    ),
                    ("x-amz-date", "20150830T123600Z"),
                ],
                authorization: "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
            },
            Vector {
                name: "get-vanilla-query-order-encoded",
                uri: "https://example.amazonaws.com/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
                headers: &[("host", "example.amazonaws.com")],
                session_token: None,
                signed_headers_sent: &[
                    ("host", "example.amazonaws.com"),
                    ("x-amz-date", "20150830T123600Z"),
                ],
                authorization: "SignedHeaders=host;x-amz-date, Signature=371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
            },
        ];
        // 2015-08-30T12:36:00Z
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        for v in vectors {
            let creds = Credentials::new(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                v.session_token.map(str::to_owned),
                None,
                "test",
            );
            let mut b = http::Request::builder().method("GET").uri(v.uri);
            for (n, val) in v.headers {
                b = b.header(*n, *val);
            }
            let mut req = b.body(Bytes::new()).unwrap();
            sign_request(&mut req, &creds, "us-east-1", Service::TestSuite, time).unwrap();
            assert_eq!(
                req.headers()["authorization"],
                format!("{SCOPE}, {}", v.authorization).as_str(),
                "{}",
                v.name
            );
            let mut sent: Vec<(String, String)> = req
                .headers()
                .iter()
                .filter(|(n, _)| *n != http::header::AUTHORIZATION)
                .map(|(n, val)| (n.to_string(), val.to_str().unwrap().to_owned()))
                .collect();
            sent.sort();
            let mut expected: Vec<(String, String)> = v
                .signed_headers_sent
                .iter()
                .map(|(n, val)| (n.to_string(), val.to_string()))
                .collect();
            expected.sort();
            assert_eq!(sent, expected, "{}", v.name);
            assert_eq!(
                req.uri().to_string(),
                v.uri,
                "{}: the URI is sent as signed",
                v.name
            );
        }
    }

    /// A tab inside a value is sent as the one space SigV4 canonicalisation makes of it.
    #[test]
    fn header_values_are_sent_as_signed() {
        let mut h = http::HeaderMap::new();
        h.insert("x-tab", http::HeaderValue::from_static("a\tb"));
        h.insert("x-runs", http::HeaderValue::from_static(" a  \t b  c\t"));
        h.insert("x-plain", http::HeaderValue::from_static("a b"));
        let mut secret = http::HeaderValue::from_static("t\tt");
        secret.set_sensitive(true);
        h.insert("authorization", secret);
        normalize_header_values(&mut h);
        assert_eq!(h["x-tab"], "a b");
        assert_eq!(h["x-runs"], "a b c");
        assert_eq!(h["x-plain"], "a b");
        assert_eq!(h["authorization"], "t t");
        assert!(h["authorization"].is_sensitive());
    }

    #[test]
    fn skew_is_learned_and_applied() {
        let skew = ClockSkew::default();
        let server = SystemTime::now() + Duration::from_secs(600);
        assert!(skew.learn(server));
        let d = skew.now().duration_since(SystemTime::now()).unwrap();
        assert!(d >= Duration::from_secs(598) && d <= Duration::from_secs(601));
        assert!(!skew.learn(server));
    }

    /// A server date beyond MAX_SKEW either way, or at the ends of `SystemTime`'s range, is
    /// ignored: the skew learned before stays, and `now()` keeps working.
    #[test]
    fn absurd_server_dates_are_ignored() {
        let skew = ClockSkew::default();
        let now = SystemTime::now();
        assert!(skew.learn(now + Duration::from_secs(600)));
        let far = [
            now + MAX_SKEW + Duration::from_secs(5),
            now - MAX_SKEW - Duration::from_secs(5),
            SystemTime::UNIX_EPOCH,
            // Year 9999 and beyond, as far as `SystemTime` goes here.
            SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799),
            now + Duration::from_secs(u64::MAX / 4),
        ];
        for date in far {
            assert!(!skew.learn(date), "{date:?}");
            let d = skew.now().duration_since(SystemTime::now()).unwrap();
            assert!(
                d >= Duration::from_secs(598) && d <= Duration::from_secs(601),
                "{date:?}"
            );
        }
        // Just inside the bound is believed.
        assert!(skew.learn(SystemTime::now() - MAX_SKEW + Duration::from_secs(60)));
    }
}
