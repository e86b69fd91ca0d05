//! AWS_IAM: SigV4 signing with `aws-sigv4`, a credentials cache, and the clock skew learned from
//! servers.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
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
}

impl Service {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Service::AppSync => "appsync",
            Service::ExecuteApi => "execute-api",
        }
    }
}

/// The difference between the servers' clock and ours, shared by all signing (HTTP and realtime).
#[derive(Clone, Default)]
pub(crate) struct ClockSkew(Arc<AtomicI64>);

impl ClockSkew {
    /// Now, as the server sees it.
    pub(crate) fn now(&self) -> SystemTime {
        let skew = self.0.load(Ordering::Relaxed);
        let now = SystemTime::now();
        if skew >= 0 {
            now + Duration::from_secs(skew as u64)
        } else {
            now - Duration::from_secs(skew.unsigned_abs())
        }
    }

    /// Learns the skew from a server's `Date` header; returns whether it changed by more than
    /// a minute (then a signature refused for its date is worth one retry).
    pub(crate) fn learn(&self, server_date: SystemTime) -> bool {
        let now = SystemTime::now();
        let skew = match server_date.duration_since(now) {
            Ok(ahead) => ahead.as_secs() as i64,
            Err(behind) => -(behind.duration().as_secs() as i64),
        };
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

/// Signs a request in place with SigV4 over its exact body and every header it has, adding
/// `x-amz-date`, `x-amz-security-token` (temporary credentials) and `authorization`.
pub(crate) fn sign_request(
    request: &mut http::Request<Bytes>,
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
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| Error::auth("could not set up SigV4 signing").with_source(e))?
        .into();
    let mut headers = Vec::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        let value = value.to_str().map_err(|_| {
            Error::request(format!(
                "header {name} is not visible ASCII and cannot be signed"
            ))
        })?;
        headers.push((name.as_str(), value));
    }
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(|e| Error::request("the request cannot be signed").with_source(e))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| Error::auth("SigV4 signing failed").with_source(e))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    // The signature and the session token stay out of `Debug` output.
    for name in [http::header::AUTHORIZATION.as_str(), "x-amz-security-token"] {
        if let Some(v) = request.headers_mut().get_mut(name) {
            v.set_sensitive(true);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_get_vanilla_vector() {
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        );
        let mut req = http::Request::builder()
            .method("GET")
            .uri("https://example.amazonaws.com/")
            .header("host", "example.amazonaws.com")
            .body(Bytes::new())
            .unwrap();
        // 2015-08-30T12:36:00Z
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        let region = "us-east-1";
        // `Service` only names the two services we sign for; the vector uses "service".
        let identity: Identity = creds.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name("service")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            "GET",
            "https://example.amazonaws.com/",
            [("host", "example.amazonaws.com")].into_iter(),
            SignableBody::Bytes(&[]),
        )
        .unwrap();
        let (_i, sig) = sign(signable, &params).unwrap().into_parts();
        assert_eq!(
            sig,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        sign_request(&mut req, &creds, region, Service::AppSync, time).unwrap();
        let auth = req.headers()["authorization"].to_str().unwrap();
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/appsync/aws4_request, SignedHeaders=host;x-amz-date, Signature="
        ));
        assert_eq!(req.headers()["x-amz-date"], "20150830T123600Z");
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
}
