//! AppSync Events over real sockets and HTTP: the handshake in every mode and carrier,
//! `subscribe`/`data`/`unsubscribe`/`publish` and `POST /event` in every mode (IAM signed by
//! `aws-sigv4` over the bodies AWS documents), wildcards, the limits (5 events, 240 KB, the
//! subscription cap, the publish rate), invalid channels and ids, unknown and unauthorized
//! namespaces, bad input, fault hooks, an Events-only server and its config files.
//!
//! Nothing here sleeps to synchronize: tests wait for frames. That something does *not*
//! arrive is shown by a marker event that must come after it.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use appsync_local::{AuthMode, ChannelNamespace, EventApi, LambdaAuthResponse, LocalAppSync};
use futures_util::SinkExt;
use serde_json::{json, Value};
use support::events::*;
use support::ws::{host, subprotocol_token, Mode, Next, Ws, API_KEY, MODES, PATIENCE};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Asserts an error frame of this type, id and `errorType`; returns its message.
fn error_of(f: &Value, ty: &str, id: Option<&str>, error_type: &str) -> String {
    assert_eq!(f["type"], ty, "{f}");
    match id {
        Some(id) => assert_eq!(f["id"], id, "{f}"),
        None => assert!(f.get("id").is_none(), "{f}"),
    }
    let errors = f["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors list: {f}"));
    assert_eq!(errors.len(), 1, "{f}");
    assert_eq!(errors[0]["errorType"], error_type, "{f}");
    errors[0]["message"].as_str().unwrap_or("").to_owned()
}

