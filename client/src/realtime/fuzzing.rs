//! The realtime fuzz entry points (feature `fuzzing`, see `crate::fuzzing`): the frame decoder,
//! the realtime URLs of an endpoint, and the socket actor driven by a script over in-memory
//! sockets with paused time. (Past 700 lines on purpose: the actor's script interpreter is one
//! reading of one byte format; it is not built in normal builds.)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{broadcast, oneshot};

use super::auth::Authorizer;
use super::buffer::Shared;
use super::connection::{spawn, ActorConfig, Command, Reply, SubRequest};
use super::failure::Failure;
use super::options::{HandshakeMethod, ReconnectPolicy, LONGEST};
use super::protocol::{self, AuthObject, DataFrame, Dialect, ServerMessage};
use super::socket::memory::{MemConnector, Outcome, ServerEnd};
use super::socket::{SocketError, WsMessage};
use super::subscription::{Subscription, SubscriptionEvent};
use crate::auth::AuthMode;
use crate::config::EndpointConfig;
use crate::error::Error;

// ---- the frame decoder ----------------------------------------------------------------------

/// A typed subscription payload, as generated code declares one.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct OnCreateNote {
    #[serde(rename = "onCreateNote")]
    on_create_note: Option<Note>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Note {
    id: String,
    content: Option<String>,
    owner: Option<String>,
}

/// Everything the client does with one text frame (see `crate::fuzzing::realtime_frame`).
pub(crate) fn frame(text: &str) {
    let fast = protocol::data_id(text);
    let parsed = protocol::parse(text);
    // Where the frame is valid JSON, the fast path names the frame the parser names (a key
    // given twice is the one ambiguity: the fast path takes the first, the parser the last).
    if let (Some(id), Ok(m)) = (fast, &parsed) {
        assert!(!id.is_empty());
        if !repeats_a_routing_key(text) {
            assert_eq!(
                m,
                &ServerMessage::Data { id: id.to_owned() },
                "the data fast path and the parser disagree"
            );
        }
    }
    match &parsed {
        Ok(ServerMessage::ConnectionAck { timeout: Some(t) }) => assert!(*t <= LONGEST),
        Ok(ServerMessage::Error { errors, .. } | ServerMessage::ConnectionError { errors }) => {
            assert!(!errors.is_empty(), "an error frame without errors");
            let _ = protocol::is_max_subscriptions(errors);
            let _ = protocol::is_limit_exceeded(errors);
            let _ = protocol::is_credentials_refusal(errors);
            let f = Failure::from_errors("fuzz", errors.clone());
            let _ = f.to_error().to_string();
            let _ = f.disruption().to_string();
            let _ = Error::realtime_errors("fuzz", errors.clone()).to_string();
        }
        _ => {}
    }
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        assert!(!protocol::errors_of(v.get("payload")).is_empty());
        assert!(!protocol::errors_of(Some(&v)).is_empty());
    }
    // What a reader does with a data frame.
    if let Ok(f) = serde_json::from_str::<DataFrame<Value>>(text) {
        let _ = format!("{:?}", f.payload);
    }
    let _ = serde_json::from_str::<DataFrame<OnCreateNote>>(text);
}

/// Whether a frame's top-level object has `type` or `id` more than once.
fn repeats_a_routing_key(text: &str) -> bool {
    struct Keys(Vec<String>);
    impl<'de> Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(k) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Keys>(text).is_ok_and(|Keys(keys)| {
        ["type", "id"]
            .iter()
            .any(|k| keys.iter().filter(|x| x == k).count() > 1)
    })
}

