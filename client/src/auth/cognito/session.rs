//! `UserPoolSession`: sign-in (SRP or password), challenges, refresh, sign-out against a
//! Cognito user pool, and the token provider for `AMAZON_COGNITO_USER_POOLS` and `OPENID_CONNECT`.
//! (Past 800 lines on purpose: sign-in, every challenge, refresh and sign-out move one session
//! state under one lock; split apart, each part would reach into the others' private state. The
//! wire shapes, SRP, tokens and stores are in their own modules.)

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::srp::{self, Srp};
use super::store::{self, SessionStore};
use super::tokens::{AuthenticationResult, Tokens};
use super::wire::{self, CallError, Rpc};
use crate::auth::pools::{AuthConfig, UserPoolConfig};
use crate::auth::token::BoxFuture;
use crate::auth::{
    AuthMode, IdentityNotifier, PermanentError, Token, TokenKind, TokenProvider, TokenRequest,
};
use crate::error::{BoxError, Error, Result};
use crate::secret::Secret;

/// How [`UserPoolSession::sign_in`] proves the password.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignInFlow {
    /// `USER_SRP_AUTH`: the password never leaves the process (Amplify's default).
    #[default]
    UserSrp,
    /// `USER_PASSWORD_AUTH`: the password is sent over TLS (the app client must allow it).
    UserPassword,
}

/// What a sign-in step led to: signed in, or a challenge to answer with
/// [`UserPoolSession::complete_new_password`], [`UserPoolSession::confirm_mfa`] or
/// [`UserPoolSession::respond`].
#[derive(Debug)]
#[non_exhaustive]
pub enum SignInOutcome {
    /// Signed in: the session gives tokens, and every client listening to its notifier
    /// switched to the new identity.
    SignedIn,
    /// `NEW_PASSWORD_REQUIRED`: the user has a temporary password (an administrator created
    /// them); answer with [`UserPoolSession::complete_new_password`].
    NewPasswordRequired(Challenge),
    /// `SMS_MFA`: a code was sent by SMS (see `CODE_DELIVERY_DESTINATION` in the parameters);
    /// answer with [`UserPoolSession::confirm_mfa`].
    SmsMfa(Challenge),
    /// `SOFTWARE_TOKEN_MFA`: a code from the user's authenticator app; answer with
    /// [`UserPoolSession::confirm_mfa`].
    SoftwareTokenMfa(Challenge),
    /// Another challenge (`MFA_SETUP`, `SELECT_MFA_TYPE`, `CUSTOM_CHALLENGE`, …): answer with
    /// [`UserPoolSession::respond`] and the responses Cognito documents for it.
    Other(Challenge),
}

/// A challenge from Cognito, to answer once. `Debug` never shows its session.
pub struct Challenge {
    name: String,
    session: Option<Secret>,
    username: String,
    parameters: BTreeMap<String, String>,
}

impl fmt::Debug for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Challenge")
            .field("name", &self.name)
            .field("username", &self.username)
            .field("parameters", &self.parameters)
            .finish_non_exhaustive()
    }
}

impl Challenge {
    /// Cognito's name for it (`NEW_PASSWORD_REQUIRED`, `SMS_MFA`, …).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The user's name in the pool, as the challenge names it.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// `ChallengeParameters` (values that are not strings as JSON text), e.g.
    /// `CODE_DELIVERY_DESTINATION`, or `requiredAttributes` for a new password.
    pub fn parameters(&self) -> &BTreeMap<String, String> {
        &self.parameters
    }
}

/// Cognito's answer to `InitiateAuth` and `RespondToAuthChallenge`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct AuthAnswer {
    #[serde(default)]
    authentication_result: Option<AuthenticationResult>,
    #[serde(default)]
    challenge_name: Option<String>,
    #[serde(default)]
    challenge_parameters: Option<Map<String, Value>>,
    #[serde(default)]
    session: Option<String>,
}

