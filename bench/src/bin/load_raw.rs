//! Load-bench client process for the raw baseline: the same phases as `load_appsync`, done by
//! hand with reqwest + aws-sigv4 + tokio-tungstenite + serde, the cheapest honest way.
//!
//! Run by the harness (`src/bin/load/`) as `load_raw '<json spec>'`. Queries: one
//! `reqwest::Client`, the URL parsed once, the body serialized once per call (signed and sent
//! as the same bytes), SigV4 from `aws-sigv4` with a credentials identity made once, the answer
//! decoded once into the typed envelope. Subscriptions: one socket and one task, the one that
//! reads it: each text frame is decoded once, straight into a typed frame (`type` and `id`
//! borrowed, the payload the typed envelope), and consumed there; no channel, no buffer, so
//! nothing can be lost and there is no buffer setting. Handshake and `start` authorization as
//! appsync-protocol.md §2.2–§2.6 (the `header-` subprotocol; IAM signs `/graphql/connect` with
//! body `{}`, and each start with body = `payload.data`).

use std::borrow::Cow;
use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use appsync_bench::load::{
    self, drive_queries, EventCounts, GetEventData, OnEventData, Report, Spec, GET_EVENT, ON_EVENT,
};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A GraphQL answer, typed.
#[derive(Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Option<Vec<Value>>,
}

/// The query body; the same JSON the client sends for a typed operation.
#[derive(Serialize)]
struct Body<'a, V> {
    variables: V,
    query: &'a str,
    #[serde(rename = "operationName")]
    operation_name: &'a str,
}

#[derive(Serialize)]
struct IdVar<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct TagVar<'a> {
    tag: &'a str,
}

/// A realtime frame, decoded in one pass: `type` and `id` borrowed, `payload` typed.
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    payload: Option<Envelope<OnEventData>>,
}

/// What the raw client keeps: parsed once, used by every call.
struct Raw {
    http: reqwest::Client,
    url: reqwest::Url,
    url_str: String,
    host: String,
    region: String,
    api_key: HeaderValue,
    identity: Identity,
    iam: bool,
}

impl Raw {
    fn new(spec: &Spec) -> Raw {
        let url = reqwest::Url::parse(&spec.url).expect("a valid URL");
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().expect("a host")),
            None => url.host_str().expect("a host").to_owned(),
        };
        let creds = Credentials::new(
            &spec.access_key_id,
            &spec.secret_access_key,
            spec.session_token.clone(),
            Some(SystemTime::now() + Duration::from_secs(12 * 3600)),
            "load-bench",
        );
        Raw {
            // reqwest's defaults: no per-request timeout (and so no timer per request), the
            // cheapest way; the client keeps one per call, as its design asks.
            http: reqwest::Client::new(),
            url_str: spec.url.clone(),
            url,
            host,
            region: spec.region.clone(),
            api_key: HeaderValue::from_str(&spec.api_key).expect("a header value"),
            identity: creds.into(),
            iam: spec.iam(),
        }
    }

    /// SigV4 (service `appsync`) over `headers` and `body` for `POST url`: the headers to add.
    fn sign<'a>(
        &self,
        url: &'a str,
        headers: impl Iterator<Item = (&'a str, &'a str)>,
        body: &'a [u8],
    ) -> Vec<(&'static str, String)> {
        let params = SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("appsync")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("signing params")
            .into();
        let signable = SignableRequest::new("POST", url, headers, SignableBody::Bytes(body))
            .expect("a signable request");
        let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
        instructions
            .into_parts()
            .0
            .into_iter()
            .map(|h| (h.name(), h.value().to_owned()))
            .collect()
    }

    async fn query(&self, i: u64) -> Result<(), String> {
        let id = format!("e{i}");
        let body = serde_json::to_vec(&Body {
            variables: IdVar { id: &id },
            query: GET_EVENT,
            operation_name: "GetEvent",
        })
        .map_err(|e| e.to_string())?;
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.iam {
            let signed = self.sign(
                &self.url_str,
                [
                    ("host", self.host.as_str()),
                    ("content-type", "application/json"),
                ]
                .into_iter(),
                &body,
            );
            for (name, value) in signed {
                headers.insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_str(&value).map_err(|e| e.to_string())?,
                );
            }
        } else {
            headers.insert("x-api-key", self.api_key.clone());
        }
        let mut req = reqwest::Request::new(reqwest::Method::POST, self.url.clone());
        *req.headers_mut() = headers;
        *req.body_mut() = Some(body.into());
        let resp = self.http.execute(req).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        let env: Envelope<GetEventData> =
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        match env.data.and_then(|d| d.get_event) {
            Some(e) if e.id == "e1" && env.errors.is_none() => Ok(()),
            other => Err(format!("unexpected data {other:?}")),
        }
    }

    /// The authorization object of the handshake (`connect`) or of a `start` (`data`).
    fn authorization(&self, data: Option<&str>) -> Map<String, Value> {
        let mut obj = Map::new();
        obj.insert("host".into(), self.host.clone().into());
        if !self.iam {
            obj.insert(
                "x-api-key".into(),
                self.api_key.to_str().unwrap_or_default().into(),
            );
            return obj;
        }
        let fixed = [
            ("accept", "application/json, text/javascript"),
            ("content-encoding", "amz-1.0"),
            ("content-type", "application/json; charset=UTF-8"),
        ];
        let (url, body) = match data {
            None => (format!("{}/connect", self.url_str), "{}"),
            Some(d) => (self.url_str.clone(), d),
        };
        let headers = fixed
            .iter()
            .copied()
            .chain(std::iter::once(("host", self.host.as_str())));
        for (n, v) in fixed {
            obj.insert(n.into(), v.into());
        }
        for (n, v) in self.sign(&url, headers, body.as_bytes()) {
            obj.insert(n.into(), v.into());
        }
        obj
    }

    /// The realtime URL (`/graphql/realtime`, `ws://`) and the socket, handshake done.
    async fn connect(&self) -> Result<Socket, String> {
        let ws_url = format!(
            "{}/realtime",
            self.url_str
                .replacen("http://", "ws://", 1)
                .replacen("https://", "wss://", 1)
        );
        let header = serde_json::to_vec(&self.authorization(None)).map_err(|e| e.to_string())?;
        let protocol = format!(
            "graphql-ws,header-{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header)
        );
        let mut request = ws_url.into_client_request().map_err(|e| e.to_string())?;
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(&protocol).map_err(|e| e.to_string())?,
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| e.to_string())?;
        ws.send(Message::text(r#"{"type":"connection_init"}"#))
            .await
            .map_err(|e| e.to_string())?;
        loop {
            let frame = next_value(&mut ws).await?;
            match frame["type"].as_str() {
                Some("connection_ack") => return Ok(ws),
                Some("ka") => continue,
                _ => return Err(format!("handshake: {frame}")),
            }
        }
    }

    /// Sends the `start` of subscription `id` for `tag`.
    async fn start(&self, ws: &mut Socket, id: &str, tag: &str) -> Result<(), String> {
        let data = serde_json::to_string(&Body {
            variables: TagVar { tag },
            query: ON_EVENT,
            operation_name: "OnEvent",
        })
        .map_err(|e| e.to_string())?;
        let start = json!({
            "id": id,
            "type": "start",
            "payload": {"data": &data, "extensions": {"authorization": self.authorization(Some(&data))}},
        });
        ws.send(Message::text(start.to_string()))
            .await
            .map_err(|e| e.to_string())
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame as JSON (handshake only; the hot loop decodes typed frames).
async fn next_value(ws: &mut Socket) -> Result<Value, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(t.as_str()).map_err(|e| e.to_string())
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("the socket closed".to_owned()),
        }
    }
}

