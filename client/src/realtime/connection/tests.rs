//! The actor's state machine, driven deterministically: sockets are channels (the test plays
//! the server), time is paused (timers fire when every task waits), the authorizer is a fake
//! that counts what it is asked. Long on purpose: one scenario per rule of the actor, all on
//! the one harness at the top. (Past 800 lines on purpose for that reason; the Events
//! dialect's scenarios are in `events_tests.rs`.)

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;

use super::*;
use crate::realtime::protocol::AuthObject;
use crate::realtime::socket::memory::{MemConnector, Outcome, ServerEnd};
use crate::realtime::subscription::{Subscription, SubscriptionEvent};

const Q: &str = r#"{"query":"subscription { onX { n } }","variables":{}}"#;

/// Hands out `Authorization: token-<generation>`; `refresh` moves to the next generation.
#[derive(Default)]
struct FakeAuth {
    generation: AtomicU64,
    connects: AtomicUsize,
    starts: AtomicUsize,
    refreshes: AtomicUsize,
    fail_connect: AtomicBool,
    /// `fail_connect` fails with a provider error marked permanent.
    permanent: AtomicBool,
    /// Start authorizations never finish (a stuck provider).
    hang_starts: AtomicBool,
    /// The bodies start authorizations were made for (what IAM would sign).
    signed: std::sync::Mutex<Vec<String>>,
}

impl FakeAuth {
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

impl Authorizer for FakeAuth {
    fn connect_auth(&self) -> BoxFuture<'_, crate::Result<AuthObject>> {
        Box::pin(async move {
            self.connects.fetch_add(1, Ordering::SeqCst);
            if self.fail_connect.load(Ordering::SeqCst) {
                let e = Error::auth("the OPENID_CONNECT token provider failed");
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
        data: &'a str,
        headers: &'a [(String, String)],
    ) -> BoxFuture<'a, crate::Result<AuthObject>> {
        Box::pin(async move {
            self.starts.fetch_add(1, Ordering::SeqCst);
            self.signed.lock().unwrap().push(data.to_owned());
            if self.hang_starts.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
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
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            self.generation.fetch_add(1, Ordering::SeqCst);
            true
        })
    }
}

fn config() -> ActorConfig {
    ActorConfig {
        api_name: "notes".to_owned(),
        mode: AuthMode::Oidc,
        connect_timeout: Duration::from_secs(10),
        ack_timeout: Duration::from_secs(15),
        start_ack_timeout: Duration::from_secs(15),
        keep_alive_timeout: None,
        handshake: HandshakeMethod::Subprotocol,
        auth_timeout: Duration::from_secs(10),
        reconnect: ReconnectPolicy::default()
            .base_delay(Duration::from_secs(1))
            .max_delay(Duration::from_secs(4)),
        idle_close_delay: Duration::from_secs(1),
        max_buffered_bytes: super::super::options::DEFAULT_MAX_BUFFERED_BYTES,
        max_stall: Duration::from_secs(10),
        identity: None,
        dialect: Dialect::GraphQL,
    }
}

struct Harness {
    config: ActorConfig,
    handle: Option<Handle>,
    connector: Arc<MemConnector>,
    accepted: mpsc::UnboundedReceiver<ServerEnd>,
    auth: Arc<FakeAuth>,
    states_tx: broadcast::Sender<StateEvent>,
    states: broadcast::Receiver<StateEvent>,
    next_key: u64,
}

/// A subscribe sent to the actor, waiting for its reply.
struct Pending {
    reply: oneshot::Receiver<Reply>,
    shared: Arc<Shared>,
    key: u64,
    tx: mpsc::UnboundedSender<Command>,
}

impl Pending {
    async fn started(self) -> Subscription<Value> {
        match self.reply.await.expect("the actor replies") {
            Reply::Started => Subscription::new(
                self.shared,
                self.key,
                self.tx,
                "notes".into(),
                AuthMode::Oidc,
            ),
            other => panic!("expected Started, got {other:?}"),
        }
    }

    async fn reply(self) -> Reply {
        self.reply.await.expect("the actor replies")
    }

    async fn failed(self) -> Error {
        match self.reply().await {
            Reply::Failed(e) => e,
            other => panic!("expected Failed, got {other:?}"),
        }
    }
}

impl Harness {
    fn new(config: ActorConfig) -> Self {
        let (connector, accepted) = MemConnector::new();
        let (states_tx, states) = broadcast::channel(256);
        Harness {
            config,
            handle: None,
            connector,
            accepted,
            auth: Arc::new(FakeAuth::default()),
            states_tx,
            states,
            next_key: 0,
        }
    }

    fn subscribe_with(&mut self, buffer: Option<usize>, headers: &[(&str, &str)]) -> Pending {
        self.next_key += 1;
        let (tx, reply) = oneshot::channel();
        let shared = Arc::new(Shared::new(buffer));
        let req = SubRequest {
            key: self.next_key,
            data: Q.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
                .into(),
            shared: shared.clone(),
            reply: tx,
        };
        let handle = match &self.handle {
            Some(h) => {
                assert!(
                    h.tx.send(Command::Subscribe(req)).is_ok(),
                    "the actor is gone"
                );
                h.clone()
            }
            None => {
                let h = spawn(
                    self.config.clone(),
                    self.connector.clone(),
                    self.auth.clone(),
                    self.states_tx.clone(),
                    Command::Subscribe(req),
                    tracing::Span::none(),
                );
                self.handle = Some(h.clone());
                h
            }
        };
        Pending {
            reply,
            shared,
            key: self.next_key,
            tx: handle.tx,
        }
    }

    fn subscribe(&mut self) -> Pending {
        self.subscribe_with(None, &[])
    }

    async fn accept(&mut self) -> ServerEnd {
        self.accepted.recv().await.expect("a connection attempt")
    }

    /// The states emitted so far.
    fn states(&mut self) -> Vec<ConnectionState> {
        let mut out = Vec::new();
        while let Ok((api, mode, s)) = self.states.try_recv() {
            assert_eq!((api.as_str(), mode), ("notes", AuthMode::Oidc));
            out.push(s);
        }
        out
    }

