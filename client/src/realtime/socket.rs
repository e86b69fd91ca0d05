//! The socket seen by the actor: a `Stream` + `Sink` of text and close frames, the `Connector`
//! that opens one, and the real connector: the WebSocket upgrade is an ordinary request of the
//! client's `reqwest` client (its TLS roots, proxy and timeouts), and the upgraded stream is
//! handed to `tokio-websockets`, which writes nothing to any log (tungstenite traces every
//! frame's payload, and a `start` frame carries credentials). Tests swap in sockets made of
//! channels.

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::SystemTime;

use base64::Engine;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use http::{HeaderMap, HeaderValue, StatusCode};
use tokio_websockets::{CloseCode, Limits, Message};
use url::Url;

use super::options::HandshakeMethod;
use super::protocol::{AuthObject, SUBPROTOCOL};
use crate::error::Error;
use crate::operation::GraphQLError;

/// The largest frame (message) taken from a server: AppSync's payloads are at most 240 KB, so
/// anything near this is a broken or hostile server.
pub(crate) const MAX_FRAME: usize = 16 << 20;

/// The most of a refused upgrade's body that is read (for its `errors`).
const MAX_REFUSAL_BODY: usize = 64 << 10;

/// A text frame as received: its bytes are shared, not copied, and known to be UTF-8.
#[derive(Clone)]
pub(crate) struct TextFrame(Message);

impl TextFrame {
    /// A frame made from text (for tests, and frames built locally).
    pub(crate) fn new(text: impl Into<String>) -> Self {
        TextFrame(Message::text(text.into()))
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        self.0.as_text().unwrap_or_default()
    }

    /// Its size in bytes (what it costs a buffer).
    pub(crate) fn len(&self) -> usize {
        self.0.as_payload().len()
    }
}

impl fmt::Debug for TextFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Frames may carry anything: only their size is shown.
        write!(f, "TextFrame({} bytes)", self.len())
    }
}

impl PartialEq for TextFrame {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for TextFrame {}

/// The frames the protocol uses. Pings are answered by the WebSocket layer and binary frames
/// are not part of AppSync's protocol, so neither reaches the actor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WsMessage {
    /// A text frame (every AppSync message).
    Text(TextFrame),
    /// A close frame: its code and reason, if it had them.
    Close(Option<(u16, String)>),
}

impl WsMessage {
    /// A text frame.
    pub(crate) fn text(text: impl Into<String>) -> Self {
        WsMessage::Text(TextFrame::new(text))
    }
}

/// A read or write failure of an open socket. Its text never holds credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SocketError(pub(crate) String);

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An open socket.
pub(crate) trait Socket:
    Stream<Item = Result<WsMessage, SocketError>> + Sink<WsMessage, Error = SocketError> + Send + Unpin
{
}

impl<T> Socket for T where
    T: Stream<Item = Result<WsMessage, SocketError>>
        + Sink<WsMessage, Error = SocketError>
        + Send
        + Unpin
{
}

/// A boxed socket.
pub(crate) type BoxSocket = Box<dyn Socket>;

/// Why a socket could not be opened.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The HTTP upgrade was answered with this status (e.g. 401 with
    /// `x-amzn-ErrorType: UnauthorizedException`).
    Refused {
        status: StatusCode,
        error_type: Option<String>,
        errors: Vec<GraphQLError>,
        body: Bytes,
        /// The server's `Date`, to learn the clock skew from.
        date: Option<SystemTime>,
        /// `x-amzn-RequestId`, for support.
        request_id: Option<String>,
    },
    /// The authorization could not be made (a provider failed, a mode lacks what it needs).
    Auth(Error),
    /// The server upgraded but does not speak AppSync's protocol (another subprotocol).
    Protocol(String),
    /// Network, TLS, protocol or timeout.
    Failed(String),
}

/// An open socket and what its upgrade answer said.
pub(crate) struct Opened {
    pub socket: BoxSocket,
    /// `x-amzn-RequestId` of the upgrade, if the server sent one: the connection's id in logs.
    pub request_id: Option<String>,
}

/// Opens sockets with a handshake authorization object.
pub(crate) trait Connector: Send + Sync + 'static {
    /// Opens one socket, offering `graphql-ws` and carrying `auth`.
    fn connect(&self, auth: AuthObject) -> BoxFuture<'static, Result<Opened, ConnectError>>;
}

