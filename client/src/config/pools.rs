//! The Cognito pools of a configuration's `auth` section: the types live in the auth layer
//! (`auth::pools`), which builds sessions and credentials from them; the configuration fills them.

pub use crate::auth::pools::{AuthConfig, IdentityPoolConfig, UserPoolConfig};
