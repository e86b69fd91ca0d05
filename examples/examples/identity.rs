//! Identity without Amplify (features `cognito`): calls as the identity pool's guest, a
//! sign-in, the same calls as the signed-in user (IAM and user pools), and a subscription that
//! carries on across the switch.
//!
//! `cargo run -p appsync-examples --example identity` needs no AWS account: appsync-local plays
//! AppSync, and a small in-process stand-in plays Cognito's two services (user pools:
//! `InitiateAuth` with the password and refresh flows, answering with tokens appsync-local
//! minted for its pool; identity pools: `GetId` and `GetCredentialsForIdentity`, a guest role
//! and a signed-in role with credentials appsync-local knows). Against your own backend, build
//! the session and the credentials with `from_config(config.auth())` and drop the endpoints.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use appsync_client::auth::cognito::{
    IdentityPoolCredentials, SignInFlow, SignInOutcome, UserPoolSession,
};
use appsync_client::{
    AuthMode, AuthStrategy, Client, Config, EndpointConfig, GraphQLRequest, SubscriptionEvent,
    TokenKind,
};
use appsync_examples::{notes_server, API_KEY};
use appsync_local::LocalAppSync;
use futures_util::StreamExt;
use serde_json::{json, Value};

const POOL: &str = "us-east-1_quickstart";
const CLIENT: &str = "quickstartclient";
const IDENTITY_POOL: &str = "us-east-1:00000000-0000-0000-0000-0000000000aa";
const ROLES: [(&str, &str); 2] = [
    ("AKIDGUESTEXAMPLE", "guest/secret"),
    ("AKIDSIGNEDINEXAMPLE", "signed-in/secret"),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let local = notes_server()
        .iam_credentials(ROLES[0].0, ROLES[0].1, Some("guest-session".into()))
        .iam_credentials(ROLES[1].0, ROLES[1].1, Some("user-session".into()))
        // `adminStats` is for the user pool's `admins` group only (`cognito_groups`).
        .resolver("Query", "adminStats", |_| async {
            Ok(json!("{\"notes\":2}"))
        })
        .start()
        .await?;
    let cognito = stand_in_cognito(&local).await?;

    // The session (user pool) and the identity-pool credentials; with a real backend:
    // UserPoolSession::from_config(config.auth()) and IdentityPoolCredentials::from_config(..).
    let session = UserPoolSession::builder()
        .pool_id(POOL)
        .client_id(CLIENT)
        .flow(SignInFlow::UserPassword) // the stand-in does not do SRP, Cognito's default
        .endpoint(&cognito)
        .build()?;
    let credentials = IdentityPoolCredentials::builder()
        .pool_id(IDENTITY_POOL)
        .allow_guest(true)
        .session(&session)
        .endpoint(&cognito)
        .build()?;
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("notes", local.graphql_url())
                .authorization_type(AuthMode::ApiKey)
                .api_key(API_KEY)
                .region(local.region())
                .additional_auth_modes([AuthMode::Iam, AuthMode::UserPools]),
        )
        .build()?;
    let client = Client::builder()
        .config(config)
        .cognito(&session) // user-pool tokens, and sign-in/out switch the client at once
        .credentials_provider(credentials.clone()) // guest, then signed-in credentials
        .auth_strategy(AuthStrategy::Multi) // user pools when signed in, else IAM
        .build()?;

    let mut notes = client
        .subscribe_graphql(GraphQLRequest::new(
            "subscription { onCreateNote { id content } }",
        ))
        .auth_mode(AuthMode::Iam)
        .start()
        .await?;
    let create = |content: &str| {
        client
            .graphql(
                GraphQLRequest::new(
                    "mutation($c: String!) { createNote(input: {content: $c}) { id content } }",
                )
                .variables(json!({ "c": content })),
            )
            .auth_mode(AuthMode::Iam)
            .send()
    };

    println!("guest: identity {:?}", credentials.identity_id());
    create("written by the guest").await?;
    print_event(&mut notes).await?;
    let r = client
        .graphql(GraphQLRequest::new("{ listNotes { items { content } } }"))
        .send()
        .await?;
    println!(
        "guest (multi-auth picked IAM): {}",
        r.data.unwrap_or_default()
    );

    match session.sign_in("alice", "Correct-h0rse").await? {
        SignInOutcome::SignedIn => println!("signed in as {:?}", session.username()),
        other => return Err(format!("unexpected challenge: {other:?}").into()),
    }
    // The IAM socket reconnects with the signed-in credentials; the subscription resumes.
    print_event(&mut notes).await?;
    println!("signed in: identity {:?} (kept)", credentials.identity_id());
    create("written after sign-in").await?;
    print_event(&mut notes).await?;
    let r = client
        .graphql(GraphQLRequest::new("{ adminStats }"))
        .auth_mode(AuthMode::UserPools)
        .token_kind(TokenKind::Id) // the ID token's groups reach `cognito_groups` rules
        .send()
        .await?;
    println!(
        "user pools with the ID token: {} {:?}",
        r.data.unwrap_or_default(),
        r.errors.first().map(|e| &e.message)
    );
    let r = client
        .graphql(GraphQLRequest::new("{ listNotes { items { content } } }"))
        .send()
        .await?;
    println!(
        "signed in (multi-auth picked user pools): {}",
        r.data.unwrap_or_default()
    );

    session.sign_out().await;
    print_event(&mut notes).await?;
    println!(
        "signed out: a new guest identity {:?}",
        credentials.identity_id()
    );
    drop(local);
    Ok(())
}

