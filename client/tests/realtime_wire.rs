//! The realtime client against a raw WebSocket server written for each case (tokio-tungstenite
//! on 127.0.0.1:0): what goes over the wire when the server closes, answers with another
//! subprotocol, or sends a frame over the size limit.

use std::time::Duration;

use appsync_client::{
    AuthMode, Client, Config, ConnectionState, EndpointConfig, GraphQLRequest, RealtimeOptions,
    ReconnectPolicy, SubscriptionEvent,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const WAIT: Duration = Duration::from_secs(15);
const DOC: &str = "subscription { onX { n } }";

type Ws = WebSocketStream<tokio::net::TcpStream>;

/// Accepts every connection, selecting `protocol` (or none), and hands each socket over.
// tungstenite's handshake callback returns its (large) error response type by value.
#[allow(clippy::result_large_err)]
async fn server(protocol: Option<&'static str>) -> (String, mpsc::UnboundedReceiver<Ws>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let callback = |_: &Request, mut resp: Response| {
                    if let Some(p) = protocol {
                        resp.headers_mut()
                            .insert("sec-websocket-protocol", p.parse().unwrap());
                    }
                    Ok(resp)
                };
                let config = WebSocketConfig::default().max_message_size(None);
                if let Ok(ws) =
                    tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(config))
                        .await
                {
                    let _ = tx.send(ws);
                }
            });
        }
    });
    (format!("http://{addr}/graphql"), rx)
}

fn client(url: &str) -> Client {
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("notes", url)
                .authorization_type(AuthMode::ApiKey)
                .api_key("da2-wiretestkey0000000000000000"),
        )
        .build()
        .unwrap();
    Client::builder()
        .config(config)
        .realtime(
            RealtimeOptions::new()
                .ack_timeout(Duration::from_secs(5))
                .start_ack_timeout(Duration::from_secs(5))
                .reconnect(
                    ReconnectPolicy::default()
                        .base_delay(Duration::from_millis(10))
                        .max_delay(Duration::from_millis(50)),
                ),
        )
        .build()
        .unwrap()
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// The next text frame from the client, as JSON (other frames are returned as `{"other": …}`).
async fn recv(ws: &mut Ws) -> Value {
    match within("a frame", ws.next()).await {
        Some(Ok(Message::Text(t))) => serde_json::from_str(t.as_str()).unwrap(),
        other => json!({ "other": format!("{other:?}") }),
    }
}

/// Plays AppSync up to the first `start_ack`; returns the start's id.
async fn handshake(ws: &mut Ws) -> String {
    assert_eq!(recv(ws).await["type"], "connection_init");
    ws.send(Message::text(
        json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}}).to_string(),
    ))
    .await
    .unwrap();
    let start = recv(ws).await;
    assert_eq!(start["type"], "start");
    let id = start["id"].as_str().unwrap().to_owned();
    ws.send(Message::text(
        json!({"type": "start_ack", "id": id}).to_string(),
    ))
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn a_close_frame_is_answered_and_its_code_and_reason_reach_the_states() {
    let (url, mut sockets) = server(Some("graphql-ws")).await;
    let client = client(&url);
    let mut states = client.connection_states();
    let start = client.subscribe_graphql(GraphQLRequest::new(DOC)).start();
    let (sub, mut ws) = tokio::join!(start, async {
        let mut ws = within("a socket", sockets.recv()).await.unwrap();
        handshake(&mut ws).await;
        ws
    });
    let mut sub = sub.unwrap();
    ws.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Library(4000),
        reason: "bye".into(),
    })))
    .await
    .unwrap();
    // RFC 6455 §5.5.1: the client answers with a close frame of its own.
    match within("the close answer", ws.next()).await {
        Some(Ok(Message::Close(_))) => {}
        other => panic!("expected the client's close frame, got {other:?}"),
    }
    let cause = within("Disrupted", async {
        loop {
            if let Some((_, _, ConnectionState::Disrupted { cause })) = states.next().await {
                return cause;
            }
        }
    })
    .await;
    assert_eq!(cause.close_code(), Some(4000));
    assert_eq!(cause.close_reason(), Some("bye"));
    // It reconnects and resumes.
    let mut ws2 = within("a second socket", sockets.recv()).await.unwrap();
    let id = handshake(&mut ws2).await;
    ws2.send(Message::text(
        json!({"type": "data", "id": id, "payload": {"data": {"onX": {"n": 1}}}}).to_string(),
    ))
    .await
    .unwrap();
    let mut resumed = false;
    loop {
        match within("an event", sub.next()).await.unwrap().unwrap() {
            SubscriptionEvent::Resumed { .. } => resumed = true,
            SubscriptionEvent::Data(_) => break,
            _ => {}
        }
    }
    assert!(resumed);
}

