//! Criterion benchmark of realtime delivery: one socket fed with small `data` frames by a raw
//! sender, drained by the client's `Subscription` next to a raw `tokio-tungstenite` +
//! `serde_json` loop.
//!
//! The sender (`src/bin/realtime_sender.rs`) runs as a **child process**, so this process's CPU
//! time is the receiving side's alone. Every side runs on one current-thread Tokio runtime (one
//! core; `REALTIME_RUNTIME=multi` for a two-worker one) and, per iteration, drains [`EVENTS`]
//! events that the sender writes back to back, each side on its own socket:
//! - `client`: an `appsync_client::Client` (API_KEY, `http://127.0.0.1:PORT/graphql`, realtime
//!   URL derived as `ws://…/graphql/realtime`), `subscribe_graphql(…).start()`, then
//!   `Subscription::next()` until `EVENTS` `SubscriptionEvent::Data(Response<Value>)` came,
//!   with a buffer cap of 2 × `EVENTS` events (`RealtimeOptions::buffer`, as before the
//!   byte-bounded buffers);
//! - `client_default`: the same with `RealtimeOptions::new()` as it comes (8 MiB of unread
//!   events per socket, backpressure beyond): what an application gets. Events reported lost
//!   (`SubscriptionEvent::Lagged`) count towards the drain and are shown in the summary;
//! - `client_crowded`: the same, with [`CROWD`] idle subscriptions on the same socket (what
//!   the socket's task does per frame must not grow with them);
//! - `raw`: `tokio_tungstenite::connect_async` with `graphql-ws`, the handshake and `start` by
//!   hand, then a reader task that decodes each frame into a `serde_json::Value`, takes its
//!   `payload` and routes it by `id` into an unbounded mpsc channel, from which the consumer
//!   receives: the least a client must do;
//! - `raw_typed`: the same loop decoding each frame in one pass into a typed frame (the `id`
//!   borrowed, the `payload` an `appsync_client::Response<Value>`, as the client delivers);
//! - `events_default`: an AppSync Events subscription (`aws-appsync-event-ws`, endpoint
//!   `http://127.0.0.1:PORT/event`, API_KEY) through `Client::events(…).subscribe::<Value>(…)`
//!   with `RealtimeOptions::new()`, drained until `EVENTS` `ChannelEvent::Event(Value)` came.
//!   An Events `data` frame carries its event as JSON text in a string
//!   (`{"type":"data","id":…,"event":"{\"id\":\"e1\",\"n\":1}"}`), so every side reads it
//!   twice: the frame, then the event;
//! - `raw_events_typed`: its baseline, the `raw_typed` loop for Events frames: the frame decoded
//!   in one pass (the `id` borrowed, the `event` string unescaped), then the event parsed into a
//!   `serde_json::Value`, routed by `id` into a channel.
//!
//! Two groups measure the same work: `realtime_wall` (wall time) and `realtime_cpu` (process
//! CPU time, `CLOCK_PROCESS_CPUTIME_ID`: its throughput is events per CPU-second, i.e. per
//! core). A summary with the client/raw ratios is printed at the end. Run with
//! `cargo bench -p appsync-bench --bench realtime`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use appsync_client::{
    AuthMode, ChannelEvent, ChannelSubscription, Client, Config, EndpointConfig, GraphQLRequest,
    RealtimeOptions, Response, Subscription, SubscriptionEvent,
};
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// The sides, each on its own socket and subscription (the sender's tag).
const SIDES: [&str; 7] = [
    "client",
    "client_default",
    "client_crowded",
    "raw",
    "raw_typed",
    "events_default",
    "raw_events_typed",
];

/// Idle subscriptions beside the hot one on the `client_crowded` socket.
const CROWD: usize = 9_999;

/// Events drained per iteration.
const EVENTS: usize = 100_000;
const API_KEY: &str = "da2-benchbenchbenchbenchbench";
const DOC: &str = "subscription OnEvent($tag: String) { onEvent(tag: $tag) { id n } }";

// ---------------------------------------------------------------------------------------------
// The sender, a child process

/// The raw sender, running as a child process.
struct Sender {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Kept open: the sender may still print (an unknown tag).
    _stdout: BufReader<ChildStdout>,
    port: u16,
}

