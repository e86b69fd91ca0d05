//! The realtime endpoint over real sockets: handshakes in every mode and every carrier, the
//! `graphql-ws` message flow, filtering and projection, limits, bad input and fault hooks.
//!
//! Nothing here sleeps to synchronize: tests wait for frames. Asserting that something does
//! *not* arrive uses a marker that must come after it (a later event, an answered frame), and
//! only where that is impossible a quiet window.

mod support;

use std::time::{Duration, Instant};

use base64::Engine as _;
use futures_util::SinkExt;
use serde_json::{json, Value};
use support::ws::*;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

const ON_CREATE: &str =
    "subscription S($owner: String) { onCreateNote(owner: $owner) { id content owner } }";
const ON_CREATE_ALL: &str = "subscription { onCreateNote { id content owner } }";

/// A start in `mode` for `data`, on a fresh id.
async fn subscribe(
    ws: &mut Ws,
    local: &appsync_local::LocalAppSync,
    id: &str,
    mode: Mode,
    data: &str,
) {
    ws.subscribe(id, data, auth_object(local, mode, "/graphql", data))
        .await;
}

fn note(id: &str, owner: Option<&str>) -> Value {
    let mut n = json!({"id": id, "content": format!("content of {id}")});
    if let Some(o) = owner {
        n["owner"] = json!(o);
    }
    n
}

/// Collects `data` frames until one for `id` arrives; returns it and the others seen before.
async fn data_for(ws: &mut Ws, id: &str) -> (Value, Vec<Value>) {
    let mut others = Vec::new();
    loop {
        let f = ws.data().await;
        if f["id"] == id {
            return (f, others);
        }
        others.push(f);
    }
}

// ---------------------------------------------------------------------------------------------
// Handshake

#[tokio::test]
async fn subprotocol_handshake_in_every_mode_selects_graphql_ws() {
    let local = server().await;
    for mode in MODES {
        let mut ws = connect(&local, Handshake::Subprotocol(connect_auth(&local, mode)))
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(
            ws.response.headers()["sec-websocket-protocol"],
            "graphql-ws",
            "{mode:?}: the header- token is never echoed"
        );
        let ack = ws.init().await;
        assert_eq!(
            ack,
            json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}}),
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn query_parameter_handshake_is_decoded_leniently() {
    let local = server().await;
    for mode in MODES {
        // Pad the object until its standard base64 has a '+', the character form decoding breaks.
        let mut object = connect_auth(&local, mode);
        let mut pad = String::new();
        let b64 = loop {
            let b = base64::engine::general_purpose::STANDARD.encode(object.to_string());
            if b.contains('+') {
                break b;
            }
            pad.push('>');
            object["x-pad"] = json!(pad);
        };
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(object.to_string());
        let escaped = b64
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        for value in [b64.clone(), escaped, url_safe] {
            let mut ws = connect(&local, Handshake::Query(value.clone()))
                .await
                .unwrap_or_else(|e| panic!("{mode:?} {value}: {e}"));
            ws.init().await;
        }
    }
}

#[tokio::test]
async fn http_header_handshake_in_every_mode() {
    let local = server().await;
    for mode in MODES {
        let mut ws = connect(&local, Handshake::Headers(connect_auth(&local, mode)))
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(
            ws.response.headers()["sec-websocket-protocol"],
            "graphql-ws"
        );
        ws.init().await;
    }
}