/// The real connector: an HTTP/1.1 upgrade through `reqwest`, then `tokio-websockets`.
pub(crate) struct WsConnector {
    url: Url,
    method: HandshakeMethod,
    http: reqwest::Client,
    /// `graphql-ws`, or Events' `aws-appsync-event-ws`.
    subprotocol: &'static str,
}

impl WsConnector {
    pub(crate) fn new(
        url: Url,
        method: HandshakeMethod,
        http: reqwest::Client,
        subprotocol: &'static str,
    ) -> Self {
        WsConnector {
            url,
            method,
            http,
            subprotocol,
        }
    }
}

impl fmt::Debug for WsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConnector")
            .field("url", &super::url::redacted(&self.url))
            .field("method", &self.method)
            .finish()
    }
}

/// The `Sec-WebSocket-Protocol` value: the protocol's (`graphql-ws`, or Events'), plus
/// `header-<base64url, no padding>` for the subprotocol handshake.
pub(crate) fn protocols(method: HandshakeMethod, auth: &AuthObject, subprotocol: &str) -> String {
    match method {
        HandshakeMethod::Subprotocol => {
            let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(auth.to_json());
            format!("{subprotocol}, header-{token}")
        }
        HandshakeMethod::Query => subprotocol.to_owned(),
    }
}

/// The `Sec-WebSocket-Accept` a server must answer to `key` (RFC 6455 §4.2.2).
fn accept_key(key: &str) -> String {
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(key.as_bytes());
    ctx.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(ctx.finish().as_ref())
}

/// `ws` → `http`, `wss` → `https`: the upgrade is an HTTP request.
fn http_url(url: &Url) -> Result<Url, ConnectError> {
    let scheme = match url.scheme() {
        "ws" | "http" => "http",
        "wss" | "https" => "https",
        other => {
            return Err(ConnectError::Failed(format!(
                "the realtime URL's scheme {other:?} is not ws or wss"
            )))
        }
    };
    // `Url::set_scheme` refuses ws → http (special to special is allowed, but be explicit).
    let mut s = String::with_capacity(url.as_str().len() + 1);
    s.push_str(scheme);
    s.push_str(&url.as_str()[url.scheme().len()..]);
    Url::parse(&s).map_err(|_| ConnectError::Failed("the realtime URL cannot be used".into()))
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl Connector for WsConnector {
    fn connect(&self, auth: AuthObject) -> BoxFuture<'static, Result<Opened, ConnectError>> {
        let url = match self.method {
            HandshakeMethod::Subprotocol => self.url.clone(),
            HandshakeMethod::Query => super::url::with_auth_query(&self.url, &auth.to_json()),
        };
        let protocols = protocols(self.method, &auth, self.subprotocol);
        let subprotocol = self.subprotocol;
        let http = self.http.clone();
        Box::pin(async move {
            let url = http_url(&url)?;
            let mut protocols = HeaderValue::from_str(&protocols).map_err(|_| {
                ConnectError::Auth(Error::auth(
                    "the handshake authorization cannot be sent as a subprotocol",
                ))
            })?;
            protocols.set_sensitive(true);
            let key =
                base64::engine::general_purpose::STANDARD.encode(fastrand::u128(..).to_le_bytes());
            let response = http
                .get(url)
                .version(http::Version::HTTP_11)
                .header(http::header::CONNECTION, "Upgrade")
                .header(http::header::UPGRADE, "websocket")
                .header(http::header::SEC_WEBSOCKET_VERSION, "13")
                .header(http::header::SEC_WEBSOCKET_KEY, key.as_str())
                .header(http::header::SEC_WEBSOCKET_PROTOCOL, protocols)
                .send()
                .await
                .map_err(|e| ConnectError::Failed(describe(&e)))?;
            let request_id = crate::error::request_id_header(response.headers());
            if response.status() != StatusCode::SWITCHING_PROTOCOLS {
                return Err(refused(response, request_id).await);
            }
            let headers = response.headers();
            if header_str(headers, "sec-websocket-accept") != Some(accept_key(&key)) {
                return Err(ConnectError::Failed(
                    "the server's upgrade answer has a wrong Sec-WebSocket-Accept".into(),
                ));
            }
            match header_str(headers, "sec-websocket-protocol") {
                Some(p) if p == subprotocol => {}
                other => {
                    return Err(ConnectError::Protocol(format!(
                        "the server did not select the {subprotocol} subprotocol (it selected {}); \
                         is this an AppSync {} realtime endpoint?",
                        match other {
                            Some(p) if p.len() <= 64 && !p.starts_with("header-") => {
                                format!("{p:?}")
                            }
                            Some(_) => "another one".to_owned(),
                            None => "none".to_owned(),
                        },
                        if subprotocol == SUBPROTOCOL {
                            "GraphQL"
                        } else {
                            "Events"
                        }
                    )))
                }
            }
            let upgraded = response
                .upgrade()
                .await
                .map_err(|e| ConnectError::Failed(describe(&e)))?;
            let ws = tokio_websockets::ClientBuilder::new()
                .limits(Limits::default().max_payload_len(Some(MAX_FRAME)))
                .take_over(upgraded);
            Ok(Opened {
                socket: Box::new(Ws(ws)) as BoxSocket,
                request_id,
            })
        })
    }
}

