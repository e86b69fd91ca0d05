//! The socket seen by the actor: a `Stream` + `Sink` of text and close frames, the `Connector`
//! that opens one, and the real connector over `tokio-tungstenite`. Tests swap in sockets made
//! of channels.

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::SystemTime;

use base64::Engine;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

use super::options::HandshakeMethod;
use super::protocol::{AuthObject, SUBPROTOCOL};
use crate::error::Error;
use crate::graphql::GraphQLError;

/// The frames the protocol uses. Pings are answered by the WebSocket layer and binary frames
/// are not part of AppSync's protocol, so neither reaches the actor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WsMessage {
    /// A text frame (every AppSync message).
    Text(String),
    /// A close frame, with its code if it had one.
    Close(Option<u16>),
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
    },
    /// The authorization could not be made (a provider failed, a mode lacks what it needs).
    Auth(Error),
    /// Network, TLS, protocol or timeout.
    Failed(String),
}

/// Opens sockets with a handshake authorization object.
pub(crate) trait Connector: Send + Sync + 'static {
    /// Opens one socket, offering `graphql-ws` and carrying `auth`.
    fn connect(&self, auth: AuthObject) -> BoxFuture<'static, Result<BoxSocket, ConnectError>>;
}

/// The read buffer of a socket, allocated for its whole life: tungstenite's default (128 KiB)
/// would be most of an idle socket's memory (AppSync puts at most 100 subscriptions on one,
/// so well over 1 KiB per subscription), while AppSync's frames are small and this much
/// already takes hundreds of them per read. Larger frames still come whole (the buffer grows
/// to the frame).
const READ_BUFFER: usize = 16 << 10;

/// The real connector: `tokio-tungstenite` over TCP, with rustls for `wss`.
pub(crate) struct WsConnector {
    url: Url,
    method: HandshakeMethod,
}

impl WsConnector {
    pub(crate) fn new(url: Url, method: HandshakeMethod) -> Self {
        WsConnector { url, method }
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

/// The `Sec-WebSocket-Protocol` value: `graphql-ws`, plus `header-<base64url, no padding>` for
/// the subprotocol handshake.
pub(crate) fn protocols(method: HandshakeMethod, auth: &AuthObject) -> String {
    match method {
        HandshakeMethod::Subprotocol => {
            let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(auth.to_json());
            format!("{SUBPROTOCOL}, header-{token}")
        }
        HandshakeMethod::Query => SUBPROTOCOL.to_owned(),
    }
}

impl Connector for WsConnector {
    fn connect(&self, auth: AuthObject) -> BoxFuture<'static, Result<BoxSocket, ConnectError>> {
        let url = match self.method {
            HandshakeMethod::Subprotocol => self.url.clone(),
            HandshakeMethod::Query => super::url::with_auth_query(&self.url, &auth.to_json()),
        };
        let protocols = protocols(self.method, &auth);
        Box::pin(async move {
            let mut request = url
                .as_str()
                .into_client_request()
                .map_err(|e| ConnectError::Failed(describe(&e)))?;
            let mut value = HeaderValue::from_str(&protocols).map_err(|_| {
                ConnectError::Auth(Error::auth(
                    "the handshake authorization cannot be sent as a subprotocol",
                ))
            })?;
            value.set_sensitive(true);
            request
                .headers_mut()
                .insert(http::header::SEC_WEBSOCKET_PROTOCOL, value);
            let config = WebSocketConfig::default()
                .read_buffer_size(READ_BUFFER)
                .max_message_size(Some(16 << 20))
                .max_frame_size(Some(16 << 20));
            match tokio_tungstenite::connect_async_with_config(request, Some(config), true).await {
                Ok((ws, _response)) => Ok(Box::new(Tungstenite(ws)) as BoxSocket),
                Err(WsError::Http(response)) => Err(refused(&response)),
                Err(e) => Err(ConnectError::Failed(describe(&e))),
            }
        })
    }
}

/// A refused upgrade: the status, `x-amzn-ErrorType`, the `errors` of the body, the `Date`.
fn refused(response: &http::Response<Option<Vec<u8>>>) -> ConnectError {
    let body = Bytes::from(response.body().clone().unwrap_or_default());
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
        status: response.status(),
        error_type: crate::transport::error_type_header(response.headers()),
        errors,
        body,
        date: crate::transport::http_date(response.headers()),
    }
}

/// A tungstenite error as text without credentials (URL errors can quote the URL, whose query
/// may hold the handshake).
fn describe(e: &WsError) -> String {
    match e {
        WsError::Url(_) => "the realtime URL cannot be used".to_owned(),
        WsError::Http(r) => format!("the upgrade was refused with HTTP {}", r.status()),
        other => other.to_string(),
    }
}

/// A `tokio-tungstenite` socket as a [`Socket`].
struct Tungstenite(WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>);

impl Stream for Tungstenite {
    type Item = Result<WsMessage, SocketError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let next = ready!(self.0.poll_next_unpin(cx));
            return Poll::Ready(match next {
                None => None,
                Some(Ok(Message::Text(t))) => Some(Ok(WsMessage::Text(t.as_str().to_owned()))),
                Some(Ok(Message::Close(frame))) => {
                    Some(Ok(WsMessage::Close(frame.map(|f| u16::from(f.code)))))
                }
                Some(Ok(_)) => continue,
                Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => None,
                Some(Err(e)) => Some(Err(SocketError(describe(&e)))),
            });
        }
    }
}

impl Sink<WsMessage> for Tungstenite {
    type Error = SocketError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
        self.0
            .poll_ready_unpin(cx)
            .map_err(|e| SocketError(describe(&e)))
    }

    fn start_send(mut self: Pin<&mut Self>, item: WsMessage) -> Result<(), SocketError> {
        let m = match item {
            WsMessage::Text(t) => Message::text(t),
            WsMessage::Close(code) => Message::Close(code.map(|c| CloseFrame {
                code: CloseCode::from(c),
                reason: "".into(),
            })),
        };
        self.0
            .start_send_unpin(m)
            .map_err(|e| SocketError(describe(&e)))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
        self.0
            .poll_flush_unpin(cx)
            .map_err(|e| SocketError(describe(&e)))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SocketError>> {
        self.0
            .poll_close_unpin(cx)
            .map_err(|e| SocketError(describe(&e)))
    }
}

#[cfg(test)]
pub(crate) mod memory {
    //! Sockets made of channels, for the actor's tests: the test plays the server.

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
                let _ = tx.send(Ok(WsMessage::Text(frame.to_string())));
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
                    Some(serde_json::from_str(&t).expect("the client sends JSON"))
                }
                WsMessage::Close(code) => Some(serde_json::json!({ "close": code })),
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
        fn connect(&self, auth: AuthObject) -> BoxFuture<'static, Result<BoxSocket, ConnectError>> {
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
                    Box::pin(async move { Ok(Box::new(MemSocket { rx, tx }) as BoxSocket) })
                }
                Outcome::Refuse(status, error_type) => Box::pin(async move {
                    Err(ConnectError::Refused {
                        status: StatusCode::from_u16(status).unwrap(),
                        error_type: Some(error_type.to_owned()),
                        errors: Vec::new(),
                        body: Bytes::new(),
                        date: None,
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
        let p = protocols(HandshakeMethod::Subprotocol, &auth);
        let token = p.strip_prefix("graphql-ws, header-").unwrap();
        assert!(!token.contains('=') && !token.contains('+') && !token.contains('/'));
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .unwrap();
        assert_eq!(json, auth.to_json().as_bytes());
        assert_eq!(protocols(HandshakeMethod::Query, &auth), "graphql-ws");
    }
}
