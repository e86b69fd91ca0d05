//! `LocalAppSync`: the builder, the running server's handle, its token minting and the Amplify
//! config files it can write.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::{broadcast, oneshot};

use crate::auth::{
    ApiKey, AuthMode, Authenticator, IamCredential, Lambda, LambdaAuthRequest, LambdaAuthResponse,
    LambdaAuthorizer, OidcIssuer, UserPool, MAX_LAMBDA_TTL,
};
use crate::engine::{Core, Engine};
use crate::faults::Faults;
use crate::jwt::{epoch, SigningKey};
use crate::resolver::{resolver, Resolver, ResolverError, ResolverRequest};
use crate::schema::SchemaModel;
use crate::store::Store;

/// An error starting the server: a bad schema, bad settings, or a port that could not be bound.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// How the realtime endpoint behaves.
#[derive(Clone, Debug)]
pub(crate) struct RealtimeSettings {
    pub keep_alive: Duration,
    pub connection_timeout: Duration,
    pub max_subscriptions: usize,
    /// Refuse a bad handshake at the HTTP upgrade (401) instead of a `connection_error` frame.
    pub reject_at_upgrade: bool,
}

/// The shared state of a running server.
pub(crate) struct Server {
    pub engine: Engine,
    pub auth: Authenticator,
    pub faults: Faults,
    pub realtime: RealtimeSettings,
}

/// Configures a [`LocalAppSync`]. Setters never fail; [`LocalAppSyncBuilder::start`] reports
/// every problem.
pub struct LocalAppSyncBuilder {
    sdl: Option<Result<String, String>>,
    default_mode: AuthMode,
    additional: Vec<AuthMode>,
    api_keys: Vec<ApiKey>,
    user_pool: Option<(String, String)>,
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
}

impl fmt::Debug for LocalAppSyncBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalAppSyncBuilder")
            .field("default_mode", &self.default_mode)
            .field("additional", &self.additional)
            .field("region", &self.region)
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
            oidc: None,
            iam: Vec::new(),
            lambda: None,
            lambda_validation: None,
            lambda_ttl: Duration::ZERO,
            resolvers: Vec::new(),
            region: "us-east-1".to_owned(),
            realtime: RealtimeSettings {
                keep_alive: Duration::from_secs(60),
                connection_timeout: Duration::from_secs(300),
                max_subscriptions: 100,
                reject_at_upgrade: false,
            },
            tls: false,
            public_host: None,
        }
    }
}

impl LocalAppSyncBuilder {
    /// The schema as SDL text (the AWS prelude is added).
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
    /// server makes its signing key and mints its tokens ([`LocalAppSync::user_pool_token`]).
    pub fn user_pool(mut self, pool_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        self.user_pool = Some((pool_id.into(), client_id.into()));
        self
    }

    /// Holds the key of an OIDC issuer (tokens from [`LocalAppSync::oidc_token`]); with a client
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