/// A refused upgrade: the status, `x-amzn-ErrorType`, the `errors` of the (bounded) body, the
/// `Date`.
async fn refused(mut response: reqwest::Response, request_id: Option<String>) -> ConnectError {
    let status = response.status();
    let error_type = crate::headers::error_type_header(response.headers());
    let date = crate::headers::http_date(response.headers());
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_REFUSAL_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_REFUSAL_BODY {
            break;
        }
    }
    let body = Bytes::from(body);
    let mut errors = Vec::new();
    if let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice(&body) {
        match obj.get("errors") {
            Some(v @ serde_json::Value::Array(_)) => {
                errors = serde_json::from_value(v.clone()).unwrap_or_default();
            }
            Some(v @ serde_json::Value::Object(_)) => {
                errors = serde_json::from_value(serde_json::Value::Array(vec![v.clone()]))
                    .unwrap_or_default();
            }
            _ => {}
        }
    }
    ConnectError::Refused {
        status,
        error_type,
        errors,
        body,
        date,
        request_id,
    }
}

/// A `reqwest` error as text without the URL (whose query may hold the handshake).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut text = format!("the WebSocket upgrade {what}");
    let mut source = std::error::Error::source(e);
    // The innermost cause says most (e.g. "connection refused"); URLs never appear below
    // reqwest's own error.
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(l) = last {
        text.push_str(": ");
        text.push_str(&l);
    }
    text
}

fn ws_error(e: tokio_websockets::Error) -> SocketError {
    match e {
        tokio_websockets::Error::PayloadTooLong { len, .. } => SocketError(format!(
            "the server sent a frame of {len} bytes, over the {} MiB limit",
            MAX_FRAME >> 20
        )),
        e => SocketError(e.to_string()),
    }
}

/// A `tokio-websockets` socket as a [`Socket`].
struct Ws(tokio_websockets::WebSocketStream<reqwest::Upgraded>);

impl Stream for Ws {
    type Item = Result<WsMessage, SocketError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let next = ready!(self.0.poll_next_unpin(cx));
            return Poll::Ready(match next {
                None => None,
                Some(Ok(m)) if m.is_text() => Some(Ok(WsMessage::Text(TextFrame(m)))),
                Some(Ok(m)) if m.is_close() => {
                    let close = m.as_close().and_then(|(code, reason)| {
                        let code = u16::from(code);
                        // 1005: the frame had no code.
                        (code != 1005).then(|| (code, reason.to_owned()))
                    });
                    Some(Ok(WsMessage::Close(close)))
                }
                Some(Ok(_)) => continue,
                Some(Err(tokio_websockets::Error::AlreadyClosed)) => None,
                Some(Err(e)) => Some(Err(ws_error(e))),
            });
        }
    }
}

