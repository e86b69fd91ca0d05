//! Cognito without Amplify (feature `cognito`): user-pool sign-in and tokens, identity-pool
//! credentials for guests and signed-in users.
//!
//! - [`UserPoolSession`] signs a user in (`USER_SRP_AUTH`, Amplify's default, or
//!   `USER_PASSWORD_AUTH`; app clients with a secret send `SECRET_HASH`), surfaces the
//!   challenges a pool may ask ([`SignInOutcome`]: a new password, an SMS or authenticator
//!   code, or any other) with calls to answer them, refreshes the tokens with
//!   `REFRESH_TOKEN_AUTH` ahead of expiry, and signs out. It is the [`TokenProvider`] of
//!   `AMAZON_COGNITO_USER_POOLS` (the access token, or the ID token when the request's kind
//!   says: REST calls by default) and of `OPENID_CONNECT` when Cognito is the OIDC provider
//!   (the ID token). Sign-in and sign-out notify its [`IdentityNotifier`]: clients drop their
//!   cached tokens and credentials, and realtime sockets reconnect with the new identity.
//! - [`IdentityPoolCredentials`] is a `ProvideCredentials` for `AWS_IAM`: `GetId` then
//!   `GetCredentialsForIdentity`, the guest identity while signed out (if allowed), the
//!   signed-in one (the session's ID token in `Logins`) after; the identity id is kept across
//!   calls and across sign-in.
//! - [`SessionStore`] keeps the refresh token and the identity id across restarts
//!   ([`MemorySessionStore`]; with feature `cognito-file-store`, `FileSessionStore`, a file
//!   readable by the user only).
//!
//! ```no_run
//! use appsync_client::auth::cognito::{IdentityPoolCredentials, SignInOutcome, UserPoolSession};
//! use appsync_client::{AuthStrategy, Client, Config};
//! # async fn run() -> appsync_client::Result<()> {
//! let config = Config::from_path("amplify_outputs.json")?;
//! let session = UserPoolSession::from_config(config.auth())?;
//! let iam = IdentityPoolCredentials::from_config(config.auth(), Some(&session))?;
//! let client = Client::builder()
//!     .config(config)
//!     .cognito(&session)                  // user-pool tokens + the identity notifier
//!     .credentials_provider(iam)          // guest, then signed-in credentials
//!     .auth_strategy(AuthStrategy::Multi) // user pools when signed in, else IAM guest
//!     .build()?;
//! match session.sign_in("alice", "correct horse").await? {
//!     SignInOutcome::SignedIn => {}
//!     SignInOutcome::SoftwareTokenMfa(c) => {
//!         session.confirm_mfa(c, "123456").await?;
//!     }
//!     other => println!("{other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! ## Why JSON over the client's own `reqwest`, not the AWS SDK crates
//!
//! Every call here is one unsigned AWS JSON-RPC request (`POST /` with `x-amz-target`):
//! `InitiateAuth`, `RespondToAuthChallenge`, `RevokeToken`, `GlobalSignOut`, `GetId`,
//! `GetCredentialsForIdentity`. `aws-sdk-cognitoidentityprovider` is generated for all of the
//! service's ~120 operations (several MB of Rust, minutes of compile on a 2-core machine) and
//! `aws-sdk-cognitoidentity` adds another service, both on top of the SDK's smithy runtime
//! (its own HTTP client and retry stack beside the client's `reqwest`). Six small requests
//! over the `reqwest` already here cost nothing to build, share its TLS setup, and keep
//! timeouts, redirects (refused), answer-size limits and secret redaction under this crate's
//! rules. The endpoints are overridable (`endpoint(..)` on the builders, or the config's
//! `Endpoint`): FIPS (`cognito-idp-fips.<region>.amazonaws.com`), private (VPC) endpoints, or
//! a local test server.
//!
//! ## Why the SRP math is written here
//!
//! The crates checked: `srp` (RustCrypto) implements RFC 5054's padding and hashing, not
//! Cognito's (Java's signed `PAD`, `k = H(PAD(N) | PAD(g))`, `x` over the pool name, the
//! HKDF step with "Caldera Derived Key", the timestamp format) and is a release candidate;
//! `cognito_srp` is unmaintained (2022, old `digest`/`hmac`/`rand`); `aws-cognito-srp` is
//! maintained and matches the variant, but brings `chrono`, `regex`, `rand` 0.10,
//! `num-bigint`, `log` (which it logs to) and a second `base64`, and fixes the random `a` and
//! the clock inside, so it cannot be compared step by step with another implementation. The
//! math itself is ~150 lines: it is written in `srp.rs` on `num-bigint` (the only new
//! dependency; three small pure-Rust crates) with hashing and randomness from `aws-lc-rs`,
//! which the client already uses, and every step is tested against pycognito's
//! implementation (committed vectors, and fresh random cases when the moto tests run).
//!
//! [`TokenProvider`]: crate::TokenProvider
//! [`IdentityNotifier`]: crate::IdentityNotifier

#[cfg(feature = "cognito-file-store")]
mod file_store;
mod identity_pool;
mod session;
mod srp;
mod store;
mod tokens;
mod wire;

#[cfg(feature = "cognito-file-store")]
pub use file_store::FileSessionStore;
pub use identity_pool::{IdentityPoolCredentials, IdentityPoolCredentialsBuilder};
pub use session::{Challenge, SignInFlow, SignInOutcome, UserPoolSession, UserPoolSessionBuilder};
pub use store::{MemorySessionStore, SessionStore};
pub use wire::CognitoError;

/// The SRP computation, for the interop tests that compare it live with pycognito.
#[doc(hidden)]
pub mod srp_for_tests {
    /// `(SRP_A, PASSWORD_CLAIM_SIGNATURE)` for a given secret `a` (hex) and the challenge's
    /// values; `None` when a value is unusable.
    #[allow(clippy::too_many_arguments)]
    pub fn password_claim(
        a_hex: &str,
        pool_id: &str,
        user_id: &str,
        password: &str,
        b_hex: &str,
        salt_hex: &str,
        secret_block: &str,
        timestamp: &str,
    ) -> Option<(String, String)> {
        let a = num_bigint::BigUint::parse_bytes(a_hex.as_bytes(), 16)?;
        let srp = super::srp::Srp::with_a(a)?;
        let sig = srp
            .password_claim(
                pool_id,
                user_id,
                password,
                b_hex,
                salt_hex,
                secret_block,
                timestamp,
            )
            .ok()?;
        Some((srp.big_a_hex(), sig))
    }
}