#[tokio::test]
async fn the_subprotocol_wins_over_the_query_and_headers() {
    let local = server().await;
    let good = connect_auth(&local, Mode::ApiKey);
    let bad = json!({"host": host(&local), "x-api-key": "wrong"});
    // A good subprotocol with a bad query: accepted.
    let mut url_bad = base64::engine::general_purpose::STANDARD.encode(bad.to_string());
    url_bad = url_bad
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let req_url = format!("ws://{}/graphql/realtime?header={url_bad}", local.addr());
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = req_url.into_client_request().unwrap();
    let protocols = format!("graphql-ws, {}", subprotocol_token(&good));
    req.headers_mut()
        .insert("sec-websocket-protocol", protocols.parse().unwrap());
    req.headers_mut()
        .insert("x-api-key", "wrong".parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut ws = Ws {
        socket,
        response: Default::default(),
    };
    ws.init().await;
}

#[tokio::test]
async fn upgrades_are_also_served_on_graphql_and_plain_gets_are_refused() {
    let local = server().await;
    let mut ws = connect_path(
        &local,
        "/graphql",
        Handshake::Subprotocol(connect_auth(&local, Mode::ApiKey)),
    )
    .await
    .unwrap();
    ws.init().await;
    let r = reqwest::get(local.graphql_url()).await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let r = reqwest::get(local.realtime_url().replace("ws://", "http://"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn without_graphql_ws_the_socket_is_closed_with_1002() {
    let local = server().await;
    let mut ws = connect(&local, Handshake::NoSubprotocol).await.unwrap();
    match ws.next_within(PATIENCE).await {
        Next::Close(Some(c)) => assert_eq!(u16::from(c.code), 1002),
        other => panic!("expected a 1002 close, got {other:?}"),
    }
}

#[tokio::test]
async fn ack_announces_the_configured_connection_timeout() {
    let local = server_with(|b| b.connection_timeout(Duration::from_secs(42))).await;
    let mut ws = connect(
        &local,
        Handshake::Subprotocol(connect_auth(&local, Mode::ApiKey)),
    )
    .await
    .unwrap();
    let ack = ws.init().await;
    assert_eq!(ack["payload"]["connectionTimeoutMs"], 42000);
}

#[tokio::test]
async fn a_bad_handshake_gets_connection_error_then_close() {
    let local = server().await;
    let host = host(&local);
    let mut tampered = connect_auth(&local, Mode::Iam);
    tampered["host"] = json!("other.example.com");
    for (what, object) in [
        ("wrong key", json!({"host": host, "x-api-key": "wrong"})),
        (
            "lambda deny",
            json!({"host": host, "Authorization": "deny"}),
        ),
        (
            "bad jwt",
            json!({"host": host, "Authorization": "eyJ.bad.token"}),
        ),
        ("tampered IAM", tampered),
    ] {
        let mut ws = connect(&local, Handshake::Subprotocol(object))
            .await
            .unwrap();
        ws.send(json!({"type": "connection_init"})).await;
        let f = ws.message().await;
        assert_eq!(f["type"], "connection_error", "{what}: {f}");
        let e = &f["payload"]["errors"][0];
        assert_eq!(e["errorType"], "UnauthorizedException", "{what}");
        assert_eq!(e["errorCode"], 401, "{what}");
        assert!(e["message"].is_string(), "{what}");
        assert!(
            matches!(ws.next_within(PATIENCE).await, Next::Close(_)),
            "{what}"
        );
    }
    // No auth at all, and an undecodable query header.
    let mut ws = connect(&local, Handshake::Nothing).await.unwrap();
    ws.send(json!({"type": "connection_init"})).await;
    assert_eq!(ws.message().await["type"], "connection_error");
    let mut ws = connect(&local, Handshake::Query("%%%not-base64".into()))
        .await
        .unwrap();
    ws.send(json!({"type": "connection_init"})).await;
    assert_eq!(ws.message().await["type"], "connection_error");
}

#[tokio::test]
async fn a_bad_handshake_can_be_refused_at_the_upgrade_with_401() {
    let local = server_with(|b| b.reject_bad_handshake_at_upgrade(true)).await;
    let bad = json!({"host": host(&local), "x-api-key": "wrong"});
    for how in [
        Handshake::Subprotocol(bad.clone()),
        Handshake::Headers(bad),
        Handshake::Nothing,
    ] {
        match connect(&local, how).await {
            Err(WsError::Http(r)) => {
                assert_eq!(r.status().as_u16(), 401);
                assert_eq!(r.headers()["x-amzn-errortype"], "UnauthorizedException");
                let body: Value = serde_json::from_slice(r.body().as_deref().unwrap()).unwrap();
                assert_eq!(body["errors"][0]["errorType"], "UnauthorizedException");
            }
            Err(e) => panic!("expected HTTP 401, got {e}"),
            Ok(_) => panic!("expected HTTP 401, the upgrade succeeded"),
        }
    }
    // A good handshake still goes through.
    connected(&local, Mode::Iam).await;
}

/// The auth object of `mode` naming `host` (IAM: signed over that host, as a client that
/// put that host in its URL would).
fn auth_naming(
    local: &appsync_local::LocalAppSync,
    mode: Mode,
    path: &str,
    body: &str,
    host: &str,
) -> Value {
    match mode {
        Mode::Iam => sign_iam(host, path, body, local.region()),
        _ => {
            let mut o = auth_object(local, mode, path, body);
            o["host"] = json!(host);
            o
        }
    }
}

/// Expects `connection_init` to be answered with `connection_error` (UnauthorizedException).
async fn expect_connection_error(ws: &mut Ws, what: &str) -> String {
    ws.send(json!({"type": "connection_init"})).await;
    let f = ws.message().await;
    assert_eq!(f["type"], "connection_error", "{what}: {f}");
    let e = &f["payload"]["errors"][0];
    assert_eq!(e["errorType"], "UnauthorizedException", "{what}: {f}");
    e["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_auth_objects_host_must_be_the_apis_graphql_host() {
    let local = server().await;
    let port = local.addr().port();
    let d = data(ON_CREATE_ALL, json!({}));
    for mode in MODES {
        // Another host (for IAM: signed over it, so the signature itself is fine), the
        // realtime host form, no port, no host at all: refused at connect, in both carriers.
        for other in ["other.example.com", "127.0.0.1", "127.0.0.2:1"] {
            let object = auth_naming(&local, mode, "/graphql/connect", "{}", other);
            let q = base64::engine::general_purpose::STANDARD.encode(object.to_string());
            for how in [Handshake::Subprotocol(object), Handshake::Query(q)] {
                let mut ws = connect(&local, how).await.unwrap();
                let m = expect_connection_error(&mut ws, &format!("{mode:?} {other}")).await;
                assert!(m.contains("host"), "{m}");
            }
        }
        let mut hostless = connect_auth(&local, mode);
        hostless.as_object_mut().unwrap().remove("host");
        let mut ws = connect(&local, Handshake::Subprotocol(hostless))
            .await
            .unwrap();
        expect_connection_error(&mut ws, &format!("{mode:?} without host")).await;

        // The forms a client may use for this server are accepted, at connect and at start.
        for good in [
            host(&local),
            format!("localhost:{port}"),
            format!("LOCALHOST:{port}"),
        ] {
            let object = auth_naming(&local, mode, "/graphql/connect", "{}", &good);
            let mut ws = connect(&local, Handshake::Subprotocol(object))
                .await
                .unwrap();
            ws.init().await;
            let start = auth_naming(&local, mode, "/graphql", &d, &good);
            ws.subscribe("ok", &d, start).await;
        }

        // A start naming another host is refused, for that id only.
        let mut ws = connected(&local, mode).await;
        let bad = auth_naming(&local, mode, "/graphql", &d, "other.example.com");
        ws.start("other-host", &d, bad).await;
        let f = ws.expect("error").await;
        assert_eq!(f["id"], "other-host", "{mode:?}");
        assert_eq!(
            f["payload"]["errors"][0]["errorType"], "UnauthorizedException",
            "{mode:?}: {f}"
        );
        subscribe(&mut ws, &local, "fine", mode, &d).await;
    }
}

#[tokio::test]
async fn a_wrong_host_is_refused_at_the_upgrade_when_so_configured() {
    let local = server_with(|b| b.reject_bad_handshake_at_upgrade(true)).await;
    for mode in MODES {
        let object = auth_naming(&local, mode, "/graphql/connect", "{}", "other.example.com");
        match connect(&local, Handshake::Subprotocol(object)).await {
            Err(WsError::Http(r)) => {
                assert_eq!(r.status().as_u16(), 401, "{mode:?}");
                assert_eq!(r.headers()["x-amzn-errortype"], "UnauthorizedException");
            }
            Err(e) => panic!("{mode:?}: expected HTTP 401, got {e}"),
            Ok(_) => panic!("{mode:?}: expected HTTP 401, the upgrade succeeded"),
        }
    }
}

#[tokio::test]
async fn a_configured_public_host_is_accepted_too() {
    let local = server_with(|b| b.public_host("api.example.com")).await;
    let d = data(ON_CREATE_ALL, json!({}));
    for mode in MODES {
        let object = auth_naming(&local, mode, "/graphql/connect", "{}", "api.example.com");
        let mut ws = connect(&local, Handshake::Subprotocol(object))
            .await
            .unwrap();
        ws.init().await;
        let start = auth_naming(&local, mode, "/graphql", &d, "api.example.com");
        ws.subscribe("public", &d, start).await;
        let object = auth_naming(&local, mode, "/graphql/connect", "{}", "api.example.org");
        let mut ws = connect(&local, Handshake::Subprotocol(object))
            .await
            .unwrap();
        expect_connection_error(&mut ws, &format!("{mode:?}")).await;
    }
}

#[tokio::test]
async fn a_session_token_on_a_long_term_key_is_refused() {
    // The server knows the key without a session token; the client signs with one.
    let local = appsync_local::LocalAppSync::builder()
        .schema(SCHEMA)
        .default_auth_mode(appsync_local::AuthMode::Iam)
        .iam_credentials(AKID, SECRET, None)
        .start()
        .await
        .unwrap();
    let (host, region) = (host(&local), local.region().to_owned());
    let with_token = sign_iam(&host, "/graphql/connect", "{}", &region);
    let mut ws = connect(&local, Handshake::Subprotocol(with_token))
        .await
        .unwrap();
    let m = expect_connection_error(&mut ws, "connect").await;
    assert_eq!(m, "The security token included in the request is invalid.");

    // Signed without a token, the connect is fine; then a start carrying one is refused,
    // and the same start without it goes through.
    let without = sign_iam_with(&host, "/graphql/connect", "{}", &region, None);
    let mut ws = connect(&local, Handshake::Subprotocol(without))
        .await
        .unwrap();
    ws.init().await;
    let d = data(ON_CREATE_ALL, json!({}));
    ws.start("token", &d, sign_iam(&host, "/graphql", &d, &region))
        .await;
    let f = ws.expect("error").await;
    assert_eq!(f["id"], "token");
    assert_eq!(
        f["payload"]["errors"][0]["message"],
        "The security token included in the request is invalid."
    );
    let plain = sign_iam_with(&host, "/graphql", &d, &region, None);
    ws.subscribe("plain", &d, plain).await;
}

// ---------------------------------------------------------------------------------------------
// Messages

#[tokio::test]
async fn keep_alives_arrive_after_the_ack() {
    let local = server().await;
    let mut ws = connect(
        &local,
        Handshake::Subprotocol(connect_auth(&local, Mode::ApiKey)),
    )
    .await
    .unwrap();
    ws.send(json!({"type": "connection_init"})).await;
    assert_eq!(ws.frame().await["type"], "connection_ack");
    for _ in 0..3 {
        assert_eq!(ws.frame().await, json!({"type": "ka"}));
    }
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
    let d = data(ON_CREATE_ALL, json!({}));
    ws.start("early", &d, connect_auth(&local, Mode::ApiKey))
        .await;
    ws.send(json!({"type": "stop", "id": "early"})).await;
    // The first answer is the ack: the start and stop were dropped.
    assert_eq!(ws.init().await["type"], "connection_ack");
    // "early" was never registered, so it is not a duplicate.
    subscribe(&mut ws, &local, "early", Mode::ApiKey, &d).await;
}

#[tokio::test]
async fn start_in_every_mode_on_one_socket_receives_events() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    let d = data(ON_CREATE_ALL, json!({}));
    for mode in MODES {
        subscribe(&mut ws, &local, &format!("{mode:?}"), mode, &d).await;
    }
    create_note(&local, note("n1", Some("x")), "{ id content owner }").await;
    let mut seen = Vec::new();
    for _ in MODES {
        let f = ws.data().await;
        assert_eq!(
            f["payload"],
            json!({"data": {"onCreateNote": {"id": "n1", "content": "content of n1", "owner": "x"}}})
        );
        seen.push(f["id"].as_str().unwrap().to_owned());
    }
    seen.sort();
    let mut want: Vec<String> = MODES.iter().map(|m| format!("{m:?}")).collect();
    want.sort();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn start_auth_failures_refuse_only_that_id() {
    let local = server().await;
    let mut ws = connected(&local, Mode::Iam).await;
    let d = data(ON_CREATE_ALL, json!({}));
    let host = host(&local);
    // IAM signed over other data: the signature covers payload.data exactly.
    let signed_for = data(ON_CREATE_ALL, json!({"x": 1}));
    let stale = auth_object(&local, Mode::Iam, "/graphql", &signed_for);
    // IAM signed for the connect path, not /graphql.
    let wrong_path = auth_object(&local, Mode::Iam, "/graphql/connect", &d);
    for (id, auth) in [
        ("tampered", Some(stale)),
        ("connect-signature", Some(wrong_path)),
        ("key", Some(json!({"host": host, "x-api-key": "wrong"}))),
        (
            "lambda",
            Some(json!({"host": host, "Authorization": "deny"})),
        ),
        (
            "jwt",
            Some(
                json!({"host": host, "Authorization": local.user_pool_token("alice").expires_in(-60).mint()}),
            ),
        ),
        ("missing", None),
    ] {
        let mut frame = json!({"id": id, "type": "start", "payload": {"data": d}});
        if let Some(a) = auth {
            frame["payload"]["extensions"] = json!({"authorization": a});
        }
        ws.send(frame).await;
        let f = ws.expect("error").await;
        assert_eq!(f["id"], id);
        assert_eq!(
            f["payload"]["errors"][0]["errorType"], "UnauthorizedException",
            "{id}: {f}"
        );
        assert!(f["payload"]["errors"][0]["message"].is_string());
    }
    // The socket is still fine, and a refused id can be used again.
    subscribe(&mut ws, &local, "tampered", Mode::Iam, &d).await;
    create_note(&local, note("n1", None), "{ id content owner }").await;
    assert_eq!(ws.data().await["id"], "tampered");
}

#[tokio::test]
async fn filters_match_the_mutation_result_and_null_means_null() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    let d = |v: Value| data(ON_CREATE, v);
    subscribe(
        &mut ws,
        &local,
        "alice",
        Mode::ApiKey,
        &d(json!({"owner": "alice"})),
    )
    .await;
    subscribe(
        &mut ws,
        &local,
        "null",
        Mode::ApiKey,
        &d(json!({"owner": null})),
    )
    .await;
    subscribe(&mut ws, &local, "omitted", Mode::ApiKey, &d(json!({}))).await;
    let literal = data(
        "subscription { onCreateNote(owner: \"carol\") { id } }",
        json!({}),
    );
    subscribe(&mut ws, &local, "literal", Mode::ApiKey, &literal).await;

    let sel = "{ id content owner }";
    create_note(&local, note("bob-1", Some("bob")), sel).await;
    create_note(&local, note("alice-1", Some("alice")), sel).await;
    create_note(&local, note("nobody-1", None), sel).await;
    create_note(&local, note("carol-1", Some("carol")), sel).await;
    let mut got: std::collections::HashMap<String, Vec<String>> = Default::default();
    // 4 for "omitted", 1 each for the others: 7 frames.
    for _ in 0..7 {
        let f = ws.data().await;
        let note_id = f["payload"]["data"]["onCreateNote"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        got.entry(f["id"].as_str().unwrap().to_owned())
            .or_default()
            .push(note_id);
    }
    assert_eq!(got["omitted"], ["bob-1", "alice-1", "nobody-1", "carol-1"]);
    assert_eq!(got["alice"], ["alice-1"]);
    assert_eq!(got["null"], ["nobody-1"]);
    assert_eq!(got["literal"], ["carol-1"]);
    // Markers: the next frame of each filtered subscription is the next matching event, so
    // nothing else was delivered in between.
    create_note(&local, note("alice-2", Some("alice")), sel).await;
    let (f, others) = data_for(&mut ws, "alice").await;
    assert_eq!(f["payload"]["data"]["onCreateNote"]["id"], "alice-2");
    assert!(others.iter().all(|o| o["id"] == "omitted"), "{others:?}");
}

#[tokio::test]
async fn subscribers_get_their_selection_restricted_to_the_mutations() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    let only_id = data("subscription { onCreateNote { id } }", json!({}));
    subscribe(&mut ws, &local, "only-id", Mode::ApiKey, &only_id).await;
    subscribe(
        &mut ws,
        &local,
        "all",
        Mode::ApiKey,
        &data(ON_CREATE_ALL, json!({})),
    )
    .await;
    // Filtering reads the mutation's selection: owner was not selected, so this never matches.
    subscribe(
        &mut ws,
        &local,
        "by-owner",
        Mode::ApiKey,
        &data(ON_CREATE, json!({"owner": "x"})),
    )
    .await;
    create_note(&local, note("n1", Some("x")), "{ id content }").await;
    let mut frames = [ws.data().await, ws.data().await];
    frames.sort_by_key(|f| f["id"].as_str().unwrap().to_owned());
    assert_eq!(frames[0]["id"], "all");
    assert_eq!(
        frames[0]["payload"]["data"]["onCreateNote"],
        json!({"id": "n1", "content": "content of n1", "owner": null}),
        "owner was not selected by the mutation"
    );
    assert_eq!(frames[1]["id"], "only-id");
    assert_eq!(
        frames[1]["payload"]["data"]["onCreateNote"],
        json!({"id": "n1"})
    );
    // Marker: with owner selected, by-owner's first event is this one.
    create_note(&local, note("n2", Some("x")), "{ id content owner }").await;
    let (f, _) = data_for(&mut ws, "by-owner").await;
    assert_eq!(f["payload"]["data"]["onCreateNote"]["id"], "n2");
}

#[tokio::test]
async fn field_auth_is_checked_at_start_for_that_id_only() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    let iam_only = data("subscription { iamOnly { id } }", json!({}));
    ws.start(
        "denied",
        &iam_only,
        auth_object(&local, Mode::ApiKey, "/graphql", &iam_only),
    )
    .await;
    let f = ws.expect("error").await;
    assert_eq!(f["id"], "denied");
    let e = &f["payload"]["errors"][0];
    assert_eq!(e["errorType"], "Unauthorized");
    assert_eq!(
        e["message"],
        "Not Authorized to access iamOnly on type Subscription"
    );
    // The same field with IAM on the same socket works.
    subscribe(&mut ws, &local, "allowed", Mode::Iam, &iam_only).await;
    create_note(&local, note("n1", None), "{ id content }").await;
    let f = ws.data().await;
    assert_eq!(f["id"], "allowed");
    assert_eq!(f["payload"]["data"]["iamOnly"]["id"], "n1");
}

#[tokio::test]
async fn validation_errors_have_no_error_type() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    for (id, query) in [
        ("unknown-field", "subscription { nope { id } }"),
        ("syntax", "subscription {"),
        ("not-a-subscription", "query { getNote(id: \"1\") { id } }"),
    ] {
        let d = data(query, json!({}));
        ws.start(id, &d, auth_object(&local, Mode::ApiKey, "/graphql", &d))
            .await;
        let f = ws.expect("error").await;
        assert_eq!(f["id"], id);
        let e = &f["payload"]["errors"][0];
        assert!(e.get("errorType").is_none(), "{id}: {f}");
        assert!(
            e["message"].as_str().unwrap().contains("Validation error"),
            "{id}: {f}"
        );
    }
}

#[tokio::test]
async fn the_subscription_cap_answers_with_an_errors_object() {
    let local = server_with(|b| b.max_subscriptions_per_connection(2)).await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    let d = data(ON_CREATE_ALL, json!({}));
    subscribe(&mut ws, &local, "1", Mode::ApiKey, &d).await;
    subscribe(&mut ws, &local, "2", Mode::ApiKey, &d).await;
    ws.start("3", &d, auth_object(&local, Mode::ApiKey, "/graphql", &d))
        .await;
    let f = ws.expect("error").await;
    assert_eq!(
        f,
        json!({"id": "3", "type": "error", "payload": {"errors": {
            "errorType": "MaxSubscriptionsReachedError",
            "message": "Max number of 2 subscriptions reached"}}})
    );
    // A stop frees a slot.
    ws.stop("1").await;
    assert_eq!(ws.expect("complete").await["id"], "1");
    subscribe(&mut ws, &local, "3", Mode::ApiKey, &d).await;
}

#[tokio::test]
async fn stop_completes_and_ends_the_events() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    let d = data(ON_CREATE_ALL, json!({}));
    subscribe(&mut ws, &local, "stopped", Mode::ApiKey, &d).await;
    subscribe(&mut ws, &local, "kept", Mode::ApiKey, &d).await;
    create_note(&local, note("n1", None), "{ id content owner }").await;
    let mut ids = [ws.data().await["id"].clone(), ws.data().await["id"].clone()];
    ids.sort_by_key(|v| v.to_string());
    assert_eq!(ids, [json!("kept"), json!("stopped")]);
    ws.stop("stopped").await;
    assert_eq!(
        ws.expect("complete").await,
        json!({"type": "complete", "id": "stopped"})
    );
    for n in ["n2", "n3"] {
        create_note(&local, note(n, None), "{ id content owner }").await;
        let (f, others) = data_for(&mut ws, "kept").await;
        assert_eq!(f["payload"]["data"]["onCreateNote"]["id"], n);
        assert!(others.is_empty(), "data after stop: {others:?}");
    }
    // An unknown id is completed too; a stopped id can be reused.
    ws.stop("never-started").await;
    assert_eq!(ws.expect("complete").await["id"], "never-started");
    subscribe(&mut ws, &local, "stopped", Mode::ApiKey, &d).await;
}

#[tokio::test]
async fn duplicate_ids_are_refused_and_the_first_goes_on() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    let d = data(ON_CREATE_ALL, json!({}));
    subscribe(&mut ws, &local, "a", Mode::ApiKey, &d).await;
    ws.start("a", &d, auth_object(&local, Mode::ApiKey, "/graphql", &d))
        .await;
    let f = ws.expect("error").await;
    assert_eq!(
        f,
        json!({"id": "a", "type": "error", "payload": {"errors": [{
            "errorType": "DuplicatedOperationError", "message": "Duplicated operation with id a"}]}})
    );
    create_note(&local, note("n1", None), "{ id content owner }").await;
    assert_eq!(ws.data().await["id"], "a");
}