/// The realtime URLs of an endpoint: the connect URL, and with the query handshake, whose
/// redacted form must not carry the handshake.
pub(crate) fn realtime_urls(endpoint: &EndpointConfig) {
    let Ok(url) = super::url::connect_url(endpoint, None) else {
        return;
    };
    let with = super::url::with_auth_query(&url, r#"{"x-api-key":"da2-fuzzfuzzfuzzfuzz"}"#);
    let shown = super::url::redacted(&with);
    assert!(
        !shown.contains("header="),
        "the handshake shows in a redacted URL"
    );
    let _ = super::socket::protocols(
        HandshakeMethod::Query,
        &AuthObject::default(),
        Dialect::GraphQL.subprotocol(),
    );
}

// ---- the actor ------------------------------------------------------------------------------

/// Reads a script: bytes, then zeros when it runs out.
struct Script<'a> {
    data: &'a [u8],
}

impl Script<'_> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.data.len());
        let (a, b) = self.data.split_at(n);
        self.data = b;
        a
    }

    fn text(&mut self) -> String {
        let n = self.byte() as usize;
        String::from_utf8_lossy(self.bytes(n)).into_owned()
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.byte() as usize % from.len()]
    }
}

/// An authorizer whose providers can be made to fail, fail for good, or hang.
#[derive(Default)]
struct FuzzAuth {
    generation: AtomicU64,
    fail_connect: AtomicBool,
    permanent: AtomicBool,
    hang_connect: AtomicBool,
    hang_starts: AtomicBool,
    fail_starts: AtomicBool,
    no_refresh: AtomicBool,
}

impl FuzzAuth {
    fn object(&self) -> AuthObject {
        let mut o = AuthObject::default();
        o.insert("host", "api.example.com");
        o.insert(
            "Authorization",
            format!("token-{}", self.generation.load(Ordering::SeqCst)),
        );
        o
    }
}

impl Authorizer for FuzzAuth {
    fn connect_auth(&self) -> BoxFuture<'_, crate::Result<AuthObject>> {
        Box::pin(async move {
            if self.hang_connect.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            if self.fail_connect.load(Ordering::SeqCst) {
                let e = Error::auth("the token provider failed");
                if self.permanent.load(Ordering::SeqCst) {
                    return Err(e.with_source(crate::auth::PermanentError::new("signed out")));
                }
                return Err(e);
            }
            Ok(self.object())
        })
    }

    fn start_auth<'a>(
        &'a self,
        _data: &'a str,
        headers: &'a [(String, String)],
    ) -> BoxFuture<'a, crate::Result<AuthObject>> {
        Box::pin(async move {
            if self.hang_starts.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            if self.fail_starts.load(Ordering::SeqCst) {
                return Err(Error::auth("the token provider failed"));
            }
            let mut o = self.object();
            for (k, v) in headers {
                o.insert(k.clone(), v.clone());
            }
            Ok(o)
        })
    }

    fn refresh(&self, _date: Option<std::time::SystemTime>) -> BoxFuture<'_, bool> {
        Box::pin(async move {
            self.generation.fetch_add(1, Ordering::SeqCst);
            !self.no_refresh.load(Ordering::SeqCst)
        })
    }
}

/// A subscription of the script, from the application's side.
struct AppSub {
    key: u64,
    shared: Arc<Shared>,
    /// Until the actor replies.
    reply: Option<oneshot::Receiver<Reply>>,
    stream: Option<Subscription<Value>>,
    done: bool,
}

const Q: &str = r#"{"query":"subscription { onCreateNote { id content owner } }","variables":{}}"#;

/// Durations the script picks from (the timeouts, delays and waits of a configuration).
const DURATIONS: [Duration; 12] = [
    Duration::from_millis(1),
    Duration::from_millis(10),
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(15),
    Duration::from_secs(30),
    Duration::from_secs(61),
    Duration::from_secs(300),
    Duration::from_secs(3600),
];

/// Error types the templated error frames carry.
const ERROR_TYPES: [Option<&str>; 9] = [
    None,
    Some("Unauthorized"),
    Some("UnauthorizedException"),
    Some("com.amazonaws.deepdish.graphql.auth#UnauthorizedException"),
    Some("MaxSubscriptionsReachedError"),
    Some("MaxSubscriptionsReachedException"),
    Some("LimitExceededError"),
    Some("BadRequestException"),
    Some("DuplicatedOperationError"),
];