/// Prints the next subscription event (within 10 s).
async fn print_event(
    notes: &mut appsync_client::Subscription<Value>,
) -> Result<(), Box<dyn std::error::Error>> {
    match tokio::time::timeout(Duration::from_secs(10), notes.next()).await? {
        Some(Ok(SubscriptionEvent::Data(r))) => println!("  event: {}", r.data.unwrap_or_default()),
        Some(Ok(SubscriptionEvent::Resumed { gap })) => {
            println!("  subscription resumed after {gap:?}")
        }
        Some(Ok(other)) => println!("  {other:?}"),
        Some(Err(e)) => return Err(e.into()),
        None => return Err("the subscription ended".into()),
    }
    Ok(())
}

/// Cognito's two services, in-process, just enough for this example: the password and refresh
/// flows (tokens minted by appsync-local for its pool, with the group `admins`), `GetId`, and
/// credentials per role (the guest's without `Logins`, the user's with the ID token in them).
async fn stand_in_cognito(local: &LocalAppSync) -> Result<String, Box<dyn std::error::Error>> {
    let tokens: Vec<(String, String)> = (0..4)
        .map(|i| {
            let t = || {
                local
                    .user_pool_token("alice")
                    .groups(["admins"])
                    .claims(json!({"jti": i}))
            };
            (t().mint(), t().id_token().mint())
        })
        .collect();
    let tokens = Arc::new(Mutex::new(tokens));
    let ids = Arc::new(Mutex::new(0u32));
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (tokens, ids) = (tokens.clone(), ids.clone());
            async move {
                let body: Value = serde_json::from_str(&body).unwrap_or_default();
                let target = headers
                    .get("x-amz-target")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let reply = match target {
                    "AWSCognitoIdentityProviderService.InitiateAuth" => {
                        let p = &body["AuthParameters"];
                        let ok = p["PASSWORD"] == "Correct-h0rse" || p["REFRESH_TOKEN"] == "refresh";
                        match (ok, tokens.lock().unwrap().pop()) {
                            (true, Some((access, id))) => json!({"AuthenticationResult": {
                                "AccessToken": access, "IdToken": id, "RefreshToken": "refresh",
                                "ExpiresIn": 3600, "TokenType": "Bearer"}}),
                            _ => json!({"__type": "NotAuthorizedException", "message": "Incorrect username or password."}),
                        }
                    }
                    "AWSCognitoIdentityProviderService.RevokeToken" => json!({}),
                    "AWSCognitoIdentityService.GetId" => {
                        let mut n = ids.lock().unwrap();
                        *n += 1;
                        json!({"IdentityId": format!("us-east-1:example-{n}")})
                    }
                    "AWSCognitoIdentityService.GetCredentialsForIdentity" => {
                        let (akid, secret) = ROLES[usize::from(body.get("Logins").is_some())];
                        let session = if body.get("Logins").is_some() { "user-session" } else { "guest-session" };
                        let exp = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_secs() + 3600)
                            .unwrap_or_default();
                        json!({"IdentityId": body["IdentityId"], "Credentials": {
                            "AccessKeyId": akid, "SecretKey": secret, "SessionToken": session,
                            "Expiration": exp}})
                    }
                    _ => json!({"__type": "UnknownOperationException", "message": target}),
                };
                let status = if reply.get("__type").is_some() { 400 } else { 200 };
                (
                    axum::http::StatusCode::from_u16(status).unwrap_or_default(),
                    reply.to_string(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}