impl Sink<WsMessage> for Ws {
    type Error = SocketError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
        self.0.poll_ready_unpin(cx).map_err(ws_error)
    }

    fn start_send(mut self: Pin<&mut Self>, item: WsMessage) -> Result<(), SocketError> {
        let m = match item {
            WsMessage::Text(t) => t.0,
            WsMessage::Close(close) => {
                let code = close
                    .as_ref()
                    .and_then(|(c, _)| CloseCode::try_from(*c).ok())
                    .filter(|c| !c.is_reserved());
                Message::close(code, "")
            }
        };
        self.0.start_send_unpin(m).map_err(ws_error)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
        self.0.poll_flush_unpin(cx).map_err(ws_error)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
        self.0.poll_close_unpin(cx).map_err(ws_error)
    }
}

#[cfg(any(test, feature = "fuzzing"))]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) mod memory {
    //! Sockets made of channels, for the actor's tests and its fuzz target: the test plays the
    //! server.

    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use tokio::sync::mpsc;

    use super::*;

    /// The client's end.
    pub(crate) struct MemSocket {
        rx: mpsc::UnboundedReceiver<Result<WsMessage, SocketError>>,
        tx: mpsc::UnboundedSender<WsMessage>,
    }

    impl Stream for MemSocket {
        type Item = Result<WsMessage, SocketError>;

        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.rx.poll_recv(cx)
        }
    }

    impl Sink<WsMessage> for MemSocket {
        type Error = SocketError;

        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
            Poll::Ready(Ok(()))
        }

        fn start_send(self: Pin<&mut Self>, item: WsMessage) -> Result<(), SocketError> {
            self.tx
                .send(item)
                .map_err(|_| SocketError("the server end is gone".to_owned()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
            Poll::Ready(Ok(()))
        }
    }

    /// The server's end of one accepted socket.
    pub(crate) struct ServerEnd {
        /// The handshake's authorization object.
        pub auth: AuthObject,
        to_client: Option<mpsc::UnboundedSender<Result<WsMessage, SocketError>>>,
        from_client: mpsc::UnboundedReceiver<WsMessage>,
    }

    impl ServerEnd {
        /// Sends a JSON frame.
        pub(crate) fn send(&self, frame: serde_json::Value) {
            if let Some(tx) = &self.to_client {
                let _ = tx.send(Ok(WsMessage::text(frame.to_string())));
            }
        }

        /// Sends a raw message or a read error.
        pub(crate) fn send_raw(&self, m: Result<WsMessage, SocketError>) {
            if let Some(tx) = &self.to_client {
                let _ = tx.send(m);
            }
        }

        /// Ends the client's read side (a dropped connection).
        pub(crate) fn drop_connection(&mut self) {
            self.to_client = None;
        }

        /// The next frame from the client, as JSON (a close frame is `{"close": code}`);
        /// `None` when the client dropped the socket.
        pub(crate) async fn recv(&mut self) -> Option<serde_json::Value> {
            match self.from_client.recv().await? {
                WsMessage::Text(t) => {
                    Some(serde_json::from_str(t.as_str()).expect("the client sends JSON"))
                }
                WsMessage::Close(close) => {
                    Some(serde_json::json!({ "close": close.map(|(code, _)| code) }))
                }
            }
        }

        /// The next frame whose `type` is `ty`, skipping others.
        pub(crate) async fn recv_type(&mut self, ty: &str) -> Option<serde_json::Value> {
            loop {
                let f = self.recv().await?;
                if f["type"] == ty {
                    return Some(f);
                }
            }
        }

        /// The frames the client has sent and this end has not read yet, without waiting.
        #[cfg(test)]
        pub(crate) fn sent_so_far(&mut self) -> Vec<serde_json::Value> {
            let mut frames = Vec::new();
            while let Ok(WsMessage::Text(t)) = self.from_client.try_recv() {
                frames.push(serde_json::from_str(t.as_str()).expect("the client sends JSON"));
            }
            frames
        }

        /// Whether the client dropped its end.
        pub(crate) fn client_gone(&self) -> bool {
            self.to_client.as_ref().is_none_or(|t| t.is_closed())
        }
    }

    /// What the next connection attempt gets.
    #[derive(Clone, Debug)]
    pub(crate) enum Outcome {
        Accept,
        /// The upgrade is refused with this status and `x-amzn-ErrorType`.
        Refuse(u16, &'static str),
        /// The attempt fails (network).
        Fail,
        /// The attempt never completes (the connect timeout must end it).
        Hang,
    }

    /// A connector whose sockets are channels. Each accepted socket's server end goes to the
    /// test through `accepted`; outcomes are scripted (default: accept).
    pub(crate) struct MemConnector {
        script: Mutex<VecDeque<Outcome>>,
        accepted: mpsc::UnboundedSender<ServerEnd>,
        /// Every attempt: when, and its handshake object.
        pub(crate) attempts: Arc<Mutex<Vec<(tokio::time::Instant, AuthObject)>>>,
    }

    impl MemConnector {
        pub(crate) fn new() -> (Arc<MemConnector>, mpsc::UnboundedReceiver<ServerEnd>) {
            let (tx, rx) = mpsc::unbounded_channel();
            (
                Arc::new(MemConnector {
                    script: Mutex::default(),
                    accepted: tx,
                    attempts: Arc::default(),
                }),
                rx,
            )
        }

        /// The next attempts get these outcomes, in order.
        pub(crate) fn script(&self, outcomes: impl IntoIterator<Item = Outcome>) {
            self.script.lock().unwrap().extend(outcomes);
        }

        /// How many attempts were made.
        pub(crate) fn count(&self) -> usize {
            self.attempts.lock().unwrap().len()
        }

        /// When each attempt was made.
        pub(crate) fn times(&self) -> Vec<tokio::time::Instant> {
            self.attempts.lock().unwrap().iter().map(|a| a.0).collect()
        }
    }

    impl Connector for MemConnector {
        fn connect(&self, auth: AuthObject) -> BoxFuture<'static, Result<Opened, ConnectError>> {
            self.attempts
                .lock()
                .unwrap()
                .push((tokio::time::Instant::now(), auth.clone()));
            let outcome = self
                .script
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Outcome::Accept);
            match outcome {
                Outcome::Accept => {
                    let (to_client, rx) = mpsc::unbounded_channel();
                    let (tx, from_client) = mpsc::unbounded_channel();
                    let _ = self.accepted.send(ServerEnd {
                        auth,
                        to_client: Some(to_client),
                        from_client,
                    });
                    Box::pin(async move {
                        Ok(Opened {
                            socket: Box::new(MemSocket { rx, tx }) as BoxSocket,
                            request_id: None,
                        })
                    })
                }
                Outcome::Refuse(status, error_type) => Box::pin(async move {
                    Err(ConnectError::Refused {
                        status: StatusCode::from_u16(status).unwrap(),
                        error_type: Some(error_type.to_owned()),
                        errors: Vec::new(),
                        body: Bytes::new(),
                        date: None,
                        request_id: None,
                    })
                }),
                Outcome::Fail => {
                    Box::pin(async { Err(ConnectError::Failed("connection refused".into())) })
                }
                Outcome::Hang => Box::pin(std::future::pending()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subprotocol_carries_base64url_without_padding() {
        let mut auth = AuthObject::default();
        auth.insert("host", "example.com");
        auth.insert("x-api-key", "da2-?>?>");
        let p = protocols(HandshakeMethod::Subprotocol, &auth, SUBPROTOCOL);
        let token = p.strip_prefix("graphql-ws, header-").unwrap();
        assert!(!token.contains('=') && !token.contains('+') && !token.contains('/'));
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .unwrap();
        assert_eq!(json, auth.to_json().as_bytes());
        assert_eq!(
            protocols(HandshakeMethod::Query, &auth, SUBPROTOCOL),
            "graphql-ws"
        );
    }

    #[test]
    fn the_accept_key_is_rfc_6455s() {
        // The example of RFC 6455 §1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn ws_urls_become_http_urls() {
        let u = |s: &str| {
            http_url(&Url::parse(s).unwrap())
                .map(|u| u.to_string())
                .ok()
        };
        assert_eq!(
            u("wss://a.example.com/graphql/realtime?x=1").as_deref(),
            Some("https://a.example.com/graphql/realtime?x=1")
        );
        assert_eq!(
            u("ws://127.0.0.1:9/graphql/realtime").as_deref(),
            Some("http://127.0.0.1:9/graphql/realtime")
        );
        assert_eq!(u("ftp://x/"), None);
    }
}
