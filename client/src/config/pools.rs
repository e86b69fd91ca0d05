//! The Cognito pools of a configuration's `auth` section.

/// A Cognito user pool (for tokens; see the `cognito` docs).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserPoolConfig {
    /// The pool id, e.g. `us-east-1_AbCdEf`.
    pub pool_id: String,
    /// The app client id.
    pub app_client_id: Option<String>,
    /// The pool's region.
    pub region: Option<String>,
}

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
        }
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
            allow_guest,
        }
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
