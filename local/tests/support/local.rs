//! A LocalAppSync with every auth mode over the example notes schema, and appsync-client clients for it.

use std::time::Duration;

use appsync_client::config::EndpointConfig;
use appsync_client::{AuthMode as ClientMode, Client, Config, StaticToken};
use appsync_local::{AuthMode, LambdaAuthResponse, LocalAppSync};
use aws_credential_types::Credentials;

pub const API_KEY: &str = "da2-localtestkey0000000000000";
pub const AKID: &str = "AKIDLOCALTEST";
pub const SECRET: &str = "local/secret/access/key";
pub const SESSION: &str = "local-session-token";
pub const POOL: &str = "us-east-1_local";
pub const CLIENT_ID: &str = "localclient";
pub const ISSUER: &str = "https://oidc.local.test";

pub fn notes_schema() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/notes/schema.graphql"
    ))
    .unwrap()
}

/// Every mode enabled, API_KEY the default; the Lambda authorizer allows the token "allow"
/// and, for "no-private", denies `Note.privateNotes`.
pub async fn start() -> LocalAppSync {
    start_with(|b| b).await
}

pub async fn start_with(
    f: impl FnOnce(appsync_local::LocalAppSyncBuilder) -> appsync_local::LocalAppSyncBuilder,
) -> LocalAppSync {
    let b = LocalAppSync::builder()
        .schema(notes_schema())
        .default_auth_mode(AuthMode::ApiKey)
        .additional_auth_modes([
            AuthMode::UserPools,
            AuthMode::Iam,
            AuthMode::Oidc,
            AuthMode::Lambda,
        ])
        .api_key(API_KEY)
        .user_pool(POOL, CLIENT_ID)
        .oidc_issuer(ISSUER, Some(CLIENT_ID.to_owned()))
        .iam_credentials(AKID, SECRET, Some(SESSION.to_owned()))
        .lambda_authorizer(|req| async move {
            match req.authorization_token.as_str() {
                "allow" => LambdaAuthResponse::allow()
                    .resolver_context(serde_json::json!({"tenant": "t1"})),
                "no-private" => LambdaAuthResponse::allow().denied_fields(["Note.privateNotes"]),
                _ => LambdaAuthResponse::deny(),
            }
        })
        .keep_alive_interval(Duration::from_millis(500));
    f(b).start().await.unwrap()
}

/// A client of the server: one endpoint `notes` (API_KEY default, every mode enabled),
/// credentials and tokens for every mode.
pub fn client(local: &LocalAppSync) -> Client {
    client_with(local, SECRET, Some(SESSION))
}

pub fn client_with(local: &LocalAppSync, secret: &str, session: Option<&str>) -> Client {
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("notes", local.graphql_url())
                .authorization_type(ClientMode::ApiKey)
                .api_key(API_KEY)
                .region(local.region())
                .additional_auth_modes([
                    ClientMode::Iam,
                    ClientMode::UserPools,
                    ClientMode::Oidc,
                    ClientMode::Lambda,
                ]),
        )
        .build()
        .unwrap();
    Client::builder()
        .config(config)
        .credentials_provider(Credentials::new(
            AKID,
            secret,
            session.map(str::to_owned),
            None,
            "test",
        ))
        .token_provider(
            ClientMode::UserPools,
            StaticToken::new(local.user_pool_token("alice").mint()),
        )
        .token_provider(
            ClientMode::Oidc,
            StaticToken::new(local.oidc_token("bob").mint()),
        )
        .token_provider(ClientMode::Lambda, StaticToken::new("allow"))
        .build()
        .unwrap()
}
