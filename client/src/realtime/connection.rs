//! The socket actor: one task owns one realtime socket and everything on it: the handshake,
//! `connection_ack`, each subscription's `start` / `start_ack` / `data` / `stop`, the keep-alive
//! watchdog, reconnection with backoff and fresh authorization, and the idle close.
//!
//! Handles talk to it over an unbounded channel of [`Command`]s (subscribe, unsubscribe: both
//! made by the application's own calls, never by the server). Everything it waits for (a
//! command, a frame, the socket being opened, the earliest timer) is one `select!` per turn,
//! so the state is only ever touched by this task.
//!
//! Rules (`appsync-protocol.md` §2.5–§2.8):
//! - A subscription waiting for its first `start_ack` fails when a connection attempt fails or
//!   its `start_ack` does not come in time; once acknowledged, it survives socket losses: it
//!   is restarted on the next socket, with fresh authorization and a new id, and told how long
//!   it was down (`Resumed`).
//! - A refusal of the credentials (HTTP 400/401/403 at the upgrade, or a `connection_error`
//!   or id-less `error` saying so) is retried once at once with fresh credentials; a second
//!   refusal in a row ends every subscription of the socket.
//! - `MaxSubscriptionsReachedError` on a first start sends the subscription to another
//!   socket (the handle's `full` flag tells the registry); on a restart, and for
//!   `LimitExceededError`, the start is retried later with backoff.
//! - Any other `error` for one subscription ends that subscription only.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, Sleep};
use tracing::Instrument;

use super::auth::Authorizer;
use super::buffer::Shared;
use super::options::ReconnectPolicy;
use super::protocol::{self, ServerMessage};
use super::socket::{BoxSocket, ConnectError, Connector, SocketError, WsMessage};
use super::state::{ConnectionState, StateEvent};
use crate::auth::AuthMode;
use crate::error::Error;
use crate::graphql::GraphQLError;

/// Throttled or failed restarts of one subscription in a row before it gives up.
const MAX_START_RETRIES: u32 = 5;

/// The keep-alive timeout when neither the server nor the options say one (AppSync's).
const DEFAULT_KA_TIMEOUT: Duration = Duration::from_secs(300);

/// The close code of a normal close.
const CLOSE_NORMAL: u16 = 1000;

/// What an actor is configured with.
#[derive(Clone, Debug)]
pub(crate) struct ActorConfig {
    /// The endpoint's name and the mode, for the connection states and the logs.
    pub api_name: String,
    pub mode: AuthMode,
    pub connect_timeout: Duration,
    pub ack_timeout: Duration,
    pub start_ack_timeout: Duration,
    pub keep_alive_timeout: Option<Duration>,
    pub reconnect: ReconnectPolicy,
    pub idle_close_delay: Duration,
}

/// A request to the actor.
pub(crate) enum Command {
    /// Start a subscription.
    Subscribe(SubRequest),
    /// Stop the subscription with this key (its stream was dropped).
    Unsubscribe(u64),
}