fn config(s: &mut Script<'_>) -> (ActorConfig, Option<usize>) {
    let flags = s.byte();
    // Delays and timeouts of 100 ms at least: below that, a failure that repeats is the same
    // steps thousands of times a (virtual) minute, which costs the fuzzing and finds nothing new.
    let reconnect = ReconnectPolicy::default()
        .base_delay(s.pick(&DURATIONS[2..]))
        .max_delay(s.pick(&DURATIONS[2..10]))
        .max_attempts(if flags & 1 != 0 {
            Some(u32::from(s.byte() % 8))
        } else {
            None
        })
        .healthy_after(s.pick(&DURATIONS))
        .report_after(u32::from(s.byte() % 5));
    let config = ActorConfig {
        api_name: "notes".to_owned(),
        mode: AuthMode::Oidc,
        handshake: if flags & 2 != 0 {
            HandshakeMethod::Query
        } else {
            HandshakeMethod::Subprotocol
        },
        connect_timeout: s.pick(&DURATIONS[2..]),
        ack_timeout: s.pick(&DURATIONS[2..]),
        start_ack_timeout: s.pick(&DURATIONS[2..]),
        keep_alive_timeout: (flags & 4 != 0).then(|| DURATIONS[s.byte() as usize % 12]),
        auth_timeout: s.pick(&DURATIONS[2..]),
        reconnect,
        idle_close_delay: s.pick(&DURATIONS),
        // From tiny (every frame crosses it) to the default.
        max_buffered_bytes: [
            1,
            64,
            512,
            4096,
            65536,
            super::options::DEFAULT_MAX_BUFFERED_BYTES,
        ][s.byte() as usize % 6],
        max_stall: s.pick(&DURATIONS),
        identity: None,
        dialect: Dialect::GraphQL,
    };
    let cap = (flags & 8 != 0).then(|| usize::from(s.byte() % 4) + 1);
    (config, cap)
}

fn request(key: u64, cap: Option<usize>, headers: bool) -> (SubRequest, AppSub) {
    let (tx, rx) = oneshot::channel();
    let shared = Arc::new(Shared::new(cap));
    let headers: Vec<(String, String)> = if headers {
        vec![("x-trace".to_owned(), format!("t{key}"))]
    } else {
        Vec::new()
    };
    (
        SubRequest {
            key,
            data: Q.into(),
            headers: headers.into(),
            shared: shared.clone(),
            reply: tx,
        },
        AppSub {
            key,
            shared,
            reply: Some(rx),
            stream: None,
            done: false,
        },
    )
}

/// Lets the actor take what was just sent (it takes one event per turn; what it has not taken
/// yet it takes during the next steps).
async fn settle() {
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
}

/// Lets time pass, in steps that grow while nothing happens, and no longer than it takes the
/// actor to make 32 connection attempts: a failure that repeats every few hundred milliseconds
/// for an hour is thousands of times the same few steps, at a cost that would only slow the
/// fuzzing down.
async fn pass(d: Duration, connector: &MemConnector) {
    let start = tokio::time::Instant::now();
    let attempts = connector.count();
    let mut step = Duration::from_secs(1);
    while start.elapsed() < d && connector.count() < attempts + 32 {
        let before = connector.count();
        tokio::time::sleep(step.min(d - start.elapsed())).await;
        step = if connector.count() == before {
            (step * 2).min(Duration::from_secs(300))
        } else {
            Duration::from_secs(1)
        };
    }
}