/// A user-pool session: signs a user in and out, refreshes their tokens, and gives them to the
/// client as a [`TokenProvider`] (register it with
/// [`ClientBuilder::cognito`](crate::ClientBuilder::cognito)). Cheap to clone; clones are the
/// same session.
///
/// On sign-in and sign-out it notifies its [`IdentityNotifier`]: clients listening drop the
/// cached tokens and credentials and reconnect their realtime sockets with the new identity.
#[derive(Clone)]
pub struct UserPoolSession {
    inner: Arc<Inner>,
}

struct Inner {
    pool_id: String,
    region: String,
    client_id: String,
    client_secret: Option<Secret>,
    flow: SignInFlow,
    oidc_token: TokenKind,
    rpc: Rpc,
    notifier: IdentityNotifier,
    store: Option<Arc<dyn SessionStore>>,
    tokens: Mutex<Option<Tokens>>,
    /// One refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
}

impl fmt::Debug for UserPoolSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserPoolSession")
            .field("pool_id", &self.inner.pool_id)
            .field("client_id", &self.inner.client_id)
            .field("endpoint", &self.inner.rpc)
            .field("flow", &self.inner.flow)
            .field("signed_in", &self.is_signed_in())
            .finish_non_exhaustive()
    }
}

/// Builds a [`UserPoolSession`]; [`UserPoolSessionBuilder::build`] reports every problem.
#[derive(Default)]
pub struct UserPoolSessionBuilder {
    pool_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    region: Option<String>,
    endpoint: Option<String>,
    flow: SignInFlow,
    oidc_token: Option<TokenKind>,
    store: Option<Arc<dyn SessionStore>>,
    http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    allow_insecure_http: bool,
    notifier: Option<IdentityNotifier>,
}

impl fmt::Debug for UserPoolSessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserPoolSessionBuilder")
            .field("pool_id", &self.pool_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("flow", &self.flow)
            .finish_non_exhaustive()
    }
}

impl UserPoolSessionBuilder {
    /// Pool id, app client id (and secret), region and endpoint from the configuration's user pool.
    pub fn user_pool(mut self, pool: &UserPoolConfig) -> Self {
        self.pool_id = Some(pool.pool_id.clone());
        self.client_id = pool.app_client_id.clone().or(self.client_id);
        self.client_secret = pool.app_client_secret.clone().or(self.client_secret);
        self.region = pool.region.clone().or(self.region);
        self.endpoint = pool.endpoint.clone().or(self.endpoint);
        self
    }

    /// The pool id, e.g. `us-east-1_AbCdEf`.
    pub fn pool_id(mut self, id: impl Into<String>) -> Self {
        self.pool_id = Some(id.into());
        self
    }

    /// The app client id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The app client's secret, if it has one: every call then carries `SECRET_HASH`.
    pub fn client_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// The region (default: the part of the pool id before `_`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Another endpoint for the user-pools API instead of
    /// `https://cognito-idp.<region>.amazonaws.com/`: a FIPS endpoint
    /// (`https://cognito-idp-fips.us-east-1.amazonaws.com/`), a private (VPC) endpoint, or a
    /// test server (plain `http://` only on loopback unless allowed).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The flow of [`UserPoolSession::sign_in`] (default [`SignInFlow::UserSrp`]).
    pub fn flow(mut self, flow: SignInFlow) -> Self {
        self.flow = flow;
        self
    }

    /// Which token the session gives for `OPENID_CONNECT` (when Cognito is the API's OIDC
    /// provider): the ID token by default (its `aud` is the app client, which AppSync's OIDC
    /// client id check reads).
    pub fn oidc_token(mut self, kind: TokenKind) -> Self {
        self.oidc_token = Some(kind);
        self
    }