/// A subscription to start.
pub(crate) struct SubRequest {
    /// Unique in the process.
    pub key: u64,
    /// The `payload.data` string, built once.
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

/// Starts an actor with its first subscription.
pub(crate) fn spawn(
    mut config: ActorConfig,
    connector: Arc<dyn Connector>,
    auth: Arc<dyn Authorizer>,
    states: broadcast::Sender<StateEvent>,
    first: SubRequest,
    span: tracing::Span,
) -> Handle {
    // Every deadline is `now + one of these`: keep them where clocks cannot overflow.
    use super::options::LONGEST;
    for d in [
        &mut config.connect_timeout,
        &mut config.ack_timeout,
        &mut config.start_ack_timeout,
        &mut config.idle_close_delay,
    ] {
        *d = (*d).min(LONGEST);
    }
    config.keep_alive_timeout = config.keep_alive_timeout.map(|d| d.min(LONGEST));
    let (tx, rx) = mpsc::unbounded_channel();
    let full = Arc::new(AtomicBool::new(false));
    let actor = Actor {
        config,
        connector,
        auth,
        rx,
        states,
        full: full.clone(),
        subs: HashMap::new(),
        ids: HashMap::new(),
        conn: Conn::Down,
        attempt: 0,
        fresh_retry_used: false,
        idle_since: None,
        exit: false,
        next_id: 0,
        id_prefix: format!("{:08x}", fastrand::u32(..)),
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
        fut: BoxFuture<'static, Result<BoxSocket, ConnectError>>,
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

/// Why a connection attempt failed, kept so that one error can be made per subscription.
#[derive(Clone, Debug)]
struct Failure {
    message: String,
    /// The server refused the credentials.
    refused: bool,
    status: Option<http::StatusCode>,
    error_type: Option<String>,
    errors: Vec<GraphQLError>,
    body: bytes::Bytes,
    date: Option<std::time::SystemTime>,
    /// From a provider (kept whole for the first subscription).
    auth: Option<String>,
}

impl Failure {
    fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            refused: false,
            status: None,
            error_type: None,
            errors: Vec::new(),
            body: bytes::Bytes::new(),
            date: None,
            auth: None,
        }
    }

    fn from_connect(e: ConnectError) -> Self {
        match e {
            ConnectError::Refused {
                status,
                error_type,
                errors,
                body,
                date,
            } => {
                let refused = matches!(status.as_u16(), 400 | 401 | 403);
                let mut message = format!("the realtime connection was refused with HTTP {status}");
                if let Some(t) = &error_type {
                    message.push_str(&format!(" ({t})"));
                }
                Failure {
                    message,
                    refused,
                    status: Some(status),
                    error_type,
                    errors,
                    body,
                    date,
                    auth: None,
                }
            }
            ConnectError::Auth(e) => {
                let mut f = Failure::new(e.to_string());
                f.auth = Some(e.to_string());
                f
            }
            ConnectError::Failed(m) => {
                Failure::new(format!("the realtime connection could not be opened: {m}"))
            }
        }
    }

    fn from_errors(message: &str, errors: Vec<GraphQLError>) -> Self {
        let mut f = Failure::new(message);
        f.refused = protocol::is_credentials_refusal(&errors);
        f.errors = errors;
        f
    }

    fn to_error(&self) -> Error {
        if let Some(a) = &self.auth {
            return Error::auth(a.clone());
        }
        match self.status {
            Some(s) => Error::realtime_refused(
                self.message.clone(),
                s,
                self.error_type.clone(),
                self.errors.clone(),
                self.body.clone(),
            ),
            None => Error::realtime_errors(self.message.clone(), self.errors.clone()),
        }
    }

    fn terminal(&self, why: &str) -> Failure {
        let mut f = self.clone();
        f.message = format!("{why}: {}", self.message);
        f
    }
}

/// What woke the actor up.
enum Event {
    Command(Option<Command>),
    Opened(Result<BoxSocket, ConnectError>),
    Frame(Option<Result<WsMessage, SocketError>>),
    Timer,
}

struct Actor {
    config: ActorConfig,
    connector: Arc<dyn Connector>,
    auth: Arc<dyn Authorizer>,
    rx: mpsc::UnboundedReceiver<Command>,
    states: broadcast::Sender<StateEvent>,
    full: Arc<AtomicBool>,
    subs: HashMap<u64, Sub>,
    /// Wire id → subscription key.
    ids: HashMap<String, u64>,
    conn: Conn,
    /// Attempts since the socket was last acknowledged.
    attempt: u32,
    /// A refused connection was retried with fresh credentials (reset by an ack).
    fresh_retry_used: bool,
    /// When the socket became idle (no subscription).
    idle_since: Option<Instant>,
    exit: bool,
    next_id: u64,
    id_prefix: String,
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

/// Fires when the timer is due; never without one.
async fn tick(timer: &mut Option<Pin<Box<Sleep>>>) {
    match timer {
        Some(sleep) => sleep.as_mut().await,
        None => std::future::pending().await,
    }
}

impl Actor {
    async fn run(mut self, first: SubRequest) {
        self.add(first).await;
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
            // Timers, then commands, then the socket: a flood of frames starves neither.
            let event = tokio::select! {
                biased;
                () = tick(&mut timer) => Event::Timer,
                c = self.rx.recv() => Event::Command(c),
                e = io(&mut self.conn) => e,
            };
            moved = true;
            match event {
                Event::Command(Some(Command::Subscribe(req))) => self.add(req).await,
                Event::Command(Some(Command::Unsubscribe(key))) => self.remove(key).await,
                Event::Command(None) => self.exit = true,
                Event::Opened(Ok(socket)) => self.opened(socket).await,
                Event::Opened(Err(e)) => self.attempt_failed(Failure::from_connect(e)).await,
                Event::Frame(Some(Ok(WsMessage::Text(text)))) => {
                    moved = self.on_text(text).await;
                }
                Event::Frame(Some(Ok(WsMessage::Close(code)))) => {
                    let why = match code {
                        Some(c) => format!("the server closed the socket (code {c})"),
                        None => "the server closed the socket".to_owned(),
                    };
                    self.socket_lost(why, None).await;
                }
                Event::Frame(Some(Err(e))) => {
                    self.socket_lost(format!("the socket failed: {e}"), None)
                        .await;
                }
                Event::Frame(None) => {
                    self.socket_lost("the socket was closed".to_owned(), None)
                        .await;
                }
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
        self.exit || (self.subs.is_empty() && !self.conn.has_socket())
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}-{}", self.id_prefix, self.next_id)
    }