/// A templated server frame for an id the client used (or a made-up one).
fn templated(s: &mut Script<'_>, ids: &[String]) -> String {
    let id = match s.byte() {
        0 => "unknown-id".to_owned(),
        1 => String::new(),
        b if ids.is_empty() => format!("x-{b}"),
        b => ids[ids.len() - 1 - (b as usize % ids.len())].clone(),
    };
    let error = |s: &mut Script<'_>| {
        let mut e = json!({"message": s.text()});
        if let Some(t) = s.pick(&ERROR_TYPES) {
            e["errorType"] = json!(t);
        }
        match s.byte() % 5 {
            0 => e["errorCode"] = json!(401),
            1 => e["errorCode"] = json!("403"),
            2 => e["errorCode"] = json!(500),
            _ => {}
        }
        // AppSync sends a list, sometimes an object, and in old versions the entry itself.
        match s.byte() % 4 {
            0 => json!({"errors": e}),
            1 => e,
            _ => json!({"errors": [e]}),
        }
    };
    match s.byte() % 14 {
        0 => {
            let ms: Value = match s.byte() % 6 {
                0 => json!(s.u16()),
                1 => json!(u64::from(s.u16()) * 1000),
                2 => json!(300_000),
                3 => json!(-1),
                4 => json!(1e300),
                _ => json!(null),
            };
            json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": ms}}).to_string()
        }
        1 => r#"{"type":"ka"}"#.to_owned(),
        2 => json!({"type": "start_ack", "id": id, "payload": {}}).to_string(),
        3 => json!({"type": "data", "id": id, "payload": {"data": {"onCreateNote": {
            "id": format!("n{}", s.byte()), "content": "c", "owner": null}}}})
        .to_string(),
        4 => json!({"type": "data", "id": id, "payload": {"data": null, "errors": [
            {"message": s.text(), "path": ["onCreateNote"]}]}})
        .to_string(),
        5 => {
            // A big one (up to 16 KiB): crosses the small budgets at once.
            let n = usize::from(s.byte()) * 64;
            format!(
                r#"{{"type":"data","id":{},"payload":{{"data":{{"onCreateNote":{{"id":"big","content":"{}"}}}}}}}}"#,
                json!(id),
                "x".repeat(n)
            )
        }
        6 => {
            let raw = s.text();
            format!(r#"{{"type":"data","id":{},"payload":{raw}}}"#, json!(id))
        }
        7 => json!({"type": "error", "id": id, "payload": error(s)}).to_string(),
        8 => json!({"type": "error", "payload": error(s)}).to_string(),
        9 => json!({"type": "complete", "id": id}).to_string(),
        10 => json!({"type": "connection_error", "payload": error(s)}).to_string(),
        11 => r#"{"message":"Subscription complete."}"#.to_owned(),
        12 => json!({"type": s.text(), "id": id}).to_string(),
        _ => json!({"type": "start_ack", "id": id}).to_string(),
    }
}

/// The script's server: the newest socket's end, and the ids of the `start`s it received.
#[derive(Default)]
struct Server {
    end: Option<ServerEnd>,
    ids: Vec<String>,
}

impl Server {
    /// Takes the newest accepted socket, and reads what the client sent.
    fn pump(&mut self, accepted: &mut tokio::sync::mpsc::UnboundedReceiver<ServerEnd>) {
        while let Ok(end) = accepted.try_recv() {
            self.end = Some(end);
        }
        let Some(end) = &mut self.end else {
            return;
        };
        while let Some(Some(frame)) = end.recv().now_or_never() {
            if frame["type"] == "start" {
                if let Some(id) = frame["id"].as_str() {
                    // Only the recent ones matter; keep the list short.
                    if self.ids.len() >= 64 {
                        self.ids.remove(0);
                    }
                    self.ids.push(id.to_owned());
                }
            }
        }
    }

    fn send(&self, m: Result<WsMessage, SocketError>) {
        if let Some(end) = &self.end {
            end.send_raw(m);
        }
    }
}