    /// Keeps the refresh token and username here, so that [`UserPoolSession::restore`] signs
    /// the user back in after a restart.
    pub fn store(mut self, store: impl SessionStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The same, with a store shared with others (e.g. [`IdentityPoolCredentials`](super::IdentityPoolCredentials)).
    pub fn shared_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Uses this `reqwest::Client` for Cognito calls (build it with
    /// `.redirect(reqwest::redirect::Policy::none())`).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The limit on each Cognito call (default 15 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Allows a plain `http://` endpoint on a host other than loopback.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Notifies this notifier instead of a new one (to share one with other identity sources).
    pub fn notifier(mut self, notifier: &IdentityNotifier) -> Self {
        self.notifier = Some(notifier.clone());
        self
    }

    /// Checks everything and builds the session (signed out).
    pub fn build(self) -> Result<UserPoolSession> {
        let mut problems = Vec::new();
        let pool_id = self.pool_id.unwrap_or_default();
        if pool_id.is_empty() {
            problems.push("no user pool id: set .pool_id(..) or .user_pool(..)".to_owned());
        }
        let client_id = self.client_id.unwrap_or_default();
        if client_id.is_empty() {
            problems.push("no app client id: set .client_id(..)".to_owned());
        }
        let region = self
            .region
            .or_else(|| {
                pool_id
                    .split_once('_')
                    .map(|(r, _)| r.to_owned())
                    .filter(|r| !r.is_empty())
            })
            .unwrap_or_default();
        let url = match &self.endpoint {
            Some(e) => wire::checked_endpoint(e, self.allow_insecure_http),
            None if region.is_empty() => Err(Error::config(
                "no region: set .region(..), or give a pool id of the form <region>_<id>",
            )),
            None => wire::default_endpoint("cognito-idp", &region),
        };
        let url = url.map_err(|e| problems.push(e.to_string())).ok();
        let http = match self.http {
            Some(h) => Some(h),
            None => wire::default_http()
                .map_err(|e| problems.push(e.to_string()))
                .ok(),
        };
        match (url, http) {
            (Some(url), Some(http)) if problems.is_empty() => Ok(UserPoolSession {
                inner: Arc::new(Inner {
                    pool_id,
                    region,
                    client_id,
                    client_secret: self.client_secret,
                    flow: self.flow,
                    oidc_token: self.oidc_token.unwrap_or(TokenKind::Id),
                    rpc: Rpc::new(
                        http,
                        url,
                        "AWSCognitoIdentityProviderService",
                        self.timeout.unwrap_or(wire::DEFAULT_TIMEOUT),
                    ),
                    notifier: self.notifier.unwrap_or_default(),
                    store: self.store,
                    tokens: Mutex::new(None),
                    refreshing: tokio::sync::Mutex::new(()),
                }),
            }),
            _ => Err(Error::config(format!(
                "the user-pool session cannot be built: {}",
                problems.join("; ")
            ))),
        }
    }
}

fn signed_out() -> BoxError {
    Box::new(PermanentError::new(
        "no user is signed in to the Cognito user pool (sign in with UserPoolSession::sign_in)",
    ))
}

impl UserPoolSession {
    /// Starts a session in code.
    pub fn builder() -> UserPoolSessionBuilder {
        UserPoolSessionBuilder::default()
    }

    /// A session for the configuration's user pool (`Config::auth()`), with the default
    /// settings; an error when the configuration has none.
    pub fn from_config(auth: &AuthConfig) -> Result<UserPoolSession> {
        let pool = auth.user_pool.as_ref().ok_or_else(|| {
            Error::config(
                "the configuration has no Cognito user pool (Gen2 auth.user_pool_id, Gen1 \
                 auth.plugins.awsCognitoAuthPlugin.CognitoUserPool.Default)",
            )
        })?;
        UserPoolSession::builder().user_pool(pool).build()
    }

    /// The notifier told of every sign-in and sign-out (give it to clients with
    /// [`ClientBuilder::identity_notifier`](crate::ClientBuilder::identity_notifier), which
    /// [`ClientBuilder::cognito`](crate::ClientBuilder::cognito) does).
    pub fn notifier(&self) -> &IdentityNotifier {
        &self.inner.notifier
    }

    /// The pool id.
    pub fn pool_id(&self) -> &str {
        &self.inner.pool_id
    }

    /// The pool's region.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The app client id.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The key of this pool in an identity pool's `Logins` map:
    /// `cognito-idp.<region>.amazonaws.com/<poolId>` (the ID token's `iss` without `https://`).
    pub fn logins_key(&self) -> String {
        let suffix = if self.inner.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!(
            "cognito-idp.{}.{suffix}/{}",
            self.inner.region, self.inner.pool_id
        )
    }

    /// Whether a user is signed in.
    pub fn is_signed_in(&self) -> bool {
        self.lock().is_some()
    }

    /// The signed-in user's name in the pool.
    pub fn username(&self) -> Option<String> {
        self.lock().as_ref().map(|t| t.username.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Tokens>> {
        self.inner.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key(&self, what: &str) -> String {
        format!(
            "cognito-idp/{}/{}/{what}",
            self.inner.pool_id, self.inner.client_id
        )
    }

    fn secret_hash(&self, username: &str) -> Option<String> {
        self.inner
            .client_secret
            .as_ref()
            .map(|s| srp::secret_hash(username, &self.inner.client_id, s.expose()))
    }

    /// Signs `username` in with the session's flow (SRP unless set otherwise).
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<SignInOutcome> {
        self.sign_in_with(self.inner.flow, username, password).await
    }

    /// Signs `username` in with `flow`.
    pub async fn sign_in_with(
        &self,
        flow: SignInFlow,
        username: &str,
        password: &str,
    ) -> Result<SignInOutcome> {
        let hash = self.secret_hash(username);
        let mut params = Map::new();
        params.insert("USERNAME".into(), json!(username));
        if let Some(h) = &hash {
            params.insert("SECRET_HASH".into(), json!(h));
        }
        let (name, srp) = match flow {
            SignInFlow::UserSrp => {
                let srp = Srp::new()?;
                params.insert("SRP_A".into(), json!(srp.big_a_hex()));
                ("USER_SRP_AUTH", Some(srp))
            }
            SignInFlow::UserPassword => {
                params.insert("PASSWORD".into(), json!(password));
                ("USER_PASSWORD_AUTH", None)
            }
        };
        let body = json!({
            "ClientId": self.inner.client_id,
            "AuthFlow": name,
            "AuthParameters": params,
        });
        let mut secrets = vec![password];
        if let Some(h) = &hash {
            secrets.push(h);
        }
        let answer: AuthAnswer = self
            .inner
            .rpc
            .call("InitiateAuth", &body, &secrets)
            .await
            .map_err(|e| e.into_error("sign-in failed"))?;
        self.handle(answer, username, srp.as_ref().map(|s| (s, password)))
            .await
    }

    /// Answers `NEW_PASSWORD_REQUIRED` with the new password and any attributes the pool
    /// requires (`requiredAttributes` in the challenge's parameters, e.g. `("name", "Alice")`).
    pub async fn complete_new_password(
        &self,
        challenge: Challenge,
        new_password: &str,
        attributes: impl IntoIterator<Item = (String, String)>,
    ) -> Result<SignInOutcome> {
        let mut answers = vec![("NEW_PASSWORD".to_owned(), Secret::new(new_password))];
        for (k, v) in attributes {
            answers.push((format!("userAttributes.{k}"), Secret::new(v)));
        }
        self.respond(challenge, answers).await
    }

    /// Answers `SMS_MFA` or `SOFTWARE_TOKEN_MFA` with the code the user typed.
    pub async fn confirm_mfa(&self, challenge: Challenge, code: &str) -> Result<SignInOutcome> {
        let key = match challenge.name.as_str() {
            "SMS_MFA" => "SMS_MFA_CODE",
            "SOFTWARE_TOKEN_MFA" => "SOFTWARE_TOKEN_MFA_CODE",
            other => {
                return Err(Error::request(format!(
                    "confirm_mfa answers SMS_MFA and SOFTWARE_TOKEN_MFA, not {other}; use respond"
                )))
            }
        };
        self.respond(challenge, [(key.to_owned(), Secret::new(code))])
            .await
    }

    /// Answers any challenge with its `ChallengeResponses` (`USERNAME` and `SECRET_HASH` are
    /// added). The values are treated as secrets: never logged, scrubbed from errors.
    pub async fn respond(
        &self,
        challenge: Challenge,
        responses: impl IntoIterator<Item = (String, Secret)>,
    ) -> Result<SignInOutcome> {
        let responses: Vec<(String, Secret)> = responses.into_iter().collect();
        let mut map = Map::new();
        map.insert("USERNAME".into(), json!(challenge.username));
        let hash = self.secret_hash(&challenge.username);
        if let Some(h) = &hash {
            map.insert("SECRET_HASH".into(), json!(h));
        }
        for (k, v) in &responses {
            map.insert(k.clone(), json!(v.expose()));
        }
        let mut body = json!({
            "ClientId": self.inner.client_id,
            "ChallengeName": challenge.name,
            "ChallengeResponses": map,
        });
        if let Some(s) = &challenge.session {
            body["Session"] = json!(s.expose());
        }
        let mut secrets: Vec<&str> = responses.iter().map(|(_, v)| v.expose()).collect();
        if let Some(s) = &challenge.session {
            secrets.push(s.expose());
        }
        if let Some(h) = &hash {
            secrets.push(h);
        }
        let answer: AuthAnswer = self
            .inner
            .rpc
            .call("RespondToAuthChallenge", &body, &secrets)
            .await
            .map_err(|e| e.into_error(&format!("answering {} failed", challenge.name)))?;
        self.handle(answer, &challenge.username, None).await
    }

    /// Follows an answer: tokens (signed in), the SRP password verifier (answered here), or a
    /// challenge for the application.
    async fn handle(
        &self,
        mut answer: AuthAnswer,
        username: &str,
        srp: Option<(&Srp, &str)>,
    ) -> Result<SignInOutcome> {
        let mut username = username.to_owned();
        loop {
            if let Some(result) = answer.authentication_result.take() {
                let tokens = Tokens::from_result(result, None, &username, SystemTime::now())?;
                if tokens.refresh.is_none() {
                    tracing::warn!(
                        "Cognito gave no refresh token: the session ends when the tokens expire"
                    );
                }
                self.signed_in(tokens).await;
                return Ok(SignInOutcome::SignedIn);
            }
            let name = answer.challenge_name.take().ok_or_else(|| {
                Error::decode("Cognito's answer has neither AuthenticationResult nor ChallengeName")
            })?;
            let params = answer.challenge_parameters.take().unwrap_or_default();
            let text = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_owned);
            if let Some(u) = text("USERNAME").filter(|u| !u.is_empty()) {
                username = u;
            }
            let session = answer.session.take().map(Secret::from);
            if name == "PASSWORD_VERIFIER" {
                let Some((srp, password)) = srp else {
                    return Err(Error::auth(
                        "Cognito asked for an SRP password verifier outside an SRP sign-in",
                    ));
                };
                answer = self
                    .verify_password(srp, password, &username, &params, session)
                    .await?;
                continue;
            }
            let challenge = Challenge {
                parameters: params
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (k, v)
                    })
                    .collect(),
                name,
                session,
                username,
            };
            tracing::debug!(challenge = %challenge.name, "Cognito answered with a challenge");
            return Ok(match challenge.name.as_str() {
                "NEW_PASSWORD_REQUIRED" => SignInOutcome::NewPasswordRequired(challenge),
                "SMS_MFA" => SignInOutcome::SmsMfa(challenge),
                "SOFTWARE_TOKEN_MFA" => SignInOutcome::SoftwareTokenMfa(challenge),
                _ => SignInOutcome::Other(challenge),
            });
        }
    }

    /// Answers `PASSWORD_VERIFIER` (the second step of `USER_SRP_AUTH`).
    async fn verify_password(
        &self,
        srp: &Srp,
        password: &str,
        username: &str,
        params: &Map<String, Value>,
        session: Option<Secret>,
    ) -> Result<AuthAnswer> {
        let text = |k: &str| {
            params.get(k).and_then(Value::as_str).ok_or_else(|| {
                Error::decode(format!("Cognito's PASSWORD_VERIFIER challenge has no {k}"))
            })
        };
        let user_id = text("USER_ID_FOR_SRP")?;
        let block = text("SECRET_BLOCK")?;
        let timestamp = srp::timestamp(SystemTime::now());
        let signature = srp.password_claim(
            &self.inner.pool_id,
            user_id,
            password,
            text("SRP_B")?,
            text("SALT")?,
            block,
            &timestamp,
        )?;
        let mut responses = Map::new();
        responses.insert("USERNAME".into(), json!(username));
        responses.insert("PASSWORD_CLAIM_SECRET_BLOCK".into(), json!(block));
        responses.insert("PASSWORD_CLAIM_SIGNATURE".into(), json!(signature));
        responses.insert("TIMESTAMP".into(), json!(timestamp));
        let hash = self.secret_hash(username);
        if let Some(h) = &hash {
            responses.insert("SECRET_HASH".into(), json!(h));
        }
        let mut body = json!({
            "ClientId": self.inner.client_id,
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeResponses": responses,
        });
        if let Some(s) = &session {
            body["Session"] = json!(s.expose());
        }
        let mut secrets = vec![password, signature.as_str(), block];
        if let Some(s) = &session {
            secrets.push(s.expose());
        }
        if let Some(h) = &hash {
            secrets.push(h);
        }
        self.inner
            .rpc
            .call("RespondToAuthChallenge", &body, &secrets)
            .await
            .map_err(|e| e.into_error("sign-in failed (SRP password verifier)"))
    }

    /// Keeps the tokens, persists the refresh token, and tells the clients.
    async fn signed_in(&self, tokens: Tokens) {
        let refresh = tokens.refresh.clone();
        let username = Secret::new(tokens.username.clone());
        *self.lock() = Some(tokens);
        if let Some(store) = &self.inner.store {
            store::save(&**store, &self.key("refresh_token"), refresh.as_ref()).await;
            store::save(&**store, &self.key("username"), Some(&username)).await;
        }
        tracing::debug!("signed in to the Cognito user pool");
        self.inner.notifier.notify();
    }

    /// Forgets the user here (and in the store), and tells the clients.
    async fn forget(&self) {
        let was = self.lock().take().is_some();
        if let Some(store) = &self.inner.store {
            store::save(&**store, &self.key("refresh_token"), None).await;
            store::save(&**store, &self.key("username"), None).await;
        }
        if was {
            self.inner.notifier.notify();
        }
    }

    /// Signs back in with the refresh token the store kept (after a restart). `Ok(false)` when
    /// there is none or it is no longer valid (it is then forgotten).
    pub async fn restore(&self) -> Result<bool> {
        let Some(store) = &self.inner.store else {
            return Ok(false);
        };
        let Some(refresh) = store::load(&**store, &self.key("refresh_token")).await else {
            return Ok(false);
        };
        let username = store::load(&**store, &self.key("username"))
            .await
            .map(|u| u.expose().to_owned())
            .unwrap_or_default();
        match self.refresh_with(&refresh, &username).await {
            Ok(tokens) => {
                self.signed_in(tokens).await;
                Ok(true)
            }
            Err(e) if e.refusal().is_some_and(|c| c.is("NotAuthorizedException")) => {
                tracing::debug!("the stored refresh token is no longer valid");
                self.forget().await;
                Ok(false)
            }
            Err(e) => Err(e.into_error("restoring the session failed")),
        }
    }

    /// `REFRESH_TOKEN_AUTH` with this refresh token.
    async fn refresh_with(
        &self,
        refresh: &Secret,
        username: &str,
    ) -> std::result::Result<Tokens, CallError> {
        let mut params = Map::new();
        params.insert("REFRESH_TOKEN".into(), json!(refresh.expose()));
        let hash = self.secret_hash(username);
        if let Some(h) = &hash {
            params.insert("SECRET_HASH".into(), json!(h));
        }
        let body = json!({
            "ClientId": self.inner.client_id,
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "AuthParameters": params,
        });
        let mut secrets = vec![refresh.expose()];
        if let Some(h) = &hash {
            secrets.push(h);
        }
        let answer: AuthAnswer = self.inner.rpc.call("InitiateAuth", &body, &secrets).await?;
        let result = answer.authentication_result.ok_or_else(|| {
            CallError::Failed(Error::decode(
                "Cognito's answer to REFRESH_TOKEN_AUTH has no AuthenticationResult",
            ))
        })?;
        Tokens::from_result(result, Some(refresh.clone()), username, SystemTime::now())
            .map_err(CallError::Failed)
    }

    /// Refreshes the tokens now (`REFRESH_TOKEN_AUTH`). Clients do it on their own ahead of
    /// expiry; this is for applications that want fresh claims at once.
    pub async fn refresh(&self) -> Result<()> {
        self.refreshed(None).await.map(|_| ())
    }

    /// Refreshes unless someone else did since `seen` (the `obtained_at` of the tokens the
    /// caller found stale); one refresh at a time.
    async fn refreshed(&self, seen: Option<SystemTime>) -> Result<Tokens> {
        let _one = self.inner.refreshing.lock().await;
        let current = self.lock().clone();
        let Some(current) = current else {
            return Err(Error::auth("signed out").with_source(signed_out()));
        };
        if seen.is_some_and(|s| current.obtained_at != s) {
            return Ok(current);
        }
        let Some(refresh) = current.refresh.clone() else {
            self.forget().await;
            return Err(Error::auth(
                "the session's tokens expired and Cognito gave no refresh token",
            )
            .with_source(signed_out()));
        };
        match self.refresh_with(&refresh, &current.username).await {
            Ok(tokens) => {
                let new_refresh = tokens
                    .refresh
                    .as_ref()
                    .filter(|r| !r.ct_eq(&refresh))
                    .cloned();
                // A sign-out or another sign-in while this ran wins.
                if let Err(other) = self.replace_if(current.obtained_at, &tokens) {
                    return other
                        .ok_or_else(|| Error::auth("signed out").with_source(signed_out()));
                }
                if let (Some(store), Some(r)) = (&self.inner.store, new_refresh) {
                    store::save(&**store, &self.key("refresh_token"), Some(&r)).await;
                }
                tracing::debug!("refreshed the user-pool tokens");
                Ok(tokens)
            }
            Err(CallError::Refused(c)) if c.is("NotAuthorizedException") => {
                // Revoked or expired refresh token: the user is signed out.
                self.forget().await;
                Err(Error::auth(format!(
                    "the session ended: Cognito refused the refresh token ({c})"
                ))
                .with_source(PermanentError::new(c)))
            }
            Err(e) => Err(e.into_error("refreshing the user-pool tokens failed")),
        }
    }

    /// Puts `tokens` in place of those obtained at `obtained_at`; when those are gone (a
    /// sign-out or another sign-in came first), `Err` with what is there now.
    fn replace_if(
        &self,
        obtained_at: SystemTime,
        tokens: &Tokens,
    ) -> std::result::Result<(), Box<Option<Tokens>>> {
        let mut slot = self.lock();
        if slot.as_ref().is_some_and(|t| t.obtained_at == obtained_at) {
            *slot = Some(tokens.clone());
            Ok(())
        } else {
            Err(Box::new(slot.clone()))
        }
    }

    /// The current tokens, refreshed first when due (or asked, after a refusal).
    async fn current(&self, force: bool) -> std::result::Result<Tokens, BoxError> {
        let now = SystemTime::now();
        let snapshot = self.lock().clone();
        match snapshot {
            None => Err(signed_out()),
            Some(t) if !t.needs_refresh(force, now) => Ok(t),
            Some(t) => Ok(self.refreshed(Some(t.obtained_at)).await?),
        }
    }

    /// A fresh token of this kind for the signed-in user (e.g. the ID token for your own
    /// calls); an error wrapping [`PermanentError`] when no one is signed in.
    pub async fn token(&self, kind: TokenKind) -> std::result::Result<Secret, BoxError> {
        let t = self.current(false).await?;
        Ok(match kind {
            TokenKind::Id => t.id,
            _ => t.access,
        })
    }

    /// The ID token when a user is signed in (refreshed when due), for identity pools.
    pub(crate) async fn id_token_if_signed_in(
        &self,
    ) -> std::result::Result<Option<Secret>, BoxError> {
        if !self.is_signed_in() {
            return Ok(None);
        }
        match self.current(false).await {
            Ok(t) => Ok(Some(t.id)),
            Err(_) if !self.is_signed_in() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Signs out here: forgets the tokens (and the stored ones), tells the clients (their
    /// sockets reconnect with what is left, e.g. the guest identity), then revokes the refresh
    /// token at Cognito (`RevokeToken`; best effort, a failure is logged at `DEBUG`).
    pub async fn sign_out(&self) {
        let tokens = self.lock().clone();
        self.forget().await;
        let Some(refresh) = tokens.and_then(|t| t.refresh) else {
            return;
        };
        let mut body = json!({"ClientId": self.inner.client_id, "Token": refresh.expose()});
        let mut secrets = vec![refresh.expose().to_owned()];
        if let Some(s) = &self.inner.client_secret {
            body["ClientSecret"] = json!(s.expose());
            secrets.push(s.expose().to_owned());
        }
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        if let Err(e) = self
            .inner
            .rpc
            .call::<Value>("RevokeToken", &body, &secrets)
            .await
        {
            tracing::debug!(error = %e.into_error("RevokeToken"), "revoking the refresh token failed");
        }
    }

    /// Signs out everywhere (`GlobalSignOut`: every refresh token of the user is revoked),
    /// then here as [`UserPoolSession::sign_out`] does. The local sign-out happens even when
    /// Cognito refuses; its error is returned.
    pub async fn sign_out_global(&self) -> Result<()> {
        let tokens = self.lock().clone();
        let result = match &tokens {
            Some(t) => self
                .inner
                .rpc
                .call::<Value>(
                    "GlobalSignOut",
                    &json!({"AccessToken": t.access.expose()}),
                    &[t.access.expose()],
                )
                .await
                .map(|_| ())
                .map_err(|e| e.into_error("global sign-out failed")),
            None => Ok(()),
        };
        self.forget().await;
        result
    }
}

impl TokenProvider for UserPoolSession {
    /// The signed-in user's token for `AMAZON_COGNITO_USER_POOLS` (the kind asked for:
    /// access by default, ID for REST) and `OPENID_CONNECT` (the ID token unless set
    /// otherwise), refreshed ahead of expiry. Signed out: an error wrapping
    /// [`PermanentError`].
    fn token<'a>(
        &'a self,
        request: &'a TokenRequest,
    ) -> BoxFuture<'a, std::result::Result<Token, BoxError>> {
        Box::pin(async move {
            let kind = match request.mode {
                AuthMode::UserPools => request.kind,
                AuthMode::Oidc => self.inner.oidc_token,
                other => {
                    return Err(format!(
                        "a Cognito user-pool session gives tokens for AMAZON_COGNITO_USER_POOLS \
                         and OPENID_CONNECT, not {other}"
                    )
                    .into())
                }
            };
            let t = self.current(request.force_refresh).await?;
            Ok(match kind {
                TokenKind::Id => Token::new(t.id).with_expiry(t.id_expires_at),
                _ => Token::new(t.access).with_expiry(t.access_expires_at),
            })
        })
    }
}