    // ---- commands -----------------------------------------------------------------------

    async fn add(&mut self, req: SubRequest) {
        if self.full.load(Ordering::SeqCst) || self.exit {
            let _ = req.reply.send(Reply::Retry);
            return;
        }
        self.idle_since = None;
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
            Conn::Ready { .. } => self.start(req.key).await,
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
            let stop = protocol::stop(id);
            if self.conn.is_ready() {
                if let Err(e) = self.send(stop).await {
                    self.socket_lost(format!("the socket failed: {e}"), None)
                        .await;
                }
            }
        }
        self.note_idle();
    }

    fn note_idle(&mut self) {
        if self.subs.is_empty() && self.idle_since.is_none() {
            self.idle_since = Some(Instant::now());
        }
    }

    // ---- the socket ---------------------------------------------------------------------

    fn begin_open(&mut self) {
        let auth = self.auth.clone();
        let connector = self.connector.clone();
        let timeout = self.config.connect_timeout;
        self.conn = Conn::Opening {
            fut: Box::pin(async move {
                let object = auth.connect_auth().await.map_err(ConnectError::Auth)?;
                match tokio::time::timeout(timeout, connector.connect(object)).await {
                    Ok(r) => r,
                    Err(_) => Err(ConnectError::Failed(format!(
                        "no connection within {timeout:?}"
                    ))),
                }
            }),
        };
    }

    async fn send(&mut self, text: String) -> Result<(), SocketError> {
        let limit = self.config.ack_timeout;
        let socket = match &mut self.conn {
            Conn::AwaitAck { socket, .. } | Conn::Ready { socket, .. } => socket,
            _ => return Err(SocketError("no socket".to_owned())),
        };
        match tokio::time::timeout(limit, socket.send(WsMessage::Text(text))).await {
            Ok(r) => r,
            Err(_) => Err(SocketError(format!("a write took more than {limit:?}"))),
        }
    }

