//! Realtime test helpers: a server with every auth mode, AppSync's header object per mode (IAM
//! signed with `aws-sigv4`, as a client would), a raw `graphql-ws` client over
//! tokio-tungstenite, and mutations over HTTP.

use std::time::{Duration, SystemTime};

use appsync_local::{AuthMode, LambdaAuthResponse, LocalAppSync, LocalAppSyncBuilder};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const API_KEY: &str = "da2-realtimetestkey000000000";
pub const AKID: &str = "AKIDREALTIMETEST";
pub const SECRET: &str = "realtime/secret/access/key";
pub const SESSION: &str = "realtime-session-token";
pub const POOL: &str = "us-east-1_test";
pub const CLIENT_ID: &str = "client1";
pub const ISSUER: &str = "https://oidc.test";

/// How long any single expected frame may take.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub const SCHEMA: &str = r#"
type Note @aws_api_key @aws_iam @aws_cognito_user_pools @aws_oidc @aws_lambda {
  id: ID!
  content: String!
  owner: String
  secret: String @aws_iam
}
type Query {
  getNote(id: ID!): Note @aws_api_key @aws_iam @aws_cognito_user_pools @aws_oidc @aws_lambda
}
type Mutation {
  createNote(input: CreateNoteInput!): Note @aws_api_key @aws_iam @aws_cognito_user_pools @aws_oidc @aws_lambda
}
input CreateNoteInput { id: ID content: String! owner: String secret: String }
type Subscription {
  onCreateNote(owner: String): Note
    @aws_subscribe(mutations: ["createNote"])
    @aws_api_key @aws_iam @aws_cognito_user_pools @aws_oidc @aws_lambda
  iamOnly: Note @aws_subscribe(mutations: ["createNote"]) @aws_iam
}
"#;

/// A server with every mode (API_KEY default), `ka` every 200 ms; the Lambda authorizer
/// allows the token `allow`.
pub async fn server() -> LocalAppSync {
    server_with(|b| b).await
}

pub async fn server_with(
    f: impl FnOnce(LocalAppSyncBuilder) -> LocalAppSyncBuilder,
) -> LocalAppSync {
    let b = LocalAppSync::builder()
        .schema(SCHEMA)
        .default_auth_mode(AuthMode::ApiKey)
        .additional_auth_modes([
            AuthMode::Iam,
            AuthMode::UserPools,
            AuthMode::Oidc,
            AuthMode::Lambda,
        ])
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
        .keep_alive_interval(Duration::from_millis(200));
    f(b).start().await.expect("the test server starts")
}

/// An auth mode, as a client picks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    ApiKey,
    UserPools,
    Oidc,
    Iam,
    Lambda,
}

pub const MODES: [Mode; 5] = [
    Mode::ApiKey,
    Mode::UserPools,
    Mode::Oidc,
    Mode::Iam,
    Mode::Lambda,
];

/// The API host, as the header object names it.
pub fn host(local: &LocalAppSync) -> String {
    local.addr().to_string()
}

/// The header object for a handshake (`path` `/graphql/connect`, body `{}`) or a `start`
/// (`path` `/graphql`, body = the exact `data` string).
pub fn auth_object(local: &LocalAppSync, mode: Mode, path: &str, body: &str) -> Value {
    let host = host(local);
    match mode {
        Mode::ApiKey => json!({"host": host, "x-api-key": API_KEY}),
        Mode::UserPools => {
            json!({"host": host, "Authorization": local.user_pool_token("alice").mint()})
        }
        Mode::Oidc => json!({"host": host, "Authorization": local.oidc_token("bob").mint()}),
        Mode::Lambda => json!({"host": host, "Authorization": "allow"}),
        Mode::Iam => sign_iam(&host, path, body, local.region()),
    }
}

pub fn connect_auth(local: &LocalAppSync, mode: Mode) -> Value {
    auth_object(local, mode, "/graphql/connect", "{}")
}

