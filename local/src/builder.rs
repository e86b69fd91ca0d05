//! [`LocalAppSyncBuilder`]: the settings of a local AppSync, and their check, which turns them
//! into the state a server runs with.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::sync::broadcast;

use crate::auth::{
    ApiKey, AuthMode, Authenticator, IamCredential, Lambda, LambdaAuthRequest, LambdaAuthResponse,
    LambdaAuthorizer, OidcIssuer, TrustedPool, UserPool, MAX_LAMBDA_TTL,
};
use crate::engine::{Core, Engine};
use crate::error::{Error, ResolverError};
use crate::events::EventApi;
use crate::faults::Faults;
use crate::jwt::{KeySet, SigningKey};
use crate::resolver::{resolver, Resolver, ResolverRequest};
use crate::schema::SchemaModel;
use crate::state::{RealtimeSettings, ServerState};
use crate::store::Store;

/// What [`LocalAppSyncBuilder::prepare`] gives: the state to serve (its `auth.hosts` hold only
/// the public host until the port is known) and whether to serve TLS.
pub(crate) struct Prepared {
    pub state: ServerState,
    pub tls: bool,
}

/// An external user pool as configured: its JWKS given, or to fetch at start.
struct ExternalPool {
    pool_id: String,
    client_ids: Vec<String>,
    jwks: JwksSource,
}

enum JwksSource {
    Document(Value),
    Url(String),
    /// The URL could not be fetched: why.
    Failed(String),
}

/// Configures a [`LocalAppSync`](crate::LocalAppSync). Setters never fail; [`LocalAppSyncBuilder::start`] reports
/// every problem.
pub struct LocalAppSyncBuilder {
    sdl: Option<Result<String, String>>,
    default_mode: AuthMode,
    additional: Vec<AuthMode>,
    api_keys: Vec<ApiKey>,
    user_pool: Option<(String, String)>,
    trusted_pools: Vec<ExternalPool>,
    oidc: Option<(String, Option<String>)>,
    iam: Vec<IamCredential>,
    lambda: Option<LambdaAuthorizer>,
    lambda_validation: Option<String>,
    lambda_ttl: Duration,
    resolvers: Vec<(String, String, Resolver)>,
    region: String,
    realtime: RealtimeSettings,
    tls: bool,
    public_host: Option<String>,
    events: Option<EventApi>,
}

impl fmt::Debug for LocalAppSyncBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalAppSyncBuilder")
            .field("default_mode", &self.default_mode)
            .field("additional", &self.additional)
            .field("region", &self.region)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl Default for LocalAppSyncBuilder {
    fn default() -> Self {
        LocalAppSyncBuilder {
            sdl: None,
            default_mode: AuthMode::ApiKey,
            additional: Vec::new(),
            api_keys: Vec::new(),
            user_pool: None,
            trusted_pools: Vec::new(),
            oidc: None,
            iam: Vec::new(),
            lambda: None,
            lambda_validation: None,
            lambda_ttl: Duration::ZERO,
            resolvers: Vec::new(),
            region: "us-east-1".to_owned(),
            realtime: RealtimeSettings::default(),
            tls: false,
            public_host: None,
            events: None,
        }
    }
}

impl LocalAppSyncBuilder {
    /// The schema as SDL text (the AWS prelude is added). A server with an
    /// [Event API](LocalAppSyncBuilder::events) may have none: it then serves Events only.
    pub fn schema(mut self, sdl: impl Into<String>) -> Self {
        self.sdl = Some(Ok(sdl.into()));
        self
    }

    /// The schema from a file.
    pub fn schema_file(mut self, path: impl AsRef<Path>) -> Self {
        let p = path.as_ref();
        self.sdl = Some(
            std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read schema {}: {e}", p.display())),
        );
        self
    }

    /// The default auth mode (`API_KEY` unless set).
    pub fn default_auth_mode(mut self, mode: AuthMode) -> Self {
        self.default_mode = mode;
        self
    }