    fn actor_gone(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| h.tx.is_closed())
    }
}

async fn ack(server: &mut ServerEnd, timeout_ms: u64) {
    server
        .recv_type("connection_init")
        .await
        .expect("connection_init");
    server.send(json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": timeout_ms}}));
}

/// Waits for a `start`, returns its id and frame.
async fn start(server: &mut ServerEnd) -> (String, Value) {
    let f = server.recv_type("start").await.expect("a start");
    (f["id"].as_str().expect("an id").to_owned(), f)
}

async fn start_ack(server: &mut ServerEnd) -> (String, Value) {
    let (id, f) = start(server).await;
    server.send(json!({"type": "start_ack", "id": id}));
    (id, f)
}

fn data(id: &str, n: u64) -> Value {
    json!({"type": "data", "id": id, "payload": {"data": {"onX": {"n": n}}}})
}

async fn next(s: &mut Subscription<Value>) -> SubscriptionEvent<Value> {
    s.next()
        .await
        .expect("an event")
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn next_n(s: &mut Subscription<Value>) -> u64 {
    match next(s).await {
        SubscriptionEvent::Data(r) => r.data.expect("data")["onX"]["n"].as_u64().expect("n"),
        other => panic!("expected data, got {other:?}"),
    }
}

/// Reads past markers, losses and older events until the data event numbered `n`.
async fn skip_to(s: &mut Subscription<Value>, n: u64) {
    loop {
        if let SubscriptionEvent::Data(d) = next(s).await {
            if d.data.as_ref().is_some_and(|v| v["onX"]["n"] == n) {
                return;
            }
        }
    }
}

/// One subscription, acknowledged on a socket whose ack says `timeout_ms`.
async fn live(h: &mut Harness, timeout_ms: u64) -> (ServerEnd, String, Subscription<Value>) {
    let p = h.subscribe();
    let mut server = h.accept().await;
    ack(&mut server, timeout_ms).await;
    let (id, _) = start_ack(&mut server).await;
    (server, id, p.started().await)
}

// ---- handshake and acks ---------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_missing_connection_ack_fails_the_first_subscription_after_the_ack_timeout() {
    let mut h = Harness::new(config());
    let p = h.subscribe();
    let mut server = h.accept().await;
    server.recv_type("connection_init").await.unwrap();
    let t0 = Instant::now();
    let e = p.failed().await;
    assert_eq!(t0.elapsed(), Duration::from_secs(15));
    assert!(e.is_timeout(), "{e:?}");
    assert!(
        e.to_string().contains("no connection_ack within 15s"),
        "{e}"
    );
    assert_eq!(
        h.connector.count(),
        1,
        "a first subscription is not retried"
    );
    tokio::task::yield_now().await;
    assert!(h.actor_gone());
    assert_eq!(
        h.states(),
        [ConnectionState::Connecting, ConnectionState::Disconnected]
    );
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_server_and_a_hung_connect_fail_the_first_subscription() {
    let mut h = Harness::new(config());
    h.connector.script([Outcome::Fail]);
    let e = h.subscribe().failed().await;
    assert!(e.to_string().contains("could not be opened"), "{e}");

    let mut h = Harness::new(config());
    h.connector.script([Outcome::Hang]);
    let t0 = Instant::now();
    let e = h.subscribe().failed().await;
    assert_eq!(t0.elapsed(), Duration::from_secs(10), "the connect timeout");
    assert!(e.to_string().contains("no connection within 10s"), "{e}");

    let mut h = Harness::new(config());
    h.auth.fail_connect.store(true, Ordering::SeqCst);
    let e = h.subscribe().failed().await;
    assert!(e.is_auth(), "a provider failure is an auth error: {e:?}");
}

#[tokio::test(start_paused = true)]
async fn a_missing_start_ack_fails_that_subscription_only_and_stops_it() {
    let mut h = Harness::new(config());
    let (mut server, id_a, mut a) = live(&mut h, 300_000).await;
    let t0 = Instant::now();
    let p = h.subscribe();
    let (id_b, _) = start(&mut server).await;
    let e = p.failed().await;
    assert_eq!(t0.elapsed(), Duration::from_secs(15));
    assert!(e.is_timeout(), "{e:?}");
    assert!(e.to_string().contains("no start_ack within 15s"), "{e}");
    let stop = server.recv_type("stop").await.unwrap();
    assert_eq!(stop["id"], id_b.as_str(), "in case it registers late");
    server.send(data(&id_a, 1));
    assert_eq!(next_n(&mut a).await, 1);
}

#[tokio::test(start_paused = true)]
async fn start_carries_the_data_string_fresh_auth_and_the_call_headers() {
    let mut h = Harness::new(config());
    let p = h.subscribe_with(None, &[("x-trace", "t1")]);
    let mut server = h.accept().await;
    assert_eq!(server.auth.get("Authorization"), Some("token-0"));
    assert_eq!(server.auth.get("x-trace"), None, "not in the handshake");
    ack(&mut server, 300_000).await;
    let (_, f) = start_ack(&mut server).await;
    assert_eq!(f["payload"]["data"], Q, "the data string is sent as built");
    let auth = &f["payload"]["extensions"]["authorization"];
    assert_eq!(auth["Authorization"], "token-0");
    assert_eq!(auth["host"], "api.example.com");
    assert_eq!(auth["x-trace"], "t1");
    p.started().await;
}

// ---- routing, stop, complete, idle close ----------------------------------------------------

#[tokio::test(start_paused = true)]
async fn data_is_routed_by_id_and_dropping_a_subscription_sends_stop() {
    let mut h = Harness::new(config());
    let (mut server, id_a, mut a) = live(&mut h, 300_000).await;
    let p = h.subscribe();
    let (id_b, _) = start_ack(&mut server).await;
    let mut b = p.started().await;
    assert_eq!(h.connector.count(), 1, "one socket for both");
    assert_ne!(id_a, id_b);
    server.send(data(&id_b, 20));
    server.send(data(&id_a, 10));
    server.send(data("unknown", 0));
    assert_eq!(next_n(&mut a).await, 10);
    assert_eq!(next_n(&mut b).await, 20);
    drop(a);
    let stop = server.recv_type("stop").await.unwrap();
    assert_eq!(stop["id"], id_a.as_str());
    server.send(json!({"type": "complete", "id": id_a}));
    server.send(data(&id_a, 11));
    server.send(data(&id_b, 21));
    assert_eq!(next_n(&mut b).await, 21);
}

#[tokio::test(start_paused = true)]
async fn the_socket_closes_a_moment_after_its_last_subscription() {
    let mut h = Harness::new(config());
    let (mut server, id_a, a) = live(&mut h, 300_000).await;
    drop(a);
    assert_eq!(server.recv_type("stop").await.unwrap()["id"], id_a.as_str());
    let t0 = Instant::now();
    assert_eq!(
        server.recv().await,
        Some(json!({"close": 1000})),
        "a normal close"
    );
    assert_eq!(t0.elapsed(), Duration::from_secs(1), "the idle delay");
    assert_eq!(server.recv().await, None, "and the socket is dropped");
    tokio::task::yield_now().await;
    assert!(h.actor_gone());
    assert_eq!(
        h.states(),
        [
            ConnectionState::Connecting,
            ConnectionState::Connected,
            ConnectionState::Disconnected
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_subscription_within_the_idle_delay_keeps_the_socket() {
    let mut h = Harness::new(config());
    let (mut server, _, a) = live(&mut h, 300_000).await;
    drop(a);
    server.recv_type("stop").await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let p = h.subscribe();
    let (id, _) = start_ack(&mut server).await;
    let mut c = p.started().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    server.send(data(&id, 1));
    assert_eq!(next_n(&mut c).await, 1);
    assert_eq!(h.connector.count(), 1);
    assert!(!h.actor_gone());
}

#[tokio::test(start_paused = true)]
async fn complete_from_the_server_ends_the_stream() {
    let mut h = Harness::new(config());
    let (server, id, mut a) = live(&mut h, 300_000).await;
    server.send(data(&id, 1));
    server.send(json!({"type": "complete", "id": id}));
    assert_eq!(next_n(&mut a).await, 1);
    assert!(a.next().await.is_none());
}

// ---- error frames ----------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_field_level_unauthorized_start_fails_only_that_subscription() {
    let mut h = Harness::new(config());
    let (mut server, id_a, mut a) = live(&mut h, 300_000).await;
    let p = h.subscribe();
    let (id_b, _) = start(&mut server).await;
    server.send(json!({"type": "error", "id": id_b, "payload": {"errors": [
        {"errorType": "Unauthorized", "message": "Not Authorized to access onX on type Subscription"}]}}));
    let e = p.failed().await;
    assert!(e.is_realtime());
    assert_eq!(e.error_type(), Some("Unauthorized"));
    assert_eq!(
        e.graphql_errors()[0].message,
        "Not Authorized to access onX on type Subscription"
    );
    assert!(e.to_string().contains("refused"), "{e}");
    server.send(data(&id_a, 1));
    assert_eq!(next_n(&mut a).await, 1, "the other subscription runs on");
    assert_eq!(h.auth.refreshes.load(Ordering::SeqCst), 0);
    assert_eq!(h.connector.count(), 1, "no reconnection");
}

#[tokio::test(start_paused = true)]
async fn a_validation_error_without_error_type_fails_the_start() {
    let mut h = Harness::new(config());
    let (mut server, _, _a) = live(&mut h, 300_000).await;
    let p = h.subscribe();
    let (id, _) = start(&mut server).await;
    server.send(json!({"type": "error", "id": id, "payload": {"errors": [
        {"message": "Validation error of type FieldUndefined: Field 'nope' is undefined"}]}}));
    let e = p.failed().await;
    assert_eq!(e.error_type(), None);
    assert!(e.to_string().contains("Validation error"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn an_error_for_a_live_subscription_ends_it_with_its_errors() {
    let mut h = Harness::new(config());
    let (mut server, id_a, mut a) = live(&mut h, 300_000).await;
    let p = h.subscribe();
    let (id_b, _) = start_ack(&mut server).await;
    let mut b = p.started().await;
    // `errors` as an object.
    server.send(json!({"type": "error", "id": id_a, "payload": {"errors":
        {"errorType": "ResolverError", "message": "the source went away"}}}));
    let e = a.next().await.unwrap().unwrap_err();
    assert_eq!(e.error_type(), Some("ResolverError"));
    assert_eq!(e.graphql_errors().len(), 1);
    assert!(a.next().await.is_none());
    server.send(data(&id_b, 2));
    assert_eq!(next_n(&mut b).await, 2);
}

#[tokio::test(start_paused = true)]
async fn an_error_without_id_reconnects_and_resumes_every_subscription() {
    let mut h = Harness::new(config());
    let (mut server, _, mut a) = live(&mut h, 300_000).await;
    let p = h.subscribe();
    start_ack(&mut server).await;
    let mut b = p.started().await;
    server.send(json!({"type": "error", "payload": {"errors": [
        {"errorType": "InternalFailure", "message": "boom"}]}}));
    let mut server2 = h.accept().await;
    assert!(server.client_gone(), "the old socket is dropped");
    ack(&mut server2, 300_000).await;
    let (id1, _) = start_ack(&mut server2).await;
    let (id2, _) = start_ack(&mut server2).await;
    assert!(matches!(
        next(&mut a).await,
        SubscriptionEvent::Resumed { .. }
    ));
    assert!(matches!(
        next(&mut b).await,
        SubscriptionEvent::Resumed { .. }
    ));
    server2.send(data(&id1, 1));
    server2.send(data(&id2, 2));
    assert_eq!(next_n(&mut a).await, 1);
    assert_eq!(next_n(&mut b).await, 2);
}

#[tokio::test(start_paused = true)]
async fn throttling_without_id_retries_the_pending_start_on_the_same_socket() {
    let mut h = Harness::new(config());
    let (mut server, _, _a) = live(&mut h, 300_000).await;
    let p = h.subscribe();
    let (old, _) = start(&mut server).await;
    server.send(json!({"type": "error", "payload": {"errors":
        {"errorType": "LimitExceededError", "message": "Rate limit exceeded"}}}));
    assert_eq!(server.recv_type("stop").await.unwrap()["id"], old.as_str());
    let (new, _) = start_ack(&mut server).await;
    assert_ne!(old, new, "a retried start gets a new id");
    p.started().await;
    assert_eq!(h.connector.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_subscription_cap_asks_for_another_socket_in_both_shapes() {
    for payload in [
        json!({"errors": {"errorType": "MaxSubscriptionsReachedError",
            "message": "Max number of 100 subscriptions reached"}}),
        json!({"errorType": "MaxSubscriptionsReachedException", "message": "Max reached"}),
    ] {
        let mut h = Harness::new(config());
        let (mut server, _, _a) = live(&mut h, 300_000).await;
        let p = h.subscribe();
        let (id, _) = start(&mut server).await;
        server.send(json!({"type": "error", "id": id, "payload": payload}));
        assert!(matches!(p.reply().await, Reply::Retry));
        let handle = h.handle.clone().unwrap();
        assert!(handle.full.load(Ordering::SeqCst));
        // While full, new subscriptions are sent elsewhere at once.
        assert!(matches!(h.subscribe().reply().await, Reply::Retry));
        // A subscription ending makes room again.
        drop(_a);
        server.recv_type("stop").await.unwrap();
        assert!(!handle.full.load(Ordering::SeqCst));
    }
}

#[tokio::test(start_paused = true)]
async fn an_expired_token_at_start_is_retried_once_with_a_fresh_one() {
    let mut h = Harness::new(config());
    let (mut server, _, _a) = live(&mut h, 300_000).await;
    let expired = json!([{"errorType": "UnauthorizedException",
        "message": "Valid authorization header not provided."}]);
    let p = h.subscribe();
    let (id, _) = start(&mut server).await;
    server.send(json!({"type": "error", "id": id, "payload": {"errors": expired}}));
    let (id2, f) = start_ack(&mut server).await;
    assert_ne!(id, id2);
    assert_eq!(
        f["payload"]["extensions"]["authorization"]["Authorization"],
        "token-1"
    );
    p.started().await;
    assert_eq!(h.auth.refreshes.load(Ordering::SeqCst), 1);

    // Refused twice: it fails.
    let p = h.subscribe();
    let (id, _) = start(&mut server).await;
    server.send(json!({"type": "error", "id": id, "payload": {"errors": expired}}));
    let (id, _) = start(&mut server).await;
    server.send(json!({"type": "error", "id": id, "payload": {"errors": expired}}));
    let e = p.failed().await;
    assert_eq!(e.error_type(), Some("UnauthorizedException"));
    assert_eq!(h.auth.refreshes.load(Ordering::SeqCst), 2);
}

// ---- keep-alive, reconnection, resumption ---------------------------------------------------

#[tokio::test(start_paused = true)]
async fn silence_past_the_keep_alive_timeout_reconnects_and_resumes() {
    let mut h = Harness::new(config());
    let (server, old_id, mut a) = live(&mut h, 60_000).await;
    let t0 = Instant::now();
    let mut server2 = h.accept().await;
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_secs(60) && waited <= Duration::from_secs(61),
        "{waited:?}"
    );
    assert!(server.client_gone());
    assert_eq!(
        h.auth.connects.load(Ordering::SeqCst),
        2,
        "fresh handshake auth"
    );
    ack(&mut server2, 60_000).await;
    let (id, _) = start_ack(&mut server2).await;
    assert_ne!(id, old_id);
    assert_eq!(h.auth.starts.load(Ordering::SeqCst), 2, "fresh start auth");
    match next(&mut a).await {
        SubscriptionEvent::Resumed { gap } => {
            assert!(
                gap >= Duration::from_secs(60) && gap <= Duration::from_secs(61),
                "{gap:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    server2.send(data(&id, 7));
    assert_eq!(next_n(&mut a).await, 7);
    let states = h.states();
    assert!(
        matches!(
            &states[..],
            [
                ConnectionState::Connecting,
                ConnectionState::Connected,
                ConnectionState::KeepAliveMissed,
                ConnectionState::Disrupted { cause },
                ConnectionState::Reconnecting { attempt: 1 },
                ConnectionState::Connected,
            ] if cause.message() == "nothing heard for 60s"
        ),
        "{states:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn data_frames_count_as_life_and_the_simulators_timeout_key_is_read() {
    let mut h = Harness::new(config());
    let p = h.subscribe();
    let mut server = h.accept().await;
    server.recv_type("connection_init").await.unwrap();
    server.send(json!({"type": "connection_ack", "payload": {"connectionTimeout": 60_000}}));
    let (id, _) = start_ack(&mut server).await;
    let mut a = p.started().await;
    for n in 0..10 {
        tokio::time::sleep(Duration::from_secs(25)).await;
        server.send(data(&id, n));
        assert_eq!(next_n(&mut a).await, n);
    }
    assert_eq!(h.connector.count(), 1);
    assert_eq!(
        h.states(),
        [ConnectionState::Connecting, ConnectionState::Connected]
    );
    // Then silence: the 60 s timeout (from the simulator's key) applies.
    let t0 = Instant::now();
    h.accept().await;
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_secs(60) && waited <= Duration::from_secs(61),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_keep_alive_timeout_under_a_minute_is_taken_as_five() {
    let mut h = Harness::new(config());
    let (_server, _, _a) = live(&mut h, 1_000).await;
    let t0 = Instant::now();
    h.accept().await;
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_secs(300) && waited <= Duration::from_secs(301),
        "{waited:?}"
    );
    // The application's own setting has no floor.
    let mut cfg = config();
    cfg.keep_alive_timeout = Some(Duration::from_secs(2));
    let mut h = Harness::new(cfg);
    let (_server, _, _a) = live(&mut h, 1_000).await;
    let t0 = Instant::now();
    h.accept().await;
    let waited = t0.elapsed();
    // Lost before it was healthy: the backoff's ceiling is 2 s.
    assert!(
        waited >= Duration::from_secs(2) && waited <= Duration::from_secs(4),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn reconnection_backs_off_exponentially_with_a_cap_and_does_not_give_up() {
    let mut h = Harness::new(config());
    let (mut server, _, mut a) = live(&mut h, 300_000).await;
    // Up long enough to count as healthy: the failures start from zero.
    tokio::time::sleep(Duration::from_secs(30)).await;
    h.connector.script(std::iter::repeat_n(Outcome::Fail, 6));
    let lost = Instant::now();
    server.drop_connection();
    let mut server2 = h.accept().await;
    let times = h.connector.times();
    assert_eq!(times.len(), 8, "the first socket, 6 failures, then success");
    let mut prev = lost;
    for (i, t) in times[1..].iter().enumerate() {
        let ceiling = Duration::from_secs(1 << i.min(2)); // 1 s, 2 s, 4 s, then 4 s (the cap)
        let delay = *t - prev;
        assert!(
            delay <= ceiling,
            "attempt {}: {delay:?} > {ceiling:?}",
            i + 1
        );
        prev = *t;
    }
    ack(&mut server2, 300_000).await;
    start_ack(&mut server2).await;
    // Told of the failures from the third on (one marker: the last), then of the gap.
    match next(&mut a).await {
        SubscriptionEvent::Failing { failures: 6, cause } => {
            assert!(cause.message().contains("connection refused"), "{cause}")
        }
        other => panic!("{other:?}"),
    }
    match next(&mut a).await {
        SubscriptionEvent::Resumed { gap } => assert_eq!(gap, lost.elapsed()),
        other => panic!("{other:?}"),
    }
    let states = h.states();
    for attempt in 1..=7 {
        assert!(
            states.contains(&ConnectionState::Reconnecting { attempt }),
            "{states:?}"
        );
    }
    let failing: Vec<u32> = states
        .iter()
        .filter_map(|s| match s {
            ConnectionState::Failing { failures, .. } => Some(*failures),
            _ => None,
        })
        .collect();
    assert_eq!(failing, [3, 4, 5, 6]);
    assert_eq!(states.last(), Some(&ConnectionState::Connected));
}

#[tokio::test(start_paused = true)]
async fn with_max_attempts_reconnection_gives_up_with_an_error() {
    let mut cfg = config();
    cfg.reconnect = cfg.reconnect.max_attempts(Some(2));
    let mut h = Harness::new(cfg);
    let (mut server, _, mut a) = live(&mut h, 300_000).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    h.connector
        .script([Outcome::Fail, Outcome::Fail, Outcome::Fail]);
    server.drop_connection();
    let e = a.next().await.unwrap().unwrap_err();
    assert!(
        e.to_string().contains("gave up after 2 failures in a row"),
        "{e}"
    );
    assert!(a.next().await.is_none());
    assert_eq!(h.connector.count(), 3);
    tokio::task::yield_now().await;
    assert_eq!(h.states().last(), Some(&ConnectionState::Disconnected));
}

#[tokio::test(start_paused = true)]
async fn a_subscription_made_while_reconnecting_starts_after_the_ack() {
    let mut h = Harness::new(config());
    let (mut server, _, mut a) = live(&mut h, 300_000).await;
    server.drop_connection();
    let p = h.subscribe();
    let mut server2 = h.accept().await;
    ack(&mut server2, 300_000).await;
    let (id1, _) = start_ack(&mut server2).await;
    let (id2, _) = start_ack(&mut server2).await;
    let mut b = p.started().await;
    assert!(matches!(
        next(&mut a).await,
        SubscriptionEvent::Resumed { .. }
    ));
    server2.send(data(&id1, 1));
    server2.send(data(&id2, 2));
    assert_eq!(next_n(&mut a).await, 1);
    assert_eq!(next_n(&mut b).await, 2, "no Resumed for a new one");
}

#[tokio::test(start_paused = true)]
async fn dropping_the_last_subscription_while_reconnecting_ends_the_actor() {
    let mut h = Harness::new(config());
    let (mut server, _, a) = live(&mut h, 300_000).await;
    h.connector.script(vec![Outcome::Fail; 3]);
    server.drop_connection();
    tokio::task::yield_now().await;
    drop(a);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(h.actor_gone());
    assert_eq!(h.connector.count(), 1, "no attempt for nobody");
    assert_eq!(h.states().last(), Some(&ConnectionState::Disconnected));
}

// ---- refused connections ---------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn refusals_keep_being_retried_with_growing_backoff_and_fresh_credentials() {
    let mut h = Harness::new(config());
    let (mut server, _, mut a) = live(&mut h, 300_000).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    h.connector.script(std::iter::repeat_n(
        Outcome::Refuse(401, "UnauthorizedException"),
        5,
    ));
    let lost = Instant::now();
    server.drop_connection();
    let mut server2 = h.accept().await;
    // One at once with fresh credentials, then backoff, fresh credentials every time.
    let times = h.connector.times();
    assert_eq!(times.len(), 7);
    assert_eq!(times[2], times[1], "the first fresh retry is at once");
    assert!(
        times[6] - lost > Duration::from_secs(1),
        "then it backs off"
    );
    assert_eq!(h.auth.refreshes.load(Ordering::SeqCst), 5);
    assert_eq!(server2.auth.get("Authorization"), Some("token-5"));
    ack(&mut server2, 300_000).await;
    start_ack(&mut server2).await;
    // The subscription lived through it, and was told why it waited.
    match next(&mut a).await {
        SubscriptionEvent::Failing { failures: 5, cause } => {
            assert_eq!(cause.status(), Some(http::StatusCode::UNAUTHORIZED));
            assert_eq!(cause.error_type(), Some("UnauthorizedException"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        next(&mut a).await,
        SubscriptionEvent::Resumed { .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn with_an_attempt_limit_refusals_end_the_subscriptions() {
    let mut cfg = config();
    cfg.reconnect = cfg.reconnect.max_attempts(Some(3));
    let mut h = Harness::new(cfg);
    let (mut server, _, mut a) = live(&mut h, 300_000).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    h.connector.script(std::iter::repeat_n(
        Outcome::Refuse(401, "UnauthorizedException"),
        9,
    ));
    server.drop_connection();
    let e = a.next().await.unwrap().unwrap_err();
    assert!(e.is_realtime(), "{e:?}");
    assert_eq!(e.status_code(), Some(http::StatusCode::UNAUTHORIZED));
    assert_eq!(e.error_type(), Some("UnauthorizedException"));
    assert!(
        e.to_string().contains("gave up after 3 failures in a row"),
        "{e}"
    );
    assert!(a.next().await.is_none());
    assert_eq!(h.connector.count(), 4);
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(h.connector.count(), 4, "not retried forever");
    assert!(h.actor_gone());
}

#[tokio::test(start_paused = true)]
async fn a_provider_error_marked_permanent_ends_the_subscriptions() {
    let mut h = Harness::new(config());
    let (mut server, _, mut a) = live(&mut h, 300_000).await;
    h.auth.fail_connect.store(true, Ordering::SeqCst);
    h.auth.permanent.store(true, Ordering::SeqCst);
    server.drop_connection();
    let e = a.next().await.unwrap().unwrap_err();
    assert!(e.is_auth(), "{e:?}");
    assert!(e.to_string().contains("cannot be made"), "{e}");
    assert!(a.next().await.is_none());
    assert_eq!(h.connector.count(), 1, "the handshake never got to connect");
}

#[tokio::test(start_paused = true)]
async fn a_refusal_then_a_fresh_token_that_works_goes_on() {
    let mut h = Harness::new(config());
    let (mut server, _, mut a) = live(&mut h, 300_000).await;
    h.connector
        .script([Outcome::Refuse(403, "ForbiddenException")]);
    server.drop_connection();
    let mut server2 = h.accept().await;
    assert_eq!(server2.auth.get("Authorization"), Some("token-1"));
    ack(&mut server2, 300_000).await;
    start_ack(&mut server2).await;
    assert!(matches!(
        next(&mut a).await,
        SubscriptionEvent::Resumed { .. }
    ));
    // The fresh retry is available again once a connection was healthy.
    tokio::time::sleep(Duration::from_secs(30)).await;
    server2.drop_connection();
    h.connector
        .script([Outcome::Refuse(401, "UnauthorizedException")]);
    let mut server3 = h.accept().await;
    ack(&mut server3, 300_000).await;
    start_ack(&mut server3).await;
    assert!(matches!(
        next(&mut a).await,
        SubscriptionEvent::Resumed { .. }
    ));
    assert_eq!(h.auth.refreshes.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_connection_error_401_fails_a_first_subscription_after_one_fresh_retry() {
    let mut h = Harness::new(config());
    let p = h.subscribe();
    let refuse = json!({"type": "connection_error", "payload": {"errors": [{
        "errorType": "UnauthorizedException", "message": "You are not authorized to make this call.",
        "errorCode": 401}]}});
    let mut server = h.accept().await;
    server.recv_type("connection_init").await.unwrap();
    server.send(refuse.clone());
    let mut server2 = h.accept().await;
    assert_eq!(server2.auth.get("Authorization"), Some("token-1"));
    server2.recv_type("connection_init").await.unwrap();
    server2.send(refuse);
    let e = p.failed().await;
    assert_eq!(e.error_type(), Some("UnauthorizedException"));
    assert_eq!(e.status_code(), None);
    assert_eq!(
        e.graphql_errors()[0].message,
        "You are not authorized to make this call."
    );
    assert_eq!(h.connector.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_server_error_at_the_upgrade_is_retried_with_backoff() {
    let mut h = Harness::new(config());
    let (mut server, _, mut a) = live(&mut h, 300_000).await;
    h.connector
        .script([Outcome::Refuse(503, "InternalFailure")]);
    server.drop_connection();
    let mut server2 = h.accept().await;
    ack(&mut server2, 300_000).await;
    start_ack(&mut server2).await;
    assert!(matches!(
        next(&mut a).await,
        SubscriptionEvent::Resumed { .. }
    ));
    assert_eq!(h.auth.refreshes.load(Ordering::SeqCst), 0);
}

// ---- slow readers ----------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_slow_reader_gets_lagged_and_the_buffer_stays_bounded() {
    let mut h = Harness::new(config());
    let p = h.subscribe_with(Some(4), &[]);
    let mut server = h.accept().await;
    ack(&mut server, 300_000).await;
    let (id, _) = start_ack(&mut server).await;
    let mut a = p.started().await;
    let q = h.subscribe();
    let (marker, _) = start_ack(&mut server).await;
    let mut m = q.started().await;
    for n in 0..1000 {
        server.send(data(&id, n));
    }
    // Frames are handled in order: once the marker arrives, all 1000 were.
    server.send(data(&marker, 0));
    assert_eq!(next_n(&mut m).await, 0);
    assert_eq!(a.backlog(), 4);
    assert_eq!(
        next(&mut a).await,
        SubscriptionEvent::Lagged { missed: 996 }
    );
    for n in 996..1000 {
        assert_eq!(next_n(&mut a).await, n);
    }
    server.send(data(&id, 1000));
    assert_eq!(next_n(&mut a).await, 1000);
}

#[tokio::test(start_paused = true)]
async fn a_close_frame_or_a_read_error_is_a_loss() {
    use crate::realtime::socket::{SocketError, WsMessage};
    let mut h = Harness::new(config());
    let (server, _, mut a) = live(&mut h, 300_000).await;
    server.send_raw(Ok(WsMessage::Close(Some((1001, "going away".into())))));
    let mut server2 = h.accept().await;
    ack(&mut server2, 300_000).await;
    start_ack(&mut server2).await;
    assert!(matches!(
        next(&mut a).await,
        SubscriptionEvent::Resumed { .. }
    ));
    server2.send_raw(Err(SocketError("connection reset".into())));
    let mut server3 = h.accept().await;
    ack(&mut server3, 300_000).await;
    start_ack(&mut server3).await;
    assert!(matches!(
        next(&mut a).await,
        SubscriptionEvent::Resumed { .. }
    ));
    // Frames that are not AppSync messages are ignored, and unknown types too.
    server3.send_raw(Ok(WsMessage::text("not json")));
    server3.send(json!({"type": "ka"}));
    server3.send(json!({"type": "later", "message": "Subscription complete."}));
    let (id, _) = {
        let p = h.subscribe();
        let r = start_ack(&mut server3).await;
        p.started().await;
        r
    };
    server3.send(data(&id, 3));
    assert_eq!(h.connector.count(), 3);
}

// ---- liveness: nothing waits on a provider, failures in a row, what the server says -------

#[tokio::test(start_paused = true)]
async fn a_stuck_provider_stops_neither_data_nor_keep_alives_nor_other_subscriptions() {
    let mut h = Harness::new(config());
    let (server, id, mut a) = live(&mut h, 60_000).await;
    h.auth.hang_starts.store(true, Ordering::SeqCst);
    let t0 = Instant::now();
    let p = h.subscribe();
    // While the second one's authorization hangs, the socket lives on.
    for n in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        server.send(json!({"type": "ka"}));
        server.send(data(&id, n));
        assert_eq!(next_n(&mut a).await, n);
    }
    let e = p.failed().await;
    assert!(e.is_timeout(), "{e:?}");
    assert!(e.to_string().contains("authorization"), "{e}");
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited <= Duration::from_secs(11),
        "{waited:?}"
    );
    h.auth.hang_starts.store(false, Ordering::SeqCst);
    server.send(data(&id, 9));
    assert_eq!(next_n(&mut a).await, 9);
    assert_eq!(h.connector.count(), 1);
    assert!(!h
        .states()
        .iter()
        .any(|s| matches!(s, ConnectionState::KeepAliveMissed)));
}

#[tokio::test(start_paused = true)]
async fn a_server_that_drops_each_connection_after_the_ack_sees_growing_backoff() {
    let mut h = Harness::new(config());
    let (mut server, _, mut a) = live(&mut h, 300_000).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    let mut at = Instant::now();
    server.drop_connection();
    let mut gaps = Vec::new();
    let mut ends = Vec::new();
    for _ in 0..6 {
        let mut s = h.accept().await;
        gaps.push(Instant::now() - at);
        ack(&mut s, 300_000).await;
        // Accepted, then gone at once: a failure like any other.
        s.send(json!({"type": "connection_error", "payload": {"errors": [
            {"errorType": "InternalFailure", "message": "try later"}]}}));
        at = Instant::now();
        ends.push(s);
    }
    // Ceilings 1, 2, 4, 4, 4, 4 s (the cap): attempts are not reset by each ack.
    for (i, g) in gaps.iter().enumerate() {
        let ceiling = Duration::from_secs(1 << i.min(2));
        assert!(*g <= ceiling, "attempt {}: {g:?} > {ceiling:?}", i + 1);
    }
    let states = h.states();
    assert!(
        states.iter().any(|s| matches!(s,
            ConnectionState::Failing { failures: 3, cause } if cause.error_type() == Some("InternalFailure"))),
        "{states:?}"
    );
    // The app is told through the subscription too.
    let mut s = h.accept().await;
    ack(&mut s, 300_000).await;
    start_ack(&mut s).await;
    match next(&mut a).await {
        SubscriptionEvent::Failing { failures, cause } => {
            assert_eq!(failures, 6);
            assert!(cause.message().contains("try later"), "{cause}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        next(&mut a).await,
        SubscriptionEvent::Resumed { .. }
    ));
    // Healthy for 30 s: the next loss starts again from the first delay.
    tokio::time::sleep(Duration::from_secs(30)).await;
    s.drop_connection();
    h.accept().await;
    let reconnecting: Vec<u32> = h
        .states()
        .iter()
        .filter_map(|s| match s {
            ConnectionState::Reconnecting { attempt } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(reconnecting.last(), Some(&1), "{reconnecting:?}");
}

#[tokio::test(start_paused = true)]
async fn a_close_frame_s_code_and_reason_reach_the_states() {
    let mut h = Harness::new(config());
    let (server, _, _a) = live(&mut h, 300_000).await;
    server.send_raw(Ok(WsMessage::Close(Some((
        4000,
        "frame over 16 MiB".into(),
    )))));
    h.accept().await;
    let states = h.states();
    let cause = states
        .iter()
        .find_map(|s| match s {
            ConnectionState::Disrupted { cause } => Some(cause.clone()),
            _ => None,
        })
        .expect("Disrupted");
    assert_eq!(cause.close_code(), Some(4000));
    assert_eq!(cause.close_reason(), Some("frame over 16 MiB"));
    assert!(
        cause.message().contains("code 4000 (frame over 16 MiB)"),
        "{cause}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_handshake_closed_with_1002_names_the_carrier_and_the_other_one() {
    let mut h = Harness::new(config());
    let p = h.subscribe();
    let server = h.accept().await;
    server.send_raw(Ok(WsMessage::Close(Some((1002, String::new())))));
    let e = p.failed().await.to_string();
    assert!(e.contains("code 1002"), "{e}");
    assert!(e.contains("`header-` subprotocol"), "{e}");
    assert!(e.contains("HandshakeMethod::Query"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn connection_level_errors_are_states_not_only_logs() {
    let mut h = Harness::new(config());
    let (server, _, _a) = live(&mut h, 300_000).await;
    server.send(json!({"type": "error", "payload": {"errors":
        {"errorType": "LimitExceededError", "message": "Rate limit exceeded"}}}));
    server.send(json!({"type": "error", "payload": {"errors": [
        {"errorType": "InternalFailure", "message": "boom"}]}}));
    h.accept().await;
    let states = h.states();
    assert!(
        states.iter().any(|s| matches!(s,
            ConnectionState::Throttled { cause } if cause.error_type() == Some("LimitExceededError"))),
        "{states:?}"
    );
    assert!(
        states.iter().any(|s| matches!(s,
            ConnectionState::Disrupted { cause } if cause.message().contains("boom"))),
        "{states:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn subscription_complete_ends_every_subscription_cleanly_without_a_restart() {
    let mut h = Harness::new(config());
    let (mut server, _, mut a) = live(&mut h, 300_000).await;
    let p = h.subscribe();
    start_ack(&mut server).await;
    let mut b = p.started().await;
    server.send(json!({"message": "Subscription complete."}));
    assert!(
        a.next().await.is_none(),
        "the stream ends, without an error"
    );
    assert!(b.next().await.is_none());
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(h.connector.count(), 1, "nothing is restarted");
    assert!(h.actor_gone());
    assert_eq!(h.states().last(), Some(&ConnectionState::Disconnected));
}

// ---- backpressure ------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_burst_past_the_budget_is_delivered_in_full_with_the_defaults() {
    let mut h = Harness::new(config());
    let (server, id, mut a) = live(&mut h, 300_000).await;
    // About 13 MB: more than the 8 MiB budget; the memory socket holds the rest like TCP.
    const N: u64 = 200_000;
    for n in 0..N {
        server.send(data(&id, n));
    }
    for n in 0..N {
        assert_eq!(next_n(&mut a).await, n);
    }
    assert_eq!(h.connector.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stuck_reader_stalls_its_socket_once_then_loses_its_oldest_events() {
    let mut cfg = config();
    cfg.max_buffered_bytes = 10_000;
    cfg.max_stall = Duration::from_secs(20);
    let mut h = Harness::new(cfg);
    // The keep-alive timeout (60 s) is longer than the stall: it must not fire while the
    // socket is not read, nor right after.
    let (mut server, stuck_id, mut stuck) = live(&mut h, 60_000).await;
    let p = h.subscribe();
    let (id, _) = start_ack(&mut server).await;
    let mut b = p.started().await;
    for n in 0..500 {
        server.send(data(&stuck_id, n)); // ~32 KB: three times the budget
    }
    server.send(data(&id, 1));
    let t0 = Instant::now();
    assert_eq!(next_n(&mut b).await, 1);
    let stalled = t0.elapsed();
    assert!(
        stalled >= Duration::from_secs(20) && stalled < Duration::from_secs(21),
        "{stalled:?}"
    );
    // From now on the stuck one drops instead of stalling the socket.
    for n in 2..200 {
        server.send(data(&stuck_id, 1000 + n));
        server.send(data(&id, n));
        assert_eq!(next_n(&mut b).await, n);
    }
    assert!(t0.elapsed() < Duration::from_secs(21), "no second stall");
    match next(&mut stuck).await {
        SubscriptionEvent::Lagged { missed } => assert!(missed > 300, "{missed}"),
        other => panic!("{other:?}"),
    }
    // Its newest events are kept, in order, and the socket never reconnected.
    let mut last = 0;
    while stuck.backlog() > 0 {
        let n = next_n(&mut stuck).await;
        assert!(n > last);
        last = n;
    }
    assert_eq!(last, 1199);
    assert_eq!(h.connector.count(), 1);
    let states = h.states();
    assert!(
        !states
            .iter()
            .any(|s| matches!(s, ConnectionState::KeepAliveMissed)),
        "{states:?}"
    );
}

/// A throttled start's backoff that ends while the socket is not read (its readers behind) is
/// not due until the socket resumes. (The realtime_actor fuzz target found the actor firing its
/// timer for it again and again: on paused time, time then never moves, so this test is run on
/// a thread of its own and fails after 30 real seconds instead of hanging.)
#[test]
fn a_start_throttled_while_the_readers_are_behind_waits_for_them_without_spinning() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime");
        rt.block_on(async {
            let mut cfg = config();
            cfg.max_buffered_bytes = 10_000;
            cfg.max_stall = Duration::from_secs(20);
            let mut h = Harness::new(cfg);
            let (mut server, stuck_id, mut stuck) = live(&mut h, 300_000).await;
            let p = h.subscribe();
            let (old, _) = start(&mut server).await;
            server.send(json!({"type": "error", "id": old, "payload": {"errors": [
                {"errorType": "LimitExceededError", "message": "Rate limit exceeded"}]}}));
            for n in 0..500 {
                server.send(data(&stuck_id, n)); // ~32 KB: three times the budget
            }
            // Past the start's backoff (1 s at most), within the stall (20 s): virtual time
            // moves only while the actor waits.
            tokio::time::sleep(Duration::from_secs(5)).await;
            let sent = server.sent_so_far();
            assert!(
                !sent.iter().any(|f| f["type"] == "start"),
                "no start while the socket is not read: {sent:?}"
            );
            // The reader catches up: the socket is read again and the start goes out.
            while stuck.backlog() > 0 {
                next(&mut stuck).await;
            }
            let (new, _) = start_ack(&mut server).await;
            assert_ne!(old, new, "a retried start gets a new id");
            p.started().await;
        });
        let _ = done.send(());
    });
    finished
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the actor kept firing its timer: virtual time never moved");
}

/// A socket lost while reading is stopped for slow readers is not replaced (so not read) until
/// they catch up: resuming on the next socket let one more frame past the budget at each
/// reconnection (found by the realtime_actor fuzz target).
#[tokio::test(start_paused = true)]
async fn a_socket_lost_while_the_readers_are_behind_is_replaced_only_once_they_catch_up() {
    let (identity, rx) = tokio::sync::watch::channel(0u64);
    let mut cfg = config();
    cfg.identity = Some(rx);
    cfg.max_buffered_bytes = 10_000;
    cfg.max_stall = Duration::from_secs(60);
    let mut h = Harness::new(cfg);
    let (server, id, mut stuck) = live(&mut h, 300_000).await;
    for n in 0..500 {
        server.send(data(&id, n)); // ~32 KB: three times the budget
    }
    // Virtual time moves only once the actor waits: it has read up to the budget and stopped.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = stuck.backlog();
    assert!(
        (1..500).contains(&held),
        "reading stopped at the budget: {held}"
    );
    // The socket goes (a new identity) while the reader is still behind.
    identity.send_modify(|n| *n += 1);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        h.accepted.try_recv().is_err(),
        "no next socket while the reader is behind"
    );
    // The reader catches up: the next socket opens and the subscription starts on it.
    let t0 = Instant::now();
    let mut read = 0;
    while stuck.backlog() > 0 {
        next(&mut stuck).await;
        read += 1;
    }
    assert!(read >= held, "every held event is delivered");
    let mut server2 = h.accept().await;
    assert_eq!(
        t0.elapsed(),
        Duration::ZERO,
        "opened as soon as the reader caught up"
    );
    ack(&mut server2, 300_000).await;
    let (id2, _) = start_ack(&mut server2).await;
    server2.send(data(&id2, 7));
    skip_to(&mut stuck, 7).await;
}

/// The queue of an ended subscription whose reader leaves its last events unread is shed like a
/// live one: its bytes kept the budget over, and each stall let one more frame in, without bound.
#[tokio::test(start_paused = true)]
async fn an_unread_ended_subscription_is_shed_like_a_live_one() {
    let mut cfg = config();
    cfg.max_buffered_bytes = 10_000;
    cfg.max_stall = Duration::from_secs(20);
    let mut h = Harness::new(cfg);
    let p = h.subscribe();
    let ended_queue = p.shared.clone();
    let mut server = h.accept().await;
    ack(&mut server, 300_000).await;
    let (id, _) = start_ack(&mut server).await;
    let mut ended = p.started().await;
    let q = h.subscribe();
    let live_queue = q.shared.clone();
    let (id2, _) = start_ack(&mut server).await;
    let mut live = q.started().await;
    let frame = data(&id2, 999).to_string().len();
    // The first one ends holding ~8 KB that its reader leaves unread…
    let held = 8_000 / frame;
    for n in 0..held {
        server.send(data(&id, n as u64));
    }
    server.send(json!({"type": "complete", "id": id}));
    // …and the second one's reader does not read either: the budget is crossed.
    for n in 0..100 {
        server.send(data(&id2, n));
    }
    for _ in 0..5 {
        // A stall period: the slow readers are shed, and reading goes on.
        tokio::time::sleep(Duration::from_secs(21)).await;
        let unread = ended_queue.bytes() + live_queue.bytes();
        assert!(
            unread <= 10_000 + frame,
            "{unread} unread bytes: over the budget plus one frame"
        );
    }
    // The ended one's reader learns of the loss, reads what is left, then the end.
    let (mut lagged, mut read) = (0, 0);
    while let Some(event) = ended.next().await {
        match event.expect("no error") {
            SubscriptionEvent::Lagged { missed } => lagged += missed,
            SubscriptionEvent::Data(_) => read += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(lagged > 0 && read > 0, "lagged {lagged}, read {read}");
    assert_eq!(lagged + read, held as u64, "every event read or counted");
    // The live one goes on.
    server.send(data(&id2, 1000));
    skip_to(&mut live, 1000).await;
}

// ---- identity ------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn an_identity_change_reconnects_at_once_with_fresh_auth_and_resumes() {
    let (tx, rx) = tokio::sync::watch::channel(0u64);
    let mut cfg = config();
    cfg.identity = Some(rx);
    let mut h = Harness::new(cfg);
    let (server, _, mut a) = live(&mut h, 300_000).await;
    let t0 = Instant::now();
    tx.send_modify(|n| *n += 1);
    let mut server2 = h.accept().await;
    assert_eq!(
        t0.elapsed(),
        Duration::ZERO,
        "no backoff: it is not a failure"
    );
    assert!(server.client_gone(), "the old socket is closed");
    assert_eq!(h.auth.connects.load(Ordering::SeqCst), 2);
    ack(&mut server2, 300_000).await;
    start_ack(&mut server2).await;
    assert!(matches!(
        next(&mut a).await,
        SubscriptionEvent::Resumed { .. }
    ));
    let states = h.states();
    assert!(
        states
            .iter()
            .any(|s| matches!(s, ConnectionState::Disrupted { cause }
            if cause.message().contains("identity changed"))),
        "{states:?}"
    );
    // A notifier that goes away changes nothing more.
    drop(tx);
    server2.send(json!({"type": "ka"}));
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(h.connector.count(), 2);
}

// ---- Events: `events_tests.rs` ------------------------------------------------------------

#[path = "events_tests.rs"]
mod events;
