//! The socket actor: one task owns one realtime socket and everything on it: the handshake,
//! `connection_ack`, each subscription's `start` / `start_ack` / `data` / `stop`, the keep-alive
//! watchdog, reconnection with backoff and fresh authorization, backpressure, and the idle
//! close.
//!
//! Handles talk to it over an unbounded channel of [`Command`]s (subscribe, unsubscribe: both
//! made by the application's own calls, never by the server). Everything it waits for (a
//! command, a frame, the socket being opened, an authorization being made, readers draining,
//! the earliest timer) is one `select!` per turn, so the state is only ever touched by this
//! task, and nothing it waits for blocks the rest: authorization objects (which may call token
//! and credentials providers) are made beside the loop, never inline.
//!
//! Rules (`appsync-protocol.md` §2.5–§2.8):
//! - A subscription waiting for its first `start_ack` fails when a connection attempt fails or
//!   its `start_ack` does not come in time; once acknowledged, it survives socket losses: it
//!   is restarted on the next socket, with fresh authorization and a new id, and told how long
//!   it was down (`Resumed`).
//! - Failures in a row (failed attempts, and sockets lost before they stayed up for the
//!   policy's `healthy_after`) grow the backoff; from `report_after` of them on, each one is
//!   reported to the application with its cause.
//! - A refusal of the credentials (HTTP 400/401/403 at the upgrade, or a `connection_error` or
//!   id-less `error` saying so) is retried once at once with fresh credentials, then with
//!   backoff like any failure (fresh credentials each time), until the policy's attempt limit
//!   or a provider error marked permanent.
//! - `MaxSubscriptionsReachedError` on a first start sends the subscription to another
//!   socket (the handle's `full` flag tells the registry); on a restart, and for
//!   `LimitExceededError`, the start is retried later with backoff.
//! - AppSync's `{"message":"Subscription complete."}` ends every subscription of the socket
//!   cleanly (the server invalidated them and closes it); `complete` ends one.
//! - Any other `error` for one subscription ends that subscription only.
//! - Over the socket's byte budget of unread events the socket stops reading; after the stall
//!   limit the readers furthest behind are shed (see `buffer.rs`).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, Sleep};
use tracing::Instrument;

mod backpressure;
mod frames;
mod publishes;
mod recovery;
mod starts;
mod timers;

use super::auth::Authorizer;
use super::buffer::{Budget, Shared};
use super::failure::Failure;
use super::ids::{NumberMap, WireIds};
use super::options::{HandshakeMethod, ReconnectPolicy};
use super::protocol::{self, AuthObject, Dialect, ServerMessage};
use super::socket::{BoxSocket, ConnectError, Connector, Opened, TextFrame, WsMessage};
use super::state::{ConnectionState, StateEvent};
use crate::auth::refresh::is_permanent;
use crate::error::{Error, Result};
use crate::operation::GraphQLError;
use appsync_types::AuthMode;

/// Throttled or failed restarts of one subscription in a row before it gives up.
const MAX_START_RETRIES: u32 = 5;

/// The keep-alive timeout when neither the server nor the options say one (AppSync's).
const DEFAULT_KA_TIMEOUT: Duration = Duration::from_secs(300);

/// A server's keep-alive timeout below this is taken as [`DEFAULT_KA_TIMEOUT`], as AppSync's
/// own clients do: AppSync sends `ka` every minute, so less would reconnect healthy sockets.
const KA_TIMEOUT_FLOOR: Duration = Duration::from_secs(60);

/// The close code of a normal close.
const CLOSE_NORMAL: u16 = 1000;

/// How long a close frame may take to go out.
const CLOSE_WRITE: Duration = Duration::from_secs(1);

