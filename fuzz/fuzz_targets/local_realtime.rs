//! Fuzz target: appsync-local's realtime socket handling, end to end and in-process: an HTTP
//! upgrade served by its router over an in-memory connection (hyper), carrying the handshake
//! in the `header-` subprotocol, the `header` query parameter or plain headers (valid
//! credentials of every mode, near misses, or the input's bytes), then a script of client
//! frames (raw text, `connection_init`, templated `start`s with documents, variables and
//! authorization objects, `stop`s, binary, ping, close), mutations that fire subscriptions,
//! and time passing (paused). Asserts no panic, that every frame the server sends is a JSON
//! object with a `type` that the client's decoder takes, and that once the client goes, every
//! task of the socket ends within a bounded (virtual) time.
#![no_main]

mod common;

use std::time::Duration;

use base64::Engine;
use common::{authorize, local, variables, Auth, Local, Script, Signed, AUTHS, DOCUMENTS};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{ClientRequestBuilder, Message};
use tower::ServiceExt;

const WAITS: [Duration; 8] = [
    Duration::from_millis(1),
    Duration::from_millis(100),
    Duration::from_secs(1),
    Duration::from_secs(15),
    Duration::from_secs(59),
    Duration::from_secs(61),
    Duration::from_secs(300),
    Duration::from_secs(3600),
];

fuzz_target!(|data: &[u8]| {
    let l = local(true);
    l.rt.block_on(run(l, data));
    l.clear_store();
});