    /// Serves HTTPS and WSS with a self-signed certificate for `localhost` and `127.0.0.1`
    /// (get it with [`LocalAppSync::tls_certificate_pem`] to trust it).
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// Checks everything, binds 127.0.0.1 on a free port and starts serving.
    pub async fn start(self) -> Result<LocalAppSync, Error> {
        let mut problems = Vec::new();
        let sdl = match self.sdl {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => {
                problems.push(e);
                None
            }
            None => {
                problems.push("no schema: call .schema(sdl) or .schema_file(path)".to_owned());
                None
            }
        };
        let mut modes: BTreeSet<AuthMode> = self.additional.iter().copied().collect();
        modes.insert(self.default_mode);
        for m in modes.iter().filter(|m| !m.is_appsync()) {
            problems.push(format!(
                "{m} is not an AppSync authorization type: an API's modes are API_KEY, AWS_IAM, \
                 AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT and AWS_LAMBDA"
            ));
        }
        if modes.contains(&AuthMode::ApiKey) && self.api_keys.is_empty() {
            problems.push("API_KEY is enabled but no API key is set: call .api_key(..)".to_owned());
        }
        if modes.contains(&AuthMode::UserPools) && self.user_pool.is_none() {
            problems.push(
                "AMAZON_COGNITO_USER_POOLS is enabled but no user pool is set: call .user_pool(..)"
                    .to_owned(),
            );
        }
        if modes.contains(&AuthMode::Oidc) && self.oidc.is_none() {
            problems.push(
                "OPENID_CONNECT is enabled but no issuer is set: call .oidc_issuer(..)".to_owned(),
            );
        }
        if modes.contains(&AuthMode::Iam) && self.iam.is_empty() {
            problems.push(
                "AWS_IAM is enabled but no credentials are set: call .iam_credentials(..)"
                    .to_owned(),
            );
        }
        if modes.contains(&AuthMode::Lambda) && self.lambda.is_none() {
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
        let user_pool = match self.user_pool {
            Some((pool_id, client_id)) => match SigningKey::generate("local-user-pool") {
                Ok(key) => Some(UserPool {
                    issuer: format!(
                        "https://cognito-idp.{}.amazonaws.com/{pool_id}",
                        self.region
                    ),
                    pool_id,
                    client_id,
                    key,
                }),
                Err(e) => {
                    problems.push(e);
                    None
                }
            },
            None => None,
        };
        let oidc = match self.oidc {
            Some((issuer, client_id)) => match SigningKey::generate("local-oidc") {
                Ok(key) => Some(OidcIssuer {
                    issuer,
                    client_id,
                    key,
                }),
                Err(e) => {
                    problems.push(e);
                    None
                }
            },
            None => None,
        };
        let (Some(model), true) = (model, problems.is_empty()) else {
            return Err(Error(format!(
                "appsync-local cannot start:\n  {}",
                problems.join("\n  ")
            )));
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error(format!("cannot bind 127.0.0.1: {e}")))?;
        let addr = listener.local_addr().map_err(|e| Error(e.to_string()))?;
        let mut hosts = vec![addr.to_string(), format!("localhost:{}", addr.port())];
        hosts.extend(self.public_host);
        let engine = Engine::build(Core {
            model,
            store: Store::default(),
            resolvers,
            events: broadcast::channel(1024).0,
        })
        .map_err(Error)?;
        let server = Arc::new(Server {
            engine,
            auth: Authenticator {
                modes,
                api_keys: self.api_keys,
                iam: self.iam,
                user_pool,
                oidc,
                lambda: self.lambda.map(|authorizer| Lambda {
                    authorizer,
                    validation,
                    default_ttl: self.lambda_ttl,
                    cache: Default::default(),
                }),
                region: self.region.clone(),
                max_skew: Duration::from_secs(300),
                hosts,
            },
            faults: Faults::default(),
            realtime: self.realtime,
        });
        let app = Router::new()
            .route(
                "/graphql",
                post(crate::http::graphql).get(crate::realtime::upgrade),
            )
            .route("/graphql/realtime", get(crate::realtime::upgrade))
            .route("/{pool}/.well-known/jwks.json", get(jwks))
            .with_state(server.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let stopped = async {
            let _ = stop_rx.await;
        };
        let mut cert_pem = None;
        let task = if self.tls {
            let tls = crate::tls::self_signed().map_err(Error)?;
            cert_pem = Some(tls.cert_pem);
            let listener = crate::tls::TlsListener::new(listener, tls.acceptor)
                .map_err(|e| Error(e.to_string()))?;
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await
                {
                    tracing::error!(error = %e, "appsync-local stopped");
                }
            })
        } else {
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await
                {
                    tracing::error!(error = %e, "appsync-local stopped");
                }
            })
        };
        tracing::info!(%addr, "appsync-local is listening");
        Ok(LocalAppSync {
            addr,
            cert_pem,
            server,
            stop: Some(stop_tx),
            task,
        })
    }
}

async fn jwks(
    axum::extract::State(server): axum::extract::State<Arc<Server>>,
    axum::extract::Path(pool): axum::extract::Path<String>,
) -> axum::response::Response {
    let key = match (&server.auth.user_pool, &server.auth.oidc) {
        (Some(up), _) if up.pool_id == pool => Some(up.key.jwks()),
        (_, Some(o)) if pool == "oidc" => Some(o.key.jwks()),
        _ => None,
    };
    match key {
        Some(k) => crate::http::json_response(200, &k, None),
        None => crate::http::json_response(404, &json!({"message": "no such key set"}), None),
    }
}

