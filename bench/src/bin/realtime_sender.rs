//! A raw AppSync realtime sender for the realtime benchmarks: a minimal `graphql-ws` server
//! over plain `ws://` that sends pre-serialized `data` frames as fast as it can.
//!
//! It listens on `127.0.0.1:0` (any path), prints `port <PORT>` on stdout, then:
//! - answers `connection_init` with `connection_ack` (`connectionTimeoutMs: 300000`), every
//!   `start` with `start_ack` and every `stop` with `complete`; it never refuses a
//!   subscription, so a client keeps all of them on one socket, unless started as
//!   `realtime_sender --cap N`: then a socket's `start` beyond N is answered as AppSync does
//!   (`MaxSubscriptionsReachedError`, its `errors` an object), and the client opens another;
//! - for a `start` whose variables carry `"tag": "<name>"`, builds 1,024 `data` frames for its
//!   id up front (`{"type":"data","id":…,"payload":{"data":{"onEvent":{"id":"e<k>","n":<k>}}}}`,
//!   about 90 bytes each);
//! - reads commands on stdin, one a line:
//!   - `fire <tag> <count>`: sends `count` of those frames (cycling) on the socket of the latest
//!     subscription with that tag, back to back, flushing at the end;
//!   - `stats`: prints `stats <sockets> <subscriptions>` (open now).
//!
//! It speaks AppSync Events too (`aws-appsync-event-ws`, selected when the client offers it):
//! `subscribe` is answered with `subscribe_success` and `unsubscribe` with
//! `unsubscribe_success`; a subscription to the channel `/bench/<tag>` is tagged `<tag>` (its dashes read as
//! underscores: a channel has none), and its
//! frames are Events `data` frames (`{"type":"data","id":…,"event":"{\"id\":\"e<k>\",\"n\":<k>}"}`).
//!
//! It exits when stdin closes. The benchmarks run it as a child process, so that their own
//! process CPU and memory are the client's alone.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// Distinct frames built per tagged subscription (a burst cycles through them).
const PREBUILT: usize = 1024;

/// What a socket's writer sends.
enum Out {
    Frame(Message),
    Burst {
        frames: Arc<Vec<Message>>,
        count: usize,
    },
}

/// A tagged subscription: its socket's writer and its frames.
#[derive(Clone)]
struct Target {
    out: mpsc::UnboundedSender<Out>,
    frames: Arc<Vec<Message>>,
}

static SOCKETS: AtomicUsize = AtomicUsize::new(0);
static SUBSCRIPTIONS: AtomicUsize = AtomicUsize::new(0);

type Targets = Arc<Mutex<HashMap<String, Target>>>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cap = match args.iter().position(|a| a == "--cap") {
        Some(i) => args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .expect("--cap <subscriptions per socket>"),
        None => usize::MAX,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let targets: Targets = Arc::default();
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    println!("port {port}");
    // Commands come from a plain thread; stdin closing ends the process.
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if cmd_tx.send(line).is_err() {
                break;
            }
        }
    });
    let accept_targets = targets.clone();
    rt.block_on(async move {
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                tokio::spawn(serve(tcp, accept_targets.clone(), cap));
            }
        });
        while let Some(line) = cmd_rx.recv().await {
            command(&line, &targets);
        }
    });
}

fn command(line: &str, targets: &Targets) {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["fire", tag, count] => {
            let count: usize = count.parse().expect("fire <tag> <count>");
            let target = targets.lock().unwrap().get(*tag).cloned();
            match target {
                Some(t) => {
                    let _ = t.out.send(Out::Burst {
                        frames: t.frames,
                        count,
                    });
                }
                None => eprintln!("realtime_sender: no subscription tagged {tag:?}"),
            }
        }
        ["stats"] => println!(
            "stats {} {}",
            SOCKETS.load(Ordering::SeqCst),
            SUBSCRIPTIONS.load(Ordering::SeqCst)
        ),
        [] => {}
        _ => eprintln!("realtime_sender: unknown command {line:?}"),
    }
}

/// The `data` frames of one subscription id.
fn frames(id: &str) -> Arc<Vec<Message>> {
    Arc::new(
        (0..PREBUILT)
            .map(|n| {
                Message::text(
                    json!({
                        "type": "data",
                        "id": id,
                        "payload": {"data": {"onEvent": {"id": format!("e{n}"), "n": n}}},
                    })
                    .to_string(),
                )
            })
            .collect(),
    )
}

/// The `data` frames of one Events subscription id: the event a JSON text in a string, as
/// AppSync Events sends it.
fn event_frames(id: &str) -> Arc<Vec<Message>> {
    Arc::new(
        (0..PREBUILT)
            .map(|n| {
                let event = json!({"id": format!("e{n}"), "n": n}).to_string();
                Message::text(json!({"type": "data", "id": id, "event": event}).to_string())
            })
            .collect(),
    )
}