/// What an actor is configured with.
#[derive(Clone, Debug)]
pub(crate) struct ActorConfig {
    /// The endpoint's name and the mode, for the connection states and the logs.
    pub api_name: String,
    pub mode: AuthMode,
    /// How the handshake is carried (to say what to try when a server refuses it).
    pub handshake: HandshakeMethod,
    pub connect_timeout: Duration,
    pub ack_timeout: Duration,
    pub start_ack_timeout: Duration,
    pub keep_alive_timeout: Option<Duration>,
    /// The limit on making one authorization object (providers included).
    pub auth_timeout: Duration,
    pub reconnect: ReconnectPolicy,
    pub idle_close_delay: Duration,
    /// The byte budget of unread events, and how long the socket may stay stopped for it.
    pub max_buffered_bytes: usize,
    pub max_stall: Duration,
    /// Changes of the signed-in identity: the socket reconnects at once with fresh auth (only
    /// for sockets whose auth comes from a provider).
    pub identity: Option<tokio::sync::watch::Receiver<u64>>,
    /// The protocol the socket speaks: GraphQL subscriptions or Events.
    pub dialect: Dialect,
}

/// A request to the actor.
pub(crate) enum Command {
    /// Start a subscription.
    Subscribe(SubRequest),
    /// Stop the subscription with this key (its stream was dropped).
    Unsubscribe(u64),
    /// Events: publish over the socket.
    Publish(PublishRequest),
}

/// Events: a publish to make over the socket.
pub(crate) struct PublishRequest {
    /// Unique in the process (the same space as subscriptions' keys).
    pub key: u64,
    pub channel: Arc<str>,
    /// Each event as JSON text.
    pub events: Arc<[String]>,
    /// The call's own headers, for the publish's authorization.
    pub headers: Arc<[(String, String)]>,
    pub reply: oneshot::Sender<PubReply>,
}

/// The answer to a [`PublishRequest`].
#[derive(Debug)]
pub(crate) enum PubReply {
    /// This socket was closing and never sent it: try another.
    Retry,
    /// The server's answer, or why there is none.
    Done(Result<crate::channel::PublishResult>),
}

/// A subscription to start.
pub(crate) struct SubRequest {
    /// Unique in the process.
    pub key: u64,
    /// What the subscription is to: the `payload.data` string, built once (GraphQL), or the
    /// channel (Events).
    pub data: Arc<str>,
    /// The call's own headers, for each `start`'s authorization.
    pub headers: Arc<[(String, String)]>,
    pub shared: Arc<Shared>,
    pub reply: oneshot::Sender<Reply>,
}

/// The answer to a [`SubRequest`].
#[derive(Debug)]
pub(crate) enum Reply {
    /// `start_ack` came.
    Started,
    /// This socket cannot take it (full, or closing): try another.
    Retry,
    /// Refused, timed out, or the connection failed.
    Failed(Error),
}

/// A handle to an actor.
#[derive(Clone, Debug)]
pub(crate) struct Handle {
    pub tx: mpsc::UnboundedSender<Command>,
    /// Set while the server says the socket is at its subscription cap.
    pub full: Arc<AtomicBool>,
}

/// Starts an actor with its first request (a subscription, or a publish).
pub(crate) fn spawn(
    mut config: ActorConfig,
    connector: Arc<dyn Connector>,
    auth: Arc<dyn Authorizer>,
    states: broadcast::Sender<StateEvent>,
    first: Command,
    span: tracing::Span,
) -> Handle {
    // Every deadline is `now + one of these`: keep them where clocks cannot overflow.
    use super::options::LONGEST;
    for d in [
        &mut config.connect_timeout,
        &mut config.ack_timeout,
        &mut config.start_ack_timeout,
        &mut config.idle_close_delay,
        &mut config.auth_timeout,
        &mut config.max_stall,
    ] {
        *d = (*d).min(LONGEST);
    }
    config.keep_alive_timeout = config.keep_alive_timeout.map(|d| d.min(LONGEST));
    let (tx, rx) = mpsc::unbounded_channel();
    let full = Arc::new(AtomicBool::new(false));
    let actor = Actor {
        budget: Arc::new(Budget::new(config.max_buffered_bytes)),
        config,
        connector,
        auth,
        rx,
        states,
        full: full.clone(),
        subs: NumberMap::default(),
        pubs: NumberMap::default(),
        ids: WireIds::new(),
        conn: Conn::Down,
        epoch: 0,
        authorizing: FuturesUnordered::new(),
        failures: 0,
        fresh_retry_used: false,
        paused_since: None,
        ended: Vec::new(),
        idle_since: None,
        exit: false,
        span: span.clone(),
    };
    tokio::spawn(actor.run(first).instrument(span));
    Handle { tx, full }
}

