//! Our Events client and Amplify JS v6's (`aws-amplify` from npm, run by Node,
//! `interop/amplify-js/events.mjs`) on one appsync-local Event API over HTTPS and WSS, both
//! configured from the `amplify_outputs.json` it writes: Amplify subscribes while we publish
//! (over HTTP and over our socket), and we subscribe while Amplify publishes (`channel.publish`
//! over its socket, `events.post` over HTTP), in API key, IAM and user-pool modes (each side
//! signing IAM on its own, the server checking both).

#[path = "../../interop/amplify-js/events_node.rs"]
mod events_node;

use std::time::Duration;

use appsync_client::{AuthMode, ChannelEvent, ChannelSubscription, Client, Config, StaticToken};
use appsync_local::{AuthMode as LocalMode, EventApi, LocalAppSync};
use aws_credential_types::Credentials;
use futures_util::StreamExt;
use serde_json::{json, Value};

use events_node::{ensure_installed, Node, TempFiles};

const KEY: &str = "da2-rustamplifyeventskey000000";
const AKID: &str = "AKIDRUSTAMPLIFYEVENTS";
const SECRET: &str = "rust/amplify/events/secret";
const TOKEN: &str = "rust-amplify-events-session-token";

async fn server() -> LocalAppSync {
    let modes = [LocalMode::ApiKey, LocalMode::Iam, LocalMode::UserPools];
    LocalAppSync::builder()
        .events(
            EventApi::new()
                .connection_auth_modes(modes)
                .default_publish_auth_modes(modes)
                .default_subscribe_auth_modes(modes)
                .namespace("default"),
        )
        .api_key(KEY)
        .iam_credentials(AKID, SECRET, Some(TOKEN.to_owned()))
        .user_pool("us-east-1_rustamplify", "rustamplifyclient")
        .keep_alive_interval(Duration::from_secs(1))
        .tls(true)
        .start()
        .await
        .expect("appsync-local starts")
}

/// Our client, from the same `amplify_outputs.json`, trusting the server's certificate.
fn client(local: &LocalAppSync, outputs: &std::path::Path, user_pool_token: String) -> Client {
    let cert = reqwest::Certificate::from_pem(local.tls_certificate_pem().unwrap().as_bytes())
        .expect("the server's certificate");
    let http = reqwest::Client::builder()
        .add_root_certificate(cert.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let realtime = reqwest::Client::builder()
        .add_root_certificate(cert)
        .http1_only()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Client::builder()
        .config(Config::from_path(outputs).expect("the written outputs"))
        .http_client(http)
        .realtime_http_client(realtime)
        .credentials_provider(Credentials::new(
            AKID,
            SECRET,
            Some(TOKEN.to_owned()),
            None,
            "test",
        ))
        .token_provider(AuthMode::UserPools, StaticToken::new(user_pool_token))
        .build()
        .expect("a client")
}

async fn next_event(s: &mut ChannelSubscription<Value>) -> Value {
    let item = tokio::time::timeout(Duration::from_secs(30), s.next())
        .await
        .expect("an event within 30 s")
        .expect("the stream goes on")
        .unwrap_or_else(|e| panic!("{e}"));
    match item {
        ChannelEvent::Event(e) => e,
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_and_amplify_js_publish_to_and_subscribe_from_each_other() {
    ensure_installed();
    let local = server().await;
    let tmp = std::env::temp_dir();
    let pid = std::process::id();
    let cert = tmp.join(format!("appsync-client-events-cert-{pid}.pem"));
    let outputs = tmp.join(format!("appsync-client-events-outputs-{pid}.json"));
    let _files = TempFiles(vec![cert.clone(), outputs.clone()]);
    std::fs::write(&cert, local.tls_certificate_pem().unwrap()).unwrap();
    local.write_amplify_outputs(&outputs).unwrap();
    let user_pool_token = local.user_pool_token("alice").mint();
    let rust = client(&local, &outputs, user_pool_token.clone());
    let events = rust.events("events");

    for (amplify_mode, mode) in [
        ("apiKey", AuthMode::ApiKey),
        ("iam", AuthMode::Iam),
        ("userPool", AuthMode::UserPools),
    ] {
        let mut envs = vec![
            ("AMPLIFY_OUTPUTS", outputs.display().to_string()),
            ("NODE_EXTRA_CA_CERTS", cert.display().to_string()),
            ("AUTH_MODE", amplify_mode.to_owned()),
            ("SUBSCRIBE", r#"["default/from-rust"]"#.to_owned()),
        ];
        match mode {
            AuthMode::Iam => envs.extend([
                ("AWS_ACCESS_KEY_ID", AKID.to_owned()),
                ("AWS_SECRET_ACCESS_KEY", SECRET.to_owned()),
                ("AWS_SESSION_TOKEN", TOKEN.to_owned()),
            ]),
            AuthMode::UserPools => envs.push(("USER_POOL_TOKEN", user_pool_token.clone())),
            _ => {}
        }
        let mut node = Node::start(&envs);
        let s = node.step("subscribed").await;
        assert_eq!(s["ok"], true, "{mode}: {s}");
        node.step("ready").await;

        // We publish; Amplify receives. Characters JSON escapes are where IAM's signed bodies
        // could differ between the two sides.
        let text = "<b>\"q\" \\ é ✓ \n \u{1} 😀 \u{2028}</b>";
        let over_http = json!({"from": "rust-http", "mode": mode.as_str(), "text": text});
        let r = events
            .publish("/default/from-rust", [&over_http])
            .auth_mode(mode)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(r.all_accepted(), "{mode}: {r:?}");
        assert_eq!(node.event("default/from-rust").await, over_http, "{mode}");
        let over_socket = json!({"from": "rust-socket", "mode": mode.as_str(), "text": text});
        events
            .publish("/default/from-rust", [&over_socket])
            .auth_mode(mode)
            .over_socket()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{mode} over the socket: {e}"));
        assert_eq!(node.event("default/from-rust").await, over_socket, "{mode}");

        // Amplify publishes; we receive, over a wildcard.
        let mut sub = events
            .subscribe::<Value>("/default/from-amplify/*")
            .auth_mode(mode)
            .start()
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        let ws = json!({"from": "amplify-ws", "mode": amplify_mode, "text": text});
        let r = node
            .run(json!({"cmd": "publish", "channel": "default/from-amplify/ws", "events": ws}))
            .await;
        assert_eq!(r["ok"], true, "{mode}: {r}");
        assert_eq!(next_event(&mut sub).await, ws, "{mode}");
        let batch = json!([{"n": 1}, "two", 3]);
        let r = node
            .run(json!({"cmd": "post", "channel": "default/from-amplify/http", "events": batch}))
            .await;
        assert_eq!(r["ok"], true, "{mode}: {r}");
        for want in [json!({"n": 1}), json!("two"), json!(3)] {
            assert_eq!(next_event(&mut sub).await, want, "{mode}");
        }
        assert_eq!(node.run(json!({"cmd": "exit"})).await["ok"], true);
    }
}