impl Sender {
    fn start() -> Sender {
        let mut child = Command::new(env!("CARGO_BIN_EXE_realtime_sender"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the realtime_sender binary starts");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("its stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the sender's port");
        let port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected sender output {line:?}"));
        Sender {
            child,
            stdin,
            _stdout: stdout,
            port,
        }
    }

    fn command(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("the sender runs");
        writeln!(stdin, "{line}").expect("the sender reads commands");
        stdin.flush().expect("the sender reads commands");
    }

    /// Sends `count` frames on the subscription tagged `tag`.
    fn fire(&mut self, tag: &str, count: usize) {
        self.command(&format!("fire {tag} {count}"));
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        // Closing its stdin ends it.
        self.stdin = None;
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The two receiving sides

/// The client's subscription: GraphQL, or an Events channel.
enum ClientSub {
    GraphQL(Subscription<Value>),
    Events(ChannelSubscription<Value>),
}

/// The client: a subscription on its own socket, maybe beside idle ones.
struct ClientSide {
    _client: Client,
    sub: ClientSub,
    _idle: Vec<Subscription<Value>>,
    /// Events the client reported dropped (`Lagged`), over every drain.
    lagged: u64,
}

impl ClientSide {
    /// A client whose socket carries the subscription tagged `tag` and `idle` others; with
    /// `defaults`, `RealtimeOptions::new()` unchanged, else a cap of 2 × `EVENTS` events.
    async fn connect(port: u16, tag: &str, idle: usize, defaults: bool) -> ClientSide {
        let config = Config::builder()
            .endpoint(
                EndpointConfig::graphql("bench", format!("http://127.0.0.1:{port}/graphql"))
                    .authorization_type(AuthMode::ApiKey)
                    .api_key(API_KEY),
            )
            .build()
            .expect("a valid config");
        let options = if defaults {
            RealtimeOptions::new()
        } else {
            // Room for a whole iteration: a drain never lags.
            RealtimeOptions::new().buffer(2 * EVENTS)
        };
        let client = Client::builder()
            .config(config)
            .realtime(options)
            .build()
            .expect("a valid client");
        let sub = client
            .subscribe_graphql(GraphQLRequest::new(DOC).variables(json!({ "tag": tag })))
            .start()
            .await
            .expect("the subscription starts");
        let mut others = Vec::with_capacity(idle);
        for i in 0..idle {
            let s = client
                .subscribe_graphql(GraphQLRequest::new(DOC).variables(json!({ "n": i })))
                .start()
                .await
                .expect("the subscription starts");
            others.push(s);
        }
        ClientSide {
            _client: client,
            sub: ClientSub::GraphQL(sub),
            _idle: others,
            lagged: 0,
        }
    }

    /// A client subscribed to the Events channel `/bench/<tag>` (`_` written `-`), with
    /// `RealtimeOptions::new()`.
    async fn connect_events(port: u16, tag: &str) -> ClientSide {
        let config = Config::builder()
            .endpoint(
                EndpointConfig::events("bench", format!("http://127.0.0.1:{port}/event"))
                    .authorization_type(AuthMode::ApiKey)
                    .api_key(API_KEY),
            )
            .build()
            .expect("a valid config");
        let client = Client::builder()
            .config(config)
            .realtime(RealtimeOptions::new())
            .build()
            .expect("a valid client");
        let sub = client
            .events("bench")
            .subscribe::<Value>(format!("/bench/{}", tag.replace('_', "-")))
            .start()
            .await
            .expect("the subscription starts");
        ClientSide {
            _client: client,
            sub: ClientSub::Events(sub),
            _idle: Vec::new(),
            lagged: 0,
        }
    }

    async fn drain(&mut self, n: usize) {
        let mut got = 0;
        while got < n {
            match &mut self.sub {
                ClientSub::GraphQL(sub) => match sub.next().await {
                    Some(Ok(SubscriptionEvent::Data(r))) => {
                        black_box(r);
                        got += 1;
                    }
                    // Lost events are part of the drain: the sender sent them.
                    Some(Ok(SubscriptionEvent::Lagged { missed })) => {
                        self.lagged += missed;
                        got += missed as usize;
                    }
                    other => panic!("unexpected {other:?}"),
                },
                ClientSub::Events(sub) => match sub.next().await {
                    Some(Ok(ChannelEvent::Event(v))) => {
                        black_box(v);
                        got += 1;
                    }
                    Some(Ok(ChannelEvent::Lagged { missed })) => {
                        self.lagged += missed;
                        got += missed as usize;
                    }
                    other => panic!("unexpected {other:?}"),
                },
            }
        }
    }
}

/// How the raw loop decodes a frame.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Decode {
    /// Into a `serde_json::Value`, whose `payload` is routed.
    Value,
    /// In one pass into [`TypedFrame`]: the id borrowed, the payload a `Response<Value>`.
    Typed,
    /// An Events frame in one pass into [`EventsFrame`], then its event into a `Value`.
    Events,
}

/// An Events frame as the typed raw loop decodes it.
#[derive(Deserialize)]
struct EventsFrame<'a> {
    #[serde(rename = "type", borrow, default)]
    ty: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    event: Option<Cow<'a, str>>,
}

/// A frame as the typed raw loop decodes it.
#[derive(Deserialize)]
struct TypedFrame<'a> {
    #[serde(rename = "type", borrow, default)]
    ty: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(default)]
    payload: Option<Response<Value>>,
}

