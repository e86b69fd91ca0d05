//! A real Events client no one here wrote: Amplify JS v6 (`aws-amplify` from npm, run by Node,
//! `interop/amplify-js/events.mjs`) against appsync-local's Event API over HTTPS and WSS, as
//! Amplify always dials, configured from the `amplify_outputs.json` appsync-local writes
//! (`custom.events`). In API key, IAM (Amplify's own SigV4, verified by the server) and user
//! pool modes: `events.connect` + `channel.subscribe` (a channel and a `/*` wildcard) receive
//! what a raw HTTPS client posts, what Amplify publishes over the socket (`channel.publish`)
//! and over HTTP (`events.post`); AppSync's refusals reach Amplify as its users see them.
//!
//! Node runs as a child process driven by JSON lines on stdin; the test waits for its stdout
//! lines (never sleeps) and kills it by pid when dropped.

#[path = "../../interop/amplify-js/events_node.rs"]
mod events_node;

use std::time::Duration;

use appsync_local::{AuthMode, ChannelNamespace, EventApi, LocalAppSync};
use serde_json::{json, Value};

use events_node::{ensure_installed, Node, TempFiles};

const KEY: &str = "da2-amplifyjseventskey00000000";
const AKID: &str = "AKIDAMPLIFYJSEVENTS";
const SECRET: &str = "amplify/js/events/secret";
const TOKEN: &str = "amplify-js-events-session-token";

/// An Event API over TLS: API key, IAM and user pools connect, publish and subscribe on
/// `default`; `iam` is IAM only.
async fn server() -> LocalAppSync {
    let modes = [AuthMode::ApiKey, AuthMode::Iam, AuthMode::UserPools];
    LocalAppSync::builder()
        .events(
            EventApi::new()
                .connection_auth_modes(modes)
                .default_publish_auth_modes(modes)
                .default_subscribe_auth_modes(modes)
                .namespace("default")
                .namespace(
                    ChannelNamespace::new("iam")
                        .publish_auth_modes([AuthMode::Iam])
                        .subscribe_auth_modes([AuthMode::Iam]),
                ),
        )
        .api_key(KEY)
        .iam_credentials(AKID, SECRET, Some(TOKEN.to_owned()))
        .user_pool("us-east-1_amplifyjs", "amplifyjsclient")
        .keep_alive_interval(Duration::from_secs(1))
        .tls(true)
        .start()
        .await
        .unwrap()
}

