//! The Cognito pools of a configuration's `auth` section (user pool, identity pool), as the
//! configuration reads them and as `auth::cognito` uses them.

use crate::secret::Secret;

/// A Cognito user pool (for tokens; see the `cognito` feature's `auth::cognito`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UserPoolConfig {
    /// The pool id, e.g. `us-east-1_AbCdEf`.
    pub pool_id: String,
    /// The app client id.
    pub app_client_id: Option<String>,
    /// The pool's region.
    pub region: Option<String>,
    /// The app client's secret, for app clients that have one (Gen1 `AppClientSecret`; Gen2
    /// files never hold one). Redacted in `Debug`.
    pub app_client_secret: Option<Secret>,
    /// Another endpoint for the Cognito user-pools API (Gen1 `Endpoint`): a private or FIPS
    /// endpoint, or a local test server.
    pub endpoint: Option<String>,
}

impl PartialEq for UserPoolConfig {
    fn eq(&self, other: &Self) -> bool {
        let secrets = match (&self.app_client_secret, &other.app_client_secret) {
            (Some(a), Some(b)) => a.ct_eq(b),
            (None, None) => true,
            _ => false,
        };
        self.pool_id == other.pool_id
            && self.app_client_id == other.app_client_id
            && self.region == other.region
            && self.endpoint == other.endpoint
            && secrets
    }
}

impl Eq for UserPoolConfig {}

impl UserPoolConfig {
    /// A user pool by id, client id and region.
    pub fn new(
        pool_id: impl Into<String>,
        app_client_id: Option<String>,
        region: Option<String>,
    ) -> Self {
        UserPoolConfig {
            pool_id: pool_id.into(),
            app_client_id,
            region,
            app_client_secret: None,
            endpoint: None,
        }
    }

    /// The app client's secret (for app clients that have one).
    pub fn app_client_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.app_client_secret = Some(secret.into());
        self
    }

    /// Another endpoint for the user-pools API (private, FIPS, or a test server).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The region: as configured, else the part of the pool id before `_`.
    pub fn region_or_from_id(&self) -> Option<&str> {
        self.region.as_deref().or_else(|| {
            self.pool_id
                .split_once('_')
                .map(|(r, _)| r)
                .filter(|r| !r.is_empty())
        })
    }
}

/// A Cognito identity pool (AWS credentials for guests and signed-in users).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdentityPoolConfig {
    /// The pool id, e.g. `us-east-1:0000…`.
    pub pool_id: String,
    /// The pool's region (the part of the id before `:` when not given).
    pub region: String,
    /// Another endpoint for the Cognito Identity API (private, FIPS, or a test server); not
    /// read from files, which have no such key.
    pub endpoint: Option<String>,
    /// Whether guest (unauthenticated) identities are enabled. Gen2's
    /// `unauthenticated_identities_enabled`; absent means `false`. Gen1 files do not say, and
    /// a pool that is present is taken as allowing guests (as the Amplify native libraries do).
    pub allow_guest: bool,
}

impl IdentityPoolConfig {
    /// An identity pool by id; the region is taken from the id.
    pub fn new(pool_id: impl Into<String>, allow_guest: bool) -> Self {
        let pool_id = pool_id.into();
        let region = pool_id.split(':').next().unwrap_or_default().to_owned();
        IdentityPoolConfig {
            pool_id,
            region,
            endpoint: None,
            allow_guest,
        }
    }

    /// Another endpoint for the Cognito Identity API (private, FIPS, or a test server).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }
}

/// The Cognito part of a configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthConfig {
    /// The user pool, if configured.
    pub user_pool: Option<UserPoolConfig>,
    /// The identity pool, if configured.
    pub identity_pool: Option<IdentityPoolConfig>,
}
