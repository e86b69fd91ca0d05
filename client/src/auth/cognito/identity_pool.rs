//! `IdentityPoolCredentials`: AWS credentials from a Cognito identity pool (`GetId`, then
//! `GetCredentialsForIdentity`), for the guest before sign-in and the signed-in user after.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{self, error::CredentialsError, ProvideCredentials};
use aws_credential_types::Credentials;
use serde::Deserialize;
use serde_json::{json, Value};

use super::session::UserPoolSession;
use super::store::{self, SessionStore};
use super::wire::{self, CallError, CognitoError, Rpc};
use crate::auth::pools::{AuthConfig, IdentityPoolConfig};
use crate::auth::PermanentError;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// How long credentials are taken to last when Cognito's answer has no usable `Expiration`.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The longest lifetime believed (Cognito gives one hour).
const MAX_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// AWS credentials from a Cognito identity pool, as Amplify gets them: the guest
/// (unauthenticated) identity while no one is signed in to the [`UserPoolSession`] (when the
/// pool allows guests), the signed-in identity after, with the session's **ID** token in the
/// `Logins` map under `cognito-idp.<region>.amazonaws.com/<userPoolId>`.
///
/// The identity id is kept across calls, and across sign-in: the guest identity id is sent
/// with the `Logins` so that Cognito links the guest identity to the user (as Amplify does).
/// Sign-out forgets it (a new guest identity follows). Give it to a client with
/// [`ClientBuilder::credentials_provider`](crate::ClientBuilder::credentials_provider); the
/// client caches the credentials until shortly before their `Expiration`, and drops them when
/// the session signs in or out. Cheap to clone; clones share the identity.
#[derive(Clone)]
pub struct IdentityPoolCredentials {
    inner: Arc<Inner>,
}

struct Inner {
    pool_id: String,
    allow_guest: bool,
    rpc: Rpc,
    session: Option<UserPoolSession>,
    store: Option<Arc<dyn SessionStore>>,
    state: Mutex<IdState>,
    /// One fetch at a time (the client's cache already ensures it; direct users too).
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default, Clone)]
struct IdState {
    id: Option<String>,
    /// Whether `id` is linked to the signed-in user (else a guest identity).
    signed_in: bool,
    /// Whether the store was read.
    loaded: bool,
}

impl fmt::Debug for IdentityPoolCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state();
        f.debug_struct("IdentityPoolCredentials")
            .field("pool_id", &self.inner.pool_id)
            .field("allow_guest", &self.inner.allow_guest)
            .field("endpoint", &self.inner.rpc)
            .field("identity_id", &st.id)
            .field("signed_in", &st.signed_in)
            .finish_non_exhaustive()
    }
}

/// Builds [`IdentityPoolCredentials`].
#[derive(Default)]
pub struct IdentityPoolCredentialsBuilder {
    pool_id: Option<String>,
    region: Option<String>,
    allow_guest: bool,
    endpoint: Option<String>,
    session: Option<UserPoolSession>,
    store: Option<Arc<dyn SessionStore>>,
    http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    allow_insecure_http: bool,
}

