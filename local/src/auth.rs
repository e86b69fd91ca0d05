//! Who is calling: AppSync's auth modes, the identity a request proves, and the checks of §3.1
//! and §3.4 (API keys, Cognito and OIDC JWTs, IAM SigV4, a Lambda authorizer).

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use serde_json::{json, Value};

use crate::dates::{amz_date_seconds, unix_now};
use crate::jwt::{peek_claims, KeySet, SigningKey};
use crate::sigv4;

pub use appsync_types::AuthMode;

/// What a request proved about its caller.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Identity {
    /// The mode it authenticated with.
    pub mode: AuthMode,
    /// JWT claims (user pools, OIDC).
    pub claims: Option<Value>,
    /// `cognito:groups` (user pools).
    pub groups: Vec<String>,
    /// The access key id (IAM).
    pub access_key_id: Option<String>,
    /// The Lambda authorizer's `resolverContext`.
    pub resolver_context: Option<Value>,
    /// The Lambda authorizer's `deniedFields` (`Type.field` or field ARNs).
    pub denied_fields: Vec<String>,
}

impl Identity {
    pub(crate) fn new(mode: AuthMode) -> Self {
        Identity {
            mode,
            claims: None,
            groups: Vec::new(),
            access_key_id: None,
            resolver_context: None,
            denied_fields: Vec::new(),
        }
    }

    /// Whether the Lambda authorizer denied `Type.field`.
    pub(crate) fn denies(&self, type_name: &str, field: &str) -> bool {
        self.denied_fields.iter().any(|d| {
            d == &format!("{type_name}.{field}")
                || d.ends_with(&format!("/types/{type_name}/fields/{field}"))
        })
    }
}

/// What the Lambda authorizer receives (AppSync's request shape).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LambdaAuthRequest {
    /// The `Authorization` value, verbatim.
    pub authorization_token: String,
    /// The GraphQL document, when known (empty for a realtime connect and for Events).
    pub query_string: String,
    /// The operation name, if any.
    pub operation_name: Option<String>,
    /// The variables.
    pub variables: Value,
    /// For an AppSync Events request: the channel published or subscribed to (none for a
    /// connection, and for GraphQL).
    pub channel: Option<String>,
}

/// What the Lambda authorizer answers.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct LambdaAuthResponse {
    /// Whether the call may go on.
    pub is_authorized: bool,
    /// Handed to resolvers as `identity.resolverContext`.
    pub resolver_context: Option<Value>,
    /// Fields to deny (`Type.field`).
    pub denied_fields: Vec<String>,
    /// AppSync's `ttlOverride`: how long to cache this answer for its token, instead of the
    /// configured default (`Some(0)`: do not cache it). At most an hour is used.
    pub ttl_override: Option<Duration>,
}

impl LambdaAuthResponse {
    /// Allows the call.
    pub fn allow() -> Self {
        LambdaAuthResponse {
            is_authorized: true,
            ..Default::default()
        }
    }

    /// Refuses the call.
    pub fn deny() -> Self {
        LambdaAuthResponse::default()
    }

    /// Sets the resolver context.
    pub fn resolver_context(mut self, context: Value) -> Self {
        self.resolver_context = Some(context);
        self
    }

    /// Denies these fields (`Type.field`).
    pub fn denied_fields(mut self, fields: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.denied_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `ttlOverride`: cache this answer for its token this long (zero: not at all).
    pub fn ttl_override(mut self, ttl: Duration) -> Self {
        self.ttl_override = Some(ttl);
        self
    }
}

/// AppSync's upper bound on how long an authorizer's answer is cached.
pub(crate) const MAX_LAMBDA_TTL: Duration = Duration::from_secs(3600);

/// How many tokens' answers are kept at most; past that the one closest to expiry goes.
const LAMBDA_CACHE_ENTRIES: usize = 1024;

/// The Lambda authorizer with AppSync's settings around it (`LambdaAuthorizerConfig`).
pub(crate) struct Lambda {
    pub authorizer: LambdaAuthorizer,
    /// `identityValidationExpression`, anchored: the whole token must match.
    pub validation: Option<regex::Regex>,
    /// `authorizerResultTtlInSeconds` (zero: answers are not cached unless they say so).
    pub default_ttl: Duration,
    pub cache: Mutex<LambdaCache>,
}

/// Answers of the authorizer by token, each until it expires.
#[derive(Default)]
pub(crate) struct LambdaCache {
    entries: HashMap<String, (Instant, LambdaAuthResponse)>,
}

impl LambdaCache {
    fn get(&mut self, token: &str, now: Instant) -> Option<LambdaAuthResponse> {
        match self.entries.get(token) {
            Some((until, r)) if *until > now => Some(r.clone()),
            Some(_) => {
                self.entries.remove(token);
                None
            }
            None => None,
        }
    }

