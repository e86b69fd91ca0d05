//! The quickstart: a local AppSync in this process, and appsync-client calling it in several auth
//! modes. Run it with `cargo run -p appsync-examples --example quickstart`; no AWS account needed.

use std::time::Duration;

use appsync_client::{AuthMode, Client, Config, GraphQLRequest, StaticToken, SubscriptionEvent};
use appsync_examples::{notes_server, ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use aws_credential_types::Credentials;
use futures_util::StreamExt;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A local AppSync with the notes schema (default API_KEY; user pools, IAM, OIDC and Lambda too).
    let local = notes_server().start().await?;
    println!(
        "1. appsync-local is serving the notes API at {}",
        local.graphql_url()
    );

    // It writes a Gen1 config with one friendly name per auth mode; the client reads it.
    let config = Config::from_json(&local.amplify_configuration("notes"))?;
    let names: Vec<&str> = config.endpoints().iter().map(|e| e.name()).collect();
    println!("   configured endpoints: {}", names.join(", "));
    let alice = local.user_pool_token("alice").groups(["admins"]).mint();
    let client = Client::builder()
        .config(config)
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "quickstart",
        ))
        .token_provider(AuthMode::UserPools, StaticToken::new(alice))
        .build()?;

    // 2. A query with the API key (the default endpoint's mode).
    let r = client
        .graphql(GraphQLRequest::new(
            "query { listNotes { items { id content } } }",
        ))
        .send()
        .await?;
    println!("2. with the API key, listNotes answered {}", json!(r.data));

    // A subscription (over the realtime WebSocket, API key) to the notes being created; it is
    // live once `start` returns (the server acknowledged it).
    let mut created = client
        .subscribe_graphql(GraphQLRequest::new(
            "subscription { onCreateNote { id content owner } }",
        ))
        .start()
        .await?;
    println!("   subscribed to onCreateNote over the realtime socket, with the API key");

    // 3. A mutation signed with IAM (SigV4), chosen by auth mode.
    let r = client
        .graphql(
            GraphQLRequest::new(
                "mutation Create($input: CreateNoteInput!) { createNote(input: $input) { id content owner } }",
            )
            .variables(json!({"input": {"id": "n1", "content": "Hello from Rust", "owner": "alice", "privateNotes": "only for signed-in readers"}})),
        )
        .auth_mode(AuthMode::Iam)
        .send()
        .await?;
    println!("3. signed with IAM, createNote made {}", json!(r.data));

    // 4. A query by apiName, with a Cognito user-pool token: it may read the private field.
    let r = client
        .graphql(GraphQLRequest::new(
            "query { getNote(id: \"n1\") { id content privateNotes } }",
        ))
        .api_name("notes_AMAZON_COGNITO_USER_POOLS")
        .send()
        .await?;
    println!(
        "4. by apiName notes_AMAZON_COGNITO_USER_POOLS, getNote answered {}",
        json!(r.data)
    );

    // 5. A call the schema refuses: the API key may not create notes (and may not read privateNotes).
    let r = client
        .graphql(GraphQLRequest::new(
            "mutation { createNote(input: {content: \"sneaky\"}) { id } }",
        ))
        .send()
        .await?;
    for e in &r.errors {
        println!(
            "5. with the API key, createNote was refused: {} ({}), data: {}",
            e.message,
            e.error_type.as_deref().unwrap_or("no errorType"),
            json!(r.data)
        );
    }
    assert!(
        r.has_error_type("Unauthorized"),
        "the schema should refuse this call"
    );

    // 6. The subscription received the event of the mutation of step 3.
    match tokio::time::timeout(Duration::from_secs(10), created.next()).await {
        Ok(Some(Ok(SubscriptionEvent::Data(event)))) => {
            println!(
                "6. the subscription received the event of step 3: {}",
                json!(event.data)
            )
        }
        other => {
            return Err(format!("the subscription did not receive the event: {other:?}").into())
        }
    }
    drop(created);

    local.shutdown().await;
    println!("done: the local server is stopped.");
    Ok(())
}