    async fn opened(&mut self, socket: BoxSocket) {
        self.conn = Conn::AwaitAck {
            socket,
            deadline: Instant::now() + self.config.ack_timeout,
        };
        if let Err(e) = self.send(protocol::connection_init()).await {
            self.attempt_failed(Failure::new(format!(
                "connection_init could not be sent: {e}"
            )))
            .await;
        }
    }

    async fn acked(&mut self, timeout: Option<Duration>) {
        let Conn::AwaitAck { .. } = self.conn else {
            tracing::debug!("ignoring a repeated connection_ack");
            return;
        };
        let Conn::AwaitAck { socket, .. } = std::mem::replace(&mut self.conn, Conn::Down) else {
            return;
        };
        let ka_timeout = self
            .config
            .keep_alive_timeout
            .or(timeout)
            .unwrap_or(DEFAULT_KA_TIMEOUT)
            .max(Duration::from_millis(1));
        self.conn = Conn::Ready {
            socket,
            ka_timeout,
            last_heard: Instant::now(),
            missed: false,
        };
        self.attempt = 0;
        self.fresh_retry_used = false;
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
            if !self.conn.is_ready() {
                break;
            }
            self.start(key).await;
        }
        self.note_idle();
    }

    /// Sends a `start` for a queued subscription, with a fresh authorization and id.
    async fn start(&mut self, key: u64) {
        let Some(sub) = self.subs.get(&key) else {
            return;
        };
        let (data, headers) = (sub.data.clone(), sub.headers.clone());
        let auth = self.auth.clone();
        let object = match auth.start_auth(&data, &headers).await {
            Ok(o) => o,
            Err(e) => {
                self.start_refused(key, e, false);
                return;
            }
        };
        let id = self.new_id();
        let frame = protocol::start(&id, &data, &object);
        if let Err(e) = self.send(frame).await {
            self.socket_lost(format!("the socket failed: {e}"), None)
                .await;
            return;
        }
        if let Some(sub) = self.subs.get_mut(&key) {
            sub.state = SubState::Pending {
                id: id.clone(),
                deadline: Instant::now() + self.config.start_ack_timeout,
            };
            self.ids.insert(id, key);
        }
    }

    /// A start could not be made or was not acknowledged: a first start fails; a restart is
    /// retried later (with `retry_later`) up to [`MAX_START_RETRIES`] times, else ends.
    fn start_refused(&mut self, key: u64, error: Error, retry_later: bool) {
        let Some(sub) = self.subs.get_mut(&key) else {
            return;
        };
        if sub.established() && (retry_later || error.is_auth()) && sub.retries < MAX_START_RETRIES
        {
            let delay = self.config.reconnect.delay(sub.retries);
            sub.retries += 1;
            sub.state = SubState::Backoff {
                until: Instant::now() + delay,
            };
            tracing::debug!(key, retries = sub.retries, ?delay, error = %error, "start retried later");
            return;
        }
        self.fail(key, error);
    }

    /// Ends a subscription with an error (its caller gets it, or its stream does).
    fn fail(&mut self, key: u64, error: Error) {
        let Some(sub) = self.subs.remove(&key) else {
            return;
        };
        if let Some(id) = sub.wire_id() {
            self.ids.remove(id);
        }
        self.full.store(false, Ordering::SeqCst);
        tracing::debug!(key, error = %error, "subscription ended with an error");
        match sub.reply {
            Some(r) => {
                let _ = r.send(Reply::Failed(error));
            }
            None => sub.shared.finish(Some(error)),
        }
        self.note_idle();
    }

    // ---- frames -------------------------------------------------------------------------