    fn put(&mut self, token: &str, response: LambdaAuthResponse, ttl: Duration, now: Instant) {
        if ttl.is_zero() {
            return;
        }
        if self.entries.len() >= LAMBDA_CACHE_ENTRIES && !self.entries.contains_key(token) {
            self.entries.retain(|_, (until, _)| *until > now);
            if self.entries.len() >= LAMBDA_CACHE_ENTRIES {
                let soonest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (until, _))| *until)
                    .map(|(k, _)| k.clone());
                if let Some(k) = soonest {
                    self.entries.remove(&k);
                }
            }
        }
        self.entries
            .insert(token.to_owned(), (now + ttl.min(MAX_LAMBDA_TTL), response));
    }
}

/// A boxed future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The Lambda authorizer: an async closure from [`LambdaAuthRequest`] to [`LambdaAuthResponse`].
pub type LambdaAuthorizer =
    Arc<dyn Fn(LambdaAuthRequest) -> BoxFuture<'static, LambdaAuthResponse> + Send + Sync>;

/// An API key and when it expires.
#[derive(Clone)]
pub(crate) struct ApiKey {
    pub key: String,
    pub expires: Option<SystemTime>,
}

/// IAM credentials the server accepts.
#[derive(Clone)]
pub(crate) struct IamCredential {
    pub access_key_id: String,
    pub secret: String,
    pub session_token: Option<String>,
}

/// A Cognito user pool the server runs.
#[derive(Debug)]
pub(crate) struct UserPool {
    pub pool_id: String,
    pub client_id: String,
    pub issuer: String,
    pub key: SigningKey,
}