/// SigV4 over `POST http://<host><path>` with AppSync's three fixed headers (§2.3); the object
/// holds every signed header and `authorization`, names lowercase as amplify-js sends them.
pub fn sign_iam(host: &str, path: &str, body: &str, region: &str) -> Value {
    sign_iam_with(host, path, body, region, Some(SESSION))
}

/// [`sign_iam`] with the given session token (none: long-term credentials).
pub fn sign_iam_with(
    host: &str,
    path: &str,
    body: &str,
    region: &str,
    session: Option<&str>,
) -> Value {
    let identity = Credentials::new(AKID, SECRET, session.map(str::to_owned), None, "test").into();
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
        ("accept", "application/json, text/javascript"),
        ("content-encoding", "amz-1.0"),
        ("content-type", "application/json; charset=UTF-8"),
        ("host", host),
    ];
    let signable = SignableRequest::new(
        "POST",
        format!("http://{host}{path}"),
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut object = serde_json::Map::new();
    for (k, v) in headers.iter().copied().chain(instructions.headers()) {
        object.insert(k.to_owned(), json!(v));
    }
    Value::Object(object)
}

/// `base64url(JSON)` without padding, for the `header-` subprotocol.
pub fn subprotocol_token(object: &Value) -> String {
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(object.to_string());
    format!("header-{b}")
}

