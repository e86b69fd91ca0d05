//! `Client` (cheap to clone, an `Arc` inside) and `ClientBuilder`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use http::HeaderMap;
use serde::de::DeserializeOwned;

use appsync_types::AuthMode;

use crate::auth::iam::CredentialsCache;
use crate::auth::token::TokenCache;
use crate::auth::{Auth, TokenKind, TokenProvider};
use crate::config::{is_loopback, Config};
use crate::endpoint::AuthStrategy;
use crate::error::Result;
use crate::events::EventsApi;
use crate::graphql::GraphQLCall;
use crate::headers::{parse_headers, HeaderProvider, Headers, Interceptor};
use crate::operation::{GraphQLRequest, Operation};
use crate::realtime::{ConnectionStates, Realtime, RealtimeOptions, SubscribeCall};
use crate::rest::RestApi;
use crate::transport::{RetryPolicy, Transport};

/// The default [`ClientBuilder::max_response_size`]: 32 MiB.
const DEFAULT_MAX_RESPONSE_SIZE: u64 = 32 * 1024 * 1024;

/// The client: holds the configuration, the HTTP connection pool, the credentials and token
/// caches. Clone it freely; clones share everything.
///
/// A thin façade over the layers (see ARCHITECTURE.md): the configuration, the HTTP transport
/// and the realtime sockets, which share the auth layer (credentials, token caches, clock skew)
/// and the client's headers. Call builders hold the layers they use, not the client.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    config: Arc<Config>,
    auth: Arc<Auth>,
    headers: Arc<Headers>,
    transport: Arc<Transport>,
    realtime: Arc<Realtime>,
}

impl Client {
    /// Starts a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// An untyped GraphQL call; the response data is a `serde_json::Value`.
    pub fn graphql(&self, request: GraphQLRequest) -> GraphQLCall<serde_json::Value> {
        GraphQLCall::untyped(self.http_layers(), request)
    }

    /// What HTTP call builders use: the configuration and the transport.
    fn http_layers(&self) -> (Arc<Config>, Arc<Transport>) {
        (self.inner.config.clone(), self.inner.transport.clone())
    }

    /// What subscription builders use: the configuration and the sockets.
    fn realtime_layers(&self) -> (Arc<Config>, Arc<Realtime>) {
        (self.inner.config.clone(), self.inner.realtime.clone())
    }

    /// The realtime registry (tests swap its connector).
    #[cfg(test)]
    pub(crate) fn realtime(&self) -> &Realtime {
        &self.inner.realtime
    }

    /// A typed call of any `graphql_client::GraphQLQuery` (query or mutation; the kind is read
    /// from its document).
    pub fn query<Q: graphql_client::GraphQLQuery>(
        &self,
        variables: Q::Variables,
    ) -> GraphQLCall<Q::ResponseData>
    where
        Q::ResponseData: DeserializeOwned,
    {
        GraphQLCall::typed::<Q>(self.http_layers(), variables, None)
    }

    /// A typed call of a generated [`Operation`]: its kind is known, and a mode its schema does
    /// not allow is refused before sending (opt out with
    /// [`GraphQLCall::skip_auth_mode_check`]).
    pub fn operation<Q: Operation>(&self, variables: Q::Variables) -> GraphQLCall<Q::ResponseData>
    where
        Q::ResponseData: DeserializeOwned,
    {
        GraphQLCall::typed::<Q>(
            self.http_layers(),
            variables,
            Some((Q::KIND, Q::ALLOWED_AUTH_MODES)),
        )
    }