/// One subscription on its own socket; events consumed in the reading task.
async fn subscription(spec: &Spec, raw: &Raw) -> Result<Report, String> {
    let mut ws = raw.connect().await?;
    let id = "1";
    raw.start(&mut ws, id, &spec.tag).await?;
    loop {
        let frame = next_value(&mut ws).await?;
        match frame["type"].as_str() {
            Some("start_ack") => break,
            Some("ka") => continue,
            _ => return Err(format!("start: {frame}")),
        }
    }
    let idle = Duration::from_millis(spec.idle_timeout_ms);
    let timer = tokio::time::sleep(idle);
    tokio::pin!(timer);
    let mut counts = EventCounts::default();
    let cpu0 = load::usage().cpu_ns;
    load::ready();
    while !counts.complete(spec.count) {
        tokio::select! {
            biased;
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<Frame<'_>>(text.as_str()) {
                    Ok(f) if f.ty == "data" && f.id.as_deref() == Some(id) => {
                        let ok = f.payload.as_ref().and_then(|p| p.data.as_ref()).and_then(|d| d.on_event.as_ref()).is_some();
                        if counts.data(ok) {
                            timer.as_mut().reset(tokio::time::Instant::now() + idle);
                        }
                        std::hint::black_box(f.payload);
                    }
                    Ok(f) if f.ty == "ka" => {}
                    Ok(f) => counts.error(format!("unexpected frame type {}", f.ty)),
                    Err(e) => counts.error(format!("undecodable frame: {e}")),
                },
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    counts.error(e.to_string());
                    break;
                }
                None => {
                    counts.error("the socket closed".to_owned());
                    break;
                }
            },
            () = &mut timer => {
                if counts.received == 0 {
                    counts.error("no event within the idle timeout".to_owned());
                }
                break;
            }
        }
    }
    Ok(counts.report(spec, cpu0))
}

/// `spec.count` subscriptions on one socket, left idle: resident memory added.
async fn idle(spec: &Spec, raw: &Raw) -> Result<Report, String> {
    let before = load::rss_now();
    let mut ws = raw.connect().await?;
    let mut live = HashSet::with_capacity(spec.count as usize);
    for i in 0..spec.count {
        raw.start(&mut ws, &i.to_string(), &format!("{}-{i}", spec.tag))
            .await?;
    }
    let mut errors = 0;
    let mut first_error = None;
    while (live.len() as u64) + errors < spec.count {
        let frame = next_value(&mut ws).await?;
        match frame["type"].as_str() {
            Some("start_ack") => {
                live.insert(frame["id"].as_str().unwrap_or_default().to_owned());
            }
            Some("ka") => {}
            _ => {
                errors += 1;
                first_error.get_or_insert(frame.to_string());
            }
        }
    }
    let after = load::rss_now();
    Ok(Report {
        ops: spec.count,
        received: Some(live.len() as u64),
        rss_delta_bytes: Some(after - before),
        errors,
        first_error,
        ..Report::default()
    })
}

fn main() {
    let spec = Spec::from_args();
    let rt = spec.runtime();
    let report = rt.block_on(async {
        let raw = Raw::new(&spec);
        let phase = async {
            match spec.phase.as_str() {
                "query" => Ok(drive_queries(&spec, |i| raw.query(i)).await),
                "subscribe" => subscription(&spec, &raw).await,
                "idle" => idle(&spec, &raw).await,
                other => panic!("unknown phase {other}"),
            }
        };
        let failed = |e: String| Report {
            ops: spec.count,
            errors: 1,
            first_error: Some(e),
            ..Report::default()
        };
        match tokio::time::timeout(Duration::from_millis(spec.timeout_ms), phase).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => failed(e),
            Err(_) => failed("the phase timed out".to_owned()),
        }
    });
    report.print();
    std::process::exit(0);
}