/// An external Cognito user pool the server trusts: its tokens are verified with the public keys
/// of its JWKS, and must be for one of its app clients.
#[derive(Debug)]
pub(crate) struct TrustedPool {
    pub pool_id: String,
    /// The region, from the pool id (`us-east-1_AbC` → `us-east-1`).
    pub region: String,
    pub client_ids: Vec<String>,
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`.
    pub issuer: String,
    pub keys: KeySet,
}

/// An OIDC issuer the server holds the key of.
#[derive(Debug)]
pub(crate) struct OidcIssuer {
    pub issuer: String,
    pub client_id: Option<String>,
    pub key: SigningKey,
}

/// Everything needed to authenticate a request.
pub(crate) struct Authenticator {
    pub modes: BTreeSet<AuthMode>,
    pub api_keys: Vec<ApiKey>,
    pub iam: Vec<IamCredential>,
    pub user_pool: Option<UserPool>,
    /// External user pools, each with its own issuer.
    pub trusted_pools: Vec<TrustedPool>,
    pub oidc: Option<OidcIssuer>,
    pub lambda: Option<Lambda>,
    pub region: String,
    pub max_skew: Duration,
    /// The forms of the API host a realtime auth object may name (lowercase): the GraphQL
    /// host as a client puts it (`127.0.0.1:PORT`, `localhost:PORT`) and any public host.
    pub hosts: Vec<String>,
}

/// Whether a realtime auth object must name the API's host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HostCheck {
    /// It must (a handshake; a GraphQL `start`).
    Required,
    /// Only a `host` it has must be this API's (an Events `subscribe` or `publish`, whose
    /// authorization AWS's examples give without one; IAM signs `host`, so it still needs it).
    IfPresent,
}

/// Why a request was refused: AppSync's status, error type and message.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AuthFailure {
    pub status: u16,
    pub error_type: &'static str,
    pub message: String,
}

impl AuthFailure {
    fn unauthorized(message: impl Into<String>) -> Self {
        AuthFailure {
            status: 401,
            error_type: "UnauthorizedException",
            message: message.into(),
        }
    }

    fn forbidden(error_type: &'static str, message: impl Into<String>) -> Self {
        AuthFailure {
            status: 403,
            error_type,
            message: message.into(),
        }
    }

    /// The `errors` envelope AppSync answers with.
    pub(crate) fn body(&self) -> Value {
        json!({"errors": [{"errorType": self.error_type, "message": self.message}]})
    }
}

/// A request to authenticate: headers (any case), and what SigV4 covers.
pub(crate) struct AuthInput<'a> {
    pub headers: &'a [(String, String)],
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub body: &'a [u8],
    /// For the Lambda authorizer.
    pub query_string: &'a str,
    pub operation_name: Option<&'a str>,
    pub variables: &'a Value,
    /// For the Lambda authorizer: an Events request's channel.
    pub channel: Option<&'a str>,
}

impl AuthInput<'_> {
    /// A header's value (the name in any case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn strip_bearer(token: &str) -> &str {
    token
        .strip_prefix("Bearer ")
        .or_else(|| token.strip_prefix("bearer "))
        .unwrap_or(token)
        .trim()
}

impl Authenticator {
    /// The first API key, if any.
    pub(crate) fn api_key(&self) -> Option<&str> {
        self.api_keys.first().map(|k| k.key.as_str())
    }

    /// Picks the mode from what the request carries (§3.1) among the GraphQL API's modes and
    /// checks the identity (§3.4).
    pub(crate) async fn authenticate(
        &self,
        input: &AuthInput<'_>,
    ) -> Result<Identity, AuthFailure> {
        self.authenticate_in(input, &self.modes).await
    }

    /// [`Authenticator::authenticate`] among these modes (an Event API action's): credentials
    /// of another mode count as none.
    pub(crate) async fn authenticate_in(
        &self,
        input: &AuthInput<'_>,
        modes: &BTreeSet<AuthMode>,
    ) -> Result<Identity, AuthFailure> {
        if let Some(key) = input.header("x-api-key") {
            if modes.contains(&AuthMode::ApiKey) {
                return self.check_api_key(key);
            }
        }
        let authorization = input.header("authorization").map(str::trim).unwrap_or("");
        if authorization.starts_with(sigv4::ALGORITHM) && modes.contains(&AuthMode::Iam) {
            return self.check_iam(input);
        }
        if !authorization.is_empty() {
            let token = strip_bearer(authorization);
            if let Some(claims) = peek_claims(token) {
                let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
                if iss.starts_with("https://cognito-idp.") && modes.contains(&AuthMode::UserPools) {
                    // The pool whose issuer it names: the server's own or a trusted one.
                    let iss = iss.trim_end_matches('/');
                    if let Some(pool) = self.user_pool.as_ref().filter(|p| p.issuer == iss) {
                        return check_user_pool(pool, token);
                    }
                    if let Some(pool) = self.trusted_pools.iter().find(|p| p.issuer == iss) {
                        return check_trusted_pool(pool, token);
                    }
                    // A Cognito issuer that is the OIDC issuer goes on to OIDC below.
                    let oidc_iss = self.oidc.as_ref().map(|o| o.issuer.trim_end_matches('/'));
                    if (self.user_pool.is_some() || !self.trusted_pools.is_empty())
                        && oidc_iss != Some(iss)
                    {
                        return Err(AuthFailure::unauthorized("Token issuer is not valid."));
                    }
                }
                if let Some(oidc) = &self.oidc {
                    if iss.trim_end_matches('/') == oidc.issuer.trim_end_matches('/')
                        && modes.contains(&AuthMode::Oidc)
                    {
                        return check_oidc(oidc, token);
                    }
                }
            }
            if let (Some(lambda), true) = (&self.lambda, modes.contains(&AuthMode::Lambda)) {
                let resp = call_lambda(lambda, authorization, input).await?;
                if !resp.is_authorized {
                    return Err(AuthFailure::unauthorized(
                        "You are not authorized to make this call.",
                    ));
                }
                let mut id = Identity::new(AuthMode::Lambda);
                id.resolver_context = resp.resolver_context;
                id.denied_fields = resp.denied_fields;
                return Ok(id);
            }
            return Err(AuthFailure::unauthorized(
                "Valid authorization header not provided.",
            ));
        }
        Err(AuthFailure::unauthorized("Missing authorization header."))
    }

    /// A realtime auth object (a handshake's or a `start`'s): its `host` must be this API's
    /// GraphQL host, as AppSync requires (§2.2), before anything else is checked. For IAM the
    /// signature covers that same `host` value, so a signature over another host fails too.
    pub(crate) async fn authenticate_realtime(
        &self,
        input: &AuthInput<'_>,
    ) -> Result<Identity, AuthFailure> {
        self.authenticate_realtime_in(input, &self.modes, HostCheck::Required)
            .await
    }

    /// [`Authenticator::authenticate_realtime`] among these modes, with this host check.
    pub(crate) async fn authenticate_realtime_in(
        &self,
        input: &AuthInput<'_>,
        modes: &BTreeSet<AuthMode>,
        check: HostCheck,
    ) -> Result<Identity, AuthFailure> {
        match (input.header("host"), check) {
            (None, HostCheck::IfPresent) => {}
            (None, HostCheck::Required) => {
                return Err(AuthFailure::unauthorized(
                    "The authorization object has no host: it must name the API's GraphQL host.",
                ))
            }
            (Some(host), _) => {
                if !self
                    .hosts
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(host.trim()))
                {
                    return Err(AuthFailure::unauthorized(format!(
                        "The authorization object's host {host:?} is not this API's host ({}).",
                        self.hosts.join(", ")
                    )));
                }
            }
        }
        self.authenticate_in(input, modes).await
    }

    fn check_api_key(&self, key: &str) -> Result<Identity, AuthFailure> {
        let now = SystemTime::now();
        match self.api_keys.iter().find(|k| k.key == key) {
            Some(k) if k.expires.is_some_and(|e| e <= now) => {
                Err(AuthFailure::unauthorized("API key has expired."))
            }
            Some(_) => Ok(Identity::new(AuthMode::ApiKey)),
            None => Err(AuthFailure::unauthorized(
                "You are not authorized to make this call.",
            )),
        }
    }

    fn check_iam(&self, input: &AuthInput<'_>) -> Result<Identity, AuthFailure> {
        let parts = sigv4::SignedRequestParts {
            method: input.method,
            path: input.path,
            query: input.query,
            headers: input.headers.to_vec(),
            body: input.body,
        };
        let parsed = sigv4::parse_authorization(input.header("authorization").unwrap_or(""))
            .map_err(|e| AuthFailure::forbidden("IncompleteSignatureException", e))?;
        let Some(cred) = self
            .iam
            .iter()
            .find(|c| c.access_key_id == parsed.access_key_id)
        else {
            return Err(AuthFailure::forbidden(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ));
        };
        let verified = sigv4::verify(
            &parts,
            |akid| (akid == cred.access_key_id).then(|| cred.secret.clone()),
            "appsync",
            &self.region,
        )
        .map_err(|e| {
            if e.contains("signature mismatch") {
                AuthFailure::forbidden(
                    "InvalidSignatureException",
                    "The request signature we calculated does not match the signature you provided. \
                     Check your AWS Secret Access Key and signing method.",
                )
            } else {
                AuthFailure::forbidden("IncompleteSignatureException", e)
            }
        })?;
        // A long-term key has no session token: a request carrying one is refused, as AWS does.
        if verified.session_token != cred.session_token {
            return Err(AuthFailure::forbidden(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ));
        }
        let date = input.header("x-amz-date").unwrap_or("");
        match amz_date_seconds(date) {
            Some(t) if t.abs_diff(unix_now()) <= self.max_skew.as_secs() => {}
            _ => {
                return Err(AuthFailure::forbidden(
                    "InvalidSignatureException",
                    format!(
                        "Signature expired: {date} is now earlier or later than the allowed skew."
                    ),
                ))
            }
        }
        let mut id = Identity::new(AuthMode::Iam);
        id.access_key_id = Some(cred.access_key_id.clone());
        Ok(id)
    }
}

/// Runs the authorizer for `token` (the `Authorization` value, verbatim), unless the token
/// fails `identityValidationExpression` (then 401 without a call) or a cached answer for it
/// has not expired yet.
async fn call_lambda(
    lambda: &Lambda,
    token: &str,
    input: &AuthInput<'_>,
) -> Result<LambdaAuthResponse, AuthFailure> {
    if lambda
        .validation
        .as_ref()
        .is_some_and(|re| !re.is_match(token))
    {
        return Err(AuthFailure::unauthorized(
            "You are not authorized to make this call.",
        ));
    }
    // The lock is never held across the call: a slow authorizer must not stall other requests.
    let cached = lock(&lambda.cache).get(token, Instant::now());
    if let Some(r) = cached {
        return Ok(r);
    }
    let resp = (lambda.authorizer)(LambdaAuthRequest {
        authorization_token: token.to_owned(),
        query_string: input.query_string.to_owned(),
        operation_name: input.operation_name.map(str::to_owned),
        variables: input.variables.clone(),
        channel: input.channel.map(str::to_owned),
    })
    .await;
    let ttl = resp.ttl_override.unwrap_or(lambda.default_ttl);
    lock(&lambda.cache).put(token, resp.clone(), ttl, Instant::now());
    Ok(resp)
}

/// The cache, even if a thread panicked while holding it (its entries are still whole).
fn lock(cache: &Mutex<LambdaCache>) -> std::sync::MutexGuard<'_, LambdaCache> {
    cache.lock().unwrap_or_else(|e| e.into_inner())
}

fn check_user_pool(pool: &UserPool, token: &str) -> Result<Identity, AuthFailure> {
    let claims = pool
        .key
        .verify(token, &pool.issuer)
        .map_err(AuthFailure::unauthorized)?;
    user_pool_identity(claims, std::slice::from_ref(&pool.client_id))
}

fn check_trusted_pool(pool: &TrustedPool, token: &str) -> Result<Identity, AuthFailure> {
    let claims = pool
        .keys
        .verify(token, &pool.issuer)
        .map_err(AuthFailure::unauthorized)?;
    user_pool_identity(claims, &pool.client_ids)
}

/// The identity of verified user-pool claims, as AppSync checks them: an ID token's `aud`, or
/// an access token's `client_id`, must be one of the app clients; groups are `cognito:groups`.
fn user_pool_identity(claims: Value, client_ids: &[String]) -> Result<Identity, AuthFailure> {
    let client = match claims.get("token_use").and_then(Value::as_str) {
        Some("id") => claims.get("aud").and_then(Value::as_str),
        Some("access") => claims.get("client_id").and_then(Value::as_str),
        _ => return Err(AuthFailure::unauthorized("Token use is not id or access.")),
    };
    if !client.is_some_and(|c| client_ids.iter().any(|id| id == c)) {
        return Err(AuthFailure::unauthorized(
            "Token was not issued for this client.",
        ));
    }
    let mut id = Identity::new(AuthMode::UserPools);
    id.groups = claims
        .get("cognito:groups")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    id.claims = Some(claims);
    Ok(id)
}

fn check_oidc(oidc: &OidcIssuer, token: &str) -> Result<Identity, AuthFailure> {
    let claims = oidc
        .key
        .verify(token, &oidc.issuer)
        .map_err(AuthFailure::unauthorized)?;
    if let Some(client) = &oidc.client_id {
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == client,
            Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(client)),
            _ => false,
        } || claims.get("client_id").and_then(Value::as_str) == Some(client);
        if !aud_ok {
            return Err(AuthFailure::unauthorized(
                "Token was not issued for this client.",
            ));
        }
    }
    let mut id = Identity::new(AuthMode::Oidc);
    id.claims = Some(claims);
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_answers_are_cached_until_they_expire_and_the_cache_is_bounded() {
        let t0 = Instant::now();
        let mut c = LambdaCache::default();
        c.put("a", LambdaAuthResponse::allow(), Duration::from_secs(5), t0);
        c.put("zero", LambdaAuthResponse::allow(), Duration::ZERO, t0);
        assert!(c.get("a", t0 + Duration::from_secs(4)).is_some());
        assert!(c.get("a", t0 + Duration::from_secs(5)).is_none());
        assert!(
            c.entries.is_empty(),
            "expired and zero-TTL answers are not kept"
        );
        // Longer than AppSync allows: an hour at most.
        c.put(
            "long",
            LambdaAuthResponse::allow(),
            Duration::from_secs(7200),
            t0,
        );
        assert!(c.get("long", t0 + Duration::from_secs(3599)).is_some());
        assert!(c.get("long", t0 + Duration::from_secs(3600)).is_none());
        for i in 0..LAMBDA_CACHE_ENTRIES + 10 {
            let ttl = Duration::from_secs(100 + i as u64);
            c.put(&format!("t{i}"), LambdaAuthResponse::allow(), ttl, t0);
        }
        assert_eq!(c.entries.len(), LAMBDA_CACHE_ENTRIES);
        assert!(
            c.get("t0", t0).is_none(),
            "the one closest to expiry went first"
        );
        let last = format!("t{}", LAMBDA_CACHE_ENTRIES + 9);
        assert!(c.get(&last, t0).is_some());
    }
}