    /// An untyped subscription; each event's data is a `serde_json::Value`. Finish with
    /// [`SubscribeCall::start`], which resolves after the server acknowledged it.
    ///
    /// ```no_run
    /// # async fn run(client: appsync_client::Client) -> appsync_client::Result<()> {
    /// use appsync_client::{AuthMode, GraphQLRequest, SubscriptionEvent};
    /// use futures_util::StreamExt;
    ///
    /// let doc = "subscription { onCreateNote { id content } }";
    /// let mut notes = client
    ///     .subscribe_graphql(GraphQLRequest::new(doc))
    ///     .auth_mode(AuthMode::UserPools)
    ///     .start()
    ///     .await?;
    /// while let Some(event) = notes.next().await {
    ///     match event? {
    ///         SubscriptionEvent::Data(response) => println!("{:?}", response.data),
    ///         // The socket was lost and is back: re-query what may have been missed.
    ///         SubscriptionEvent::Resumed { gap } => println!("down for {gap:?}"),
    ///         SubscriptionEvent::Lagged { missed } => println!("{missed} events dropped"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn subscribe_graphql(&self, request: GraphQLRequest) -> SubscribeCall<serde_json::Value> {
        SubscribeCall::untyped(self.realtime_layers(), request)
    }

    /// A typed subscription of any `graphql_client::GraphQLQuery` whose document is a
    /// subscription.
    pub fn subscribe<Q: graphql_client::GraphQLQuery>(
        &self,
        variables: Q::Variables,
    ) -> SubscribeCall<Q::ResponseData>
    where
        Q::ResponseData: DeserializeOwned,
    {
        SubscribeCall::typed::<Q>(self.realtime_layers(), variables, None)
    }

    /// A typed subscription of a generated [`Operation`]: a mode its schema does not allow is
    /// refused before connecting (opt out with [`SubscribeCall::skip_auth_mode_check`]), as is
    /// an operation that is not a subscription.
    pub fn subscribe_operation<Q: Operation>(
        &self,
        variables: Q::Variables,
    ) -> SubscribeCall<Q::ResponseData>
    where
        Q::ResponseData: DeserializeOwned,
    {
        SubscribeCall::typed::<Q>(
            self.realtime_layers(),
            variables,
            Some((Q::KIND, Q::ALLOWED_AUTH_MODES)),
        )
    }

    /// The state changes of this client's realtime sockets, from now on:
    /// `(api name, auth mode, state)`.
    pub fn connection_states(&self) -> ConnectionStates {
        self.inner.realtime.states()
    }

    /// The REST API of that name (`apiName`).
    pub fn rest(&self, api_name: impl Into<String>) -> RestApi {
        RestApi::new(self.http_layers(), Some(api_name.into()))
    }

    /// The AppSync Events API of that name (`apiName`; Gen2's `custom.events` is `"events"`).
    pub fn events(&self, api_name: impl Into<String>) -> EventsApi {
        EventsApi::new(self.events_layers(), Some(api_name.into()))
    }

    /// The Events API chosen by the selection rules (the only one, the default, or by the mode
    /// given on each call).
    pub fn events_default(&self) -> EventsApi {
        EventsApi::new(self.events_layers(), None)
    }

    /// What Events calls use: the configuration, the transport (HTTP publishes) and the
    /// sockets.
    fn events_layers(&self) -> (Arc<Config>, Arc<Transport>, Arc<Realtime>) {
        (
            self.inner.config.clone(),
            self.inner.transport.clone(),
            self.inner.realtime.clone(),
        )
    }

    /// The REST API chosen by the selection rules (the only one, the default, or by the mode
    /// given on each call).
    pub fn rest_default(&self) -> RestApi {
        RestApi::new(self.http_layers(), None)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (interceptors, timeout, retry) = self.inner.transport.describe();
        f.debug_struct("Client")
            .field("config", &*self.inner.config)
            .field("credentials_provider", &self.inner.auth.has_credentials())
            .field("token_providers", &self.inner.auth.token_modes())
            .field(
                "default_headers",
                &self.inner.headers.names().collect::<Vec<_>>(),
            )
            .field("interceptors", &interceptors)
            .field("timeout", &timeout)
            .field("retry", retry)
            .finish()
    }
}