#[tokio::test]
async fn bad_frames_are_answered_and_the_socket_goes_on() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    ws.send_text("this is not json").await;
    let f = ws.expect("error").await;
    assert!(f.get("id").is_none(), "{f}");
    assert!(f["payload"]["errors"][0]["message"].is_string());
    ws.send_text("[1, 2]").await;
    assert!(ws.expect("error").await.get("id").is_none());
    // A binary frame and an unknown type are ignored; the next answer is for the next start.
    ws.socket
        .send(Message::binary(vec![0u8, 159, 146, 150]))
        .await
        .unwrap();
    ws.send(json!({"type": "what_is_this", "id": "x"})).await;
    ws.send(json!({"type": "start", "id": "no-payload"})).await;
    let f = ws.expect("error").await;
    assert_eq!(f["id"], "no-payload");
    assert!(f["payload"]["errors"][0].get("errorType").is_none());
    assert!(f["payload"]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Validation error"));
    ws.send(json!({"type": "start", "id": "object-data", "payload": {"data": {"query": ON_CREATE_ALL}}}))
        .await;
    assert_eq!(ws.expect("error").await["id"], "object-data");
    ws.send(json!({"type": "start", "payload": {"data": "{}"}}))
        .await;
    assert!(ws.expect("error").await.get("id").is_none());
    let d = data(ON_CREATE_ALL, json!({}));
    subscribe(&mut ws, &local, "fine", Mode::ApiKey, &d).await;
    create_note(&local, note("n1", None), "{ id content owner }").await;
    assert_eq!(ws.data().await["id"], "fine");
}