/// An authorization object (`host` and the mode's keys), IAM-signed over `path` and `body`.
fn object(l: &Local, s: &mut Script<'_>, path: &str, body: &[u8]) -> Map<String, Value> {
    let auth = s.pick(&AUTHS);
    let raw = s.text();
    let mut headers = vec![("host".to_owned(), l.host.clone())];
    if let Auth::Iam | Auth::IamTemporary | Auth::IamWrongSecret | Auth::IamStale = auth {
        headers.extend([
            (
                "accept".to_owned(),
                "application/json, text/javascript".to_owned(),
            ),
            ("content-encoding".to_owned(), "amz-1.0".to_owned()),
            (
                "content-type".to_owned(),
                "application/json; charset=UTF-8".to_owned(),
            ),
        ]);
    }
    match s.byte() % 8 {
        0 => headers[0].1 = s.text(),
        1 => {
            headers.remove(0);
        }
        _ => {}
    }
    let signed = Signed {
        method: "POST",
        path,
        query: "",
        body,
    };
    authorize(l, auth, &raw, signed, &mut headers);
    headers
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

fn start(l: &Local, s: &mut Script<'_>) -> String {
    let id = match s.byte() % 6 {
        0 => String::new(),
        1 => s.text(),
        b => (b - 1).to_string(),
    };
    let doc = match s.byte() % 5 {
        0 => s.text(),
        _ => s.pick(&DOCUMENTS).to_owned(),
    };
    let mut request = json!({"query": doc, "variables": variables(s)});
    if s.byte().is_multiple_of(4) {
        request["operationName"] = Value::String(s.text());
    }
    let data = match s.byte() % 8 {
        0 => Value::String(s.text()),
        1 => request.clone(),
        _ => Value::String(request.to_string()),
    };
    let signed = data.as_str().unwrap_or_default().to_owned();
    let authorization = object(l, s, "/graphql", signed.as_bytes());
    let frame = match s.byte() % 8 {
        0 => json!({"type": "start", "id": id}),
        1 => json!({"type": "start", "id": id, "payload": {"data": data}}),
        2 => json!({"type": "start", "id": id, "payload": "x"}),
        _ => json!({"type": "start", "id": id, "payload": {
            "data": data, "extensions": {"authorization": authorization}}}),
    };
    frame.to_string()
}

/// A mutation through the HTTP side, so that live subscriptions get events.
async fn mutate(l: &Local, s: &mut Script<'_>) {
    let doc = s.pick(&DOCUMENTS[3..6]);
    let body = json!({"query": doc, "variables": variables(s)}).to_string();
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/graphql", l.host))
        .header("host", l.host.as_str())
        .header("content-type", "application/json")
        .header("authorization", "allow")
        .body(axum::body::Body::from(body))
        .expect("a request");
    let _ = l.router.clone().oneshot(req).await;
}

async fn run(l: &Local, data: &[u8]) {
    let rt = tokio::runtime::Handle::current();
    let baseline = rt.metrics().num_alive_tasks();
    let mut s = Script::new(data);

    // The upgrade request and its handshake.
    let path = s.pick(&["/graphql/realtime", "/graphql/realtime", "/graphql"]);
    let carrier = s.byte() % 6;
    let connect = object(l, &mut s, "/graphql/connect", b"{}");
    let json_text = Value::Object(connect.clone()).to_string();
    let mut uri = format!("ws://{}{path}", l.host);
    if carrier == 1 {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&json_text);
        let b64 = match s.byte() % 3 {
            0 => b64
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D"),
            1 => b64.trim_end_matches('=').to_owned(),
            _ => b64,
        };
        uri.push_str(&format!("?header={b64}&payload=e30="));
    } else if carrier == 5 {
        uri.push_str(&format!("?header={}", s.text().replace(['#', ' '], "")));
    }
    let Ok(uri) = uri.parse::<http::Uri>() else {
        return;
    };
    let mut request = ClientRequestBuilder::new(uri);
    if !s.byte().is_multiple_of(8) {
        request = request.with_sub_protocol("graphql-ws");
    }
    match carrier {
        0 => {
            let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&json_text);
            request = request.with_sub_protocol(format!("header-{token}"));
        }
        2 => {
            for (k, v) in &connect {
                let v = v.as_str().unwrap_or_default();
                if k != "host"
                    && http::HeaderName::from_bytes(k.as_bytes()).is_ok()
                    && http::HeaderValue::from_str(v).is_ok()
                {
                    request = request.with_header(k.clone(), v.to_owned());
                }
            }
        }
        3 => {
            let raw = s.text();
            if http::HeaderValue::from_str(&format!("header-{raw}")).is_ok() && !raw.contains(',') {
                request = request.with_sub_protocol(format!("header-{raw}"));
            }
        }
        _ => {}
    }

    // The server's side of an in-memory connection.
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    let service = TowerToHyperService::new(l.router.clone());
    let conn = tokio::spawn(
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(server_io), service)
            .with_upgrades(),
    );

    let upgraded = tokio::time::timeout(
        Duration::from_secs(60),
        tokio_tungstenite::client_async(request, client_io),
    )
    .await;
    if let Ok(Ok((ws, _))) = upgraded {
        let (mut sink, mut stream) = ws.split();
        let reader = tokio::spawn(async move {
            while let Some(Ok(m)) = stream.next().await {
                if let Message::Text(t) = m {
                    let v: Value = serde_json::from_str(t.as_str()).expect("a JSON frame");
                    assert!(v["type"].is_string(), "a frame without type: {v}");
                    appsync_client::fuzzing::realtime_frame(t.as_str());
                }
            }
        });
        while !s.is_empty() {
            let message = match s.byte() % 12 {
                0 => Message::text(s.text()),
                1 => Message::text(r#"{"type":"connection_init"}"#),
                2 | 3 => Message::text(start(l, &mut s)),
                4 => {
                    let id = match s.byte() % 4 {
                        0 => json!(s.text()),
                        1 => json!(null),
                        b => json!(b.to_string()),
                    };
                    Message::text(json!({"type": "stop", "id": id}).to_string())
                }
                5 => {
                    let n = s.byte() as usize;
                    Message::binary(s.bytes(n).to_vec())
                }
                6 => Message::Ping(s.text().into_bytes().into()),
                7 => {
                    let code = s.pick(&[1000u16, 1001, 1002, 1008, 4000]);
                    let reason = s.text();
                    Message::Close(Some(CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.chars().take(30).collect::<String>().into(),
                    }))
                }
                8 => {
                    tokio::time::sleep(s.pick(&WAITS)).await;
                    continue;
                }
                9 => {
                    mutate(l, &mut s).await;
                    continue;
                }
                10 => Message::Pong(Vec::new().into()),
                _ => {
                    tokio::time::sleep(Duration::from_millis(u64::from(s.u16()))).await;
                    continue;
                }
            };
            let sent = tokio::time::timeout(Duration::from_secs(60), sink.send(message)).await;
            if !matches!(sent, Ok(Ok(()))) {
                break;
            }
            // Let the server take it.
            for _ in 0..8 {
                tokio::task::yield_now().await;
            }
        }
        // The client goes: a close if it can, then the connection is dropped.
        let _ = tokio::time::timeout(Duration::from_secs(5), sink.close()).await;
        drop(sink);
        reader.abort();
        let _ = reader.await.map_err(|e| {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        });
    }
    // Every task of the connection ends, within a bounded (virtual) time: the HTTP connection,
    // and the socket's own task.
    let finished = tokio::time::timeout(Duration::from_secs(3600), conn).await;
    match finished {
        Ok(Ok(served)) => {
            if let Err(e) = served {
                let _ = e.to_string();
            }
        }
        Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
        Err(_) => panic!("the HTTP connection still runs an hour after the client left"),
    }
    let ended = tokio::time::timeout(Duration::from_secs(3600), async {
        while rt.metrics().num_alive_tasks() > baseline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "{} tasks of the socket still run an hour after the client left",
        rt.metrics().num_alive_tasks() - baseline
    );
}