    /// Additional auth modes.
    pub fn additional_auth_modes(mut self, modes: impl IntoIterator<Item = AuthMode>) -> Self {
        self.additional.extend(modes);
        self
    }

    /// An API key that never expires.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_keys.push(ApiKey {
            key: key.into(),
            expires: None,
        });
        self
    }

    /// An API key that expires at `expires`.
    pub fn api_key_expiring(mut self, key: impl Into<String>, expires: SystemTime) -> Self {
        self.api_keys.push(ApiKey {
            key: key.into(),
            expires: Some(expires),
        });
        self
    }

    /// Runs a Cognito user pool with this id (e.g. `us-east-1_local`) and app client id; the
    /// server makes its signing key and mints its tokens ([`LocalAppSync::user_pool_token`](crate::LocalAppSync::user_pool_token)).
    pub fn user_pool(mut self, pool_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        self.user_pool = Some((pool_id.into(), client_id.into()));
        self
    }

    /// Trusts an external Cognito user pool (real Cognito, or an emulator such as moto) whose
    /// public keys are in `jwks`, a JWKS document (RFC 7517, `{"keys": [..]}`): its tokens are
    /// accepted in `AMAZON_COGNITO_USER_POOLS` mode, verified as AppSync verifies them. The
    /// issuer must be `https://cognito-idp.<region>.amazonaws.com/<pool_id>`, the region being
    /// the pool id's prefix (`us-east-1` for `us-east-1_AbC123`); the header must name `RS256`
    /// and the `kid` of one of the keys; `exp` must not have passed; an access token's
    /// `client_id`, or an ID token's `aud`, must be one of `client_ids`. Groups come from
    /// `cognito:groups`, and the claims reach resolvers as for
    /// [`LocalAppSyncBuilder::user_pool`]'s tokens.
    ///
    /// Several pools may be trusted, besides the one the server runs itself. [`start`] refuses
    /// a malformed pool id, no client id, and a JWKS that is not one or has no usable RSA key
    /// (RSA keys of 2048 to 8192 bits with a `kid`; keys of other types are skipped). The
    /// server cannot mint tokens for such a pool: they come from the pool.
    ///
    /// [`start`]: LocalAppSyncBuilder::start
    ///
    /// ```
    /// use appsync_local::{AuthMode, LocalAppSync};
    /// use serde_json::json;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // The key set of the pool (moto's, whose key signs every pool's tokens).
    /// let jwks = json!({"keys": [{
    ///     "kty": "RSA", "alg": "RS256", "use": "sig", "kid": "dummy", "e": "AQAB",
    ///     "n": "j1pT3xKbswmMySvCefmiD3mfDaRFpZ9Y3Jl4fF0hMaCRVAt_e0yR7BeueDfqmj_NhVSO0WB5ao5e8V-9\
    ///           RFQOtK8SrqKl3i01-CyWYPICwybaGKhbJJR0S_6cZ8n5kscF1MjpIlsJcCzm-yKgTc3Mxk6KtrLoNgRvMwGLe\
    ///           HUXPkhS9YHfDKRe864iMFOK4df69brIYEICG2VLduh0hXYa0i-J3drwm7vxNdX7pVpCDu34qJtYoWq6CXt3T\
    ///           zfi3YfWp8cFjGNbaDa3WnCd2IXpp0TFsFS-cEsw5rJjSl5OllJGeZKBtLeyVTy9PYwnk7MW43WSYeYstbk9N\
    ///           luX4H8Iuw",
    /// }]});
    /// let local = LocalAppSync::builder()
    ///     .schema("type Query { hello: String }")
    ///     .default_auth_mode(AuthMode::UserPools)
    ///     .user_pool_jwks("eu-west-1_AbC123", ["web-client", "ios-client"], jwks)
    ///     .start()
    ///     .await?;
    /// // Calls carry the pool's access or ID token in `Authorization`.
    /// assert_eq!(local.amplify_outputs()["auth"]["aws_region"], "eu-west-1");
    /// # local.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn user_pool_jwks(
        mut self,
        pool_id: impl Into<String>,
        client_ids: impl IntoIterator<Item = impl Into<String>>,
        jwks: Value,
    ) -> Self {
        self.trusted_pools.push(ExternalPool {
            pool_id: pool_id.into(),
            client_ids: client_ids.into_iter().map(Into::into).collect(),
            jwks: JwksSource::Document(jwks),
        });
        self
    }

    /// [`LocalAppSyncBuilder::user_pool_jwks`] with the JWKS fetched from `url` once, by
    /// [`start`](LocalAppSyncBuilder::start), which fails if the fetch does. The URL must be
    /// `http://` on this machine (`localhost`, `127.0.0.1` or `[::1]`, as an emulator such as
    /// moto serves it): appsync-local has no TLS client, and keys fetched over plain HTTP from
    /// another host could be anyone's. For real Cognito (`https://`), fetch the key set yourself
    /// and pass it to [`LocalAppSyncBuilder::user_pool_jwks`]. The answer must be 200 and JSON,
    /// within 10 s and in at most 256 KiB; redirects are not followed. Keys the pool rotates in
    /// later are not seen.
    ///
    /// ```no_run
    /// use appsync_local::{AuthMode, LocalAppSync};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // moto's server on port 5000, with a pool and an app client made through its API.
    /// let local = LocalAppSync::builder()
    ///     .schema("type Query { hello: String }")
    ///     .default_auth_mode(AuthMode::UserPools)
    ///     .user_pool_jwks_url(
    ///         "us-east-1_AbC123",
    ///         ["app-client-id"],
    ///         "http://127.0.0.1:5000/us-east-1_AbC123/.well-known/jwks.json",
    ///     )
    ///     .start()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn user_pool_jwks_url(
        mut self,
        pool_id: impl Into<String>,
        client_ids: impl IntoIterator<Item = impl Into<String>>,
        url: impl Into<String>,
    ) -> Self {
        self.trusted_pools.push(ExternalPool {
            pool_id: pool_id.into(),
            client_ids: client_ids.into_iter().map(Into::into).collect(),
            jwks: JwksSource::Url(url.into()),
        });
        self
    }

    /// Fetches the JWKS given by URL (each once); a failure is kept for
    /// [`LocalAppSyncBuilder::prepare`] to report with every other problem.
    pub(crate) async fn fetch_jwks(&mut self) {
        for pool in &mut self.trusted_pools {
            if let JwksSource::Url(url) = &pool.jwks {
                pool.jwks = match crate::fetch::get_json(url).await {
                    Ok(v) => JwksSource::Document(v),
                    Err(e) => JwksSource::Failed(format!(
                        "cannot fetch the JWKS at {}: {e}",
                        crate::fetch::redacted(url)
                    )),
                };
            }
        }
    }

    /// Holds the key of an OIDC issuer (tokens from [`LocalAppSync::oidc_token`](crate::LocalAppSync::oidc_token)); with a client
    /// id, tokens must name it in `aud` or `client_id`.
    pub fn oidc_issuer(mut self, issuer: impl Into<String>, client_id: Option<String>) -> Self {
        self.oidc = Some((issuer.into(), client_id));
        self
    }

    /// IAM credentials the server accepts (with their session token, if temporary).
    pub fn iam_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        self.iam.push(IamCredential {
            access_key_id: access_key_id.into(),
            secret: secret_access_key.into(),
            session_token,
        });
        self
    }

    /// The Lambda authorizer.
    pub fn lambda_authorizer<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(LambdaAuthRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = LambdaAuthResponse> + Send + 'static,
    {
        self.lambda = Some(Arc::new(move |r| Box::pin(f(r))));
        self
    }

    /// AppSync's `identityValidationExpression`: a regular expression (Rust `regex` syntax)
    /// that the whole `Authorization` value must match before the Lambda authorizer is
    /// called; a token that does not is refused with 401 and the authorizer is not called.
    pub fn lambda_identity_validation_expression(mut self, regex: impl Into<String>) -> Self {
        self.lambda_validation = Some(regex.into());
        self
    }

    /// AppSync's `authorizerResultTtlInSeconds`: how long the authorizer's answer for a token
    /// is reused without calling it again (default zero: every request calls it). An answer's
    /// [`LambdaAuthResponse::ttl_override`] wins; AppSync allows at most an hour.
    pub fn lambda_authorizer_result_ttl(mut self, ttl: Duration) -> Self {
        self.lambda_ttl = ttl;
        self
    }

    /// A public host name (e.g. `api.example.com`, with `:PORT` if not the default) under
    /// which clients reach this server through a proxy: realtime auth objects may name it as
    /// their `host`, besides `127.0.0.1:PORT` and `localhost:PORT`.
    pub fn public_host(mut self, host: impl Into<String>) -> Self {
        self.public_host = Some(host.into());
        self
    }

    /// A resolver for `Type.field`, replacing the default one.
    pub fn resolver<F, Fut>(
        mut self,
        type_name: impl Into<String>,
        field: impl Into<String>,
        f: F,
    ) -> Self
    where
        F: Fn(ResolverRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ResolverError>> + Send + 'static,
    {
        self.resolvers
            .push((type_name.into(), field.into(), resolver(f)));
        self
    }

    /// The region IAM signatures must name (default `us-east-1`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// How often `ka` frames are sent (default 60 s).
    pub fn keep_alive_interval(mut self, every: Duration) -> Self {
        self.realtime.keep_alive = every;
        self
    }

    /// The `connectionTimeoutMs` announced in `connection_ack` (default 300 s).
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.realtime.connection_timeout = timeout;
        self
    }

    /// Subscriptions per socket before `MaxSubscriptionsReachedError` (default 100).
    pub fn max_subscriptions_per_connection(mut self, n: usize) -> Self {
        self.realtime.max_subscriptions = n;
        self
    }

    /// Refuse a bad realtime handshake with HTTP 401 at the upgrade, instead of accepting and
    /// answering `connection_init` with a `connection_error` (AppSync does both).
    pub fn reject_bad_handshake_at_upgrade(mut self, reject: bool) -> Self {
        self.realtime.reject_at_upgrade = reject;
        self
    }

    /// Serves an AppSync Event API too (`POST /event`, `/event/realtime`), or instead of the
    /// GraphQL one when no schema is given. Its modes use the same credentials as GraphQL's
    /// (API keys, user pool, OIDC issuer, IAM credentials, Lambda authorizer), which must be
    /// configured for every mode it names.
    pub fn events(mut self, api: EventApi) -> Self {
        self.events = Some(api);
        self
    }

    /// How many Events `publish` messages one socket may send per second before they are
    /// refused with `LimitExceededError` (default 25, AWS's quota; `None`: no limit).
    pub fn events_publish_rate_per_connection(mut self, per_second: Option<u32>) -> Self {
        self.realtime.events_publish_rate = per_second;
        self
    }

    /// Serves HTTPS and WSS with a self-signed certificate for `localhost` and `127.0.0.1`
    /// (get it with [`LocalAppSync::tls_certificate_pem`](crate::LocalAppSync::tls_certificate_pem) to trust it).
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// Checks every setting and builds the state; every problem is reported at once.
    pub(crate) fn prepare(self) -> Result<Prepared, Error> {
        let mut problems = Vec::new();
        let has_schema = self.sdl.is_some();
        let sdl = match self.sdl {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => {
                problems.push(e);
                None
            }
            None if self.events.is_some() => None,
            None => {
                problems.push(
                    "no schema: call .schema(sdl) or .schema_file(path), or serve an Event API \
                     only with .events(..)"
                        .to_owned(),
                );
                None
            }
        };
        let events = self
            .events
            .map(|api| api.check(self.default_mode, &mut problems));
        // The GraphQL API's modes (none without a schema), then every mode anything uses.
        let mut modes: BTreeSet<AuthMode> = BTreeSet::new();
        if has_schema {
            modes.extend(self.additional.iter().copied());
            modes.insert(self.default_mode);
        }
        let mut used = modes.clone();
        if let Some(e) = &events {
            used.extend(e.modes());
        }
        for m in modes.iter().filter(|m| !m.is_appsync()) {
            problems.push(format!(
                "{m} is not an AppSync authorization type: an API's modes are API_KEY, AWS_IAM, \
                 AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT and AWS_LAMBDA"
            ));
        }
        if used.contains(&AuthMode::ApiKey) && self.api_keys.is_empty() {
            problems.push("API_KEY is enabled but no API key is set: call .api_key(..)".to_owned());
        }
        if used.contains(&AuthMode::UserPools)
            && self.user_pool.is_none()
            && self.trusted_pools.is_empty()
        {
            problems.push(
                "AMAZON_COGNITO_USER_POOLS is enabled but no user pool is set: call .user_pool(..) \
                 or .user_pool_jwks(..)"
                    .to_owned(),
            );
        }
        if used.contains(&AuthMode::Oidc) && self.oidc.is_none() {
            problems.push(
                "OPENID_CONNECT is enabled but no issuer is set: call .oidc_issuer(..)".to_owned(),
            );
        }
        if used.contains(&AuthMode::Iam) && self.iam.is_empty() {
            problems.push(
                "AWS_IAM is enabled but no credentials are set: call .iam_credentials(..)"
                    .to_owned(),
            );
        }
        if used.contains(&AuthMode::Lambda) && self.lambda.is_none() {
            problems.push(
                "AWS_LAMBDA is enabled but no authorizer is set: call .lambda_authorizer(..)"
                    .to_owned(),
            );
        }
        if self.lambda_ttl > MAX_LAMBDA_TTL {
            problems.push(format!(
                "lambda_authorizer_result_ttl({:?}): AppSync allows at most 3600 s",
                self.lambda_ttl
            ));
        }
        let validation = match self.lambda_validation.as_deref().map(|r| {
            // Anchored, so that the expression speaks for the whole token.
            regex::Regex::new(&format!("^(?:{r})$")).map_err(|e| (r, e))
        }) {
            Some(Ok(re)) => Some(re),
            Some(Err((r, e))) => {
                problems.push(format!(
                    "lambda_identity_validation_expression({r:?}) is not a valid regex: {e}"
                ));
                None
            }
            None => None,
        };
        if let Some(h) = &self.public_host {
            if h.is_empty() || h.contains(['/', ' ', '@']) {
                problems.push(format!(
                    "public_host({h:?}): give a host name, with :PORT if it is not the default"
                ));
            }
        }
        let sole_user_pools = modes.len() == 1 && self.default_mode == AuthMode::UserPools;
        let model = match sdl.map(|s| SchemaModel::parse(&s, self.default_mode, sole_user_pools)) {
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                problems.push(e);
                None
            }
            None => None,
        };
        let mut resolvers = HashMap::new();
        if !has_schema {
            for (t, f, _) in &self.resolvers {
                problems.push(format!("resolver for {t}.{f}: the server has no schema"));
            }
        }
        if let Some(m) = &model {
            for (t, f, r) in self.resolvers {
                if m.field(&t, &f).is_none() {
                    problems.push(format!(
                        "resolver for {t}.{f}: the schema has no such field"
                    ));
                }
                resolvers.insert((t, f), r);
            }
        }
        let trusted_pools = trusted_pools(
            self.trusted_pools,
            self.user_pool.as_ref().map(|(id, _)| id.as_str()),
            &mut problems,
        );
        let user_pool = self.user_pool.and_then(|(pool_id, client_id)| {
            Some(UserPool {
                issuer: format!(
                    "https://cognito-idp.{}.amazonaws.com/{pool_id}",
                    self.region
                ),
                pool_id,
                client_id,
                key: signing_key("local-user-pool", &mut problems)?,
            })
        });
        let oidc = self.oidc.and_then(|(issuer, client_id)| {
            Some(OidcIssuer {
                issuer,
                client_id,
                key: signing_key("local-oidc", &mut problems)?,
            })
        });
        if !problems.is_empty() {
            return Err(Error::new(format!(
                "appsync-local cannot start:\n  {}",
                problems.join("\n  ")
            )));
        }
        let store = Store::default();
        let engine = match model {
            Some(model) => Some(
                Engine::build(Core {
                    model,
                    store: store.clone(),
                    resolvers,
                    events: broadcast::channel(1024).0,
                })
                .map_err(Error::new)?,
            ),
            None => None,
        };
        Ok(Prepared {
            state: ServerState {
                engine,
                events,
                store,
                default_mode: self.default_mode,
                auth: Authenticator {
                    modes,
                    api_keys: self.api_keys,
                    iam: self.iam,
                    user_pool,
                    trusted_pools,
                    oidc,
                    lambda: self.lambda.map(|authorizer| Lambda {
                        authorizer,
                        validation,
                        default_ttl: self.lambda_ttl,
                        cache: Default::default(),
                    }),
                    region: self.region,
                    max_skew: Duration::from_secs(300),
                    hosts: self.public_host.into_iter().collect(),
                },
                faults: Faults::default(),
                realtime: self.realtime,
            },
            tls: self.tls,
        })
    }
}