    /// Handles a text frame; `false` when nothing but `last_heard` changed (a `data` frame on
    /// a socket whose keep-alive was not late), so the timer need not be set again.
    async fn on_text(&mut self, text: String) -> bool {
        let mut moved = false;
        if let Conn::Ready {
            last_heard, missed, ..
        } = &mut self.conn
        {
            *last_heard = Instant::now();
            if std::mem::take(missed) {
                moved = true;
                self.emit(ConnectionState::Connected);
            }
        }
        // The frame that comes by the thousand: routed by its id, its text handed over whole.
        if let Some(id) = protocol::data_id(&text) {
            match self.ids.get(id.as_ref()).copied() {
                Some(key) => {
                    drop(id);
                    self.on_data(key, text);
                }
                None => tracing::debug!(id = %id, "data for an unknown id"),
            }
            return moved;
        }
        self.on_message(text).await;
        true
    }

    async fn on_message(&mut self, text: String) {
        let message = match protocol::parse(&text) {
            Ok(m) => m,
            Err(bad) => {
                tracing::debug!(problem = bad.0, "ignoring a bad frame");
                return;
            }
        };
        match message {
            ServerMessage::ConnectionAck { timeout } => self.acked(timeout).await,
            ServerMessage::KeepAlive | ServerMessage::Other => {}
            ServerMessage::StartAck { id } => self.start_acked(&id).await,
            ServerMessage::Data { id } => match self.ids.get(&id).copied() {
                Some(key) => self.on_data(key, text),
                None => tracing::debug!(id, "data for an unknown id"),
            },
            ServerMessage::Complete { id } => {
                if let Some(key) = self.ids.remove(&id) {
                    if let Some(sub) = self.subs.remove(&key) {
                        tracing::debug!(key, "the server completed the subscription");
                        self.full.store(false, Ordering::SeqCst);
                        match sub.reply {
                            Some(r) => {
                                let _ = r.send(Reply::Failed(Error::realtime(
                                    "the server completed the subscription before acknowledging it",
                                )));
                            }
                            None => sub.shared.finish(None),
                        }
                        self.note_idle();
                    }
                }
            }
            ServerMessage::Error {
                id: Some(id),
                errors,
            } => match self.ids.get(&id).copied() {
                Some(key) => self.sub_error(key, &id, errors).await,
                None => tracing::debug!(id, "an error for an unknown id"),
            },
            ServerMessage::Error { id: None, errors } => self.connection_level_error(errors).await,
            ServerMessage::ConnectionError { errors } => {
                let f = Failure::from_errors("the server refused the connection", errors);
                if self.conn.is_ready() {
                    self.socket_lost(f.message.clone(), Some(f)).await;
                } else {
                    self.attempt_failed(f).await;
                }
            }
        }
    }

    /// A `data` frame for the subscription of `key`.
    fn on_data(&self, key: u64, frame: String) {
        if let Some(sub) = self.subs.get(&key) {
            sub.shared.push_data(frame);
        }
    }

    async fn start_acked(&mut self, id: &str) {
        let Some(&key) = self.ids.get(id) else {
            tracing::debug!(id, "start_ack for an unknown id");
            return;
        };
        let Some(sub) = self.subs.get_mut(&key) else {
            return;
        };
        if !matches!(&sub.state, SubState::Pending { id: p, .. } if p == id) {
            return;
        }
        sub.state = SubState::Active { id: id.to_owned() };
        sub.retries = 0;
        sub.fresh_retry = false;
        if let Some(reply) = sub.reply.take() {
            if reply.send(Reply::Started).is_err() {
                // The caller stopped waiting: nobody will read it.
                self.remove(key).await;
            }
            return;
        }
        if let Some(since) = sub.down_since.take() {
            let gap = Instant::now().saturating_duration_since(since);
            tracing::debug!(key, ?gap, "subscription resumed");
            sub.shared.push_resumed(gap);
        }
    }