/// What the raw loop hands its consumer.
enum Event {
    Value(Value),
    Typed(Response<Value>),
}

/// The raw loop: a reader task decoding and routing frames; the consumer's channel end.
struct RawSide {
    rx: mpsc::UnboundedReceiver<Event>,
    task: tokio::task::JoinHandle<()>,
}

/// The next text frame, as JSON.
async fn next_json<S>(ws: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str::<Value>(t.as_str()).expect("JSON")
            }
            Some(Ok(_)) => continue,
            other => panic!("the raw socket ended: {other:?}"),
        }
    }
}

/// The `type` of a frame.
fn frame_type(v: &Value) -> Option<&str> {
    v.get("type").and_then(Value::as_str)
}

impl RawSide {
    async fn connect(port: u16, decode: Decode, tag: &str) -> RawSide {
        let events = decode == Decode::Events;
        let (path, subprotocol) = if events {
            ("event", "aws-appsync-event-ws")
        } else {
            ("graphql", "graphql-ws")
        };
        let mut request = format!("ws://127.0.0.1:{port}/{path}/realtime")
            .into_client_request()
            .expect("a valid request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(subprotocol),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the raw socket opens");
        ws.send(Message::text(r#"{"type":"connection_init"}"#))
            .await
            .expect("connection_init");
        let ack = next_json(&mut ws).await;
        assert_eq!(frame_type(&ack), Some("connection_ack"), "{ack}");
        let authorization = json!({
            "host": format!("127.0.0.1:{port}"),
            "x-api-key": API_KEY,
        });
        let (start, acked) = if events {
            let subscribe = json!({
                "id": "raw-1",
                "type": "subscribe",
                "channel": format!("/bench/{}", tag.replace('_', "-")),
                "authorization": authorization,
            });
            (subscribe, "subscribe_success")
        } else {
            let data = json!({"query": DOC, "variables": {"tag": tag}}).to_string();
            let start = json!({
                "id": "raw-1",
                "type": "start",
                "payload": {"data": data, "extensions": {"authorization": authorization}},
            });
            (start, "start_ack")
        };
        ws.send(Message::text(start.to_string()))
            .await
            .expect("start");
        let ack = next_json(&mut ws).await;
        assert_eq!(frame_type(&ack), Some(acked), "{ack}");
        let (tx, rx) = mpsc::unbounded_channel();
        let mut routes: HashMap<String, mpsc::UnboundedSender<Event>> = HashMap::new();
        routes.insert("raw-1".to_owned(), tx);
        let task = tokio::spawn(async move {
            while let Some(Ok(msg)) = ws.next().await {
                let Message::Text(text) = msg else { continue };
                match decode {
                    Decode::Value => {
                        let Ok(Value::Object(mut frame)) =
                            serde_json::from_str::<Value>(text.as_str())
                        else {
                            continue;
                        };
                        if frame.get("type").and_then(Value::as_str) != Some("data") {
                            continue;
                        }
                        let payload = frame.remove("payload").unwrap_or(Value::Null);
                        let route = frame
                            .get("id")
                            .and_then(Value::as_str)
                            .and_then(|id| routes.get(id));
                        if let Some(tx) = route {
                            let _ = tx.send(Event::Value(payload));
                        }
                    }
                    Decode::Typed => {
                        let Ok(frame) = serde_json::from_str::<TypedFrame<'_>>(text.as_str())
                        else {
                            continue;
                        };
                        if frame.ty != "data" {
                            continue;
                        }
                        if let (Some(tx), Some(payload)) =
                            (routes.get(frame.id.as_ref()), frame.payload)
                        {
                            let _ = tx.send(Event::Typed(payload));
                        }
                    }
                    Decode::Events => {
                        let Ok(frame) = serde_json::from_str::<EventsFrame<'_>>(text.as_str())
                        else {
                            continue;
                        };
                        if frame.ty != "data" {
                            continue;
                        }
                        let (Some(tx), Some(event)) = (routes.get(frame.id.as_ref()), frame.event)
                        else {
                            continue;
                        };
                        if let Ok(v) = serde_json::from_str::<Value>(&event) {
                            let _ = tx.send(Event::Value(v));
                        }
                    }
                }
            }
        });
        RawSide { rx, task }
    }

    async fn drain(&mut self, n: usize) {
        for _ in 0..n {
            match self.rx.recv().await.expect("the raw reader runs") {
                Event::Value(v) => {
                    black_box(v);
                }
                Event::Typed(r) => {
                    black_box(r);
                }
            }
        }
    }
}

impl Drop for RawSide {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------------
// Process CPU time as a criterion measurement

/// This process's CPU time (user + system, every thread).
fn cpu_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Process CPU time: with the sender in a child process, the receiving side's CPU.
struct CpuTime;

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        cpu_now()
    }

    fn end(&self, start: Duration) -> Duration {
        cpu_now().saturating_sub(start)
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

/// Formats CPU nanoseconds, and throughput as elements per CPU-second (per core).
struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e3, "µs cpu")
        } else if typical < 1e9 {
            (1e6, "ms cpu")
        } else {
            (1e9, "s cpu")
        };
        for v in values {
            *v /= div;
        }
        unit
    }

    fn scale_throughputs(
        &self,
        typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let per = match throughput {
            Throughput::Elements(n)
            | Throughput::Bytes(n)
            | Throughput::BytesDecimal(n)
            | Throughput::Bits(n) => *n as f64,
            Throughput::ElementsAndBytes { elements, .. } => *elements as f64,
        };
        let rate = per * 1e9 / typical;
        let (div, unit) = if rate < 1e3 {
            (1.0, "elem/cpu-s")
        } else if rate < 1e6 {
            (1e3, "Kelem/cpu-s")
        } else {
            (1e6, "Melem/cpu-s")
        };
        for v in values {
            *v = per * 1e9 / *v / div;
        }
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

// ---------------------------------------------------------------------------------------------
// The benchmark

/// Everything measured per side, warm-up included, for the summary.
#[derive(Default, Clone, Copy)]
struct Totals {
    events: u64,
    wall: Duration,
    cpu: Duration,
}

/// The sender, the runtime and both sides, made once.
struct Setup {
    rt: Runtime,
    sender: Sender,
    client: ClientSide,
    client_default: ClientSide,
    crowded: ClientSide,
    raw: RawSide,
    raw_typed: RawSide,
    events: ClientSide,
    raw_events: RawSide,
    totals: RefCell<HashMap<&'static str, Totals>>,
}

impl Setup {
    fn new() -> Setup {
        let sender = Sender::start();
        let rt = match runtime_flavor() {
            "multi" => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build(),
            _ => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
        }
        .expect("a runtime");
        let port = sender.port;
        let (client, client_default, crowded, raw, raw_typed, events, raw_events) =
            rt.block_on(async {
                (
                    ClientSide::connect(port, "client", 0, false).await,
                    ClientSide::connect(port, "client_default", 0, true).await,
                    ClientSide::connect(port, "client_crowded", CROWD, false).await,
                    RawSide::connect(port, Decode::Value, "raw").await,
                    RawSide::connect(port, Decode::Typed, "raw_typed").await,
                    ClientSide::connect_events(port, "events_default").await,
                    RawSide::connect(port, Decode::Events, "raw_events_typed").await,
                )
            });
        Setup {
            rt,
            sender,
            client,
            client_default,
            crowded,
            raw,
            raw_typed,
            events,
            raw_events,
            totals: RefCell::default(),
        }
    }

    /// `iters` drains of [`EVENTS`] on `side`; returns the sum of `clock` differences.
    fn run(&mut self, side: &'static str, iters: u64, clock: fn() -> Duration) -> Duration {
        let mut total = Duration::ZERO;
        let mut t = Totals::default();
        for _ in 0..iters {
            let (w0, c0, m0) = (Instant::now(), cpu_now(), clock());
            self.sender.fire(side, EVENTS);
            match side {
                "client" => self.rt.block_on(self.client.drain(EVENTS)),
                "client_default" => self.rt.block_on(self.client_default.drain(EVENTS)),
                "client_crowded" => self.rt.block_on(self.crowded.drain(EVENTS)),
                "raw" => self.rt.block_on(self.raw.drain(EVENTS)),
                "events_default" => self.rt.block_on(self.events.drain(EVENTS)),
                "raw_events_typed" => self.rt.block_on(self.raw_events.drain(EVENTS)),
                _ => self.rt.block_on(self.raw_typed.drain(EVENTS)),
            }
            total += clock().saturating_sub(m0);
            t.events += EVENTS as u64;
            t.wall += w0.elapsed();
            t.cpu += cpu_now().saturating_sub(c0);
        }
        let mut totals = self.totals.borrow_mut();
        let e = totals.entry(side).or_default();
        e.events += t.events;
        e.wall += t.wall;
        e.cpu += t.cpu;
        total
    }
}

/// `REALTIME_RUNTIME=multi`: a multi-thread runtime with two workers (the reading tasks run
/// on them, the consumer on the bench's thread) instead of the current-thread one.
fn runtime_flavor() -> &'static str {
    match std::env::var("REALTIME_RUNTIME").as_deref() {
        Ok("multi") => "multi",
        _ => "current-thread",
    }
}

