//! appsync-client's realtime subscriptions against AWS's AppSync simulator
//! (`@aws-amplify/amplify-appsync-simulator` from npm, run by `interop/simulator/server.js`):
//! API key, Cognito-style JWT, OIDC and IAM subscriptions receive the event of an HTTP
//! mutation.
//!
//! The simulator reads the handshake's authorization only from the `header=` query, so these
//! clients use [`HandshakeMethod::Query`]; it acknowledges with `connectionTimeout` (not
//! `connectionTimeoutMs`), sends its first `ka` after minutes, and adds `payload: {}` to
//! `start_ack`. Each test starts its own simulator; `node` and `npm` must be on PATH.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use appsync_client::{
    AuthMode, Client, Config, EndpointConfig, GraphQLRequest, HandshakeMethod, RealtimeOptions,
    StaticToken, Subscription, SubscriptionEvent,
};
use aws_credential_types::Credentials;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::StreamExt;
use serde_json::{json, Value};
use support::simulator::{Simulator, API_KEY, OIDC_CLIENT_ID, OIDC_ISSUER, USER_POOL_ISSUER};

const WAIT: Duration = Duration::from_secs(20);
const ON_CREATE: &str = "subscription OnCreate { onCreateNote { id content } }";
const CREATE: &str =
    "mutation Create($id: ID!, $content: String!) { createNote(id: $id, content: $content) { id content } }";

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// An unsigned JWT: the simulator checks no signature.
fn jwt(claims: Value) -> String {
    format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn user_pool_jwt() -> String {
    jwt(json!({
        "sub": "user-1", "iss": USER_POOL_ISSUER, "client_id": "interop-app-client",
        "username": "alice", "token_use": "access",
        "iat": now_secs(), "exp": now_secs() + 3600,
    }))
}

fn oidc_jwt() -> String {
    jwt(json!({
        "sub": "oidc-user-1", "iss": OIDC_ISSUER, "aud": OIDC_CLIENT_ID,
        "iat": now_secs(), "exp": now_secs() + 3600,
    }))
}

/// One endpoint on the simulator (API_KEY default, the other checked modes enabled), with the
/// query-string handshake the simulator needs.
fn client(sim: &Simulator, handshake: HandshakeMethod) -> Client {
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("notes", sim.graphql_url())
                .authorization_type(AuthMode::ApiKey)
                .api_key(API_KEY)
                .region("us-east-1")
                .additional_auth_modes([AuthMode::Iam, AuthMode::UserPools, AuthMode::Oidc]),
        )
        .build()
        .expect("valid config");
    Client::builder()
        .config(config)
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            Some("session".to_owned()),
            None,
            "test",
        ))
        .token_provider(AuthMode::UserPools, StaticToken::new(user_pool_jwt()))
        .token_provider(AuthMode::Oidc, StaticToken::new(oidc_jwt()))
        .realtime(RealtimeOptions::new().handshake(handshake))
        .build()
        .expect("valid client")
}

async fn subscribe(client: &Client, sim: &Simulator, mode: AuthMode) -> Subscription<Value> {
    tokio::time::timeout(
        WAIT,
        client
            .subscribe_graphql(GraphQLRequest::new(ON_CREATE))
            .auth_mode(mode)
            .start(),
    )
    .await
    .unwrap_or_else(|_| panic!("{mode}: no start_ack\n{}", sim.stderr()))
    .unwrap_or_else(|e| panic!("{mode}: subscribe failed: {e:?}\n{}", sim.stderr()))
}

async fn create(client: &Client, sim: &Simulator, id: &str) {
    let r = client
        .graphql(
            GraphQLRequest::new(CREATE)
                .variables(json!({"id": id, "content": format!("from {id}")})),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("createNote failed: {e:?}\n{}", sim.stderr()));
    assert_eq!(r.data.unwrap()["createNote"]["id"], id);
}

async fn expect_note(sub: &mut Subscription<Value>, sim: &Simulator, id: &str) {
    let ev = tokio::time::timeout(WAIT, sub.next())
        .await
        .unwrap_or_else(|_| panic!("no event for {id}\n{}", sim.stderr()))
        .expect("the subscription goes on")
        .unwrap_or_else(|e| panic!("subscription error: {e:?}"));
    match ev {
        SubscriptionEvent::Data(r) => {
            assert!(r.errors.is_empty(), "{:?}", r.errors);
            assert_eq!(
                r.data.unwrap()["onCreateNote"],
                json!({"id": id, "content": format!("from {id}")})
            );
        }
        other => panic!("expected data, got {other:?}"),
    }
}

async fn receives_in(mode: AuthMode) {
    let sim = Simulator::start();
    let client = client(&sim, HandshakeMethod::Query);
    let mut sub = subscribe(&client, &sim, mode).await;
    let id = format!("rt-{}", mode.as_str().to_lowercase());
    create(&client, &sim, &id).await;
    expect_note(&mut sub, &sim, &id).await;
    // A second event on the same subscription, and a stop when it is dropped.
    create(&client, &sim, &format!("{id}-2")).await;
    expect_note(&mut sub, &sim, &format!("{id}-2")).await;
}

#[tokio::test]
async fn api_key_subscription_receives_the_event_of_a_mutation() {
    receives_in(AuthMode::ApiKey).await;
}

#[tokio::test]
async fn user_pool_jwt_subscription_receives_the_event_of_a_mutation() {
    receives_in(AuthMode::UserPools).await;
}

#[tokio::test]
async fn oidc_subscription_receives_the_event_of_a_mutation() {
    receives_in(AuthMode::Oidc).await;
}

#[tokio::test]
async fn iam_subscription_receives_the_event_of_a_mutation() {
    receives_in(AuthMode::Iam).await;
}

#[tokio::test]
async fn every_mode_at_once_on_one_client() {
    let sim = Simulator::start();
    let client = client(&sim, HandshakeMethod::Query);
    let mut subs = Vec::new();
    for mode in [
        AuthMode::ApiKey,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Iam,
    ] {
        subs.push(subscribe(&client, &sim, mode).await);
    }
    create(&client, &sim, "all-modes").await;
    for sub in &mut subs {
        expect_note(sub, &sim, "all-modes").await;
    }
}

#[tokio::test]
async fn the_simulator_refuses_the_subprotocol_handshake_which_is_why_the_query_exists() {
    let sim = Simulator::start();
    let client = client(&sim, HandshakeMethod::Subprotocol);
    let e = tokio::time::timeout(
        WAIT,
        client
            .subscribe_graphql(GraphQLRequest::new(ON_CREATE))
            .start(),
    )
    .await
    .expect("an answer")
    .unwrap_err();
    assert!(e.is_realtime(), "{e:?}");
    assert!(e.to_string().contains("1002"), "closed with 1002: {e}");
    assert!(!e.to_string().contains(API_KEY));
}
