//! appsync-local serving the example app's notes schema with every mode enabled (API_KEY the
//! default), and clients for it with credentials and tokens for every mode.

use std::time::Duration;

use appsync_client::{AuthMode, Client, ClientBuilder, Config, EndpointConfig, StaticToken};
use appsync_local::{AuthMode as LocalMode, LambdaAuthResponse, LocalAppSync, LocalAppSyncBuilder};
use aws_credential_types::Credentials;

pub const API_KEY: &str = "da2-realtimetestkey00000000000";
pub const AKID: &str = "AKIDREALTIMETEST";
pub const SECRET: &str = "realtime/test/secret";
pub const SESSION: &str = "realtime-session-token";
pub const POOL: &str = "us-east-1_realtime";
pub const CLIENT_ID: &str = "realtimeclient";
pub const ISSUER: &str = "https://oidc.realtime.test";

/// The token the Lambda authorizer allows.
pub const LAMBDA_TOKEN: &str = "allow";

pub fn notes_schema() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/notes/schema.graphql"
    ))
    .expect("the notes schema")
}

/// Every mode enabled (API_KEY the default), `ka` every 200 ms; `f` changes the rest.
pub async fn local_with(
    f: impl FnOnce(LocalAppSyncBuilder) -> LocalAppSyncBuilder,
) -> LocalAppSync {
    let b = LocalAppSync::builder()
        .schema(notes_schema())
        .default_auth_mode(LocalMode::ApiKey)
        .additional_auth_modes([
            LocalMode::UserPools,
            LocalMode::Iam,
            LocalMode::Oidc,
            LocalMode::Lambda,
        ])
        .api_key(API_KEY)
        .user_pool(POOL, CLIENT_ID)
        .oidc_issuer(ISSUER, Some(CLIENT_ID.to_owned()))
        .iam_credentials(AKID, SECRET, Some(SESSION.to_owned()))
        .lambda_authorizer(|req| async move {
            match req.authorization_token.as_str() {
                "allow" => LambdaAuthResponse::allow(),
                _ => LambdaAuthResponse::deny(),
            }
        })
        .keep_alive_interval(Duration::from_millis(200));
    f(b).start().await.expect("appsync-local starts")
}

pub async fn local() -> LocalAppSync {
    local_with(|b| b).await
}

/// One endpoint `notes` on the server, every mode enabled; no token providers yet.
pub fn bare(local: &LocalAppSync) -> ClientBuilder {
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("notes", local.graphql_url())
                .authorization_type(AuthMode::ApiKey)
                .api_key(API_KEY)
                .region(local.region())
                .additional_auth_modes([
                    AuthMode::Iam,
                    AuthMode::UserPools,
                    AuthMode::Oidc,
                    AuthMode::Lambda,
                ]),
        )
        .build()
        .expect("valid config");
    Client::builder()
        .config(config)
        .credentials_provider(Credentials::new(
            AKID,
            SECRET,
            Some(SESSION.to_owned()),
            None,
            "test",
        ))
}

/// Credentials and tokens for every mode.
pub fn builder(local: &LocalAppSync) -> ClientBuilder {
    bare(local)
        .token_provider(
            AuthMode::UserPools,
            StaticToken::new(local.user_pool_token("alice").mint()),
        )
        .token_provider(
            AuthMode::Oidc,
            StaticToken::new(local.oidc_token("bob").mint()),
        )
        .token_provider(AuthMode::Lambda, StaticToken::new(LAMBDA_TOKEN))
}
