//! Multi-auth: reads an Amplify config file and sends one call per auth mode and one by apiName.
//!
//! `cargo run -p appsync-examples --example multi_auth` starts appsync-local, writes its
//! `amplifyconfiguration.json` to a temporary folder and reads it back. With a path,
//! `cargo run -p appsync-examples --example multi_auth -- amplify_outputs.json`, it calls your
//! API instead: AWS credentials come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
//! `AWS_SESSION_TOKEN`, tokens from `APPSYNC_USER_POOL_TOKEN`, `APPSYNC_OIDC_TOKEN` and
//! `APPSYNC_LAMBDA_TOKEN`, the document from `APPSYNC_QUERY` (default `{ __typename }`).

use std::path::PathBuf;

use appsync_client::{
    AuthMode, Client, ClientBuilder, Config, EndpointType, GraphQLRequest, StaticToken,
};
use appsync_examples::{notes_server, ACCESS_KEY_ID, LAMBDA_TOKEN, SECRET_ACCESS_KEY};
use aws_credential_types::Credentials;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut local = None;
    let (path, builder, query) = match std::env::args_os().nth(1) {
        Some(p) => (
            PathBuf::from(p),
            from_env(),
            std::env::var("APPSYNC_QUERY").unwrap_or_else(|_| "{ __typename }".into()),
        ),
        None => {
            let server = notes_server().start().await?;
            let dir =
                std::env::temp_dir().join(format!("appsync-multi-auth-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("amplifyconfiguration.json");
            std::fs::write(
                &path,
                serde_json::to_vec_pretty(&server.amplify_configuration("notes"))?,
            )?;
            let b = Client::builder()
                .credentials_provider(Credentials::new(
                    ACCESS_KEY_ID,
                    SECRET_ACCESS_KEY,
                    None,
                    None,
                    "example",
                ))
                .token_provider(
                    AuthMode::UserPools,
                    StaticToken::new(server.user_pool_token("alice").mint()),
                )
                .token_provider(
                    AuthMode::Oidc,
                    StaticToken::new(server.oidc_token("bob").mint()),
                )
                .token_provider(AuthMode::Lambda, StaticToken::new(LAMBDA_TOKEN));
            local = Some(server);
            (path, b, "query { listNotes { items { id } } }".to_owned())
        }
    };
    println!("reading {}", path.display());
    let config = Config::from_path(&path)?;
    let apis: Vec<String> = config
        .endpoints()
        .iter()
        .filter(|e| e.endpoint_type() == EndpointType::GraphQL)
        .map(|e| format!("{} ({})", e.name(), e.authorization_type()))
        .collect();
    println!("GraphQL endpoints: {}", apis.join(", "));
    let client = builder.config(config.clone()).build()?;

    let mut failures = 0;
    for mode in [
        AuthMode::ApiKey,
        AuthMode::Iam,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Lambda,
    ] {
        let result = client
            .graphql(GraphQLRequest::new(query.as_str()))
            .auth_mode(mode)
            .send()
            .await;
        failures += report(&format!("auth mode {mode}"), result);
    }
    if let Some(first) = config
        .endpoints()
        .iter()
        .find(|e| e.endpoint_type() == EndpointType::GraphQL)
    {
        let result = client
            .graphql(GraphQLRequest::new(query.as_str()))
            .api_name(first.name())
            .send()
            .await;
        failures += report(&format!("apiName {}", first.name()), result);
    }
    if let Some(l) = local {
        l.shutdown().await;
        let _ = std::fs::remove_dir_all(path.parent().unwrap_or(&path));
    }
    if failures > 0 {
        return Err(format!("{failures} call(s) failed").into());
    }
    Ok(())
}

fn report(
    what: &str,
    result: appsync_client::Result<appsync_client::Response<serde_json::Value>>,
) -> usize {
    match result {
        Ok(r) if r.errors.is_empty() => {
            println!("{what}: ok, data {}", serde_json::json!(r.data));
            0
        }
        Ok(r) => {
            println!(
                "{what}: answered with errors: {:?}",
                r.errors.iter().map(|e| &e.message).collect::<Vec<_>>()
            );
            1
        }
        Err(e) => {
            println!("{what}: failed: {e}");
            1
        }
    }
}

/// Credentials and tokens for a real API, from the environment.
fn from_env() -> ClientBuilder {
    let mut b = Client::builder();
    if let (Ok(id), Ok(secret)) = (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) {
        b = b.credentials_provider(Credentials::new(
            id,
            secret,
            std::env::var("AWS_SESSION_TOKEN").ok(),
            None,
            "env",
        ));
    }
    for (var, mode) in [
        ("APPSYNC_USER_POOL_TOKEN", AuthMode::UserPools),
        ("APPSYNC_OIDC_TOKEN", AuthMode::Oidc),
        ("APPSYNC_LAMBDA_TOKEN", AuthMode::Lambda),
    ] {
        if let Ok(t) = std::env::var(var) {
            b = b.token_provider(mode, StaticToken::new(t));
        }
    }
    b
}