#[tokio::test]
async fn a_server_that_does_not_select_graphql_ws_fails_the_connect_clearly() {
    for protocol in [None, Some("graphql-transport-ws")] {
        let (url, mut sockets) = server(protocol).await;
        let client = client(&url);
        let start = client.subscribe_graphql(GraphQLRequest::new(DOC)).start();
        let (result, _) = tokio::join!(within("the failure", start), async {
            // The upgrade completes on the server's side; nothing else is sent.
            within("a socket", sockets.recv()).await
        });
        let e = result.unwrap_err();
        assert!(e.is_realtime(), "{e:?}");
        assert!(
            e.to_string()
                .contains("did not select the graphql-ws subprotocol"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn a_frame_over_16_mib_is_a_loss_with_its_cause_and_the_subscription_resumes() {
    let (url, mut sockets) = server(Some("graphql-ws")).await;
    let client = client(&url);
    let mut states = client.connection_states();
    let start = client.subscribe_graphql(GraphQLRequest::new(DOC)).start();
    let (sub, mut ws) = tokio::join!(start, async {
        let mut ws = within("a socket", sockets.recv()).await.unwrap();
        handshake(&mut ws).await;
        ws
    });
    let mut sub = sub.unwrap();
    let huge = "x".repeat(17 << 20);
    let _ = ws.send(Message::text(huge)).await;
    let cause = within("Disrupted", async {
        loop {
            if let Some((_, _, ConnectionState::Disrupted { cause })) = states.next().await {
                return cause;
            }
        }
    })
    .await;
    assert!(cause.message().contains("over the 16 MiB limit"), "{cause}");
    let mut ws2 = within("a second socket", sockets.recv()).await.unwrap();
    handshake(&mut ws2).await;
    assert!(matches!(
        within("Resumed", sub.next()).await.unwrap().unwrap(),
        SubscriptionEvent::Resumed { .. }
    ));
}

#[tokio::test]
async fn a_burst_of_200_000_events_with_the_default_options_loses_none() {
    let (url, mut sockets) = server(Some("graphql-ws")).await;
    // Default realtime options (the test client above shortens timers only).
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("notes", &url)
                .authorization_type(AuthMode::ApiKey)
                .api_key("da2-wiretestkey0000000000000000"),
        )
        .build()
        .unwrap();
    let client = Client::builder().config(config).build().unwrap();
    let start = client.subscribe_graphql(GraphQLRequest::new(DOC)).start();
    let (sub, (mut ws, ws_id)) = tokio::join!(start, async {
        let mut ws = within("a socket", sockets.recv()).await.unwrap();
        let id = handshake(&mut ws).await;
        (ws, id)
    });
    let mut sub = sub.unwrap();
    const N: u64 = 200_000;
    // The server writes the whole burst as fast as it can (about 15 MB, past the 8 MiB budget;
    // with the old default of 64 events per subscription, most of it was dropped).
    let sender = tokio::spawn(async move {
        for n in 0..N {
            let f = json!({"type": "data", "id": ws_id, "payload": {"data": {"onX": {"n": n}}}});
            ws.feed(Message::text(f.to_string())).await.unwrap();
        }
        ws.flush().await.unwrap();
        ws
    });
    for n in 0..N {
        match within("an event", sub.next()).await.unwrap().unwrap() {
            SubscriptionEvent::Data(r) => assert_eq!(r.data.unwrap()["onX"]["n"], n),
            other => panic!("event {n}: {other:?}"),
        }
    }
    drop(sender.await.unwrap());
}