    /// An `error` frame for one subscription.
    async fn sub_error(&mut self, key: u64, id: &str, errors: Vec<GraphQLError>) {
        self.ids.remove(id);
        let Some(sub) = self.subs.get_mut(&key) else {
            return;
        };
        if matches!(sub.state, SubState::Active { .. }) {
            self.fail(
                key,
                Error::realtime_errors("the server ended the subscription", errors),
            );
            return;
        }
        sub.state = SubState::Queued;
        if protocol::is_max_subscriptions(&errors) {
            self.full.store(true, Ordering::SeqCst);
            if let Some(reply) = sub.reply.take() {
                // A first start goes to another socket.
                self.subs.remove(&key);
                let _ = reply.send(Reply::Retry);
                self.note_idle();
            } else {
                let e = Error::realtime_errors("the subscription cap is reached", errors);
                self.start_refused(key, e, true);
            }
        } else if protocol::is_limit_exceeded(&errors) {
            let delay = self.config.reconnect.delay(sub.retries);
            if sub.retries < MAX_START_RETRIES {
                sub.retries += 1;
                sub.state = SubState::Backoff {
                    until: Instant::now() + delay,
                };
            } else {
                self.fail(
                    key,
                    Error::realtime_errors("the subscription was throttled", errors),
                );
            }
        } else if protocol::is_credentials_refusal(&errors) && !sub.fresh_retry {
            // An expired token or a stale signature: once, with fresh credentials.
            sub.fresh_retry = true;
            let auth = self.auth.clone();
            if auth.refresh(None).await {
                self.start(key).await;
            } else {
                self.fail(
                    key,
                    Error::realtime_errors("the subscription was refused", errors),
                );
            }
        } else {
            self.fail(
                key,
                Error::realtime_errors("the subscription was refused", errors),
            );
        }
    }

    /// An `error` frame without an id: it concerns the connection.
    async fn connection_level_error(&mut self, errors: Vec<GraphQLError>) {
        if protocol::is_max_subscriptions(&errors) || protocol::is_limit_exceeded(&errors) {
            // Throttling: which start it answers is unknown, so every pending start is
            // withdrawn and made again later. The socket stays.
            if protocol::is_max_subscriptions(&errors) {
                self.full.store(true, Ordering::SeqCst);
            }
            tracing::debug!("throttled: pending starts are retried later");
            let pending: Vec<(u64, String)> = self
                .subs
                .iter()
                .filter_map(|(k, s)| match &s.state {
                    SubState::Pending { id, .. } => Some((*k, id.clone())),
                    _ => None,
                })
                .collect();
            for (key, id) in pending {
                self.ids.remove(&id);
                if self.send(protocol::stop(&id)).await.is_err() {
                    break;
                }
                let delay = self.config.reconnect.delay(0);
                if let Some(sub) = self.subs.get_mut(&key) {
                    sub.retries += 1;
                    if sub.retries > MAX_START_RETRIES {
                        self.fail(
                            key,
                            Error::realtime_errors(
                                "the subscription was throttled",
                                errors.clone(),
                            ),
                        );
                    } else {
                        sub.state = SubState::Backoff {
                            until: Instant::now() + delay,
                        };
                    }
                }
            }
            return;
        }
        let f = Failure::from_errors("the server sent a connection error", errors);
        tracing::debug!(message = %f.message, "error without id: reconnecting");
        if self.conn.is_ready() {
            self.socket_lost(f.message.clone(), Some(f)).await;
        } else {
            self.attempt_failed(f).await;
        }
    }

    // ---- losses and failures ------------------------------------------------------------

    /// An acknowledged socket was lost (or the socket before the ack: then it is a failed
    /// attempt). `refusal`: the server refused the credentials on the way.
    async fn socket_lost(&mut self, why: String, refusal: Option<Failure>) {
        let down_since = match &self.conn {
            Conn::Ready { .. } => Instant::now(),
            _ => {
                self.attempt_failed(refusal.unwrap_or_else(|| Failure::new(why)))
                    .await;
                return;
            }
        };
        self.lose(down_since, &why);
        if let Some(f) = refusal.filter(|f| f.refused) {
            // Credentials refused on a live socket: the fresh retry rule applies as to an
            // attempt.
            self.refused(f).await;
        } else {
            self.schedule_reconnect();
        }
    }