/// How the handshake carries the header object.
pub enum Handshake {
    /// `Sec-WebSocket-Protocol: graphql-ws, header-<base64url>`.
    Subprotocol(Value),
    /// `?header=<value>&payload=e30=`, the value as given (raw or percent-encoded base64).
    Query(String),
    /// The object's pairs as HTTP headers of the upgrade.
    Headers(Value),
    /// Only `graphql-ws`, no auth at all.
    Nothing,
    /// No subprotocol offered at all.
    NoSubprotocol,
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A raw `graphql-ws` client.
pub struct Ws {
    pub socket: Socket,
    pub response: Response<Option<Vec<u8>>>,
}

/// What the socket did next.
#[derive(Debug)]
pub enum Next {
    Frame(Value),
    Close(Option<CloseFrame>),
    /// The TCP connection ended without a close frame.
    Reset(String),
    /// Nothing within the wait.
    Quiet,
}

pub async fn connect(local: &LocalAppSync, how: Handshake) -> Result<Ws, WsError> {
    connect_path(local, "/graphql/realtime", how).await
}

pub async fn connect_path(local: &LocalAppSync, path: &str, how: Handshake) -> Result<Ws, WsError> {
    let mut url = format!("ws://{}{path}", local.addr());
    if let Handshake::Query(v) = &how {
        url.push_str(&format!("?header={v}&payload=e30="));
    }
    let mut req = url.into_client_request()?;
    let h = req.headers_mut();
    match &how {
        Handshake::Subprotocol(object) => {
            let v = format!("graphql-ws, {}", subprotocol_token(object));
            h.insert("sec-websocket-protocol", HeaderValue::from_str(&v).unwrap());
        }
        Handshake::Headers(object) => {
            h.insert(
                "sec-websocket-protocol",
                HeaderValue::from_static("graphql-ws"),
            );
            for (k, v) in object.as_object().unwrap() {
                if k.eq_ignore_ascii_case("host") {
                    continue; // tungstenite sends the same host itself
                }
                let name: tokio_tungstenite::tungstenite::http::HeaderName = k.parse().unwrap();
                h.insert(name, HeaderValue::from_str(v.as_str().unwrap()).unwrap());
            }
        }
        Handshake::Query(_) | Handshake::Nothing => {
            h.insert(
                "sec-websocket-protocol",
                HeaderValue::from_static("graphql-ws"),
            );
        }
        Handshake::NoSubprotocol => {}
    }
    let (socket, response) = tokio_tungstenite::connect_async(req).await?;
    Ok(Ws { socket, response })
}

/// Connects with the `header-` subprotocol in this mode and waits for `connection_ack`.
pub async fn connected(local: &LocalAppSync, mode: Mode) -> Ws {
    let mut ws = connect(local, Handshake::Subprotocol(connect_auth(local, mode)))
        .await
        .expect("the upgrade succeeds");
    ws.init().await;
    ws
}

/// The `data` string of a `start`.
pub fn data(query: &str, variables: Value) -> String {
    json!({"query": query, "variables": variables}).to_string()
}

impl Ws {
    pub async fn send(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text))
            .await
            .expect("the socket takes a frame");
    }

    /// The next thing that happens within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Next {
        loop {
            let item = match tokio::time::timeout(wait, self.socket.next()).await {
                Err(_) => return Next::Quiet,
                Ok(item) => item,
            };
            return match item {
                None => Next::Reset("stream ended".into()),
                Some(Ok(Message::Text(t))) => {
                    Next::Frame(serde_json::from_str(t.as_str()).expect("frames are JSON"))
                }
                Some(Ok(Message::Close(c))) => Next::Close(c),
                Some(Ok(_)) => continue,
                Some(Err(e)) => Next::Reset(e.to_string()),
            };
        }
    }

    /// The next frame, `ka` included; panics on anything else.
    pub async fn frame(&mut self) -> Value {
        match self.next_within(PATIENCE).await {
            Next::Frame(f) => f,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// The next frame that is not a `ka`, within [`PATIENCE`] in all.
    pub async fn message(&mut self) -> Value {
        let until = tokio::time::Instant::now() + PATIENCE;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Next::Frame(f) if f["type"] == "ka" => {}
                Next::Frame(f) => return f,
                other => panic!("expected a frame, got {other:?}"),
            }
        }
    }

    /// The next frame that is not a `ka`, which must be of this type.
    pub async fn expect(&mut self, ty: &str) -> Value {
        let f = self.message().await;
        assert_eq!(f["type"], ty, "unexpected frame {f}");
        f
    }

    /// Asserts that nothing but `ka` arrives within `wait`.
    pub async fn quiet(&mut self, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Next::Quiet => return,
                Next::Frame(f) if f["type"] == "ka" => {}
                other => panic!("expected quiet, got {other:?}"),
            }
        }
    }

    /// `connection_init`, then the `connection_ack` (returned).
    pub async fn init(&mut self) -> Value {
        self.send(json!({"type": "connection_init"})).await;
        self.expect("connection_ack").await
    }

    pub async fn start(&mut self, id: &str, data: &str, authorization: Value) {
        self.send(json!({"id": id, "type": "start",
            "payload": {"data": data, "extensions": {"authorization": authorization}}}))
            .await;
    }

    /// `start` then `start_ack`.
    pub async fn subscribe(&mut self, id: &str, data: &str, authorization: Value) {
        self.start(id, data, authorization).await;
        let f = self.expect("start_ack").await;
        assert_eq!(f["id"], id);
    }

    pub async fn stop(&mut self, id: &str) {
        self.send(json!({"type": "stop", "id": id})).await;
    }

    /// The next `data` frame (any id).
    pub async fn data(&mut self) -> Value {
        self.expect("data").await
    }
}

/// `createNote` over HTTP with the API key, selecting `selection`; returns the response body.
pub async fn create_note(local: &LocalAppSync, input: Value, selection: &str) -> Value {
    let query =
        format!("mutation M($input: CreateNoteInput!) {{ createNote(input: $input) {selection} }}");
    let text = reqwest::Client::new()
        .post(local.graphql_url())
        .header("x-api-key", API_KEY)
        .header("content-type", "application/json")
        .body(json!({"query": query, "variables": {"input": input}}).to_string())
        .send()
        .await
        .expect("the mutation is sent")
        .text()
        .await
        .expect("the answer arrives");
    let body: Value = serde_json::from_str(&text).expect("the answer is JSON");
    assert!(body.get("errors").is_none(), "mutation failed: {body}");
    body
}