/// The external user pools, each checked (its pool id, client ids and JWKS); problems are
/// pushed, and the pools without any kept.
fn trusted_pools(
    pools: Vec<ExternalPool>,
    own_pool: Option<&str>,
    problems: &mut Vec<String>,
) -> Vec<TrustedPool> {
    let mut out: Vec<TrustedPool> = Vec::new();
    for pool in pools {
        let id = pool.pool_id;
        let start = problems.len();
        let region = pool_region(&id);
        if region.is_none() {
            problems.push(format!(
                "user_pool_jwks({id:?}): not a user pool id (<region>_<id>, e.g. us-east-1_AbC123)"
            ));
        }
        if own_pool == Some(id.as_str()) || out.iter().any(|p| p.pool_id == id) {
            problems.push(format!(
                "user_pool_jwks({id:?}): this pool is configured twice"
            ));
        }
        if pool.client_ids.is_empty() || pool.client_ids.iter().any(String::is_empty) {
            problems.push(format!(
                "user_pool_jwks({id:?}): give the app client ids whose tokens are accepted \
                 (none may be empty)"
            ));
        }
        let keys = match &pool.jwks {
            JwksSource::Document(v) => KeySet::from_jwks(v)
                .map_err(|e| problems.push(format!("user_pool_jwks({id:?}): {e}")))
                .ok(),
            JwksSource::Failed(e) => {
                problems.push(format!("user_pool_jwks_url({id:?}): {e}"));
                None
            }
            JwksSource::Url(url) => {
                problems.push(format!(
                    "user_pool_jwks_url({id:?}): {} was not fetched (start() fetches it)",
                    crate::fetch::redacted(url)
                ));
                None
            }
        };
        if let (Some(region), Some(keys), true) = (region, keys, problems.len() == start) {
            out.push(TrustedPool {
                issuer: format!("https://cognito-idp.{region}.amazonaws.com/{id}"),
                region: region.to_owned(),
                pool_id: id,
                client_ids: pool.client_ids,
                keys,
            });
        }
    }
    out
}

/// The region of a user pool id (`us-east-1_AbC123` → `us-east-1`), if it is one: AWS's
/// pattern `[\w-]+_[0-9a-zA-Z]+`, with a region of lowercase letters, digits and dashes.
fn pool_region(pool_id: &str) -> Option<&str> {
    let (region, rest) = pool_id.split_once('_')?;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let rest_ok = !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric());
    (region_ok && rest_ok).then_some(region)
}

/// A fresh signing key, or the problem generating it.
fn signing_key(kid: &str, problems: &mut Vec<String>) -> Option<SigningKey> {
    SigningKey::generate(kid).map_err(|e| problems.push(e)).ok()
}