/// Wall time since the first call.
fn wall_now() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

fn group<M: Measurement<Value = Duration>>(
    c: &mut Criterion<M>,
    name: &str,
    setup: &mut Setup,
    clock: fn() -> Duration,
) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(EVENTS as u64));
    for side in SIDES {
        g.bench_function(side, |b| {
            b.iter_custom(|iters| setup.run(side, iters, clock))
        });
    }
    g.finish();
}

fn summary(setup: &Setup) {
    let totals = setup.totals.borrow();
    println!();
    println!(
        "realtime summary: {EVENTS} events of ~90 bytes per iteration, one socket, {} runtime; \
         the sender is a child process (process CPU = receiver CPU)",
        runtime_flavor()
    );
    println!(
        "{:<16} {:>10} {:>16} {:>22} {:>14} {:>9}",
        "side", "events", "events/s (wall)", "events/cpu-s (core)", "cpu ns/event", "cpu/wall"
    );
    for side in SIDES {
        let Some(t) = totals.get(side) else { continue };
        println!(
            "{:<16} {:>10} {:>16.0} {:>22.0} {:>14.1} {:>9.2}",
            side,
            t.events,
            t.events as f64 / t.wall.as_secs_f64(),
            t.events as f64 / t.cpu.as_secs_f64(),
            t.cpu.as_nanos() as f64 / t.events as f64,
            t.cpu.as_secs_f64() / t.wall.as_secs_f64(),
        );
    }
    let per = |d: Duration, n: u64| d.as_secs_f64() / n as f64;
    for (side, base) in [
        ("client", "raw"),
        ("client", "raw_typed"),
        ("client_default", "raw_typed"),
        ("client_default", "client"),
        ("client_crowded", "raw"),
        ("client_crowded", "client"),
        ("events_default", "raw_events_typed"),
        ("events_default", "client_default"),
    ] {
        if let (Some(c), Some(r)) = (totals.get(side), totals.get(base)) {
            println!(
                "{side}/{base}: wall time per event {:.2}x, CPU per event {:.2}x",
                per(c.wall, c.events) / per(r.wall, r.events),
                per(c.cpu, c.events) / per(r.cpu, r.events),
            );
        }
    }
    println!(
        "events reported lost (Lagged): client {}, client_default {}, client_crowded {}, \
         events_default {}",
        setup.client.lagged, setup.client_default.lagged, setup.crowded.lagged, setup.events.lagged
    );
    println!("targets: client/raw CPU per event <= 1.3x; >= 1,000,000 events/cpu-s for the client");
}

/// Ten samples of a few iterations each (an iteration takes 0.1–0.2 s); the command
/// line may override.
fn configure<M: Measurement>(c: Criterion<M>) -> Criterion<M> {
    c.sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10))
        .configure_from_args()
}

fn main() {
    let mut setup = Setup::new();
    let mut wall = configure(Criterion::default());
    group(&mut wall, "realtime_wall", &mut setup, wall_now);
    let mut cpu = configure(Criterion::default().with_measurement(CpuTime));
    group(&mut cpu, "realtime_cpu", &mut setup, cpu_now);
    wall.final_summary();
    summary(&setup);
}