/// Builds a [`Client`]. Setters never fail; [`ClientBuilder::build`] reports every problem.
pub struct ClientBuilder {
    config: Option<Config>,
    credentials: Option<SharedCredentialsProvider>,
    tokens: Vec<(AuthMode, Arc<dyn TokenProvider>)>,
    headers: Vec<(String, String)>,
    header_providers: Vec<Arc<dyn HeaderProvider>>,
    interceptors: Vec<Arc<dyn Interceptor>>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    user_pool_token: TokenKind,
    rest_user_pool_token: TokenKind,
    max_response_size: u64,
    allow_insecure_http: bool,
    http: Option<reqwest::Client>,
    realtime_http: Option<reqwest::Client>,
    provider_timeout: Duration,
    auth_strategy: AuthStrategy,
    identity: Option<crate::auth::IdentityNotifier>,
    realtime: RealtimeOptions,
    /// A region for endpoints that have none (from an AWS SDK configuration).
    #[cfg_attr(not(feature = "aws-config"), allow(dead_code))]
    region: Option<String>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            config: None,
            credentials: None,
            tokens: Vec::new(),
            headers: Vec::new(),
            header_providers: Vec::new(),
            interceptors: Vec::new(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            user_pool_token: TokenKind::Access,
            rest_user_pool_token: TokenKind::Id,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            allow_insecure_http: false,
            http: None,
            realtime_http: None,
            provider_timeout: crate::auth::refresh::DEFAULT_PROVIDER_TIMEOUT,
            auth_strategy: AuthStrategy::Default,
            identity: None,
            realtime: RealtimeOptions::default(),
            region: None,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("credentials_provider", &self.credentials.is_some())
            .field(
                "token_providers",
                &self.tokens.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
            )
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .field("realtime", &self.realtime)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The endpoints to call (required).
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// AWS credentials for `AWS_IAM`: any provider, e.g. `aws_config::load_defaults(..)`'s
    /// chain, or `aws_credential_types::Credentials` itself.
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.credentials = Some(SharedCredentialsProvider::new(provider));
        self
    }

    /// The token provider for a mode (`AMAZON_COGNITO_USER_POOLS`, `OPENID_CONNECT`,
    /// `AWS_LAMBDA`). Registering another mode is an error at build.
    pub fn token_provider(mut self, mode: AuthMode, provider: impl TokenProvider) -> Self {
        self.tokens.push((mode, Arc::new(provider)));
        self
    }

    /// Which user-pool token GraphQL calls and subscriptions send: the access token by
    /// default (as Amplify does; AppSync accepts both). Per call: `.token_kind(..)`.
    pub fn user_pool_token(mut self, kind: TokenKind) -> Self {
        self.user_pool_token = kind;
        self
    }

    /// Which user-pool token REST calls send: the **ID** token by default, which API Gateway's
    /// Cognito authorizer wants unless the method requires OAuth scopes (then choose
    /// [`TokenKind::Access`]). Per call: [`RestCall::token_kind`](crate::RestCall::token_kind).
    pub fn rest_user_pool_token(mut self, kind: TokenKind) -> Self {
        self.rest_user_pool_token = kind;
        self
    }

    /// The largest HTTP answer body accepted, in bytes (default 32 MiB, well above AppSync's
    /// 5 MB and API Gateway's 10 MB). A larger answer fails the call with
    /// [`Error::is_too_large`](crate::Error::is_too_large) as soon as the limit is passed;
    /// nothing more is read.
    pub fn max_response_size(mut self, bytes: u64) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// A header sent with every request (and signed with IAM). A name given twice sends both
    /// values; a header provider or a call's own header of that name replaces them.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Headers computed for every request, asynchronously (see [`crate::headers_fn`]).
    pub fn header_provider(mut self, provider: impl HeaderProvider) -> Self {
        self.header_providers.push(Arc::new(provider));
        self
    }

