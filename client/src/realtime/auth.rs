//! The authorization objects of the handshake and of each `start`, per mode
//! (`appsync-protocol.md` §2.2, §2.3, §2.6), made from the client's keys, token caches and
//! credentials, fresh every time they are asked for.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use appsync_types::AuthMode;

use super::protocol::AuthObject;
use crate::auth::iam::{sign_request, Service};
use crate::auth::{Auth, TokenKind};
use crate::config::{host_header, EndpointConfig, EndpointType};
use crate::error::{Error, Result};
use crate::headers::{overlay, parse_headers, Headers, RequestContext};
use crate::secret::Secret;

/// Makes authorization objects for one socket.
pub(crate) trait Authorizer: Send + Sync + 'static {
    /// The handshake's object.
    fn connect_auth(&self) -> BoxFuture<'_, Result<AuthObject>>;

    /// A `start`'s (or an Events `subscribe`'s or `publish`'s) object for this exact body (IAM
    /// signs it: GraphQL's `data` string, Events' `{"channel"…}`), with the call's own headers.
    fn start_auth<'a>(
        &'a self,
        data: &'a str,
        headers: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<AuthObject>>;

    /// The server refused the credentials: forget the cached token or credentials (and learn
    /// the clock skew from the server's `Date`, if known) so that the next object is fresh.
    /// Returns whether anything fresh can be had (false for fixed per-call credentials).
    fn refresh(&self, server_date: Option<SystemTime>) -> BoxFuture<'_, bool>;
}

/// The fixed headers of IAM-signed realtime requests (§2.3).
const IAM_HEADERS: [(&str, &str); 3] = [
    ("accept", "application/json, text/javascript"),
    ("content-encoding", "amz-1.0"),
    ("content-type", "application/json; charset=UTF-8"),
];

/// The authorizer of the client's sockets.
pub(crate) struct ClientAuthorizer {
    auth: Arc<Auth>,
    headers: Arc<Headers>,
    api_name: String,
    key_path: String,
    graphql_url: Url,
    /// GraphQL, or Events (whose handshake signs the endpoint URL itself).
    endpoint_type: EndpointType,
    region: Option<String>,
    mode: AuthMode,
    api_key: Option<Secret>,
    auth_token: Option<Secret>,
    token_kind: TokenKind,
    /// The generation of the last token handed out, to invalidate exactly that one.
    lease: Mutex<Option<(TokenKind, u64)>>,
}

impl ClientAuthorizer {
    /// For `endpoint` in `mode`; `api_key` and `auth_token` are per-call overrides.
    pub(crate) fn new(
        (auth, headers): (Arc<Auth>, Arc<Headers>),
        endpoint: &EndpointConfig,
        mode: AuthMode,
        api_key: Option<Secret>,
        auth_token: Option<Secret>,
        token_kind: Option<TokenKind>,
    ) -> Self {
        let token_kind = auth.token_kind(mode, false, token_kind);
        ClientAuthorizer {
            headers,
            api_name: endpoint.name().to_owned(),
            key_path: endpoint.key_path().to_owned(),
            graphql_url: endpoint.url().clone(),
            endpoint_type: endpoint.endpoint_type(),
            region: endpoint.region().map(str::to_owned),
            api_key: api_key.or_else(|| endpoint.api_key().cloned()),
            auth,
            mode,
            auth_token,
            token_kind,
            lease: Mutex::new(None),
        }
    }

    fn host(&self) -> String {
        host_header(&self.graphql_url)
    }

    fn context(&self) -> RequestContext {
        RequestContext {
            api_name: self.api_name.clone(),
            endpoint_type: self.endpoint_type,
            auth_mode: self.mode,
            attempt: 0,
        }
    }

    /// The client's headers (fixed, then from providers), then `extra`: later layers win by
    /// name, as on HTTP.
    async fn user_headers(&self, extra: &[(String, String)]) -> Result<HeaderMap> {
        let mut h = HeaderMap::new();
        let context = self.headers.has_providers().then(|| self.context());
        self.headers.apply(&mut h, context.as_ref()).await?;
        overlay(&mut h, &parse_headers(extra)?);
        Ok(h)
    }

    /// The token: the per-call one, else the cache's (refreshed ahead of its expiry).
    async fn token(&self) -> Result<Secret> {
        if let Some(t) = &self.auth_token {
            return Ok(t.clone());
        }
        let lease = self
            .auth
            .token(self.mode, self.token_kind, "the subscription")
            .await?;
        *self.lease.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((lease.kind, lease.generation));
        Ok(lease.value)
    }