/// A raw HTTPS publisher (API key), trusting the server's certificate.
async fn raw_post(local: &LocalAppSync, channel: &str, events: &[Value]) -> Value {
    let cert =
        reqwest::Certificate::from_pem(local.tls_certificate_pem().unwrap().as_bytes()).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(cert)
        .build()
        .unwrap();
    let events: Vec<String> = events.iter().map(Value::to_string).collect();
    let r = http
        .post(local.events_url())
        .header("x-api-key", KEY)
        .header("content-type", "application/json")
        .body(json!({"channel": channel, "events": events}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amplify_js_subscribes_publishes_and_posts_in_api_key_iam_and_user_pool_modes() {
    ensure_installed();
    let local = server().await;
    let tmp = std::env::temp_dir();
    let pid = std::process::id();
    let cert = tmp.join(format!("appsync-local-events-cert-{pid}.pem"));
    let outputs = tmp.join(format!("appsync-local-events-outputs-{pid}.json"));
    let _files = TempFiles(vec![cert.clone(), outputs.clone()]);
    std::fs::write(&cert, local.tls_certificate_pem().unwrap()).unwrap();
    local.write_amplify_outputs(&outputs).unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(&outputs).unwrap()).unwrap();
    assert_eq!(written["custom"]["events"]["url"], local.events_url());
    assert!(local.events_url().starts_with("https://127.0.0.1:"));

    for mode in ["apiKey", "iam", "userPool"] {
        let mut envs = vec![
            ("AMPLIFY_OUTPUTS", outputs.display().to_string()),
            ("NODE_EXTRA_CA_CERTS", cert.display().to_string()),
            ("AUTH_MODE", mode.to_owned()),
            // A channel as Amplify's docs write them (no leading slash), and a wildcard.
            (
                "SUBSCRIBE",
                r#"["default/amplify", "default/*"]"#.to_owned(),
            ),
        ];
        // WIRE_LOG=1 cargo test … -- --nocapture shows every frame Amplify sends and receives.
        let wire_log = std::env::var_os("WIRE_LOG").is_some();
        if wire_log {
            envs.push(("WIRE_LOG", "1".to_owned()));
        }
        match mode {
            "iam" => envs.extend([
                ("AWS_ACCESS_KEY_ID", AKID.to_owned()),
                ("AWS_SECRET_ACCESS_KEY", SECRET.to_owned()),
                ("AWS_SESSION_TOKEN", TOKEN.to_owned()),
            ]),
            "userPool" => envs.push(("USER_POOL_TOKEN", local.user_pool_token("alice").mint())),
            _ => {}
        }
        let mut node = Node::start(&envs);
        for channel in ["default/amplify", "default/*"] {
            let s = node
                .wait("subscribed", |v| {
                    v["step"] == "subscribed" && v["channel"] == channel
                })
                .await;
            assert_eq!(s["ok"], true, "{mode}: {s}");
        }
        node.step("ready").await;

        // A raw client publishes; both of Amplify's subscriptions receive it.
        let from_rust = json!({"from": "rust", "mode": mode});
        raw_post(&local, "/default/amplify", std::slice::from_ref(&from_rust)).await;
        assert_eq!(node.event("default/amplify").await, from_rust, "{mode}");
        assert_eq!(node.event("default/*").await, from_rust, "{mode}");

        // Amplify publishes over the socket.
        // Characters JSON escapes (or not) are where an IAM body rebuilt by the server could
        // differ from the one Amplify signed (JSON.stringify).
        let tricky = "<b>\"q\" \\ é ✓ \n \u{1} \u{7f} 😀 \u{2028}</b>";
        let over_ws = json!({"from": "amplify-ws", "mode": mode, "text": tricky});
        let r = node
            .run(json!({"cmd": "publish", "channel": "default/amplify", "events": over_ws}))
            .await;
        assert_eq!(r["ok"], true, "{mode}: {r}");
        assert_eq!(node.event("default/amplify").await, over_ws, "{mode}");
        assert_eq!(node.event("default/*").await, over_ws, "{mode}");

        // Amplify posts a batch over HTTP to a deeper channel: only the wildcard gets it.
        let batch = json!([{"n": 1}, {"n": 2}, "three"]);
        let r = node
            .run(json!({"cmd": "post", "channel": "default/amplify/deep", "events": batch}))
            .await;
        assert_eq!(
            r,
            json!({"step": "post", "ok": true, "failed": []}),
            "{mode}"
        );
        for want in [json!({"n": 1}), json!({"n": 2}), json!("three")] {
            assert_eq!(node.event("default/*").await, want, "{mode}");
        }
        let marker = json!({"marker": mode});
        raw_post(&local, "/default/amplify", std::slice::from_ref(&marker)).await;
        assert_eq!(
            node.event("default/amplify").await,
            marker,
            "{mode}: the exact channel got nothing from default/amplify/deep"
        );
        assert_eq!(node.event("default/*").await, marker);

        // AppSync's refusals, as Amplify reports them.
        let r = node
            .run(json!({"cmd": "post", "channel": "nope/x", "events": 1}))
            .await;
        assert_eq!(r["ok"], false, "{mode}: {r}");
        assert_eq!(r["error"]["name"], "NotFoundException", "{mode}: {r}");
        let r = node
            .run(json!({"cmd": "publish", "channel": "nope/x", "events": 1}))
            .await;
        assert_eq!(
            r["error"]["message"], "Publish errors: ResourceNotFound",
            "{mode}: {r}"
        );
        node.send(json!({"cmd": "subscribe", "channel": "nope/x"}));
        let s = node
            .wait("subscribed nope/x", |v| {
                v["step"] == "subscribed" && v["channel"] == "nope/x"
            })
            .await;
        assert_eq!(s["ok"], false, "{mode}: {s}");
        let m = s["error"]["message"].as_str().unwrap_or_default();
        assert!(m.contains("ResourceNotFound"), "{mode}: {s}");
        // A namespace that only IAM may use.
        let r = node
            .run(json!({"cmd": "post", "channel": "iam/x", "events": 1}))
            .await;
        node.send(json!({"cmd": "subscribe", "channel": "iam/x"}));
        let s = node
            .wait("subscribed iam/x", |v| {
                v["step"] == "subscribed" && v["channel"] == "iam/x"
            })
            .await;
        if mode == "iam" {
            assert_eq!(r["ok"], true, "{r}");
            assert_eq!(s["ok"], true, "{s}");
        } else {
            assert_eq!(r["error"]["name"], "UnauthorizedException", "{mode}: {r}");
            let m = s["error"]["message"].as_str().unwrap_or_default();
            assert!(m.contains("UnauthorizedException"), "{mode}: {s}");
        }
        // The socket survived every refusal: a last publish still goes through.
        let last = json!({"last": mode});
        let r = node
            .run(json!({"cmd": "publish", "channel": "default/amplify", "events": last}))
            .await;
        assert_eq!(r["ok"], true, "{mode}: {r}");
        assert_eq!(node.event("default/amplify").await, last, "{mode}");
        assert_eq!(node.run(json!({"cmd": "exit"})).await["ok"], true);
        if wire_log {
            eprintln!("{mode}:\n{}", node.stderr.lock().unwrap());
        }
    }
}