/// Takes the actor's reply to a subscribe as soon as it is there, as the client's `subscribe`
/// (which awaits it) does.
fn take_reply(sub: &mut AppSub, commands: &tokio::sync::mpsc::UnboundedSender<Command>) {
    if let Some(reply) = &mut sub.reply {
        match reply.try_recv() {
            Ok(Reply::Started) => {
                sub.reply = None;
                sub.stream = Some(Subscription::new(
                    sub.shared.clone(),
                    sub.key,
                    commands.clone(),
                    "notes".into(),
                    AuthMode::Oidc,
                ));
            }
            // The client lets go of the queue of a start that failed or went to another
            // socket (dropped, or attached to the other socket's budget): so does the script,
            // else events that came before the refusal would stay charged to this budget.
            Ok(Reply::Failed(e)) => {
                let _ = e.to_string();
                sub.reply = None;
                sub.done = true;
                sub.shared.close();
            }
            Ok(Reply::Retry) | Err(oneshot::error::TryRecvError::Closed) => {
                sub.reply = None;
                sub.done = true;
                sub.shared.close();
            }
            Err(oneshot::error::TryRecvError::Empty) => {}
        }
    }
}

/// Reads what a subscription has, without waiting.
fn read(sub: &mut AppSub, commands: &tokio::sync::mpsc::UnboundedSender<Command>) {
    if sub.done {
        return;
    }
    take_reply(sub, commands);
    let Some(stream) = &mut sub.stream else {
        return;
    };
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    // Bounded: a reader never reads more than what is there.
    for _ in 0..10_000 {
        match std::pin::Pin::new(&mut *stream).poll_next(&mut cx) {
            Poll::Ready(Some(Ok(ev))) => {
                if let SubscriptionEvent::Failing { cause, .. } = &ev {
                    let _ = cause.to_string();
                }
                let _ = format!("{ev:?}");
            }
            Poll::Ready(Some(Err(e))) => {
                let _ = e.to_string();
            }
            Poll::Ready(None) => {
                sub.done = true;
                return;
            }
            Poll::Pending => return,
        }
    }
}

/// Runs the script (see `crate::fuzzing::realtime_actor`).
pub(crate) fn actor(data: &[u8]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    rt.block_on(run(data));
}