    fn key(&self) -> Result<&Secret> {
        self.api_key.as_ref().ok_or_else(|| {
            Error::auth(format!(
                "API_KEY needs a key: endpoint {:?} has none configured ({}); pass .api_key(..) on the subscription",
                self.api_name, self.key_path
            ))
        })
    }

    /// Signs `POST <url>` with `body` and the fixed headers plus `extra`; the object is every
    /// header of the signed request.
    async fn signed(&self, url: &Url, body: Bytes, extra: HeaderMap) -> Result<AuthObject> {
        let creds = self.auth.credentials().await?;
        let region = self.region.as_deref().ok_or_else(|| {
            Error::config(format!(
                "AWS_IAM needs a region for endpoint {:?}: set {}.region",
                self.api_name, self.key_path
            ))
        })?;
        let mut req = http::Request::builder()
            .method(http::Method::POST)
            .uri(url.as_str())
            .body(body)
            .map_err(|e| Error::request("the request to sign could not be built").with_source(e))?;
        let h = req.headers_mut();
        for (n, v) in extra.iter() {
            h.insert(n.clone(), v.clone());
        }
        for (n, v) in IAM_HEADERS {
            h.insert(HeaderName::from_static(n), HeaderValue::from_static(v));
        }
        h.insert(
            http::header::HOST,
            HeaderValue::from_str(&self.host())
                .map_err(|_| Error::request("the URL's host cannot be a header"))?,
        );
        sign_request(&mut req, &creds, region, Service::AppSync, self.auth.now())?;
        object(req.headers())
    }

    /// `{host}` plus the mode's keys, the user's headers first (the mode's keys win).
    async fn object(&self, user: HeaderMap) -> Result<AuthObject> {
        let mut o = object(&user)?;
        o.insert("host", self.host());
        match self.mode {
            AuthMode::ApiKey => o.insert("x-api-key", self.key()?.expose()),
            AuthMode::UserPools | AuthMode::Oidc | AuthMode::Lambda => {
                let token = self.token().await?;
                // A user header `authorization` (any case) would duplicate the key.
                o.0.retain(|k, _| !k.eq_ignore_ascii_case("authorization"));
                o.insert("Authorization", token.expose())
            }
            // IAM is signed last; NONE adds nothing.
            _ => {}
        }
        Ok(o)
    }
}

/// A header map as an object (lowercase names; a repeated header keeps its last value).
fn object(headers: &HeaderMap) -> Result<AuthObject> {
    let mut o = AuthObject::default();
    for (n, v) in headers {
        let v = v.to_str().map_err(|_| {
            Error::request(format!(
                "header {n} is not visible ASCII and cannot go in the realtime authorization"
            ))
        })?;
        o.insert(n.as_str(), v);
    }
    Ok(o)
}

impl Authorizer for ClientAuthorizer {
    fn connect_auth(&self) -> BoxFuture<'_, Result<AuthObject>> {
        Box::pin(async move {
            match self.mode {
                AuthMode::Iam => {
                    let mut url = self.graphql_url.clone();
                    url.set_query(None);
                    url.set_fragment(None);
                    // GraphQL signs `<url>/connect`; Events signs its `/event` URL itself.
                    if self.endpoint_type != EndpointType::Events {
                        let path = format!("{}/connect", url.path().trim_end_matches('/'));
                        url.set_path(&path);
                    }
                    self.signed(&url, Bytes::from_static(b"{}"), HeaderMap::new())
                        .await
                }
                // NONE authenticates with whatever the user's headers carry.
                AuthMode::None => self.object(self.user_headers(&[]).await?).await,
                _ => self.object(HeaderMap::new()).await,
            }
        })
    }

    fn start_auth<'a>(
        &'a self,
        data: &'a str,
        headers: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<AuthObject>> {
        Box::pin(async move {
            let user = self.user_headers(headers).await?;
            match self.mode {
                AuthMode::Iam => {
                    let mut url = self.graphql_url.clone();
                    url.set_query(None);
                    url.set_fragment(None);
                    self.signed(&url, Bytes::copy_from_slice(data.as_bytes()), user)
                        .await
                }
                _ => self.object(user).await,
            }
        })
    }

    fn refresh(&self, server_date: Option<SystemTime>) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            match self.mode {
                AuthMode::Iam => {
                    if let Some(d) = server_date {
                        self.auth.learn_skew(d);
                    }
                    self.auth.invalidate_credentials().await
                }
                m if m.uses_token() && self.auth_token.is_none() => {
                    let lease = *self.lease.lock().unwrap_or_else(|e| e.into_inner());
                    match lease {
                        Some((kind, generation)) => {
                            self.auth.invalidate_token(m, kind, generation).await
                        }
                        None => false,
                    }
                }
                _ => false,
            }
        })
    }
}