/// The socket.
enum Conn {
    /// None, and none being made.
    Down,
    /// Backing off until the next attempt.
    Waiting { until: Instant },
    /// Authorizing and opening.
    Opening {
        fut: BoxFuture<'static, std::result::Result<Opened, ConnectError>>,
    },
    /// `connection_init` sent.
    AwaitAck {
        socket: BoxSocket,
        deadline: Instant,
    },
    /// Acknowledged.
    Ready {
        socket: BoxSocket,
        ka_timeout: Duration,
        last_heard: Instant,
        missed: bool,
        /// When it was acknowledged (it is healthy after the policy's `healthy_after`).
        since: Instant,
    },
}

impl Conn {
    fn is_ready(&self) -> bool {
        matches!(self, Conn::Ready { .. })
    }

    fn has_socket(&self) -> bool {
        matches!(self, Conn::Ready { .. } | Conn::AwaitAck { .. })
    }
}

/// Where a subscription stands on the current socket.
#[derive(Debug)]
enum SubState {
    /// Waits for a socket to be started on.
    Queued,
    /// Its `start`'s authorization is being made for the socket of this epoch.
    Authorizing { epoch: u64 },
    /// `start` sent under this id.
    Pending { id: String, deadline: Instant },
    /// Acknowledged under this id.
    Active { id: String },
    /// A throttled start, retried at `until` (or on the next socket).
    Backoff { until: Instant },
}

struct Sub {
    data: Arc<str>,
    headers: Arc<[(String, String)]>,
    shared: Arc<Shared>,
    /// Until the first `start_ack`: the caller waiting in `start()`.
    reply: Option<oneshot::Sender<Reply>>,
    state: SubState,
    /// When its socket was lost (cleared by the `Resumed` after the restart).
    down_since: Option<Instant>,
    /// Starts retried in a row (throttling, provider failures, timeouts).
    retries: u32,
    /// A start refused for its credentials was retried with fresh ones.
    fresh_retry: bool,
}

impl Sub {
    fn established(&self) -> bool {
        self.reply.is_none()
    }

    fn wire_id(&self) -> Option<&str> {
        match &self.state {
            SubState::Pending { id, .. } | SubState::Active { id } => Some(id),
            _ => None,
        }
    }
}

/// A start's authorization object, made beside the loop: (subscription, socket epoch, object).
type Authorized = (u64, u64, Result<AuthObject>);

/// What woke the actor up.
enum Event {
    Command(Option<Command>),
    Opened(std::result::Result<Opened, ConnectError>),
    Frame(Option<std::result::Result<WsMessage, super::socket::SocketError>>),
    Authorized(Authorized),
    Drained,
    IdentityChanged,
    Timer,
}

struct Actor {
    config: ActorConfig,
    connector: Arc<dyn Connector>,
    auth: Arc<dyn Authorizer>,
    rx: mpsc::UnboundedReceiver<Command>,
    states: broadcast::Sender<StateEvent>,
    full: Arc<AtomicBool>,
    subs: NumberMap<Sub>,
    /// Events: publishes waiting for a socket, their authorization, or their answer.
    pubs: NumberMap<publishes::Pub>,
    /// Wire id → subscription (or publish) key.
    ids: WireIds,
    conn: Conn,
    /// Counts the sockets opened; an authorization made for an older one is dropped.
    epoch: u64,
    authorizing: FuturesUnordered<BoxFuture<'static, Authorized>>,
    /// Failures in a row since the socket was last healthy.
    failures: u32,
    /// A refused connection was retried at once with fresh credentials (reset when healthy).
    fresh_retry_used: bool,
    /// The unread bytes of the subscriptions; over it, reading stops.
    budget: Arc<Budget>,
    /// Since when reading is stopped for the readers.
    paused_since: Option<Instant>,
    /// The queues of ended subscriptions whose readers have not read everything yet: their
    /// bytes stay charged to the budget, so they are shed like the others (else an unread
    /// ended subscription kept the budget over forever and each stall let one more frame in).
    ended: Vec<Arc<Shared>>,
    /// When the socket became idle (no subscription).
    idle_since: Option<Instant>,
    exit: bool,
    span: tracing::Span,
}