impl fmt::Debug for IdentityPoolCredentialsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityPoolCredentialsBuilder")
            .field("pool_id", &self.pool_id)
            .field("allow_guest", &self.allow_guest)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl IdentityPoolCredentialsBuilder {
    /// Pool id, region, guest access and endpoint from the configuration's identity pool.
    pub fn identity_pool(mut self, pool: &IdentityPoolConfig) -> Self {
        self.pool_id = Some(pool.pool_id.clone());
        self.region = Some(pool.region.clone()).filter(|r| !r.is_empty());
        self.allow_guest = pool.allow_guest;
        self.endpoint = pool.endpoint.clone().or(self.endpoint);
        self
    }

    /// The identity pool id, `<region>:<guid>`.
    pub fn pool_id(mut self, id: impl Into<String>) -> Self {
        self.pool_id = Some(id.into());
        self
    }

    /// The region (default: the part of the pool id before `:`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Whether the guest identity is used while no one is signed in (default `false`; the
    /// pool must allow unauthenticated identities).
    pub fn allow_guest(mut self, allow: bool) -> Self {
        self.allow_guest = allow;
        self
    }

    /// The user-pool session whose ID token makes the identity a signed-in one.
    pub fn session(mut self, session: &UserPoolSession) -> Self {
        self.session = Some(session.clone());
        self
    }

    /// Another endpoint for the Cognito Identity API instead of
    /// `https://cognito-identity.<region>.amazonaws.com/` (FIPS, private, or a test server).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Keeps the identity id here, so that a restart keeps the same identity.
    pub fn store(mut self, store: impl SessionStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The same, with a store shared with the session.
    pub fn shared_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Uses this `reqwest::Client` (build it with `.redirect(reqwest::redirect::Policy::none())`).
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

    /// Checks everything and builds the provider.
    pub fn build(self) -> Result<IdentityPoolCredentials> {
        let pool_id = self.pool_id.unwrap_or_default();
        let region = self
            .region
            .or_else(|| {
                pool_id
                    .split_once(':')
                    .map(|(r, _)| r.to_owned())
                    .filter(|r| !r.is_empty())
            })
            .unwrap_or_default();
        if pool_id.is_empty() {
            return Err(Error::config(
                "no identity pool id: set .pool_id(..) or .identity_pool(..)",
            ));
        }
        let url = match &self.endpoint {
            Some(e) => wire::checked_endpoint(e, self.allow_insecure_http)?,
            None => wire::default_endpoint("cognito-identity", &region)?,
        };
        let http = match self.http {
            Some(h) => h,
            None => wire::default_http()?,
        };
        Ok(IdentityPoolCredentials {
            inner: Arc::new(Inner {
                pool_id,
                allow_guest: self.allow_guest,
                rpc: Rpc::new(
                    http,
                    url,
                    "AWSCognitoIdentityService",
                    self.timeout.unwrap_or(wire::DEFAULT_TIMEOUT),
                ),
                session: self.session,
                store: self.store,
                state: Mutex::new(IdState::default()),
                fetching: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetIdAnswer {
    #[serde(default)]
    identity_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CredentialsAnswer {
    #[serde(default)]
    identity_id: Option<String>,
    #[serde(default)]
    credentials: Option<RawCredentials>,
}

/// Cognito Identity's credentials: `SecretKey` (not `SecretAccessKey`), `Expiration` in
/// seconds since the epoch.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawCredentials {
    #[serde(default)]
    access_key_id: Option<String>,
    #[serde(default)]
    secret_key: Option<String>,
    #[serde(default)]
    session_token: Option<String>,
    #[serde(default)]
    expiration: Option<Value>,
}

/// `Expiration` as a time: seconds (integer or not) since the epoch, bounded.
fn expiry(v: Option<&Value>, now: SystemTime) -> SystemTime {
    let far = now + MAX_LIFETIME;
    let at = v
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| {
            Duration::try_from_secs_f64(s)
                .ok()
                .and_then(|d| SystemTime::UNIX_EPOCH.checked_add(d))
                .unwrap_or(far)
        });
    match at {
        Some(t) => t.min(far),
        None => {
            tracing::debug!("Cognito's credentials have no usable Expiration");
            now + DEFAULT_LIFETIME
        }
    }
}

impl IdentityPoolCredentials {
    /// Starts a provider in code.
    pub fn builder() -> IdentityPoolCredentialsBuilder {
        IdentityPoolCredentialsBuilder::default()
    }

    /// A provider for the configuration's identity pool (`Config::auth()`), signed in with
    /// `session` when given; an error when the configuration has no identity pool.
    pub fn from_config(
        auth: &AuthConfig,
        session: Option<&UserPoolSession>,
    ) -> Result<IdentityPoolCredentials> {
        let pool = auth.identity_pool.as_ref().ok_or_else(|| {
            Error::config(
                "the configuration has no Cognito identity pool (Gen2 auth.identity_pool_id, \
                 Gen1 auth.plugins.awsCognitoAuthPlugin.CredentialsProvider.CognitoIdentity.Default)",
            )
        })?;
        let mut b = IdentityPoolCredentials::builder().identity_pool(pool);
        if let Some(s) = session {
            b = b.session(s);
        }
        b.build()
    }

    /// The identity id in use, once known (guest or signed in).
    pub fn identity_id(&self) -> Option<String> {
        self.state().id
    }

    /// Whether the identity in use is the signed-in one.
    pub fn is_signed_in_identity(&self) -> bool {
        let st = self.state();
        st.id.is_some() && st.signed_in
    }

    fn state(&self) -> IdState {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_state(&self, st: IdState) {
        *self.inner.state.lock().unwrap_or_else(|e| e.into_inner()) = st;
    }

    fn key(&self, what: &str) -> String {
        format!("cognito-identity/{}/{what}", self.inner.pool_id)
    }

    async fn load(&self) {
        let mut st = self.state();
        if st.loaded {
            return;
        }
        st.loaded = true;
        if let Some(store) = &self.inner.store {
            if let Some(id) = store::load(&**store, &self.key("identity_id")).await {
                st.id = Some(id.expose().to_owned()).filter(|i| !i.is_empty());
                st.signed_in = store::load(&**store, &self.key("identity_kind"))
                    .await
                    .is_some_and(|k| k.expose() == "signed-in");
            }
        }
        self.set_state(st);
    }

    async fn persist(&self, st: &IdState) {
        if let Some(store) = &self.inner.store {
            let id = st.id.clone().map(Secret::from);
            let kind = st
                .id
                .as_ref()
                .map(|_| Secret::new(if st.signed_in { "signed-in" } else { "guest" }));
            store::save(&**store, &self.key("identity_id"), id.as_ref()).await;
            store::save(&**store, &self.key("identity_kind"), kind.as_ref()).await;
        }
    }

    async fn get_id(&self, logins: Option<&Value>, secrets: &[&str]) -> Result<String> {
        let mut body = json!({"IdentityPoolId": self.inner.pool_id});
        if let Some(l) = logins {
            body["Logins"] = l.clone();
        }
        let answer: GetIdAnswer = self
            .inner
            .rpc
            .call("GetId", &body, secrets)
            .await
            .map_err(|e| e.into_error("Cognito Identity GetId failed"))?;
        answer
            .identity_id
            .filter(|i| !i.is_empty())
            .ok_or_else(|| Error::decode("Cognito Identity's GetId answer has no IdentityId"))
    }

    async fn get_credentials(
        &self,
        id: &str,
        logins: Option<&Value>,
        secrets: &[&str],
    ) -> std::result::Result<(String, Credentials), CallError> {
        let mut body = json!({"IdentityId": id});
        if let Some(l) = logins {
            body["Logins"] = l.clone();
        }
        let answer: CredentialsAnswer = self
            .inner
            .rpc
            .call("GetCredentialsForIdentity", &body, secrets)
            .await?;
        let bad = |what: &str| {
            CallError::Failed(Error::decode(format!(
                "Cognito Identity's GetCredentialsForIdentity answer has no {what}"
            )))
        };
        let raw = answer.credentials.ok_or_else(|| bad("Credentials"))?;
        let text =
            |v: Option<String>, what: &str| v.filter(|s| !s.is_empty()).ok_or_else(|| bad(what));
        let creds = Credentials::new(
            text(raw.access_key_id, "AccessKeyId")?,
            text(raw.secret_key, "SecretKey")?,
            Some(text(raw.session_token, "SessionToken")?),
            Some(expiry(raw.expiration.as_ref(), SystemTime::now())),
            "cognito-identity",
        );
        Ok((
            answer
                .identity_id
                .filter(|i| !i.is_empty())
                .unwrap_or_else(|| id.to_owned()),
            creds,
        ))
    }

    /// `GetCredentialsForIdentity` for the kept identity id; when Cognito refuses it (an
    /// identity deleted, or linked to another user), once more with a new id from `GetId`.
    async fn credentials_for(
        &self,
        kept: Option<String>,
        logins: Option<&Value>,
        secrets: &[&str],
    ) -> Result<(String, Credentials)> {
        let what = if logins.is_some() {
            "signed-in"
        } else {
            "guest"
        };
        if let Some(id) = kept {
            match self.get_credentials(&id, logins, secrets).await {
                Ok(r) => return Ok(r),
                Err(CallError::Refused(c)) if stale_identity(&c) => {
                    tracing::debug!(error = %c, "the kept identity was refused; getting a new one");
                }
                Err(e) => {
                    return Err(e.into_error(&format!(
                        "Cognito Identity GetCredentialsForIdentity ({what}) failed"
                    )))
                }
            }
        }
        let id = self.get_id(logins, secrets).await?;
        self.get_credentials(&id, logins, secrets)
            .await
            .map_err(|e| {
                e.into_error(&format!(
                    "Cognito Identity GetCredentialsForIdentity ({what}) failed"
                ))
            })
    }

    async fn fetch(&self) -> Result<Credentials> {
        let _one = self.inner.fetching.lock().await;
        self.load().await;
        let id_token = match &self.inner.session {
            Some(s) => s
                .id_token_if_signed_in()
                .await
                .map_err(|e| Error::auth("the user-pool session failed").with_source(e))?,
            None => None,
        };
        let mut st = self.state();
        let (id, creds) = match (&id_token, &self.inner.session) {
            (Some(token), Some(session)) => {
                let logins = json!({ session.logins_key(): token.expose() });
                // The guest id too: Cognito links it to the user (Amplify's merge).
                let (id, creds) = self
                    .credentials_for(st.id.clone(), Some(&logins), &[token.expose()])
                    .await?;
                st.signed_in = true;
                (id, creds)
            }
            _ => {
                if !self.inner.allow_guest {
                    return Err(Error::auth(
                        "no user is signed in and the identity pool's guest access is not \
                         enabled here (IdentityPoolCredentialsBuilder::allow_guest; Gen2 \
                         auth.unauthenticated_identities_enabled)",
                    )
                    .with_source(PermanentError::new("signed out, guests not allowed")));
                }
                if st.signed_in {
                    // Signed out: that identity is the user's now; a new guest identity.
                    st.id = None;
                }
                let (id, creds) = self.credentials_for(st.id.clone(), None, &[]).await?;
                st.signed_in = false;
                (id, creds)
            }
        };
        st.id = Some(id);
        self.set_state(st.clone());
        self.persist(&st).await;
        Ok(creds)
    }
}

/// Whether Cognito refused an identity id as unusable (so a new one may work).
fn stale_identity(c: &CognitoError) -> bool {
    c.is("NotAuthorizedException") || c.is("ResourceNotFoundException")
}

impl ProvideCredentials for IdentityPoolCredentials {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            self.fetch().await.map_err(CredentialsError::provider_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expirations_of_any_shape() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |v: Value| expiry(Some(&v), now);
        assert_eq!(at(json!(1_000_090)), now + Duration::from_secs(90));
        assert_eq!(at(json!(1_000_090.5)), now + Duration::from_millis(90_500));
        assert_eq!(at(json!(1e300)), now + MAX_LIFETIME);
        for v in [json!(-1), json!("soon"), json!(null), json!(0)] {
            assert_eq!(at(v), now + DEFAULT_LIFETIME);
        }
        assert_eq!(expiry(None, now), now + DEFAULT_LIFETIME);
    }
}