    /// Drops the socket and requeues every subscription, keeping when each went down.
    fn lose(&mut self, down_since: Instant, why: &str) {
        let was_ready = self.conn.is_ready();
        self.conn = Conn::Down;
        tracing::debug!(why, "realtime socket lost");
        self.ids.clear();
        for sub in self.subs.values_mut() {
            if sub.established() && sub.down_since.is_none() {
                sub.down_since = Some(down_since);
            }
            sub.state = SubState::Queued;
        }
        if was_ready {
            self.emit(ConnectionState::Disrupted);
        }
    }

    fn schedule_reconnect(&mut self) {
        if self.subs.is_empty() {
            self.conn = Conn::Down;
            return;
        }
        let delay = self.config.reconnect.delay(self.attempt);
        tracing::debug!(
            ?delay,
            attempt = self.attempt + 1,
            "reconnecting after a delay"
        );
        self.conn = Conn::Waiting {
            until: Instant::now() + delay,
        };
    }

    /// A connection attempt failed (opening, refusal, no ack, closed before the ack).
    async fn attempt_failed(&mut self, failure: Failure) {
        self.conn = Conn::Down;
        self.ids.clear();
        for sub in self.subs.values_mut() {
            sub.state = SubState::Queued;
        }
        tracing::debug!(message = %failure.message, refused = failure.refused, "realtime connection attempt failed");
        if failure.refused {
            self.refused(failure).await;
            return;
        }
        // First starts do not wait for a server that is not there.
        let waiting: Vec<u64> = self
            .subs
            .iter()
            .filter(|(_, s)| !s.established())
            .map(|(k, _)| *k)
            .collect();
        for key in waiting {
            self.fail(key, failure.to_error());
        }
        if self.subs.is_empty() {
            return;
        }
        if let Some(max) = self.config.reconnect.attempts_limit() {
            if self.attempt >= max {
                let f = failure.terminal(&format!("gave up after {max} reconnection attempts"));
                self.terminal(&f);
                return;
            }
        }
        self.schedule_reconnect();
    }

    /// The server refused the credentials: retry at once with fresh ones, once; else give up.
    async fn refused(&mut self, failure: Failure) {
        self.conn = Conn::Down;
        let auth = self.auth.clone();
        if !self.fresh_retry_used && !self.subs.is_empty() && auth.refresh(failure.date).await {
            self.fresh_retry_used = true;
            tracing::debug!("credentials refused: retrying once with fresh ones");
            self.attempt += 1;
            self.emit(ConnectionState::Reconnecting {
                attempt: self.attempt,
            });
            self.begin_open();
            return;
        }
        let f =
            failure.terminal("the realtime connection was refused, also with fresh credentials");
        self.terminal(&f);
    }

    /// Ends every subscription with the failure and stops the actor.
    fn terminal(&mut self, failure: &Failure) {
        tracing::warn!(message = %failure.message, "realtime connection given up");
        let keys: Vec<u64> = self.subs.keys().copied().collect();
        for key in keys {
            self.fail(key, failure.to_error());
        }
        self.conn = Conn::Down;
        self.exit = true;
    }

    // ---- timers -------------------------------------------------------------------------

    fn next_wake(&self) -> Option<Instant> {
        let mut wake: Option<Instant> = None;
        let mut at = |t: Instant| wake = Some(wake.map_or(t, |w| w.min(t)));
        match &self.conn {
            Conn::Waiting { until } => at(*until),
            Conn::AwaitAck { deadline, .. } => at(*deadline),
            Conn::Ready {
                ka_timeout,
                last_heard,
                missed,
                ..
            } => {
                at(*last_heard + *ka_timeout);
                if !missed {
                    at(*last_heard + *ka_timeout / 2);
                }
            }
            Conn::Down | Conn::Opening { .. } => {}
        }
        for sub in self.subs.values() {
            match &sub.state {
                SubState::Pending { deadline, .. } => at(*deadline),
                SubState::Backoff { until } if self.conn.is_ready() => at(*until),
                _ => {}
            }
        }
        if let (Some(since), true) = (self.idle_since, self.subs.is_empty()) {
            at(since + self.config.idle_close_delay);
        }
        wake
    }