/// A running local AppSync. Dropping it stops the server.
pub struct LocalAppSync {
    addr: SocketAddr,
    cert_pem: Option<String>,
    server: Arc<Server>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for LocalAppSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalAppSync")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// The claims of a token to mint; finish with [`TokenSpec::mint`].
#[derive(Debug, Clone)]
#[must_use]
pub struct TokenSpec<'a> {
    local: &'a LocalAppSync,
    oidc: bool,
    subject: String,
    groups: Vec<String>,
    token_use: &'static str,
    expires_in: i64,
    extra: Value,
}

impl TokenSpec<'_> {
    /// `cognito:groups`.
    pub fn groups(mut self, groups: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// An ID token (`token_use: id`, `aud` = client) instead of an access token.
    pub fn id_token(mut self) -> Self {
        self.token_use = "id";
        self
    }

    /// Seconds until `exp` (negative for an expired token); default 3600.
    pub fn expires_in(mut self, seconds: i64) -> Self {
        self.expires_in = seconds;
        self
    }

    /// Extra claims, merged in.
    pub fn claims(mut self, claims: Value) -> Self {
        self.extra = claims;
        self
    }

    /// Signs the token.
    pub fn mint(self) -> String {
        let now = epoch(SystemTime::now()) as i64;
        let exp = now + self.expires_in;
        let auth = &self.local.server.auth;
        let (mut claims, key) = if self.oidc {
            let o = auth.oidc.as_ref().expect("checked when the spec was made");
            let mut c = json!({"iss": o.issuer, "sub": self.subject, "iat": now, "exp": exp});
            if let Some(client) = &o.client_id {
                c["aud"] = json!(client);
            }
            (c, &o.key)
        } else {
            let up = auth
                .user_pool
                .as_ref()
                .expect("checked when the spec was made");
            let mut c = json!({
                "iss": up.issuer, "sub": self.subject, "token_use": self.token_use,
                "iat": now, "auth_time": now, "exp": exp,
                "cognito:groups": self.groups,
            });
            if self.token_use == "id" {
                c["aud"] = json!(up.client_id);
                c["cognito:username"] = json!(self.subject);
            } else {
                c["client_id"] = json!(up.client_id);
                c["username"] = json!(self.subject);
            }
            (c, &up.key)
        };
        if let (Some(obj), Value::Object(extra)) = (claims.as_object_mut(), self.extra) {
            obj.extend(extra);
        }
        key.mint(&claims)
    }
}

impl LocalAppSync {
    /// Starts configuring a server.
    pub fn builder() -> LocalAppSyncBuilder {
        LocalAppSyncBuilder::default()
    }