    /// An interceptor that sees each request before it is signed and sent.
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.interceptors.push(Arc::new(interceptor));
        self
    }

    /// The timeout of each HTTP attempt (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The TCP/TLS connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The retry policy (default: two retries with jittered backoff, for safe calls only).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Allows `http://` endpoints (and `ws://` realtime URLs) on hosts other than loopback
    /// (plain HTTP to loopback is always allowed).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Uses this `reqwest::Client` (its own timeouts, TLS roots and proxy settings apply), for
    /// HTTP calls and, unless [`ClientBuilder::realtime_http_client`] says otherwise, for the
    /// WebSocket upgrades of realtime sockets too. An upgrade needs HTTP/1.1: a client that
    /// may negotiate HTTP/2 over TLS should be built with `http1_only()` for realtime.
    ///
    /// Its redirect policy applies too: build it with
    /// `.redirect(reqwest::redirect::Policy::none())`, as the default client is, or it may
    /// follow a redirect with the auth headers (`x-api-key`, `Authorization`,
    /// `x-amz-security-token`) to another host. A redirect it does not follow fails the call
    /// ([`Error::is_redirect`](crate::Error::is_redirect)). Its default headers are added after
    /// signing, so `AWS_IAM` does not sign them: set headers with [`ClientBuilder::header`]
    /// instead.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Uses this `reqwest::Client` for the WebSocket upgrades of realtime sockets (build it with
    /// `http1_only()`: the upgrade is an HTTP/1.1 exchange). By default realtime uses a client
    /// built like the HTTP one (same timeouts, roots and proxy settings) but limited to HTTP/1.1.
    pub fn realtime_http_client(mut self, client: reqwest::Client) -> Self {
        self.realtime_http = Some(client);
        self
    }

    /// Listens to `notifier`: when it says the signed-in identity changed, cached tokens and
    /// credentials are dropped before the next call, and realtime sockets reconnect at once
    /// with fresh auth (their subscriptions resume, with `Resumed`). A Cognito session (feature
    /// `cognito`) notifies on sign-in and sign-out; so can an application's own sign-in.
    pub fn identity_notifier(mut self, notifier: &crate::auth::IdentityNotifier) -> Self {
        self.identity = Some(notifier.clone());
        self
    }

    /// Uses a Cognito user-pool session: its tokens for `AMAZON_COGNITO_USER_POOLS` (access
    /// tokens for GraphQL, ID tokens for REST unless set otherwise), and its notifier, so that
    /// a sign-in or sign-out switches this client's identity at once (realtime sockets
    /// included). For `OPENID_CONNECT` with Cognito as the provider, also register it with
    /// `.token_provider(AuthMode::Oidc, session.clone())`. Identity-pool credentials go to
    /// [`ClientBuilder::credentials_provider`].
    #[cfg(feature = "cognito")]
    pub fn cognito(self, session: &crate::auth::cognito::UserPoolSession) -> Self {
        self.token_provider(AuthMode::UserPools, session.clone())
            .identity_notifier(session.notifier())
    }

    /// Takes the credentials provider and the region of an AWS SDK configuration (e.g.
    /// `aws_config::load_defaults(..)`'s): `AWS_IAM` calls are signed with its credentials
    /// (cached and refreshed by the client), and endpoints without a region get its region.
    #[cfg(feature = "aws-config")]
    pub fn aws_config(mut self, config: &aws_config::SdkConfig) -> Self {
        if let Some(p) = config.credentials_provider() {
            self.credentials = Some(p);
        }
        self.region = config.region().map(|r| r.as_ref().to_owned());
        self
    }

    /// Loads the standard AWS chain (environment, profiles with SSO and `credential_process`,
    /// web identity, ECS, IMDS) and its region, as [`ClientBuilder::aws_config`] takes them:
    /// for services that sign with their own AWS identity. Nothing is fetched until a call
    /// needs credentials.
    #[cfg(feature = "aws-config")]
    pub async fn aws_default_chain(self) -> Self {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        self.aws_config(&config)
    }

    /// How calls that name no auth mode choose one (default [`AuthStrategy::Default`]: the
    /// endpoint's `authorizationType`); [`AuthStrategy::Multi`] picks, per call, the first mode
    /// the operation allows and the client can send, the way Amplify's multi-auth does. Each
    /// call can say otherwise (`.auth_strategy(..)`), and a call's `.auth_mode(..)` wins.
    pub fn auth_strategy(mut self, strategy: AuthStrategy) -> Self {
        self.auth_strategy = strategy;
        self
    }

    /// The limit on each call of a token provider, the AWS credentials provider or a header
    /// provider (default 10 s). A provider that does not answer in time fails the call (or the
    /// subscription start) with a timeout ([`Error::is_timeout`](crate::Error::is_timeout)); it
    /// never blocks other calls.
    pub fn provider_timeout(mut self, timeout: Duration) -> Self {
        self.provider_timeout = timeout;
        self
    }

    /// Settings of the realtime (subscription) sockets: handshake method, timeouts,
    /// reconnection, idle close, buffer size, proxy.
    pub fn realtime(mut self, options: RealtimeOptions) -> Self {
        self.realtime = options;
        self
    }

    /// Checks everything and builds the client.
    pub fn build(self) -> Result<Client> {
        let mut problems = Vec::new();
        #[cfg_attr(not(feature = "aws-config"), allow(unused_mut))]
        let mut config = self.config;
        #[cfg(feature = "aws-config")]
        if let (Some(c), Some(region)) = (config.as_mut(), &self.region) {
            c.fill_region(region);
        }
        if config.is_none() {
            problems.push("no configuration: call ClientBuilder::config(..)".to_owned());
        }
        if let Some(c) = &config {
            if !self.allow_insecure_http {
                for e in c.endpoints() {
                    if e.url().scheme() == "http" && !is_loopback(e.url()) {
                        problems.push(format!(
                            "{}: {} is plain http to a non-loopback host; use https, or allow it \
                             with ClientBuilder::allow_insecure_http(true)",
                            e.key_path(),
                            e.url()
                        ));
                    }
                    if let Some(rt) = e.realtime_url().filter(|u| u.scheme() == "ws") {
                        if !is_loopback(rt) {
                            problems.push(format!(
                                "{}: realtime URL {} is plain ws to a non-loopback host; use                                  wss, or allow it with ClientBuilder::allow_insecure_http(true)",
                                e.key_path(),
                                crate::realtime::redacted_url(rt)
                            ));
                        }
                    }
                }
            }
        }
        if let Some(proxy) = self.realtime.proxy_url().filter(|u| u.scheme() == "ws") {
            if !self.allow_insecure_http && !is_loopback(&proxy) {
                problems.push(format!(
                    "realtime proxy {} is plain ws to a non-loopback host; use wss, or allow it \
                     with ClientBuilder::allow_insecure_http(true)",
                    crate::realtime::redacted_url(&proxy)
                ));
            }
        }
        let mut tokens = HashMap::new();
        for (mode, provider) in self.tokens {
            if !mode.uses_token() {
                problems.push(format!(
                    "token_provider: {mode} does not use tokens; token providers are for \
                     AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT and AWS_LAMBDA"
                ));
            } else if tokens
                .insert(mode, TokenCache::new(mode, provider, self.provider_timeout))
                .is_some()
            {
                problems.push(format!("token_provider: two providers for {mode}"));
            }
        }
        let default_headers = match parse_headers(&self.headers) {
            Ok(h) => h,
            Err(e) => {
                problems.push(format!("header: {e}"));
                HeaderMap::new()
            }
        };
        problems.extend(self.realtime.problems());
        if self.timeout.is_zero() {
            problems.push("timeout: must be more than zero".to_owned());
        }
        if self.provider_timeout.is_zero() {
            problems.push("provider_timeout: must be more than zero".to_owned());
        }
        if self.max_response_size == 0 {
            problems.push("max_response_size: must be more than zero".to_owned());
        }
        // AppSync and API Gateway never redirect: a 3xx is an error, never a way to send the
        // auth headers somewhere else (upgrades included).
        let default_http = |http1_only: bool| {
            let b = reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(crate::headers::USER_AGENT);
            let b = if http1_only { b.http1_only() } else { b };
            b.build()
        };
        let mut built = |given: Option<reqwest::Client>, http1_only: bool| match given {
            Some(h) => Some(h),
            None => match default_http(http1_only) {
                Ok(h) => Some(h),
                Err(e) => {
                    problems.push(format!("the HTTP client could not be built: {e}"));
                    None
                }
            },
        };
        let given_http = self.http.is_some();
        let http = built(self.http, false);
        // A client the user gave carries their roots and proxy: realtime uses it too.
        let realtime_http = match (self.realtime_http, given_http) {
            (Some(h), _) => Some(h),
            (None, true) => http.clone(),
            (None, false) => built(None, true),
        };
        match (config, http, realtime_http) {
            (Some(config), Some(http), Some(realtime_http)) if problems.is_empty() => {
                let auth = Arc::new(Auth::new(
                    self.credentials
                        .map(|c| CredentialsCache::new(c, self.provider_timeout)),
                    tokens,
                    self.user_pool_token,
                    self.rest_user_pool_token,
                    self.provider_timeout,
                    self.identity.as_ref().map(|n| n.subscribe()),
                ));
                let headers = Arc::new(Headers::new(
                    default_headers,
                    self.header_providers,
                    self.provider_timeout,
                ));
                let transport = Arc::new(Transport::new(
                    http,
                    auth.clone(),
                    headers.clone(),
                    self.interceptors,
                    self.timeout,
                    self.retry,
                    self.max_response_size,
                    self.auth_strategy,
                ));
                let realtime = Arc::new(Realtime::new(
                    self.realtime,
                    realtime_http,
                    auth.clone(),
                    headers.clone(),
                    self.auth_strategy,
                ));
                Ok(Client {
                    inner: Arc::new(ClientInner {
                        config: Arc::new(config),
                        auth,
                        headers,
                        transport,
                        realtime,
                    }),
                })
            }
            _ => Err(crate::config::problems_error(&problems)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ws_is_for_loopback_only() {
        let config = |rt: &str| {
            Config::builder()
                .endpoint(
                    crate::EndpointConfig::graphql("a", "https://api.example.com/graphql")
                        .authorization_type(AuthMode::Oidc)
                        .realtime_url(rt),
                )
                .build()
                .unwrap()
        };
        let e = Client::builder()
            .config(config("ws://rt.example.com/graphql?k=secret"))
            .realtime(RealtimeOptions::new().proxy("ws://proxy.example.com/x"))
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("realtime URL ws://rt.example.com/graphql?<redacted> is plain ws"),
            "{e}"
        );
        assert!(
            e.contains("realtime proxy ws://proxy.example.com/x is plain ws"),
            "{e}"
        );
        assert!(!e.contains("secret"));
        assert!(Client::builder()
            .config(config("ws://127.0.0.1:9/graphql/realtime"))
            .build()
            .is_ok());
        assert!(Client::builder()
            .config(config("ws://rt.example.com/graphql"))
            .allow_insecure_http(true)
            .build()
            .is_ok());
    }

    /// An SDK configuration's credentials sign IAM calls, and its region fills in endpoints
    /// that have none (a custom domain whose modes the configuration does not list, so IAM
    /// may be asked for), never one that has its own.
    #[cfg(feature = "aws-config")]
    #[test]
    fn aws_config_gives_credentials_and_a_region() {
        use aws_config::{BehaviorVersion, Region, SdkConfig};
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("AKID", "SECRET", None, None, "test"),
            ))
            .build();
        let config = Config::builder()
            .endpoint(
                crate::EndpointConfig::graphql("custom", "https://api.example.com/graphql")
                    .authorization_type(AuthMode::ApiKey)
                    .api_key("da2-x"),
            )
            .endpoint(
                crate::EndpointConfig::graphql(
                    "aws",
                    "https://abc.appsync-api.us-west-2.amazonaws.com/graphql",
                )
                .authorization_type(AuthMode::Iam),
            )
            .build()
            .unwrap();
        assert_eq!(config.endpoint("custom").unwrap().region(), None);
        let client = Client::builder()
            .config(config)
            .aws_config(&sdk)
            .build()
            .unwrap();
        assert_eq!(
            client.config().endpoint("custom").unwrap().region(),
            Some("eu-west-1")
        );
        assert_eq!(
            client.config().endpoint("aws").unwrap().region(),
            Some("us-west-2")
        );
        assert!(format!("{client:?}").contains("credentials_provider: true"));
    }

    #[test]
    fn build_reports_every_problem() {
        let err = Client::builder()
            .header("bad header", "x")
            .token_provider(AuthMode::ApiKey, crate::auth::token::StaticToken::new("t"))
            .build()
            .unwrap_err();
        let msg = err.to_string();
        assert!(err.is_config());
        assert!(msg.contains("no configuration"), "{msg}");
        assert!(msg.contains("API_KEY does not use tokens"), "{msg}");
        assert!(msg.contains("invalid header name \"bad header\""), "{msg}");
    }
}
