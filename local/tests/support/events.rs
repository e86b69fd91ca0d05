//! Events test helpers: a server with an Event API in every auth mode, the authorization
//! object per mode for connect, subscribe and publish (IAM signed with `aws-sigv4` over the
//! bodies AWS documents), a raw `aws-appsync-event-ws` client over tokio-tungstenite, and
//! `POST /event` over reqwest (IAM signed over the exact body).

use std::time::{Duration, SystemTime};

use appsync_local::{
    AuthMode, ChannelNamespace, EventApi, LambdaAuthResponse, LocalAppSync, LocalAppSyncBuilder,
};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Error as WsError;

use super::ws::{
    host, sign_iam, subprotocol_token, Mode, Ws, AKID, API_KEY, CLIENT_ID, ISSUER, POOL, SECRET,
    SESSION,
};

/// The Event API's subprotocol.
pub const PROTOCOL: &str = "aws-appsync-event-ws";

/// Every mode connects; namespaces:
/// - `default`: every mode publishes and subscribes;
/// - `other`: likewise (a second namespace for wildcard checks);
/// - `iam`: IAM only, both ways;
/// - `admins`: user pools (group `admins`) subscribe, API key publishes.
pub fn event_api() -> EventApi {
    let all = [
        AuthMode::ApiKey,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Iam,
        AuthMode::Lambda,
    ];
    EventApi::new()
        .connection_auth_modes(all)
        .default_publish_auth_modes(all)
        .default_subscribe_auth_modes(all)
        .namespace("default")
        .namespace("other")
        .namespace(
            ChannelNamespace::new("iam")
                .publish_auth_modes([AuthMode::Iam])
                .subscribe_auth_modes([AuthMode::Iam]),
        )
        .namespace(
            ChannelNamespace::new("admins")
                .publish_auth_modes([AuthMode::ApiKey])
                .subscribe_auth_modes([AuthMode::UserPools])
                .subscribe_groups(["admins"]),
        )
}

/// The credentials of every mode (the Lambda authorizer allows the token `allow`), `ka`
/// every 200 ms, an Event API but no schema unless `f` adds one.
pub fn builder() -> LocalAppSyncBuilder {
    LocalAppSync::builder()
        .default_auth_mode(AuthMode::ApiKey)
        .api_key(API_KEY)
        .user_pool(POOL, CLIENT_ID)
        .oidc_issuer(ISSUER, Some(CLIENT_ID.to_owned()))
        .iam_credentials(AKID, SECRET, Some(SESSION.to_owned()))
        .lambda_authorizer(|req| async move {
            if req.authorization_token == "allow" {
                LambdaAuthResponse::allow()
            } else {
                LambdaAuthResponse::deny()
            }
        })
        .keep_alive_interval(Duration::from_millis(200))
        .events(event_api())
}

pub async fn server() -> LocalAppSync {
    server_with(|b| b).await
}

pub async fn server_with(
    f: impl FnOnce(LocalAppSyncBuilder) -> LocalAppSyncBuilder,
) -> LocalAppSync {
    f(builder()).start().await.expect("the test server starts")
}

/// An authorization object in `mode`; IAM is signed over `POST /event` with `body`.
pub fn auth(local: &LocalAppSync, mode: Mode, body: &str) -> Value {
    auth_as(local, mode, body, "alice", &[])
}

/// [`auth`], a user-pool token naming this user and groups.
pub fn auth_as(local: &LocalAppSync, mode: Mode, body: &str, user: &str, groups: &[&str]) -> Value {
    let host = host(local);
    match mode {
        Mode::ApiKey => json!({"host": host, "x-api-key": API_KEY}),
        Mode::UserPools => json!({"host": host,
            "Authorization": local.user_pool_token(user).groups(groups.iter().copied()).mint()}),
        Mode::Oidc => json!({"host": host, "Authorization": local.oidc_token("bob").mint()}),
        Mode::Lambda => json!({"host": host, "Authorization": "allow"}),
        Mode::Iam => sign_iam(&host, "/event", body, local.region()),
    }
}

