//! Where a session keeps what outlives the process: the refresh token, the username and the
//! identity id. A small trait the application implements (keychain, database, …), and an
//! in-memory one.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use crate::auth::token::BoxFuture;
use crate::error::BoxError;
use crate::secret::Secret;

/// Keeps a few values by key for [`UserPoolSession`](super::UserPoolSession) and
/// [`IdentityPoolCredentials`](super::IdentityPoolCredentials): the refresh token and username
/// (keys `cognito-idp/<poolId>/<clientId>/refresh_token` and `…/username`) and the identity id
/// (`cognito-identity/<identityPoolId>/identity_id` and `…/identity_kind`, `guest` or
/// `signed-in`). Values are [`Secret`]s: the refresh token signs the user in. Keep them where
/// only the user can read them.
///
/// Errors are reported at `WARN` (without the values) and otherwise ignored: the session works
/// without persistence, it only cannot be restored.
pub trait SessionStore: Send + Sync + 'static {
    /// The value saved under `key`, if any.
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>, BoxError>>;

    /// Saves `value` under `key`, or removes the key when `value` is `None`.
    fn save<'a>(
        &'a self,
        key: &'a str,
        value: Option<&'a Secret>,
    ) -> BoxFuture<'a, Result<(), BoxError>>;
}

/// A [`SessionStore`] in memory: it lives as long as the process (tests, or to share one
/// identity id between clients).
#[derive(Default)]
pub struct MemorySessionStore(Mutex<HashMap<String, Secret>>);

impl MemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        MemorySessionStore::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<String> = self.map().keys().cloned().collect();
        keys.sort();
        f.debug_struct("MemorySessionStore")
            .field("keys", &keys)
            .finish()
    }
}

impl SessionStore for MemorySessionStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>, BoxError>> {
        let v = self.map().get(key).cloned();
        Box::pin(async move { Ok(v) })
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        value: Option<&'a Secret>,
    ) -> BoxFuture<'a, Result<(), BoxError>> {
        match value {
            Some(v) => self.map().insert(key.to_owned(), v.clone()),
            None => self.map().remove(key),
        };
        Box::pin(async { Ok(()) })
    }
}

/// Loads a key, reporting a failure at `WARN` (never the value) as absence.
pub(crate) async fn load(store: &dyn SessionStore, key: &str) -> Option<Secret> {
    match store.load(key).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(key, error = %e, "the session store could not load a value");
            None
        }
    }
}

/// Saves a key, reporting a failure at `WARN` (never the value).
pub(crate) async fn save(store: &dyn SessionStore, key: &str, value: Option<&Secret>) {
    if let Err(e) = store.save(key, value).await {
        tracing::warn!(key, error = %e, "the session store could not save a value");
    }
}