    /// The address it listens on (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/graphql` (`https` with TLS).
    pub fn graphql_url(&self) -> String {
        let scheme = if self.cert_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}/graphql", self.addr)
    }

    /// `ws://127.0.0.1:PORT/graphql/realtime` (`wss` with TLS).
    pub fn realtime_url(&self) -> String {
        let scheme = if self.cert_pem.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}/graphql/realtime", self.addr)
    }

    /// The self-signed certificate (PEM) when serving TLS.
    pub fn tls_certificate_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// The region IAM signatures must name.
    pub fn region(&self) -> &str {
        &self.server.auth.region
    }

    /// The first API key, if any.
    pub fn api_key(&self) -> Option<&str> {
        self.server.auth.api_keys.first().map(|k| k.key.as_str())
    }

    /// A user-pool token for `username`; panics if no user pool is configured (a test bug).
    pub fn user_pool_token(&self, username: &str) -> TokenSpec<'_> {
        assert!(
            self.server.auth.user_pool.is_some(),
            "no user pool: call LocalAppSyncBuilder::user_pool"
        );
        self.spec(username, false)
    }

    /// An OIDC token for `subject`; panics if no OIDC issuer is configured (a test bug).
    pub fn oidc_token(&self, subject: &str) -> TokenSpec<'_> {
        assert!(
            self.server.auth.oidc.is_some(),
            "no OIDC issuer: call LocalAppSyncBuilder::oidc_issuer"
        );
        self.spec(subject, true)
    }

    fn spec(&self, subject: &str, oidc: bool) -> TokenSpec<'_> {
        TokenSpec {
            local: self,
            oidc,
            subject: subject.to_owned(),
            groups: Vec::new(),
            token_use: "access",
            expires_in: 3600,
            extra: Value::Null,
        }
    }

    /// The fault switches.
    pub fn faults(&self) -> &Faults {
        &self.server.faults
    }

    /// The store behind the default resolvers.
    pub fn store(&self) -> &Store {
        &self.server.engine.core.store
    }

    /// Every mode the API enables.
    pub fn auth_modes(&self) -> Vec<AuthMode> {
        self.server.auth.modes.iter().copied().collect()
    }

    fn default_mode(&self) -> AuthMode {
        self.server.engine.core.model.default_mode
    }

    /// A Gen2 `amplify_outputs.json` for this server.
    pub fn amplify_outputs(&self) -> Value {
        let default = self.default_mode();
        let additional: Vec<&str> = self
            .server
            .auth
            .modes
            .iter()
            .filter(|m| **m != default)
            .map(|m| m.as_str())
            .collect();
        let mut data = json!({
            "url": self.graphql_url(),
            "aws_region": self.region(),
            "default_authorization_type": default.as_str(),
            "authorization_types": additional,
        });
        if let Some(k) = self.api_key() {
            data["api_key"] = json!(k);
        }
        let mut out = json!({"version": "1.4", "data": data});
        if let Some(up) = &self.server.auth.user_pool {
            out["auth"] = json!({
                "aws_region": self.region(),
                "user_pool_id": up.pool_id,
                "user_pool_client_id": up.client_id,
            });
        }
        out
    }

    /// A Gen1 `amplifyconfiguration.json`: one friendly name per auth mode, `<name>_<MODE>`,
    /// all on the same URL, the default mode's name plain `<name>`.
    pub fn amplify_configuration(&self, name: &str) -> Value {
        let mut apis = serde_json::Map::new();
        let mut appsync = serde_json::Map::new();
        for mode in &self.server.auth.modes {
            let api_name = if *mode == self.default_mode() {
                name.to_owned()
            } else {
                format!("{name}_{}", mode.as_str())
            };
            let mut e = json!({
                "endpointType": "GraphQL",
                "endpoint": self.graphql_url(),
                "region": self.region(),
                "authorizationType": mode.as_str(),
            });
            let mut a = json!({"ApiUrl": self.graphql_url(), "Region": self.region(), "AuthMode": mode.as_str()});
            if let (AuthMode::ApiKey, Some(k)) = (mode, self.api_key()) {
                e["apiKey"] = json!(k);
                a["ApiKey"] = json!(k);
            }
            apis.insert(api_name.clone(), e);
            let key = if *mode == self.default_mode() {
                "Default".to_owned()
            } else {
                api_name
            };
            appsync.insert(key, a);
        }
        let mut cognito = json!({"AppSync": appsync});
        if let Some(up) = &self.server.auth.user_pool {
            cognito["CognitoUserPool"] = json!({"Default": {"PoolId": up.pool_id, "AppClientId": up.client_id, "Region": self.region()}});
        }
        json!({
            "UserAgent": "appsync-local", "Version": "1.0",
            "api": {"plugins": {"awsAPIPlugin": apis}},
            "auth": {"plugins": {"awsCognitoAuthPlugin": cognito}},
        })
    }

    /// Writes [`LocalAppSync::amplify_outputs`] to a file.
    pub fn write_amplify_outputs(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, serde_json::to_vec_pretty(&self.amplify_outputs())?)
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.server.faults.drop_all_sockets();
        let _ = (&mut self.task).await;
    }
}

impl Drop for LocalAppSync {
    fn drop(&mut self) {
        self.server.faults.drop_all_sockets();
        self.task.abort();
    }
}

#[cfg(feature = "fuzzing")]
impl LocalAppSync {
    /// The routes `start` serves, on this server's state, to be served in-process by the fuzz
    /// targets (keep in step with `start`).
    pub(crate) fn fuzz_router(&self) -> Router {
        Router::new()
            .route(
                "/graphql",
                post(crate::http::graphql).get(crate::realtime::upgrade),
            )
            .route("/graphql/realtime", get(crate::realtime::upgrade))
            .route("/{pool}/.well-known/jwks.json", get(jwks))
            .with_state(self.server.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn none_is_refused_as_an_api_mode() {
        let started = LocalAppSync::builder()
            .schema("type Query { a: Int }")
            .default_auth_mode(AuthMode::ApiKey)
            .api_key("da2-k")
            .additional_auth_modes([AuthMode::None])
            .start()
            .await;
        let Err(e) = started else {
            panic!("NONE is refused");
        };
        assert!(
            e.to_string()
                .contains("NONE is not an AppSync authorization type"),
            "{e}"
        );
    }
}