    async fn on_timer(&mut self) {
        let now = Instant::now();
        if self.subs.is_empty() {
            if let Some(since) = self.idle_since {
                if now >= since + self.config.idle_close_delay {
                    tracing::debug!("closing the idle socket");
                    self.exit = true;
                    return;
                }
            }
        }
        match &mut self.conn {
            Conn::Waiting { until } if now >= *until => {
                self.attempt += 1;
                self.emit(ConnectionState::Reconnecting {
                    attempt: self.attempt,
                });
                self.begin_open();
            }
            Conn::AwaitAck { deadline, .. } if now >= *deadline => {
                let t = self.config.ack_timeout;
                self.attempt_failed(Failure::new(format!("no connection_ack within {t:?}")))
                    .await;
            }
            Conn::Ready {
                ka_timeout,
                last_heard,
                missed,
                ..
            } => {
                if now >= *last_heard + *ka_timeout {
                    let (since, t) = (*last_heard, *ka_timeout);
                    self.lose(since, &format!("nothing heard for {t:?}"));
                    self.schedule_reconnect();
                    return;
                }
                if !*missed && now >= *last_heard + *ka_timeout / 2 {
                    *missed = true;
                    self.emit(ConnectionState::KeepAliveMissed);
                }
            }
            _ => {}
        }
        if !self.conn.is_ready() {
            return;
        }
        let mut due: Vec<(u64, bool)> = self
            .subs
            .iter()
            .filter_map(|(k, s)| match &s.state {
                SubState::Pending { deadline, .. } if now >= *deadline => Some((*k, true)),
                SubState::Backoff { until } if now >= *until => Some((*k, false)),
                _ => None,
            })
            .collect();
        due.sort_unstable();
        for (key, timed_out) in due {
            if !self.conn.is_ready() {
                break;
            }
            if timed_out {
                self.start_timed_out(key).await;
            } else {
                if let Some(s) = self.subs.get_mut(&key) {
                    s.state = SubState::Queued;
                }
                self.start(key).await;
            }
        }
    }

    async fn start_timed_out(&mut self, key: u64) {
        let Some(id) = self
            .subs
            .get(&key)
            .and_then(|s| s.wire_id())
            .map(str::to_owned)
        else {
            return;
        };
        self.ids.remove(&id);
        // In case it is registered after all.
        if let Err(e) = self.send(protocol::stop(&id)).await {
            self.socket_lost(format!("the socket failed: {e}"), None)
                .await;
            return;
        }
        if let Some(s) = self.subs.get_mut(&key) {
            s.state = SubState::Queued;
        }
        let t = self.config.start_ack_timeout;
        let e = Error::timeout(format!("no start_ack within {t:?}"));
        self.start_refused(key, e, true);
    }

    // ---- the end --------------------------------------------------------------------------

    async fn shutdown(&mut self) {
        self.rx.close();
        while let Ok(c) = self.rx.try_recv() {
            if let Command::Subscribe(req) = c {
                let _ = req.reply.send(Reply::Retry);
            }
        }
        let keys: Vec<u64> = self.subs.keys().copied().collect();
        for key in keys {
            self.fail(key, Error::realtime("the realtime connection closed"));
        }
        if let Conn::AwaitAck { socket, .. } | Conn::Ready { socket, .. } = &mut self.conn {
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                socket.send(WsMessage::Close(Some(CLOSE_NORMAL))).await?;
                socket.close().await
            })
            .await;
        }
        self.conn = Conn::Down;
        self.emit(ConnectionState::Disconnected);
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
#[path = "connection_tests.rs"]
mod tests;
