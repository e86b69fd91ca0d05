//! AppSync Events against appsync-local: publish over HTTP and over the socket and subscribe in
//! every auth mode (IAM signatures recomputed by the server), wildcards, the limits checked
//! before sending, namespaces the server refuses, reconnection with resubscription and a gap
//! report, 100+ subscriptions on one socket, and a Gen2 `custom.events` config.

mod support;

use std::time::Duration;

use appsync_client::{
    AuthMode, ChannelEvent, ChannelSubscription, Client, ClientBuilder, Config, EndpointConfig,
    StaticToken,
};
use appsync_local::{
    AuthMode as LocalMode, ChannelNamespace, EventApi, LambdaAuthResponse, LocalAppSync,
};
use aws_credential_types::Credentials;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use support::local::{AKID, API_KEY, CLIENT_ID, ISSUER, LAMBDA_TOKEN, POOL, SECRET, SESSION};

const MODES: [AuthMode; 5] = [
    AuthMode::ApiKey,
    AuthMode::Iam,
    AuthMode::UserPools,
    AuthMode::Oidc,
    AuthMode::Lambda,
];

/// An Events-only server: every mode connects, publishes and subscribes on `default` and
/// `other`; `iam` is IAM only; `admins` lets user pools in group `admins` subscribe.
async fn server() -> LocalAppSync {
    let all = [
        LocalMode::ApiKey,
        LocalMode::UserPools,
        LocalMode::Oidc,
        LocalMode::Iam,
        LocalMode::Lambda,
    ];
    LocalAppSync::builder()
        .default_auth_mode(LocalMode::ApiKey)
        .api_key(API_KEY)
        .user_pool(POOL, CLIENT_ID)
        .oidc_issuer(ISSUER, Some(CLIENT_ID.to_owned()))
        .iam_credentials(AKID, SECRET, Some(SESSION.to_owned()))
        .lambda_authorizer(|req| async move {
            if req.authorization_token == LAMBDA_TOKEN {
                LambdaAuthResponse::allow()
            } else {
                LambdaAuthResponse::deny()
            }
        })
        .keep_alive_interval(Duration::from_millis(200))
        .events(
            EventApi::new()
                .connection_auth_modes(all)
                .default_publish_auth_modes(all)
                .default_subscribe_auth_modes(all)
                .namespace("default")
                .namespace("other")
                .namespace(
                    ChannelNamespace::new("iam")
                        .publish_auth_modes([LocalMode::Iam])
                        .subscribe_auth_modes([LocalMode::Iam]),
                )
                .namespace(
                    ChannelNamespace::new("admins")
                        .publish_auth_modes([LocalMode::ApiKey])
                        .subscribe_auth_modes([LocalMode::UserPools])
                        .subscribe_groups(["admins"]),
                ),
        )
        .start()
        .await
        .expect("appsync-local starts")
}

/// A client with one Events endpoint `chat` on the server and credentials for every mode.
fn client_builder(local: &LocalAppSync) -> ClientBuilder {
    client_builder_as(local, local.user_pool_token("alice").mint())
}

