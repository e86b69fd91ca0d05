//! Examples for appsync-rs live in `examples/`; this library holds what they share: starting
//! appsync-local with the example notes app.

use std::time::Duration;

use appsync_local::{AuthMode, EventApi, LambdaAuthResponse, LocalAppSync, LocalAppSyncBuilder};

/// The example app's schema (`schema/notes/schema.graphql`).
pub const NOTES_SCHEMA: &str = include_str!("../../schema/notes/schema.graphql");

/// The API key the local server accepts.
pub const API_KEY: &str = "da2-quickstartlocalkey00000000";
/// The IAM access key id the local server accepts.
pub const ACCESS_KEY_ID: &str = "AKIDQUICKSTART";
/// Its secret.
pub const SECRET_ACCESS_KEY: &str = "quickstart/secret/access/key";
/// The token the local Lambda authorizer accepts.
pub const LAMBDA_TOKEN: &str = "let-me-in";

/// A local AppSync serving the notes app: default `API_KEY`, additional user pools, IAM, OIDC
/// and Lambda, each with credentials the examples know.
pub fn notes_server() -> LocalAppSyncBuilder {
    LocalAppSync::builder()
        .schema(NOTES_SCHEMA)
        .default_auth_mode(AuthMode::ApiKey)
        .additional_auth_modes([
            AuthMode::UserPools,
            AuthMode::Iam,
            AuthMode::Oidc,
            AuthMode::Lambda,
        ])
        .api_key(API_KEY)
        .user_pool("us-east-1_quickstart", "quickstartclient")
        .oidc_issuer("https://oidc.quickstart.local", None)
        .iam_credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None)
        .lambda_authorizer(|req| async move {
            if req.authorization_token == LAMBDA_TOKEN {
                LambdaAuthResponse::allow()
            } else {
                LambdaAuthResponse::deny()
            }
        })
        .keep_alive_interval(Duration::from_secs(10))
}

/// A local AppSync serving only an Event API: namespace `default`, where API keys and IAM (the
/// examples' credentials) connect, publish and subscribe; API_KEY is the default mode.
pub fn events_server() -> LocalAppSyncBuilder {
    let modes = [AuthMode::ApiKey, AuthMode::Iam];
    LocalAppSync::builder()
        .default_auth_mode(AuthMode::ApiKey)
        .api_key(API_KEY)
        .iam_credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None)
        .events(
            EventApi::new()
                .connection_auth_modes(modes)
                .default_publish_auth_modes(modes)
                .default_subscribe_auth_modes(modes)
                .namespace("default"),
        )
        .keep_alive_interval(Duration::from_secs(10))
}