// ---------------------------------------------------------------------------------------------
// Fault hooks

#[tokio::test]
async fn refused_connections_see_the_status() {
    let local = server().await;
    local.faults().refuse_next_connections(2, 503);
    for _ in 0..2 {
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
    }
    connected(&local, Mode::ApiKey).await;
}

#[tokio::test]
async fn paused_keep_alives_stop_and_resume() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    assert_eq!(ws.frame().await["type"], "ka");
    local.faults().pause_keep_alives(true);
    // Once this marker arrives, every later tick sees the pause.
    local.faults().send_frame(json!({"type": "marker"}));
    ws.expect("marker").await;
    match ws.next_within(Duration::from_millis(1000)).await {
        Next::Quiet => {}
        other => panic!("expected no ka while paused (5 intervals), got {other:?}"),
    }
    local.faults().pause_keep_alives(false);
    assert_eq!(ws.frame().await["type"], "ka");
}

#[tokio::test]
async fn refused_acks_leave_connection_init_unanswered() {
    let local = server().await;
    local.faults().refuse_acks(true);
    let mut ws = connect(
        &local,
        Handshake::Subprotocol(connect_auth(&local, Mode::ApiKey)),
    )
    .await
    .unwrap();
    ws.send(json!({"type": "connection_init"})).await;
    // This is answered after the init was handled: no ack came before it.
    ws.send_text("not json").await;
    assert_eq!(ws.frame().await["type"], "error");
    match ws.next_within(Duration::from_millis(500)).await {
        Next::Quiet => {}
        other => panic!("expected no ack, got {other:?}"),
    }
    local.faults().refuse_acks(false);
    assert_eq!(ws.init().await["type"], "connection_ack");
}