/// What the socket has next: the outcome of opening it, or a frame.
async fn io(conn: &mut Conn) -> Event {
    match conn {
        Conn::Opening { fut } => Event::Opened(fut.await),
        Conn::AwaitAck { socket, .. } | Conn::Ready { socket, .. } => {
            Event::Frame(socket.next().await)
        }
        Conn::Down | Conn::Waiting { .. } => std::future::pending().await,
    }
}

/// Resolves when the identity changed (`true`), or when it never will again (`false`).
async fn identity_changed(rx: &mut Option<tokio::sync::watch::Receiver<u64>>) -> bool {
    match rx {
        Some(rx) => rx.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

/// Fires when the timer is due; never without one.
async fn tick(timer: &mut Option<Pin<Box<Sleep>>>) {
    match timer {
        Some(sleep) => sleep.as_mut().await,
        None => std::future::pending().await,
    }
}

impl Actor {
    async fn run(mut self, first: Command) {
        self.command(first).await;
        // One timer, moved only when the earliest deadline may have changed: not after a
        // `data` frame, which only moves `last_heard` later (a timer that fires early finds
        // nothing due and is set again). Walking every subscription for the deadline, and
        // registering a fresh timer, on every frame would cost more than the frame itself.
        let mut timer: Option<Pin<Box<Sleep>>> = None;
        let mut moved = true;
        while !self.should_exit() {
            if moved {
                match (self.next_wake(), timer.as_mut()) {
                    (Some(t), Some(sleep)) => sleep.as_mut().reset(t),
                    (Some(t), None) => timer = Some(Box::pin(tokio::time::sleep_until(t))),
                    // No timer stays registered (paused-time tests would advance to it).
                    (None, _) => timer = None,
                }
            }
            let paused = self.paused_since.is_some();
            let budget = self.budget.clone();
            // Timers, then commands, then authorizations, then the socket: a flood of frames
            // starves nothing. While the readers are behind, the socket is not read at all.
            let event = tokio::select! {
                biased;
                () = tick(&mut timer) => Event::Timer,
                c = self.rx.recv() => Event::Command(c),
                Some(a) = self.authorizing.next(), if !self.authorizing.is_empty() => {
                    Event::Authorized(a)
                }
                () = budget.drained(), if paused => Event::Drained,
                changed = identity_changed(&mut self.config.identity),
                    if self.config.identity.is_some() =>
                {
                    if changed {
                        Event::IdentityChanged
                    } else {
                        // The notifier is gone: nothing will change any more.
                        self.config.identity = None;
                        continue;
                    }
                }
                e = io(&mut self.conn), if !paused => e,
            };
            moved = true;
            match event {
                Event::Command(Some(c)) => self.command(c).await,
                Event::Command(None) => self.exit = true,
                Event::Opened(Ok(opened)) => self.opened(opened).await,
                Event::Opened(Err(e)) => self.attempt_failed(Failure::from_connect(e)).await,
                Event::Authorized((key, epoch, result)) => {
                    self.authorized(key, epoch, result).await
                }
                Event::Frame(Some(Ok(WsMessage::Text(frame)))) => {
                    moved = self.on_text(frame).await;
                }
                Event::Frame(Some(Ok(WsMessage::Close(close)))) => {
                    // Answer it (RFC 6455 §5.5.1) before the socket goes.
                    self.close_socket(None).await;
                    let before_ack =
                        matches!(self.conn, Conn::AwaitAck { .. }).then_some(self.config.handshake);
                    self.socket_lost(Failure::closed(close, before_ack)).await;
                }
                Event::Frame(Some(Err(e))) => {
                    self.socket_lost(Failure::new(format!("the socket failed: {e}")))
                        .await;
                }
                Event::Frame(None) => {
                    self.socket_lost(Failure::new("the socket was closed"))
                        .await;
                }
                Event::Drained => self.drained(),
                Event::IdentityChanged => self.reauthenticate().await,
                Event::Timer => self.on_timer().await,
            }
        }
        self.shutdown().await;
    }

    fn emit(&self, state: ConnectionState) {
        tracing::debug!(%state, "realtime connection state");
        let _ = self
            .states
            .send((self.config.api_name.clone(), self.config.mode, state));
    }

    fn should_exit(&self) -> bool {
        // With no subscription there is nothing to reconnect for; an open socket stays for
        // the idle delay (see `next_wake`).
        self.exit || (self.subs.is_empty() && self.pubs.is_empty() && !self.conn.has_socket())
    }

    async fn command(&mut self, c: Command) {
        match c {
            Command::Subscribe(req) => self.add(req),
            Command::Unsubscribe(key) => self.remove(key).await,
            Command::Publish(req) => self.add_publish(req),
        }
    }

    fn new_id(&mut self) -> String {
        self.ids.fresh()
    }

    // ---- commands -----------------------------------------------------------------------

    fn add(&mut self, req: SubRequest) {
        if self.full.load(Ordering::SeqCst) || self.exit {
            let _ = req.reply.send(Reply::Retry);
            return;
        }
        self.idle_since = None;
        req.shared.attach(self.budget.clone());
        self.subs.insert(
            req.key,
            Sub {
                data: req.data,
                headers: req.headers,
                shared: req.shared,
                reply: Some(req.reply),
                state: SubState::Queued,
                down_since: None,
                retries: 0,
                fresh_retry: false,
            },
        );
        match self.conn {
            Conn::Ready { .. } => self.start(req.key),
            Conn::Down => {
                self.emit(ConnectionState::Connecting);
                self.begin_open();
            }
            // It starts when the socket is acknowledged.
            _ => {}
        }
    }

    async fn remove(&mut self, key: u64) {
        let Some(sub) = self.subs.remove(&key) else {
            return;
        };
        self.full.store(false, Ordering::SeqCst);
        if let Some(id) = sub.wire_id() {
            self.ids.remove(id);
            let stop = self.config.dialect.stop(id);
            if self.conn.is_ready() {
                if let Err(e) = self.send(stop).await {
                    self.socket_lost(Failure::new(format!("the socket failed: {e}")))
                        .await;
                }
            }
        }
        self.note_idle();
    }

    fn note_idle(&mut self) {
        if self.subs.is_empty() && self.pubs.is_empty() && self.idle_since.is_none() {
            self.idle_since = Some(Instant::now());
        }
    }

    // ---- the socket ---------------------------------------------------------------------

    fn begin_open(&mut self) {
        let auth = self.auth.clone();
        let connector = self.connector.clone();
        let timeout = self.config.connect_timeout;
        let auth_timeout = self.config.auth_timeout;
        self.conn = Conn::Opening {
            fut: Box::pin(async move {
                let object = within(
                    auth_timeout,
                    "the handshake's authorization",
                    auth.connect_auth(),
                )
                .await
                .map_err(ConnectError::Auth)?;
                match tokio::time::timeout(timeout, connector.connect(object)).await {
                    Ok(r) => r,
                    Err(_) => Err(ConnectError::Failed(format!(
                        "no connection within {timeout:?}"
                    ))),
                }
            }),
        };
    }

    async fn send(&mut self, text: String) -> std::result::Result<(), super::socket::SocketError> {
        let limit = self.config.ack_timeout;
        let socket = match &mut self.conn {
            Conn::AwaitAck { socket, .. } | Conn::Ready { socket, .. } => socket,
            _ => return Err(super::socket::SocketError("no socket".to_owned())),
        };
        match tokio::time::timeout(limit, socket.send(WsMessage::text(text))).await {
            Ok(r) => r,
            Err(_) => Err(super::socket::SocketError(format!(
                "a write took more than {limit:?}"
            ))),
        }
    }

    /// Sends a close frame (or, after the server's, flushes the answer the WebSocket layer
    /// queued) and closes our side, within a bounded time.
    async fn close_socket(&mut self, code: Option<u16>) {
        if let Conn::AwaitAck { socket, .. } | Conn::Ready { socket, .. } = &mut self.conn {
            let _ = tokio::time::timeout(CLOSE_WRITE, async {
                if let Some(code) = code {
                    socket
                        .send(WsMessage::Close(Some((code, String::new()))))
                        .await?;
                }
                socket.close().await
            })
            .await;
        }
    }

    async fn opened(&mut self, opened: Opened) {
        self.epoch += 1;
        self.span.record("connection", self.epoch);
        if let Some(id) = &opened.request_id {
            self.span.record("request_id", id.as_str());
        }
        self.conn = Conn::AwaitAck {
            socket: opened.socket,
            deadline: Instant::now() + self.config.ack_timeout,
        };
        if let Err(e) = self.send(protocol::connection_init()).await {
            self.attempt_failed(Failure::new(format!(
                "connection_init could not be sent: {e}"
            )))
            .await;
        }
    }

    fn acked(&mut self, timeout: Option<Duration>) {
        let Conn::AwaitAck { .. } = self.conn else {
            tracing::debug!("ignoring a repeated connection_ack");
            return;
        };
        let Conn::AwaitAck { socket, .. } = std::mem::replace(&mut self.conn, Conn::Down) else {
            return;
        };
        let announced = timeout.map(|t| {
            if t < KA_TIMEOUT_FLOOR {
                tracing::debug!(
                    ?t,
                    "the server's keep-alive timeout is under the floor: using the default"
                );
                DEFAULT_KA_TIMEOUT
            } else {
                t
            }
        });
        let ka_timeout = self
            .config
            .keep_alive_timeout
            .or(announced)
            .unwrap_or(DEFAULT_KA_TIMEOUT)
            .max(Duration::from_millis(1));
        let now = Instant::now();
        self.conn = Conn::Ready {
            socket,
            ka_timeout,
            last_heard: now,
            missed: false,
            since: now,
        };
        tracing::debug!(?ka_timeout, "connection acknowledged");
        self.emit(ConnectionState::Connected);
        let mut queued: Vec<u64> = self
            .subs
            .iter()
            .filter(|(_, s)| matches!(s.state, SubState::Queued))
            .map(|(k, _)| *k)
            .collect();
        queued.sort_unstable();
        for key in queued {
            self.start(key);
        }
        self.send_queued_publishes();
        self.note_idle();
    }

    async fn shutdown(&mut self) {
        self.rx.close();
        while let Ok(c) = self.rx.try_recv() {
            match c {
                Command::Subscribe(req) => {
                    let _ = req.reply.send(Reply::Retry);
                }
                Command::Publish(req) => {
                    let _ = req.reply.send(PubReply::Retry);
                }
                Command::Unsubscribe(_) => {}
            }
        }
        let keys: Vec<u64> = self.subs.keys().copied().collect();
        for key in keys {
            self.fail(key, Error::realtime("the realtime connection closed"));
        }
        self.fail_publishes(
            |_| true,
            || Error::realtime("the realtime connection closed"),
        );
        self.close_socket(Some(CLOSE_NORMAL)).await;
        self.conn = Conn::Down;
        self.emit(ConnectionState::Disconnected);
    }
}

/// Runs an authorization future within `limit` (providers have their own limits; this one
/// covers header providers and everything else it awaits).
async fn within(
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = Result<AuthObject>>,
) -> Result<AuthObject> {
    // A little over the providers' own limit, so that their (more precise) error wins.
    match tokio::time::timeout(limit + Duration::from_millis(100), fut).await {
        Ok(r) => r,
        Err(_) => Err(Error::timeout(format!("{what} took more than {limit:?}"))),
    }
}

impl Drop for Actor {
    /// The task ended without `shutdown` (its runtime stopped, or a bug panicked): nobody may be
    /// left waiting on a stream that will never end.
    fn drop(&mut self) {
        for (_, sub) in self.subs.drain() {
            let e = Error::realtime("the realtime connection task ended");
            match sub.reply {
                Some(r) => {
                    let _ = r.send(Reply::Failed(e));
                }
                None => sub.shared.finish(Some(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests;