/// [`client_builder`] with this user-pool token.
fn client_builder_as(local: &LocalAppSync, user_pool_token: String) -> ClientBuilder {
    let config = Config::builder()
        .endpoint(
            EndpointConfig::events("chat", local.events_url())
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
        .expect("a valid config");
    Client::builder()
        .config(config)
        .credentials_provider(Credentials::new(
            AKID,
            SECRET,
            Some(SESSION.to_owned()),
            None,
            "test",
        ))
        .token_provider(AuthMode::UserPools, StaticToken::new(user_pool_token))
        .token_provider(
            AuthMode::Oidc,
            StaticToken::new(local.oidc_token("bob").mint()),
        )
        .token_provider(AuthMode::Lambda, StaticToken::new(LAMBDA_TOKEN))
}

fn client(local: &LocalAppSync) -> Client {
    client_builder(local).build().expect("a client")
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Message {
    from: String,
    n: u32,
}

fn msg(from: &str, n: u32) -> Message {
    Message {
        from: from.to_owned(),
        n,
    }
}

/// The next item, within 10 s (a hang fails the test rather than stalling it).
async fn next<T: serde::de::DeserializeOwned>(s: &mut ChannelSubscription<T>) -> ChannelEvent<T> {
    tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .expect("an item within 10 s")
        .expect("the stream goes on")
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn next_event<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    s: &mut ChannelSubscription<T>,
) -> T {
    match next(s).await {
        ChannelEvent::Event(e) => e,
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test]
async fn every_mode_publishes_over_http_and_the_socket_and_subscribes() {
    let local = server().await;
    let client = client(&local);
    let chat = client.events("chat");
    for mode in MODES {
        let mut sub = chat
            .subscribe::<Message>("/default/room")
            .auth_mode(mode)
            .start()
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert_eq!(sub.auth_mode(), mode);
        let r = chat
            .publish("/default/room", [msg("http", 1), msg("http", 2)])
            .auth_mode(mode)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{mode} over HTTP: {e}"));
        assert!(r.all_accepted(), "{mode}: {r:?}");
        assert_eq!(r.successful.len(), 2);
        assert_eq!(next_event(&mut sub).await, msg("http", 1));
        assert_eq!(next_event(&mut sub).await, msg("http", 2));
        // Over the socket the subscription uses.
        let r = chat
            .publish("/default/room", [msg("socket", 3)])
            .over_socket()
            .auth_mode(mode)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{mode} over the socket: {e}"));
        assert_eq!(r.successful.len(), 1, "{mode}: {r:?}");
        assert_eq!(next_event(&mut sub).await, msg("socket", 3));
    }
}

#[tokio::test]
async fn wildcards_cover_the_channels_below_and_nothing_else() {
    let local = server().await;
    let client = client(&local);
    let chat = client.events_default();
    let mut all = chat.subscribe::<Value>("/default/*").start().await.unwrap();
    let mut one = chat
        .subscribe::<Value>("/default/a/b")
        .start()
        .await
        .unwrap();
    chat.publish("/other/x", [json!("elsewhere")])
        .send()
        .await
        .unwrap();
    chat.publish("/default/a/b", [json!("deep")])
        .send()
        .await
        .unwrap();
    chat.publish("/default/c", [json!("near")])
        .send()
        .await
        .unwrap();
    assert_eq!(next_event(&mut all).await, json!("deep"));
    assert_eq!(next_event(&mut all).await, json!("near"));
    assert_eq!(next_event(&mut one).await, json!("deep"));
    // `/other/x` reached neither; `/default/c` not the exact one.
    chat.publish("/default/a/b", [json!("again")])
        .send()
        .await
        .unwrap();
    assert_eq!(next_event(&mut one).await, json!("again"));
}

#[tokio::test]
async fn limits_and_channels_are_checked_before_sending() {
    let local = server().await;
    let client = client(&local);
    let chat = client.events("chat");
    let six: Vec<u32> = (0..6).collect();
    for call in [
        chat.publish("/default/room", &six),
        chat.publish("/default/room", Vec::<u32>::new()),
        chat.publish("/default/*", [1]),
        chat.publish("/default/a b", [1]),
        chat.publish("/a/b/c/d/e/f", [1]),
    ] {
        let e = call.send().await.unwrap_err();
        assert!(e.is_request(), "{e:?}");
    }
    for bad in ["/default/a*", "/*", "//x", "/default/é"] {
        let e = chat.subscribe::<Value>(bad).start().await.unwrap_err();
        assert!(e.is_request(), "{bad}: {e:?}");
    }
}

#[tokio::test]
async fn namespaces_the_server_refuses_are_errors_with_its_error_type() {
    let local = server().await;
    let client = client(&local);
    let chat = client.events("chat");
    // `iam` is IAM only: API key is refused, both ways.
    let e = chat.subscribe::<Value>("/iam/x").start().await.unwrap_err();
    assert!(
        e.error_type().is_some_and(|t| t.contains("Unauthorized")),
        "{e:?}"
    );
    let e = chat.publish("/iam/x", [1]).send().await.unwrap_err();
    assert_eq!(e.status_code().map(|s| s.as_u16()), Some(401), "{e:?}");
    let e = chat
        .publish("/iam/x", [1])
        .over_socket()
        .send()
        .await
        .unwrap_err();
    assert!(
        e.error_type().is_some_and(|t| t.contains("Unauthorized")),
        "{e:?}"
    );
    // IAM may.
    let mut sub = chat
        .subscribe::<Value>("/iam/x")
        .auth_mode(AuthMode::Iam)
        .start()
        .await
        .unwrap();
    chat.publish("/iam/x", [json!({"ok": true})])
        .auth_mode(AuthMode::Iam)
        .over_socket()
        .send()
        .await
        .unwrap();
    assert_eq!(next_event(&mut sub).await, json!({"ok": true}));
    // An unknown namespace.
    let e = chat.publish("/nowhere/x", [1]).send().await.unwrap_err();
    assert!(e.status_code().is_some(), "{e:?}");
    // Groups: alice is not in `admins`.
    let e = chat
        .subscribe::<Value>("/admins/x")
        .auth_mode(AuthMode::UserPools)
        .start()
        .await
        .unwrap_err();
    assert!(e.error_type().is_some(), "{e:?}");
    let admin = client_builder_as(
        &local,
        local.user_pool_token("root").groups(["admins"]).mint(),
    )
    .build()
    .unwrap();
    admin
        .events("chat")
        .subscribe::<Value>("/admins/x")
        .auth_mode(AuthMode::UserPools)
        .start()
        .await
        .expect("an admin subscribes");
}

#[tokio::test]
async fn a_lost_socket_is_reconnected_subscriptions_resume_and_the_gap_is_reported() {
    let local = server().await;
    let client = client(&local);
    let chat = client.events("chat");
    let mut sub = chat.subscribe::<Value>("/default/*").start().await.unwrap();
    chat.publish("/default/a", [1]).send().await.unwrap();
    assert_eq!(next_event(&mut sub).await, json!(1));
    local.faults().drop_all_sockets();
    match next(&mut sub).await {
        ChannelEvent::Resumed { .. } => {}
        other => panic!("expected Resumed, got {other:?}"),
    }
    chat.publish("/default/a", [2]).send().await.unwrap();
    assert_eq!(next_event(&mut sub).await, json!(2));
}

/// appsync-local allows 25 publishes a second per socket, as AppSync does; 150 in a row over one
/// socket are throttled (`LimitExceededError`), and the client sends those again later: a
/// refused publish was not delivered, so nothing is lost or doubled.
#[tokio::test]
async fn a_hundred_and_fifty_subscriptions_share_sockets_and_each_gets_its_events() {
    let local = server().await;
    let client = client(&local);
    let chat = client.events("chat");
    let mut subs = Vec::new();
    for i in 0..150 {
        subs.push(
            chat.subscribe::<Value>(format!("/default/c{i}"))
                .start()
                .await
                .unwrap_or_else(|e| panic!("subscription {i}: {e}")),
        );
    }
    for i in (0..150).step_by(5) {
        let batch: Vec<Value> = (i..i + 5).map(|k| json!(k)).collect();
        // One event per channel: five publishes, over the socket.
        for (k, e) in batch.into_iter().enumerate() {
            chat.publish(format!("/default/c{}", i + k), [e])
                .over_socket()
                .send()
                .await
                .unwrap();
        }
    }
    for (i, s) in subs.iter_mut().enumerate() {
        assert_eq!(next_event(s).await, json!(i));
    }
}

#[tokio::test]
async fn a_gen2_config_with_custom_events_reaches_the_event_api() {
    let local = server().await;
    let config = Config::from_json(&local.amplify_outputs()).expect("the server's outputs");
    let client = Client::builder().config(config).build().unwrap();
    let events = client.events("events");
    let mut sub = events
        .subscribe::<Value>("/default/x")
        .start()
        .await
        .unwrap();
    events.publish("/default/x", ["hi"]).send().await.unwrap();
    assert_eq!(next_event(&mut sub).await, json!("hi"));
}

#[tokio::test]
async fn a_partly_refused_batch_says_which_events_failed() {
    let local = server().await;
    let client = client(&local);
    // appsync-local refuses an event over 240 KB, one by one.
    let big = "x".repeat(250 * 1024);
    let r = client
        .events("chat")
        .publish("/default/x", [json!("small"), json!(big)])
        .send()
        .await;
    match r {
        Ok(r) => {
            assert_eq!(r.successful.len(), 1, "{r:?}");
            assert_eq!(r.failed.len(), 1, "{r:?}");
            assert_eq!(r.failed[0].index, 1);
        }
        // A server may refuse the whole publish instead; it must say why.
        Err(e) => assert!(e.status_code().is_some(), "{e:?}"),
    }
}