#[tokio::test]
async fn delayed_acks_wait_before_connection_ack_and_start_ack() {
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
    let d = data(ON_CREATE_ALL, json!({}));
    let t = Instant::now();
    subscribe(&mut ws, &local, "a", Mode::ApiKey, &d).await;
    assert!(t.elapsed() >= delay, "start_ack after {:?}", t.elapsed());
    // While a start waits for its ack, the socket still answers.
    ws.start("b", &d, auth_object(&local, Mode::ApiKey, "/graphql", &d))
        .await;
    ws.stop("c").await;
    assert_eq!(ws.expect("complete").await["id"], "c");
    assert_eq!(ws.expect("start_ack").await["id"], "b");
    // A start stopped before its ack is never acknowledged: the next start_ack, due after
    // d's would have been, is e's.
    ws.start("d", &d, auth_object(&local, Mode::ApiKey, "/graphql", &d))
        .await;
    ws.stop("d").await;
    assert_eq!(ws.expect("complete").await["id"], "d");
    subscribe(&mut ws, &local, "e", Mode::ApiKey, &d).await;
    local.faults().delay_acks(Duration::ZERO);
    subscribe(&mut ws, &local, "f", Mode::ApiKey, &d).await;
}

#[tokio::test]
async fn dropped_sockets_end_without_a_close_frame() {
    let local = server().await;
    let mut a = connected(&local, Mode::ApiKey).await;
    let mut b = connected(&local, Mode::Lambda).await;
    local.faults().drop_all_sockets();
    for ws in [&mut a, &mut b] {
        loop {
            match ws.next_within(PATIENCE).await {
                Next::Frame(f) if f["type"] == "ka" => continue,
                Next::Reset(_) => break,
                other => panic!("expected a TCP drop without close frame, got {other:?}"),
            }
        }
    }
    // The server still accepts new sockets.
    connected(&local, Mode::ApiKey).await;
}

#[tokio::test]
async fn closed_sockets_get_the_code_and_reason() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    local
        .faults()
        .close_all_sockets(4000, "going away for a test");
    loop {
        match ws.next_within(PATIENCE).await {
            Next::Frame(f) if f["type"] == "ka" => continue,
            Next::Close(Some(c)) => {
                assert_eq!(u16::from(c.code), 4000);
                assert_eq!(c.reason.as_str(), "going away for a test");
                break;
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn injected_frames_are_sent_as_they_are() {
    let local = server().await;
    let mut ws = connected(&local, Mode::ApiKey).await;
    let frame = json!({"type": "error", "payload": {"errors": {"errorType": "LimitExceededError", "message": "Rate limit exceeded"}}});
    local.faults().send_frame(frame.clone());
    assert_eq!(ws.message().await, frame);
    let complete = json!({"message": "Subscription complete."});
    local.faults().send_frame(complete.clone());
    assert_eq!(ws.message().await, complete);
}