/// The Events subprotocol, selected when the client offers it.
const EVENTS_SUBPROTOCOL: &str = "aws-appsync-event-ws";

/// Selects `aws-appsync-event-ws` when offered, else `graphql-ws` (and takes any path and any
/// authorization).
#[allow(clippy::result_large_err)] // tungstenite's callback signature
fn select(req: &Request, mut resp: Response) -> Result<Response, ErrorResponse> {
    let events = req
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == EVENTS_SUBPROTOCOL);
    let chosen = if events {
        EVENTS_SUBPROTOCOL
    } else {
        "graphql-ws"
    };
    resp.headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_static(chosen));
    Ok(resp)
}

/// One socket: the handshake (any path, `graphql-ws` selected), then the protocol; at most
/// `cap` subscriptions.
async fn serve(tcp: TcpStream, targets: Targets, cap: usize) {
    let config = WebSocketConfig::default().max_message_size(Some(16 << 20));
    let Ok(ws) = tokio_tungstenite::accept_hdr_async_with_config(tcp, select, Some(config)).await
    else {
        return;
    };
    SOCKETS.fetch_add(1, Ordering::SeqCst);
    let (mut sink, mut stream) = ws.split();
    let (out, mut out_rx) = mpsc::unbounded_channel::<Out>();
    let writer = tokio::spawn(async move {
        while let Some(o) = out_rx.recv().await {
            let r = match o {
                Out::Frame(m) => sink.send(m).await,
                Out::Burst { frames, count } => {
                    async {
                        for i in 0..count {
                            sink.feed(frames[i % frames.len()].clone()).await?;
                        }
                        sink.flush().await
                    }
                    .await
                }
            };
            if r.is_err() {
                break;
            }
        }
    });
    let mut live: HashMap<String, ()> = HashMap::new();
    while let Some(Ok(msg)) = stream.next().await {
        let Message::Text(text) = msg else {
            if matches!(msg, Message::Close(_)) {
                break;
            }
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        let id = v["id"].as_str().unwrap_or_default().to_owned();
        let reply = match v["type"].as_str() {
            Some("connection_init") => {
                json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}})
            }
            Some("start") if live.len() >= cap => json!({
                "type": "error",
                "id": id,
                "payload": {"errors": {
                    "errorType": "MaxSubscriptionsReachedError",
                    "message": format!("Max number of {cap} subscriptions reached"),
                }},
            }),
            Some("start") => {
                let data: Value = v["payload"]["data"]
                    .as_str()
                    .and_then(|d| serde_json::from_str(d).ok())
                    .unwrap_or_default();
                if let Some(tag) = data["variables"]["tag"].as_str() {
                    let target = Target {
                        out: out.clone(),
                        frames: frames(&id),
                    };
                    targets.lock().unwrap().insert(tag.to_owned(), target);
                }
                if live.insert(id.clone(), ()).is_none() {
                    SUBSCRIPTIONS.fetch_add(1, Ordering::SeqCst);
                }
                json!({"type": "start_ack", "id": id})
            }
            // Events: a channel `/bench/<tag>` is tagged (`-` for `_`).
            Some("subscribe") if live.len() >= cap => json!({
                "type": "subscribe_error",
                "id": id,
                "errors": [{"errorType": "MaxSubscriptionsReachedError"}],
            }),
            Some("subscribe") => {
                if let Some(tag) = v["channel"]
                    .as_str()
                    .and_then(|c| c.strip_prefix("/bench/"))
                {
                    let target = Target {
                        out: out.clone(),
                        frames: event_frames(&id),
                    };
                    targets
                        .lock()
                        .unwrap()
                        .insert(tag.replace('-', "_"), target);
                }
                if live.insert(id.clone(), ()).is_none() {
                    SUBSCRIPTIONS.fetch_add(1, Ordering::SeqCst);
                }
                json!({"type": "subscribe_success", "id": id})
            }
            Some("unsubscribe") => {
                if live.remove(&id).is_some() {
                    SUBSCRIPTIONS.fetch_sub(1, Ordering::SeqCst);
                }
                json!({"type": "unsubscribe_success", "id": id})
            }
            Some("stop") => {
                if live.remove(&id).is_some() {
                    SUBSCRIPTIONS.fetch_sub(1, Ordering::SeqCst);
                }
                json!({"type": "complete", "id": id})
            }
            _ => continue,
        };
        if out
            .send(Out::Frame(Message::text(reply.to_string())))
            .is_err()
        {
            break;
        }
    }
    SUBSCRIPTIONS.fetch_sub(live.len(), Ordering::SeqCst);
    SOCKETS.fetch_sub(1, Ordering::SeqCst);
    // Tagged targets still hold the writer's sender: stop it outright.
    targets
        .lock()
        .unwrap()
        .retain(|_, t| !t.out.same_channel(&out));
    writer.abort();
}