async fn run(data: &[u8]) {
    let mut s = Script { data };
    let (config, cap) = config(&mut s);
    let limit = config.max_buffered_bytes.max(1);
    let (connector, mut accepted) = MemConnector::new();
    let auth = Arc::new(FuzzAuth::default());
    let (states_tx, mut states) = broadcast::channel(256);
    let mut subs: Vec<AppSub> = Vec::new();
    let mut next_key = 1;
    let (first, sub) = request(next_key, cap, false);
    subs.push(sub);
    let handle = spawn(
        config,
        connector.clone(),
        auth.clone(),
        states_tx,
        Command::Subscribe(first),
        tracing::Span::none(),
    );
    let mut server = Server::default();
    // The largest data frame the server sent: the budget may be crossed by one.
    let mut largest = 0usize;
    settle().await;
    server.pump(&mut accepted);
    while !s.is_empty() {
        match s.byte() % 16 {
            0 => {
                let text = s.text();
                largest = largest.max(text.len());
                server.send(Ok(WsMessage::text(text)));
            }
            1..=3 => {
                let text = templated(&mut s, &server.ids);
                largest = largest.max(text.len());
                server.send(Ok(WsMessage::text(text)));
            }
            4 => {
                let close = match s.byte() % 4 {
                    0 => None,
                    1 => Some((1000, String::new())),
                    2 => Some((s.pick(&[1001, 1002, 1008, 1011, 4000, 4400]), s.text())),
                    _ => Some((s.u16(), s.text())),
                };
                server.send(Ok(WsMessage::Close(close)));
            }
            5 => server.send(Err(SocketError(s.text()))),
            6 => {
                if let Some(end) = &mut server.end {
                    end.drop_connection();
                }
            }
            7 => server.end = None,
            8 => {
                next_key += 1;
                let headers = s.byte() & 1 != 0;
                let (req, sub) = request(next_key, cap, headers);
                subs.push(sub);
                let _ = handle.tx.send(Command::Subscribe(req));
            }
            9 => {
                // The application drops a subscription (or stops waiting for its start).
                if !subs.is_empty() {
                    let i = s.byte() as usize % subs.len();
                    let sub = subs.remove(i);
                    sub.shared.close();
                    let _ = handle.tx.send(Command::Unsubscribe(sub.key));
                }
            }
            10 => pass(s.pick(&DURATIONS), &connector).await,
            11 => {
                let outcomes: Vec<Outcome> = (0..s.byte() % 4)
                    .map(|_| match s.byte() % 8 {
                        0 => Outcome::Fail,
                        1 => Outcome::Hang,
                        2 => Outcome::Refuse(401, "UnauthorizedException"),
                        3 => Outcome::Refuse(403, "ForbiddenException"),
                        4 => Outcome::Refuse(400, "BadRequestException"),
                        5 => Outcome::Refuse(429, "TooManyRequestsException"),
                        6 => Outcome::Refuse(503, "InternalFailure"),
                        _ => Outcome::Accept,
                    })
                    .collect();
                connector.script(outcomes);
            }
            12 => {
                for sub in &mut subs {
                    read(sub, &handle.tx);
                }
            }
            13 => {
                let b = s.byte();
                let flag = |i: u8| b & (1 << i) != 0;
                auth.fail_connect.store(flag(0), Ordering::SeqCst);
                auth.permanent.store(flag(1), Ordering::SeqCst);
                auth.hang_connect
                    .store(flag(2) && flag(3), Ordering::SeqCst);
                auth.hang_starts.store(flag(4) && flag(5), Ordering::SeqCst);
                auth.fail_starts.store(flag(6), Ordering::SeqCst);
                auth.no_refresh.store(flag(7), Ordering::SeqCst);
            }
            14 => {
                // A burst of data for one id (a busy subscription, or a flood).
                let n = s.byte() % 64;
                let id = match server.ids.last() {
                    Some(id) => id.clone(),
                    None => continue,
                };
                for i in 0..n {
                    let text = json!({"type": "data", "id": id, "payload": {"data": {
                        "onCreateNote": {"id": format!("n{i}"), "content": "c"}}}})
                    .to_string();
                    largest = largest.max(text.len());
                    server.send(Ok(WsMessage::text(text)));
                }
            }
            _ => pass(Duration::from_millis(u64::from(s.u16())), &connector).await,
        }
        settle().await;
        server.pump(&mut accepted);
        while states.try_recv().is_ok() {}
        for sub in &mut subs {
            take_reply(sub, &handle.tx);
        }
        // Memory is bounded by bytes: the unread events stay within the budget and the frame
        // that crossed it; markers never pile up.
        let unread: usize = subs.iter().map(|s| s.shared.bytes()).sum();
        assert!(
            unread <= limit + largest,
            "{unread} unread bytes, over the budget of {limit} plus a frame of {largest}"
        );
        for sub in &subs {
            let (len, bytes) = (sub.shared.len(), sub.shared.bytes());
            assert!(len <= 3 * bytes + 2, "{len} items for {bytes} bytes");
        }
    }
    // The application lets go of everything: the actor must stop on its own, after at most
    // the idle delay and a bounded close.
    for sub in subs.drain(..) {
        sub.shared.close();
        let _ = handle.tx.send(Command::Unsubscribe(sub.key));
    }
    let tx = handle.tx.clone();
    drop(handle);
    let stopped = tokio::time::timeout(LONGEST * 2, tx.closed()).await;
    assert!(
        stopped.is_ok(),
        "the actor did not stop after its last subscription"
    );
    drop(server);
}