/// Waits for the close frame after a `connection_error`.
async fn expect_close(ws: &mut Ws) -> u16 {
    loop {
        match ws.next_within(PATIENCE).await {
            Next::Frame(f) if f["type"] == "ka" => {}
            Next::Close(Some(c)) => return u16::from(c.code),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Handshake

#[tokio::test]
async fn connect_in_every_mode_selects_the_events_subprotocol_and_acks_at_the_top_level() {
    let local = server().await;
    for mode in MODES {
        let mut ws = connect(&local, Handshake::Subprotocol(connect_auth(&local, mode)))
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(
            ws.response.headers()["sec-websocket-protocol"],
            PROTOCOL,
            "{mode:?}: the header- token is never echoed"
        );
        let ack = ws.init().await;
        assert_eq!(
            ack,
            json!({"type": "connection_ack", "connectionTimeoutMs": 300000}),
            "{mode:?}: connectionTimeoutMs at the top level, not under payload"
        );
        assert_eq!(ws.frame().await, json!({"type": "ka"}), "{mode:?}");
    }
}

#[tokio::test]
async fn the_handshake_may_come_as_http_headers_or_the_header_query_too() {
    let local = server().await;
    for mode in MODES {
        let mut ws = connect(&local, Handshake::Headers(connect_auth(&local, mode)))
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        ws.init().await;
        let mut ws = connect(&local, Handshake::Query(connect_auth(&local, mode)))
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        ws.init().await;
    }
}

#[tokio::test]
async fn without_the_events_subprotocol_the_socket_is_closed_with_1002() {
    let local = server().await;
    let mut ws = connect(&local, Handshake::Protocols("")).await.unwrap();
    assert!(ws
        .response
        .headers()
        .get("sec-websocket-protocol")
        .is_none());
    match ws.next_within(PATIENCE).await {
        Next::Close(Some(c)) => assert_eq!(u16::from(c.code), 1002),
        other => panic!("expected close 1002, got {other:?}"),
    }
    // Offering GraphQL's subprotocol (with a good header-): the server selects none, which the
    // client itself refuses.
    let header = subprotocol_token(&connect_auth(&local, Mode::ApiKey));
    let graphql_ws: &'static str = Box::leak(format!("graphql-ws, {header}").into_boxed_str());
    match connect(&local, Handshake::Protocols(graphql_ws)).await {
        Err(WsError::Protocol(e)) => assert!(e.to_string().contains("subprotocol"), "{e}"),
        Err(e) => panic!("expected no subprotocol selected, got {e}"),
        Ok(_) => panic!("expected no subprotocol selected"),
    }
}

#[tokio::test]
async fn a_bad_handshake_gets_connection_error_with_top_level_errors_then_close() {
    let local = server_with(|b| {
        b.events(event_api().connection_auth_modes([AuthMode::ApiKey, AuthMode::Iam]))
    })
    .await;
    let h = host(&local);
    let bad = [
        ("wrong key", json!({"host": h, "x-api-key": "da2-wrong"})),
        ("no host", json!({"x-api-key": API_KEY})),
        (
            "other host",
            json!({"host": "example.com", "x-api-key": API_KEY}),
        ),
        (
            "a mode that may not connect",
            json!({"host": h, "Authorization": "allow"}),
        ),
        (
            "IAM signed over GraphQL's connect path",
            support::ws::sign_iam(&h, "/graphql/connect", "{}", local.region()),
        ),
        (
            "IAM signed over another body",
            support::ws::sign_iam(&h, "/event", "{\"channel\":\"/default/a\"}", local.region()),
        ),
    ];
    for (what, object) in bad {
        let mut ws = connect(&local, Handshake::Subprotocol(object))
            .await
            .unwrap();
        ws.send(json!({"type": "connection_init"})).await;
        let f = ws.message().await;
        assert_eq!(f["type"], "connection_error", "{what}: {f}");
        assert!(
            f.get("payload").is_none(),
            "{what}: errors at the top level: {f}"
        );
        assert_eq!(
            f["errors"][0]["errorType"], "UnauthorizedException",
            "{what}"
        );
        assert_eq!(expect_close(&mut ws).await, 1000, "{what}");
    }
    // Connecting with IAM is allowed; with a user pool token it is not.
    connected(&local, Mode::Iam).await;
    let mut ws = connect(
        &local,
        Handshake::Subprotocol(connect_auth(&local, Mode::UserPools)),
    )
    .await
    .unwrap();
    ws.send(json!({"type": "connection_init"})).await;
    assert_eq!(ws.message().await["type"], "connection_error");
}

#[tokio::test]
async fn a_bad_handshake_can_be_refused_at_the_upgrade_with_401() {
    let local = server_with(|b| b.reject_bad_handshake_at_upgrade(true)).await;
    let object = json!({"host": host(&local), "x-api-key": "da2-wrong"});
    match connect(&local, Handshake::Subprotocol(object)).await {
        Err(WsError::Http(r)) => {
            assert_eq!(r.status().as_u16(), 401);
            assert_eq!(r.headers()["x-amzn-errortype"], "UnauthorizedException");
        }
        Err(e) => panic!("expected HTTP 401, got {e}"),
        Ok(_) => panic!("expected HTTP 401"),
    }
    connected(&local, Mode::Oidc).await;
}

#[tokio::test]
async fn messages_before_the_ack_are_ignored() {
    let local = server().await;
    let mut ws = connect(
        &local,
        Handshake::Subprotocol(connect_auth(&local, Mode::ApiKey)),
    )
    .await
    .unwrap();
    ws.send(subscribe_msg(&local, "early", "/default/a", Mode::ApiKey))
        .await;
    ws.init().await;
    subscribe(&mut ws, &local, "late", "/default/a", Mode::ApiKey).await;
    // "early" was never registered: its id is free.
    subscribe(&mut ws, &local, "early", "/default/a", Mode::ApiKey).await;
}

// ---------------------------------------------------------------------------------------------
// Subscribe and publish in every mode

#[tokio::test]
async fn subscribe_and_publish_over_the_socket_and_http_in_every_mode() {
    let local = server().await;
    for mode in MODES {
        let channel = format!("/default/mode-{}", format!("{mode:?}").to_lowercase());
        let mut ws = connected(&local, mode).await;
        subscribe(&mut ws, &local, "s1", &channel, mode).await;
        // Over the socket: publish_success with one identifier per event, then the data.
        let events = [r#"{"n":1}"#, r#""two""#];
        let mut data = Vec::new();
        let ok = publish_ws_seeing(&mut ws, &local, "p1", &channel, &events, mode, &mut data).await;
        assert_eq!(ok["type"], "publish_success", "{mode:?}: {ok}");
        assert_eq!(ok["failed"], json!([]), "{mode:?}");
        let successful = ok["successful"].as_array().unwrap();
        assert_eq!(successful.len(), 2);
        for (i, s) in successful.iter().enumerate() {
            assert_eq!(s["index"], i, "{mode:?}");
            assert_eq!(
                s["identifier"].as_str().unwrap().len(),
                36,
                "{mode:?}: a UUID"
            );
        }
        // Over HTTP.
        let http = post(&local, &channel, &[r#"{"n":3}"#], mode).await;
        assert_eq!(http.status, 200, "{mode:?}: {}", http.body);
        assert_eq!(http.body["failed"], json!([]));
        assert_eq!(http.body["successful"][0]["index"], 0);
        while data.len() < 3 {
            let f = ws.message().await;
            if f["type"] == "data" {
                data.push(f);
            } else {
                panic!("{mode:?}: unexpected {f}");
            }
        }
        assert_eq!(
            data,
            [
                json!({"type": "data", "id": "s1", "event": r#"{"n":1}"#}),
                json!({"type": "data", "id": "s1", "event": r#""two""#}),
                json!({"type": "data", "id": "s1", "event": r#"{"n":3}"#}),
            ],
            "{mode:?}: each event as the JSON string published, in order"
        );
    }
}

#[tokio::test]
async fn one_socket_carries_subscriptions_in_different_modes() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    for (i, mode) in MODES.into_iter().enumerate() {
        subscribe(&mut ws, &local, &format!("s{i}"), "/default/shared", mode).await;
    }
    assert_eq!(
        post(&local, "/default/shared", &["1"], Mode::Iam)
            .await
            .status,
        200
    );
    let mut ids: Vec<String> = Vec::new();
    for _ in MODES {
        let f = ws.expect("data").await;
        assert_eq!(f["event"], "1");
        ids.push(f["id"].as_str().unwrap().to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["s0", "s1", "s2", "s3", "s4"]);
}

#[tokio::test]
async fn every_matching_subscriber_on_every_socket_receives_each_event() {
    let local = server().await;
    let mut a = connected(&local, Mode::ApiKey).await;
    let mut b = connected(&local, Mode::Lambda).await;
    subscribe(&mut a, &local, "x", "/default/room", Mode::ApiKey).await;
    subscribe(&mut a, &local, "y", "/default/*", Mode::Oidc).await;
    subscribe(&mut b, &local, "x", "/default/room", Mode::Lambda).await;
    let events = ["1", "2", "3", "4", "5"];
    assert_eq!(
        post(&local, "default/room", &events, Mode::ApiKey)
            .await
            .status,
        200
    );
    // The marker goes out after the five; each subscription sees it after them.
    assert_eq!(
        post(&local, "/default/room", &["\"end\""], Mode::ApiKey)
            .await
            .status,
        200
    );
    let got = collect_until(&mut a, &[("x", "end"), ("y", "end")]).await;
    let want: Vec<Value> = (1..=5).map(|n| json!(n)).collect();
    assert_eq!(got, [want.clone(), want.clone()]);
    assert_eq!(collect_until(&mut b, &[("x", "end")]).await, [want]);
}

// ---------------------------------------------------------------------------------------------
// IAM signatures

#[tokio::test]
async fn iam_signatures_cover_the_exact_bodies_aws_documents() {
    let local = server().await;
    let h = host(&local);
    let mut ws = connected(&local, Mode::Iam).await;
    // subscribe: over {"channel": "<as sent>"}; a leading-slash-less channel is signed as sent.
    subscribe(&mut ws, &local, "ok", "default/a", Mode::Iam).await;
    let signed_elsewhere =
        support::ws::sign_iam(&h, "/event", r#"{"channel":"/default/b"}"#, local.region());
    ws.send(
        json!({"type": "subscribe", "id": "bad", "channel": "/default/a",
        "authorization": signed_elsewhere}),
    )
    .await;
    let f = ws.expect("subscribe_error").await;
    let m = error_of(&f, "subscribe_error", Some("bad"), "BadRequestException");
    assert!(m.contains("signature"), "{m}");
    let on_graphql = support::ws::sign_iam(
        &h,
        "/graphql",
        r#"{"channel":"/default/a"}"#,
        local.region(),
    );
    ws.send(
        json!({"type": "subscribe", "id": "bad2", "channel": "/default/a",
        "authorization": on_graphql}),
    )
    .await;
    error_of(
        &ws.expect("subscribe_error").await,
        "subscribe_error",
        Some("bad2"),
        "BadRequestException",
    );
    // publish: over {"channel","events"}; the events as sent, escapes included.
    let events = [r#"{"text":"<b>\"quoted\" \\ é ✓</b>"}"#];
    let mut data = Vec::new();
    let ok = publish_ws_seeing(
        &mut ws,
        &local,
        "p",
        "/default/a",
        &events,
        Mode::Iam,
        &mut data,
    )
    .await;
    assert_eq!(ok["type"], "publish_success", "{ok}");
    if data.is_empty() {
        data.push(ws.expect("data").await);
    }
    assert_eq!(data[0]["event"], events[0]);
    let body = json!({"channel": "/default/a", "events": ["{\"other\":1}"]}).to_string();
    ws.send(json!({"type": "publish", "id": "tampered", "channel": "/default/a",
        "events": ["{\"n\":1}"], "authorization": support::ws::sign_iam(&h, "/event", &body, local.region())}))
        .await;
    error_of(
        &ws.message().await,
        "publish_error",
        Some("tampered"),
        "BadRequestException",
    );
    // HTTP: over the exact body; another body under the same signature is refused with 403.
    let body = json!({"channel": "/default/a", "events": ["1"]}).to_string();
    let mut headers = vec![(
        "content-type".to_owned(),
        "application/json; charset=UTF-8".to_owned(),
    )];
    headers.extend(sign_http(&local.events_url(), &h, &body, local.region()));
    assert_eq!(send(&local.events_url(), &headers, &body).await.status, 200);
    let other = json!({"channel": "/default/a", "events": ["2"]}).to_string();
    let r = send(&local.events_url(), &headers, &other).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.error_type.as_deref(), Some("InvalidSignatureException"));
    assert_eq!(
        r.body["errors"][0]["errorType"],
        "InvalidSignatureException"
    );
}

// ---------------------------------------------------------------------------------------------
// Wildcards

#[tokio::test]
async fn a_trailing_wildcard_matches_every_channel_below_it_at_any_depth() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    subscribe(&mut ws, &local, "all", "/default/*", Mode::ApiKey).await;
    subscribe(&mut ws, &local, "under-a", "/default/a/*", Mode::ApiKey).await;
    subscribe(&mut ws, &local, "exact-a", "/default/a", Mode::ApiKey).await;
    subscribe(&mut ws, &local, "other", "other/*", Mode::ApiKey).await;
    for (channel, n) in [
        ("/default", 0),
        ("/default/a", 1),
        ("/default/a/b", 2),
        ("/default/a/b/c/d", 3),
        ("/default/b", 4),
        ("/default/ab/c", 5),
        ("/other/a", 6),
        ("/defaults/a", 7),
    ] {
        let r = post(&local, channel, &[&n.to_string()], Mode::ApiKey).await;
        if channel == "/defaults/a" {
            assert_eq!(r.status, 404, "{channel}: no such namespace");
        } else {
            assert_eq!(r.status, 200, "{channel}: {}", r.body);
        }
    }
    // One marker each subscription matches, published last.
    for channel in ["/default/a", "/default/a/end", "/other/end"] {
        assert_eq!(
            post(&local, channel, &["\"end\""], Mode::ApiKey)
                .await
                .status,
            200
        );
    }
    let got = collect_until(
        &mut ws,
        &[
            ("all", "end"),
            ("under-a", "end"),
            ("exact-a", "end"),
            ("other", "end"),
        ],
    )
    .await;
    let nums = |v: &[i64]| v.iter().map(|n| json!(n)).collect::<Vec<_>>();
    assert_eq!(
        got[0],
        nums(&[1, 2, 3, 4, 5]),
        "/default/*: not /default itself"
    );
    assert_eq!(got[1], nums(&[2, 3]), "/default/a/*: below /default/a only");
    assert_eq!(got[2], nums(&[1]), "/default/a: that channel only");
    assert_eq!(got[3], nums(&[6]), "other/*");
}

// ---------------------------------------------------------------------------------------------
// Validation and limits

#[tokio::test]
async fn invalid_channels_are_refused_everywhere() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    let long = format!("/default/{}", "x".repeat(51));
    let bad_subscriptions = [
        "/*",
        "*",
        "/default/*/a",
        "/default/a*",
        "/default/**",
        "/a/b/c/d/e/f",
        "/default/a/",
        "/default//a",
        "/default/under_score",
        "",
        long.as_str(),
    ];
    for (i, channel) in bad_subscriptions.into_iter().enumerate() {
        let id = format!("c{i}");
        ws.send(subscribe_msg(&local, &id, channel, Mode::ApiKey))
            .await;
        error_of(
            &ws.message().await,
            "subscribe_error",
            Some(&id),
            "InvalidInputError",
        );
    }
    ws.send(json!({"type": "subscribe", "id": "n", "channel": 5,
        "authorization": connect_auth(&local, Mode::ApiKey)}))
        .await;
    error_of(
        &ws.message().await,
        "subscribe_error",
        Some("n"),
        "InvalidInputError",
    );
    for (i, channel) in ["/default/*", "/default/a/*", "/default/a/", "/x_y/a", ""]
        .into_iter()
        .enumerate()
    {
        let id = format!("p{i}");
        let f = publish_ws(&mut ws, &local, &id, channel, &["1"], Mode::ApiKey).await;
        let m = error_of(&f, "publish_error", Some(&id), "InvalidInputError");
        assert!(m.contains("channel"), "{m}");
        let r = post(&local, channel, &["1"], Mode::ApiKey).await;
        assert_eq!(r.status, 400, "{channel}");
        assert_eq!(r.error_type.as_deref(), Some("BadRequestException"));
        assert_eq!(r.body["errors"][0]["errorType"], "BadRequestException");
    }
}

#[tokio::test]
async fn invalid_and_duplicate_ids_are_refused() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    let long = "x".repeat(129);
    for id in ["", "a b", "a/b", "é", long.as_str()] {
        ws.send(subscribe_msg(&local, id, "/default/a", Mode::ApiKey))
            .await;
        error_of(
            &ws.message().await,
            "subscribe_error",
            Some(id),
            "InvalidInputError",
        );
        let f = publish_ws(&mut ws, &local, id, "/default/a", &["1"], Mode::ApiKey).await;
        error_of(&f, "publish_error", Some(id), "InvalidInputError");
    }
    // The longest id and every allowed character.
    subscribe(
        &mut ws,
        &local,
        &"y".repeat(128),
        "/default/a",
        Mode::ApiKey,
    )
    .await;
    subscribe(&mut ws, &local, "Az09-_+", "/default/a", Mode::ApiKey).await;
    let mut no_id = subscribe_msg(&local, "x", "/default/a", Mode::ApiKey);
    no_id.as_object_mut().unwrap().remove("id");
    ws.send(no_id).await;
    error_of(
        &ws.message().await,
        "subscribe_error",
        None,
        "InvalidInputError",
    );
    // A duplicate id is refused, and the first subscription goes on.
    subscribe(&mut ws, &local, "dup", "/default/d", Mode::ApiKey).await;
    ws.send(subscribe_msg(&local, "dup", "/default/other", Mode::ApiKey))
        .await;
    let m = error_of(
        &ws.message().await,
        "subscribe_error",
        Some("dup"),
        "DuplicatedOperationError",
    );
    assert!(m.contains("dup"), "{m}");
    let f = publish_ws(&mut ws, &local, "dup", "/default/d", &["1"], Mode::ApiKey).await;
    error_of(&f, "publish_error", Some("dup"), "DuplicatedOperationError");
    assert_eq!(
        post(&local, "/default/d", &["7"], Mode::ApiKey)
            .await
            .status,
        200
    );
    assert_eq!(
        ws.expect("data").await,
        json!({"type": "data", "id": "dup", "event": "7"})
    );
}

#[tokio::test]
async fn at_most_five_events_each_a_string_holding_json() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    subscribe(&mut ws, &local, "s", "/default/limits", Mode::ApiKey).await;
    let six = ["1", "2", "3", "4", "5", "6"];
    let r = post(&local, "/default/limits", &six, Mode::ApiKey).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_type.as_deref(), Some("BadRequestException"));
    let m = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(m.contains("at most 5"), "{m}");
    let f = publish_ws(
        &mut ws,
        &local,
        "six",
        "/default/limits",
        &six,
        Mode::ApiKey,
    )
    .await;
    error_of(&f, "publish_error", Some("six"), "InvalidInputError");
    let r = post(&local, "/default/limits", &[], Mode::ApiKey).await;
    assert_eq!(r.status, 400, "no events at all");
    for body in [
        r#"{"channel":"/default/limits","events":[1]}"#,
        r#"{"channel":"/default/limits","events":"1"}"#,
        r#"{"channel":"/default/limits"}"#,
        r#"{"events":["1"]}"#,
        r#"["1"]"#,
        "not json",
        "",
    ] {
        let r = post_raw(&local, body, Mode::ApiKey).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(
            r.body["errors"][0]["errorType"], "BadRequestException",
            "{body}"
        );
    }
    // Five is fine; an event that is not valid JSON, or over 240 KB, fails on its own.
    let big = format!("\"{}\"", "x".repeat(240 * 1024));
    let five = ["1", "{a:1}", "3", big.as_str(), "[5]"];
    let r = post(&local, "/default/limits", &five, Mode::ApiKey).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let ok: Vec<u64> = r.body["successful"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["index"].as_u64().unwrap())
        .collect();
    assert_eq!(ok, [0, 2, 4]);
    let failed = r.body["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2);
    assert_eq!(
        (failed[0]["index"].clone(), failed[0]["code"].clone()),
        (json!(1), json!(400))
    );
    assert_eq!(failed[1]["index"], 3);
    assert!(
        failed[1]["message"].as_str().unwrap().contains("240"),
        "{}",
        failed[1]
    );
    // Only the valid ones reach the subscriber.
    let mut got = Vec::new();
    while got.len() < 3 {
        got.push(
            ws.expect("data").await["event"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(got, ["1", "3", "[5]"]);
    let mut data = Vec::new();
    let f = publish_ws_seeing(
        &mut ws,
        &local,
        "five",
        "/default/limits",
        &five,
        Mode::ApiKey,
        &mut data,
    )
    .await;
    assert_eq!(f["type"], "publish_success");
    assert_eq!(f["failed"].as_array().unwrap().len(), 2);
    while data.len() < 3 {
        data.push(ws.expect("data").await);
    }
    let got: Vec<&str> = data.iter().map(|d| d["event"].as_str().unwrap()).collect();
    assert_eq!(got, ["1", "3", "[5]"]);
}

#[tokio::test]
async fn a_socket_carries_over_a_hundred_subscriptions_up_to_the_cap() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    for i in 0..100 {
        let msg = subscribe_msg(&local, &format!("s{i}"), "/default/many", Mode::ApiKey);
        ws.send(msg).await;
    }
    for _ in 0..100 {
        assert_eq!(
            ws.expect("subscribe_success").await["type"],
            "subscribe_success"
        );
    }
    ws.send(subscribe_msg(&local, "s100", "/default/many", Mode::ApiKey))
        .await;
    let m = error_of(
        &ws.message().await,
        "subscribe_error",
        Some("s100"),
        "MaxSubscriptionsReachedError",
    );
    assert_eq!(m, "Max number of 100 subscriptions reached");
    ws.send(json!({"type": "unsubscribe", "id": "s0"})).await;
    assert_eq!(ws.expect("unsubscribe_success").await["id"], "s0");
    subscribe(&mut ws, &local, "s100", "/default/many", Mode::ApiKey).await;

    // With a higher cap, 150 subscriptions on one socket each receive the event.
    let local = server_with(|b| b.max_subscriptions_per_connection(150)).await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    for i in 0..150 {
        ws.send(subscribe_msg(
            &local,
            &format!("s{i}"),
            "/default/many",
            Mode::ApiKey,
        ))
        .await;
    }
    for _ in 0..150 {
        ws.expect("subscribe_success").await;
    }
    assert_eq!(
        post(&local, "/default/many", &["42"], Mode::ApiKey)
            .await
            .status,
        200
    );
    let mut ids = std::collections::BTreeSet::new();
    for _ in 0..150 {
        let d = ws.expect("data").await;
        assert_eq!(d["event"], "42");
        ids.insert(d["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 150);
}

#[tokio::test]
async fn publishes_over_the_rate_are_refused_with_limit_exceeded() {
    let local = server_with(|b| b.events_publish_rate_per_connection(Some(1))).await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    for id in ["p1", "p2", "p3"] {
        ws.send(publish_msg(
            &local,
            id,
            "/default/rate",
            &["1"],
            Mode::ApiKey,
        ))
        .await;
    }
    let mut answers = std::collections::BTreeMap::new();
    while answers.len() < 3 {
        let f = ws.message().await;
        answers.insert(f["id"].as_str().unwrap().to_owned(), f);
    }
    assert_eq!(answers["p1"]["type"], "publish_success");
    // One token a second: the next two, sent at once, are over the rate.
    for id in ["p2", "p3"] {
        let m = error_of(
            &answers[id],
            "publish_error",
            Some(id),
            "LimitExceededError",
        );
        assert_eq!(m, "Rate limit exceeded");
    }
    // HTTP publishes and other sockets are not counted.
    assert_eq!(
        post(&local, "/default/rate", &["1"], Mode::ApiKey)
            .await
            .status,
        200
    );
    let mut other = connected(&local, Mode::ApiKey).await;
    let f = publish_ws(
        &mut other,
        &local,
        "q",
        "/default/rate",
        &["1"],
        Mode::ApiKey,
    )
    .await;
    assert_eq!(f["type"], "publish_success");
}

// ---------------------------------------------------------------------------------------------
// Namespaces and authorization

#[tokio::test]
async fn unknown_namespaces_are_not_found() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    ws.send(subscribe_msg(&local, "s", "/nope/a", Mode::ApiKey))
        .await;
    error_of(
        &ws.message().await,
        "subscribe_error",
        Some("s"),
        "ResourceNotFound",
    );
    ws.send(subscribe_msg(&local, "w", "/nope/*", Mode::ApiKey))
        .await;
    error_of(
        &ws.message().await,
        "subscribe_error",
        Some("w"),
        "ResourceNotFound",
    );
    let f = publish_ws(&mut ws, &local, "p", "/nope/a", &["1"], Mode::ApiKey).await;
    error_of(&f, "publish_error", Some("p"), "ResourceNotFound");
    let r = post(&local, "/nope/a", &["1"], Mode::ApiKey).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error_type.as_deref(), Some("NotFoundException"));
    assert_eq!(r.body["errors"][0]["errorType"], "NotFoundException");
}

#[tokio::test]
async fn a_mode_the_namespace_does_not_allow_is_unauthorized() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    for mode in [Mode::ApiKey, Mode::UserPools, Mode::Oidc, Mode::Lambda] {
        ws.send(subscribe_msg(&local, "s", "/iam/a", mode)).await;
        let m = error_of(
            &ws.message().await,
            "subscribe_error",
            Some("s"),
            "UnauthorizedException",
        );
        if mode == Mode::ApiKey {
            assert_eq!(m, "You are not authorized to make this call.");
        }
        let f = publish_ws(&mut ws, &local, "p", "/iam/a", &["1"], mode).await;
        error_of(&f, "publish_error", Some("p"), "UnauthorizedException");
        let r = post(&local, "/iam/a", &["1"], mode).await;
        assert_eq!(r.status, 401, "{mode:?}: {}", r.body);
        assert_eq!(r.error_type.as_deref(), Some("UnauthorizedException"));
    }
    subscribe(&mut ws, &local, "s", "/iam/*", Mode::Iam).await;
    assert_eq!(post(&local, "/iam/a", &["1"], Mode::Iam).await.status, 200);
    assert_eq!(ws.expect("data").await["id"], "s");
    // Wrong credentials in an allowed mode.
    let bad = json!({"type": "subscribe", "id": "k", "channel": "/default/a",
        "authorization": {"host": host(&local), "x-api-key": "da2-wrong"}});
    ws.send(bad).await;
    error_of(
        &ws.message().await,
        "subscribe_error",
        Some("k"),
        "UnauthorizedException",
    );
    ws.send(json!({"type": "subscribe", "id": "none", "channel": "/default/a"}))
        .await;
    error_of(
        &ws.message().await,
        "subscribe_error",
        Some("none"),
        "UnauthorizedException",
    );
    let r = send(
        &local.events_url(),
        &[],
        r#"{"channel":"/default/a","events":["1"]}"#,
    )
    .await;
    assert_eq!(r.status, 401);
    // The authorization of a subscribe or publish may leave out host (AWS's own examples do),
    // but a host it names must be this API's.
    ws.send(
        json!({"type": "subscribe", "id": "nohost", "channel": "/default/a",
        "authorization": {"x-api-key": API_KEY}}),
    )
    .await;
    assert_eq!(ws.expect("subscribe_success").await["id"], "nohost");
    ws.send(
        json!({"type": "subscribe", "id": "elsewhere", "channel": "/default/a",
        "authorization": {"host": "example.com", "x-api-key": API_KEY}}),
    )
    .await;
    error_of(
        &ws.message().await,
        "subscribe_error",
        Some("elsewhere"),
        "UnauthorizedException",
    );
}

#[tokio::test]
async fn namespace_groups_refuse_user_pool_callers_outside_them() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    let body = json!({"channel": "/admins/a"}).to_string();
    let as_user = |user: &str, groups: &[&str], id: &str| {
        json!({"type": "subscribe", "id": id, "channel": "/admins/a",
            "authorization": auth_as(&local, Mode::UserPools, &body, user, groups)})
    };
    ws.send(as_user("bob", &[], "plain")).await;
    let m = error_of(
        &ws.message().await,
        "subscribe_error",
        Some("plain"),
        "Unauthorized",
    );
    assert!(m.contains("admins"), "{m}");
    ws.send(as_user("carol", &["staff"], "staff")).await;
    error_of(
        &ws.message().await,
        "subscribe_error",
        Some("staff"),
        "Unauthorized",
    );
    ws.send(as_user("alice", &["staff", "admins"], "admin"))
        .await;
    assert_eq!(ws.expect("subscribe_success").await["id"], "admin");
    // Publishing there is API key only.
    assert_eq!(
        post(&local, "/admins/a", &["1"], Mode::UserPools)
            .await
            .status,
        401
    );
    assert_eq!(
        post(&local, "/admins/a", &["1"], Mode::ApiKey).await.status,
        200
    );
    assert_eq!(ws.expect("data").await["id"], "admin");
}

#[tokio::test]
async fn the_lambda_authorizer_sees_each_requests_channel() {
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let record = seen.clone();
    let local = server_with(move |b| {
        b.lambda_authorizer(move |req| {
            record.lock().unwrap().push(req.channel.clone());
            async move {
                if req.authorization_token == "allow" {
                    LambdaAuthResponse::allow()
                } else {
                    LambdaAuthResponse::deny()
                }
            }
        })
    })
    .await;
    let mut ws = connected(&local, Mode::Lambda).await;
    subscribe(&mut ws, &local, "s", "default/*", Mode::Lambda).await;
    let mut data = Vec::new();
    let f = publish_ws_seeing(
        &mut ws,
        &local,
        "p",
        "/default/a",
        &["1"],
        Mode::Lambda,
        &mut data,
    )
    .await;
    assert_eq!(f["type"], "publish_success");
    assert_eq!(
        post(&local, "/default/b", &["1"], Mode::Lambda)
            .await
            .status,
        200
    );
    while data.len() < 2 {
        data.push(ws.expect("data").await);
    }
    assert_eq!(
        *seen.lock().unwrap(),
        [
            None,
            Some("default/*".into()),
            Some("/default/a".into()),
            Some("/default/b".into())
        ]
    );
    let denied = json!({"type": "subscribe", "id": "d", "channel": "/default/a",
        "authorization": {"host": host(&local), "Authorization": "deny"}});
    ws.send(denied).await;
    error_of(
        &ws.message().await,
        "subscribe_error",
        Some("d"),
        "UnauthorizedException",
    );
}

// ---------------------------------------------------------------------------------------------
// Unsubscribe, unknown messages, bad input

#[tokio::test]
async fn unsubscribe_ends_the_events_and_an_unknown_id_is_an_error() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    subscribe(&mut ws, &local, "a", "/default/u", Mode::ApiKey).await;
    subscribe(&mut ws, &local, "marker", "/default/u", Mode::ApiKey).await;
    ws.send(json!({"type": "unsubscribe", "id": "a"})).await;
    assert_eq!(
        ws.expect("unsubscribe_success").await,
        json!({"type": "unsubscribe_success", "id": "a"})
    );
    assert_eq!(
        post(&local, "/default/u", &["1"], Mode::ApiKey)
            .await
            .status,
        200
    );
    // Only the marker subscription gets it.
    assert_eq!(ws.expect("data").await["id"], "marker");
    ws.send(json!({"type": "unsubscribe", "id": "a"})).await;
    let m = error_of(
        &ws.message().await,
        "unsubscribe_error",
        Some("a"),
        "UnknownOperationError",
    );
    assert!(m.contains('a'), "{m}");
    ws.send(json!({"type": "unsubscribe", "id": "never"})).await;
    error_of(
        &ws.message().await,
        "unsubscribe_error",
        Some("never"),
        "UnknownOperationError",
    );
    ws.send(json!({"type": "unsubscribe"})).await;
    error_of(
        &ws.message().await,
        "unsubscribe_error",
        None,
        "InvalidInputError",
    );
    // The id can be used again.
    subscribe(&mut ws, &local, "a", "/default/u", Mode::ApiKey).await;
}

#[tokio::test]
async fn bad_frames_are_answered_and_the_socket_goes_on() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    ws.send_text("not json").await;
    error_of(&ws.message().await, "error", None, "InvalidInputError");
    ws.send_text("[1,2]").await;
    error_of(&ws.message().await, "error", None, "InvalidInputError");
    ws.send(json!({"type": "start", "id": "g"})).await;
    let m = error_of(
        &ws.message().await,
        "error",
        Some("g"),
        "UnsupportedOperation",
    );
    assert!(m.contains("start"), "{m}");
    ws.send(json!({"id": "t"})).await;
    error_of(
        &ws.message().await,
        "error",
        Some("t"),
        "UnsupportedOperation",
    );
    let garbage = [
        json!({"type": "subscribe", "id": 5, "channel": "/default/a"}),
        json!({"type": "subscribe", "id": "x", "channel": "/default/a", "authorization": "str"}),
        json!({"type": "subscribe", "id": "y", "channel": "/default/a", "authorization": {"host": 1, "x-api-key": [API_KEY]}}),
        json!({"type": "subscribe", "id": "z", "channel": "/default/a", "authorization": {"Authorization": "AWS4-HMAC-SHA256 garbage"}}),
        json!({"type": "subscribe", "id": "z2", "channel": "/default/a", "authorization": {"Authorization": "x.y.z"}}),
        json!({"type": "publish", "id": "p", "channel": "/default/a", "events": [null]}),
        json!({"type": "publish", "id": "q", "channel": null, "events": ["1"]}),
        json!({"type": "publish", "id": "r", "channel": "/default/a", "events": {"0": "1"}}),
        json!({"type": 7}),
    ];
    for g in garbage {
        ws.send(g.clone()).await;
        let f = ws.message().await;
        assert!(f["type"].as_str().unwrap().ends_with("error"), "{g} -> {f}");
    }
    ws.socket
        .send(Message::binary(vec![0u8, 159, 146, 150]))
        .await
        .unwrap();
    ws.socket.send(Message::Ping(vec![1].into())).await.unwrap();
    // Still serving.
    subscribe(&mut ws, &local, "alive", "/default/a", Mode::ApiKey).await;
}

#[tokio::test]
async fn bad_http_requests_never_break_the_server() {
    let local = server().await;
    let url = local.events_url();
    let h = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let cases: Vec<(Vec<(String, String)>, &str)> = vec![
        (
            vec![h("authorization", "AWS4-HMAC-SHA256")],
            r#"{"channel":"/default/a","events":["1"]}"#,
        ),
        (
            vec![h(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=/, SignedHeaders=, Signature=",
            )],
            r#"{"channel":"/default/a","events":["1"]}"#,
        ),
        (
            vec![h("authorization", "Bearer a.b.c")],
            r#"{"channel":"/default/a","events":["1"]}"#,
        ),
        (
            vec![h("x-api-key", "")],
            r#"{"channel":"/default/a","events":["1"]}"#,
        ),
        (
            vec![h("x-api-key", API_KEY)],
            r#"{"channel":"/default/a","events":[["1"]]}"#,
        ),
        (
            vec![h("x-api-key", API_KEY)],
            r#"{"channel":"/default/a","events":["1"],"extra":{"deep":[1,2]}}"#,
        ),
        (vec![h("x-api-key", API_KEY)], "\u{0}\u{1}"),
    ];
    for (headers, body) in cases {
        let r = send(&url, &headers, body).await;
        assert!(
            (400..500).contains(&r.status) || r.status == 200,
            "{body}: {}",
            r.status
        );
        assert!(
            r.body["errors"].is_array() || r.body["successful"].is_array(),
            "{}",
            r.body
        );
    }
    // A GET is not a publish.
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(
        post(&local, "/default/a", &["1"], Mode::ApiKey)
            .await
            .status,
        200
    );
}

// ---------------------------------------------------------------------------------------------
// Fault hooks

#[tokio::test]
async fn fault_hooks_reach_events_sockets_and_posts() {
    let local = server().await;
    local.faults().refuse_next_connections(1, 503);
    match connect(
        &local,
        Handshake::Subprotocol(connect_auth(&local, Mode::ApiKey)),
    )
    .await
    {
        Err(WsError::Http(r)) => assert_eq!(r.status().as_u16(), 503),
        Err(e) => panic!("expected HTTP 503, got {e}"),
        Ok(_) => panic!("expected HTTP 503"),
    }
    let mut ws = connected(&local, Mode::ApiKey).await;
    let frame = json!({"type": "broadcast_error", "id": "s", "errors": [{"errorType": "X", "message": "m"}]});
    local.faults().send_frame(frame.clone());
    assert_eq!(ws.message().await, frame);
    local.faults().fail_next_requests(1, 503);
    let r = post(&local, "/default/a", &["1"], Mode::ApiKey).await;
    assert_eq!(r.status, 503);
    assert_eq!(
        post(&local, "/default/a", &["1"], Mode::ApiKey)
            .await
            .status,
        200
    );
    // Keep-alives pause and resume.
    assert_eq!(ws.frame().await["type"], "ka");
    local.faults().pause_keep_alives(true);
    local.faults().send_frame(json!({"type": "marker"}));
    ws.expect("marker").await;
    match ws.next_within(Duration::from_millis(1000)).await {
        Next::Quiet => {}
        other => panic!("expected no ka while paused (5 intervals), got {other:?}"),
    }
    local.faults().pause_keep_alives(false);
    assert_eq!(ws.frame().await["type"], "ka");
    // Close with a code, and drop.
    local.faults().close_all_sockets(4001, "events going away");
    loop {
        match ws.next_within(PATIENCE).await {
            Next::Frame(f) if f["type"] == "ka" => continue,
            Next::Close(Some(c)) => {
                assert_eq!(u16::from(c.code), 4001);
                assert_eq!(c.reason.as_str(), "events going away");
                break;
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    let mut ws = connected(&local, Mode::ApiKey).await;
    local.faults().drop_all_sockets();
    loop {
        match ws.next_within(PATIENCE).await {
            Next::Frame(f) if f["type"] == "ka" => continue,
            Next::Reset(_) => break,
            other => panic!("expected a TCP drop, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn delayed_acks_delay_connection_ack_and_subscribe_success() {
    let local = server().await;
    let delay = Duration::from_millis(300);
    local.faults().delay_acks(delay);
    let mut ws = connect(
        &local,
        Handshake::Subprotocol(connect_auth(&local, Mode::ApiKey)),
    )
    .await
    .unwrap();
    let t = Instant::now();
    ws.init().await;
    assert!(
        t.elapsed() >= delay,
        "connection_ack after {:?}",
        t.elapsed()
    );
    let t = Instant::now();
    subscribe(&mut ws, &local, "a", "/default/a", Mode::ApiKey).await;
    assert!(
        t.elapsed() >= delay,
        "subscribe_success after {:?}",
        t.elapsed()
    );
    // Unsubscribed before its success: never acknowledged.
    ws.send(subscribe_msg(&local, "b", "/default/a", Mode::ApiKey))
        .await;
    ws.send(json!({"type": "unsubscribe", "id": "b"})).await;
    assert_eq!(ws.expect("unsubscribe_success").await["id"], "b");
    local.faults().delay_acks(Duration::ZERO);
    subscribe(&mut ws, &local, "c", "/default/a", Mode::ApiKey).await;
}

// ---------------------------------------------------------------------------------------------
// Servers with and without GraphQL; config files

#[tokio::test]
async fn an_events_only_server_serves_no_graphql_and_writes_custom_events() {
    let local = server().await;
    assert!(local.events_url().ends_with("/event"));
    assert!(local.events_realtime_url().starts_with("ws://127.0.0.1:"));
    assert!(local.events_realtime_url().ends_with("/event/realtime"));
    let r = reqwest::Client::new()
        .post(local.graphql_url())
        .header("x-api-key", API_KEY)
        .body(r#"{"query":"{ a }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let out = local.amplify_outputs();
    assert!(out.get("data").is_none(), "{out}");
    assert_eq!(
        out["custom"]["events"],
        json!({"url": local.events_url(), "aws_region": "us-east-1",
            "default_authorization_type": "API_KEY", "api_key": API_KEY})
    );
    assert!(local.auth_modes().is_empty());
}

#[tokio::test]
async fn graphql_and_events_are_served_side_by_side() {
    let local = server_with(|b| {
        b.schema("type Query { a: Int }")
            .events(event_api().default_auth_mode(AuthMode::Iam))
    })
    .await;
    let out = local.amplify_outputs();
    assert_eq!(out["data"]["url"], local.graphql_url());
    assert_eq!(out["data"]["default_authorization_type"], "API_KEY");
    assert_eq!(
        out["custom"]["events"]["default_authorization_type"],
        "AWS_IAM"
    );
    // Each endpoint speaks its own protocol.
    support::ws::connected(&local, Mode::ApiKey).await;
    let mut ev = connected(&local, Mode::ApiKey).await;
    subscribe(&mut ev, &local, "s", "/default/a", Mode::ApiKey).await;
}

#[tokio::test]
async fn event_api_settings_are_checked_at_start() {
    let e = LocalAppSync::builder()
        .events(
            EventApi::new()
                .connection_auth_modes([AuthMode::Iam, AuthMode::Lambda])
                .namespace("ok")
                .namespace("not_ok")
                .namespace(ChannelNamespace::new("g").subscribe_groups(["x"])),
        )
        .api_key(API_KEY)
        .start()
        .await
        .unwrap_err()
        .to_string();
    for part in [
        "AWS_IAM is enabled but no credentials",
        "AWS_LAMBDA is enabled but no authorizer",
        "\"not_ok\"",
        "groups only apply",
    ] {
        assert!(e.contains(part), "{part} in:\n{e}");
    }
    let e = LocalAppSync::builder()
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(".events(..)"), "{e}");
    // No schema and no Event API is a problem; an Event API alone is not.
    LocalAppSync::builder()
        .default_auth_mode(AuthMode::Lambda)
        .events(EventApi::new().default_auth_mode(AuthMode::ApiKey))
        .api_key(API_KEY)
        .start()
        .await
        .expect("only the Event API's modes need credentials without a schema");
}