/// The connect authorization: body `{}`.
pub fn connect_auth(local: &LocalAppSync, mode: Mode) -> Value {
    auth(local, mode, "{}")
}

/// How the handshake carries the authorization object.
pub enum Handshake {
    /// `Sec-WebSocket-Protocol: aws-appsync-event-ws, header-<base64url>`.
    Subprotocol(Value),
    /// The object's pairs as HTTP headers of the upgrade (what Amplify Android does).
    Headers(Value),
    /// `?header=<base64>&payload=e30=` (GraphQL's original carrier), with the subprotocol.
    Query(Value),
    /// These subprotocols, nothing else.
    Protocols(&'static str),
}

pub async fn connect(local: &LocalAppSync, how: Handshake) -> Result<Ws, WsError> {
    let mut url = local.events_realtime_url();
    if let Handshake::Query(object) = &how {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(object.to_string());
        let escaped = b64
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        url.push_str(&format!("?header={escaped}&payload=e30%3D"));
    }
    let mut req = url.into_client_request()?;
    let h = req.headers_mut();
    match &how {
        Handshake::Subprotocol(object) => {
            let v = format!("{PROTOCOL}, {}", subprotocol_token(object));
            h.insert("sec-websocket-protocol", HeaderValue::from_str(&v).unwrap());
        }
        Handshake::Headers(object) => {
            h.insert("sec-websocket-protocol", HeaderValue::from_static(PROTOCOL));
            for (k, v) in object.as_object().unwrap() {
                if k.eq_ignore_ascii_case("host") {
                    continue; // tungstenite sends the same host itself
                }
                let name: tokio_tungstenite::tungstenite::http::HeaderName = k.parse().unwrap();
                h.insert(name, HeaderValue::from_str(v.as_str().unwrap()).unwrap());
            }
        }
        Handshake::Query(_) => {
            h.insert("sec-websocket-protocol", HeaderValue::from_static(PROTOCOL));
        }
        Handshake::Protocols(p) => {
            if !p.is_empty() {
                h.insert("sec-websocket-protocol", HeaderValue::from_static(p));
            }
        }
    }
    let (socket, response) = tokio_tungstenite::connect_async(req).await?;
    Ok(Ws { socket, response })
}

/// Connects in this mode (subprotocol handshake) and waits for `connection_ack`.
pub async fn connected(local: &LocalAppSync, mode: Mode) -> Ws {
    let mut ws = connect(local, Handshake::Subprotocol(connect_auth(local, mode)))
        .await
        .expect("the upgrade succeeds");
    ws.init().await;
    ws
}

/// A `subscribe` message, authorized in `mode` (IAM over `{"channel":…}`).
pub fn subscribe_msg(local: &LocalAppSync, id: &str, channel: &str, mode: Mode) -> Value {
    let body = json!({ "channel": channel }).to_string();
    json!({"type": "subscribe", "id": id, "channel": channel,
        "authorization": auth(local, mode, &body)})
}

/// A `publish` message, authorized in `mode` (IAM over `{"channel","events"}`).
pub fn publish_msg(
    local: &LocalAppSync,
    id: &str,
    channel: &str,
    events: &[&str],
    mode: Mode,
) -> Value {
    let body = json!({"channel": channel, "events": events}).to_string();
    json!({"type": "publish", "id": id, "channel": channel, "events": events,
        "authorization": auth(local, mode, &body)})
}

/// `subscribe`, then `subscribe_success` for that id.
pub async fn subscribe(ws: &mut Ws, local: &LocalAppSync, id: &str, channel: &str, mode: Mode) {
    ws.send(subscribe_msg(local, id, channel, mode)).await;
    let f = ws.expect("subscribe_success").await;
    assert_eq!(f, json!({"type": "subscribe_success", "id": id}));
}

/// `publish` over the socket, then its answer (whatever it is); `data` frames that arrive
/// before it are kept in `data` (they may come before or after the answer).
pub async fn publish_ws_seeing(
    ws: &mut Ws,
    local: &LocalAppSync,
    id: &str,
    channel: &str,
    events: &[&str],
    mode: Mode,
    data: &mut Vec<Value>,
) -> Value {
    ws.send(publish_msg(local, id, channel, events, mode)).await;
    loop {
        let f = ws.message().await;
        if f["id"] == id && f["type"] != "data" {
            return f;
        }
        assert_eq!(f["type"], "data", "unexpected frame {f}");
        data.push(f);
    }
}

/// [`publish_ws_seeing`] where no `data` frame may arrive meanwhile.
pub async fn publish_ws(
    ws: &mut Ws,
    local: &LocalAppSync,
    id: &str,
    channel: &str,
    events: &[&str],
    mode: Mode,
) -> Value {
    let mut data = Vec::new();
    let answer = publish_ws_seeing(ws, local, id, channel, events, mode, &mut data).await;
    assert!(data.is_empty(), "data before the answer: {data:?}");
    answer
}

/// The answer to `POST /event`: status, `x-amzn-ErrorType`, body.
pub struct Answer {
    pub status: u16,
    pub error_type: Option<String>,
    pub body: Value,
}

/// `POST /event` with this exact body, authorized in `mode` (IAM signed over the body).
pub async fn post_raw(local: &LocalAppSync, body: &str, mode: Mode) -> Answer {
    let url = local.events_url();
    let mut headers: Vec<(String, String)> = vec![(
        "content-type".into(),
        "application/json; charset=UTF-8".into(),
    )];
    match mode {
        Mode::Iam => headers.extend(sign_http(&url, &host(local), body, local.region())),
        other => {
            let object = auth(local, other, body);
            for (k, v) in object.as_object().unwrap() {
                if k != "host" {
                    headers.push((k.clone(), v.as_str().unwrap().to_owned()));
                }
            }
        }
    }
    send(&url, &headers, body).await
}

/// `POST /event` with these headers only.
pub async fn send(url: &str, headers: &[(String, String)], body: &str) -> Answer {
    let mut req = reqwest::Client::new().post(url).body(body.to_owned());
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("the request is sent");
    let status = resp.status().as_u16();
    let error_type = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await.expect("the answer arrives");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    Answer {
        status,
        error_type,
        body,
    }
}

/// `POST /event` of these events to `channel`, authorized in `mode`.
pub async fn post(local: &LocalAppSync, channel: &str, events: &[&str], mode: Mode) -> Answer {
    let body = json!({"channel": channel, "events": events}).to_string();
    post_raw(local, &body, mode).await
}

/// SigV4 headers for `POST url` with `content-type` and `host`, over `body`.
pub fn sign_http(url: &str, host: &str, body: &str, region: &str) -> Vec<(String, String)> {
    let identity = Credentials::new(AKID, SECRET, Some(SESSION.to_owned()), None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("appsync")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = [
        ("content-type", "application/json; charset=UTF-8"),
        ("host", host),
    ];
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The `data` frames for each of these subscription ids, each until its `marker` event
/// arrives (the marker excluded; frames for an id after its marker are skipped): every event
/// is a JSON string, decoded here.
pub async fn collect_until(ws: &mut Ws, markers: &[(&str, &str)]) -> Vec<Vec<Value>> {
    let mut got: Vec<Vec<Value>> = vec![Vec::new(); markers.len()];
    let mut done = vec![false; markers.len()];
    while done.iter().any(|d| !d) {
        let f = ws.expect("data").await;
        let i = markers
            .iter()
            .position(|(id, _)| f["id"] == *id)
            .unwrap_or_else(|| panic!("data for an unexpected id: {f}"));
        let event = f["event"].as_str().expect("the event is a JSON string");
        let event: Value = serde_json::from_str(event).expect("the event holds JSON");
        if done[i] {
            continue;
        }
        if event == json!(markers[i].1) {
            done[i] = true;
        } else {
            got[i].push(event);
        }
    }
    got
}
