//! One socket, whatever its protocol: a single task owns the WebSocket and drives everything on
//! it with one `select!`: frames from the client, fault commands, the `connection_ack` timer,
//! the keep-alive timer, the protocol's pending steps (authorizations, subscriptions being set
//! up) and the events of its live subscriptions.
//!
//! What the two protocols share lives here: the handshake's outcome answered at
//! `connection_init` (an ack, or a `connection_error` and a close), messages before the ack
//! ignored, a frame that is not a JSON object answered, the keep-alive loop, the fault hooks
//! (drop, close, send a frame, refuse or delay acks, pause keep-alives). A [`Protocol`] handles
//! every other message, and the shapes of the frames that differ.
//!
//! Nothing is spawned per subscription: pending steps are futures in a `FuturesUnordered` and
//! live subscriptions are streams in a `SelectAll`, both owned by the task, so everything
//! ends when the socket does.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::future::BoxFuture;
use futures_util::stream::{BoxStream, FuturesUnordered, SelectAll, StreamExt};
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio::time::{Interval, MissedTickBehavior, Sleep};

use crate::faults::SocketCommand;
use crate::state::ServerState;

/// How long to wait for the client's answer to our close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// A realtime protocol: what differs between AppSync's GraphQL (`graphql-ws`) and Events
/// (`aws-appsync-event-ws`) sockets.
pub(super) trait Protocol: Send + 'static {
    /// A finished step of an operation (e.g. an authorization), fed back to the protocol.
    type Step: Send + 'static;
    /// An item of a live subscription.
    type Event: Send + 'static;

    /// The `connection_ack` frame.
    fn ack(connection_timeout_ms: u64) -> Value;

    /// The `connection_error` frame answering `connection_init` after a refused handshake.
    fn connection_error(message: &str) -> Value;

    /// The close code and reason sent after a `connection_error`.
    fn close_after_connection_error() -> (u16, &'static str);

    /// The answer to a text frame that is not a JSON object.
    fn not_an_object() -> Value;

    /// A message other than `connection_init`, once the connection is acknowledged.
    fn on_message(&mut self, io: &mut Io<Self>, msg: Value);

    /// A step finished.
    fn on_step(&mut self, io: &mut Io<Self>, step: Self::Step);

    /// A live subscription produced an item.
    fn on_event(&mut self, io: &mut Io<Self>, event: Self::Event);

    /// How many subscriptions the socket has (for the logs).
    fn subscriptions(&self) -> usize;
}

/// What a protocol acts through: the server, frames to send (in order), steps to wait for,
/// subscriptions to listen to.
pub(super) struct Io<P: Protocol + ?Sized> {
    pub server: Arc<ServerState>,
    out: Vec<Value>,
    pending: FuturesUnordered<BoxFuture<'static, P::Step>>,
    live: SelectAll<BoxStream<'static, P::Event>>,
}

impl<P: Protocol + ?Sized> Io<P> {
    /// Sends a frame (after the ones already queued).
    pub(super) fn send(&mut self, frame: Value) {
        self.out.push(frame);
    }

    /// Waits for a step; [`Protocol::on_step`] gets its outcome.
    pub(super) fn wait(&mut self, step: BoxFuture<'static, P::Step>) {
        self.pending.push(step);
    }

    /// Listens to a subscription; [`Protocol::on_event`] gets each item.
    pub(super) fn listen(&mut self, events: BoxStream<'static, P::Event>) {
        self.live.push(events);
    }
}

/// Accepts a socket that did not offer the protocol's subprotocol, and closes it with 1002
/// (protocol error).
pub(super) async fn refuse_protocol(mut socket: WebSocket, reason: &'static str) {
    close(&mut socket, 1002, reason).await;
}

/// Serves one socket until it closes. `auth` is the handshake's outcome (`Err`: the message
/// of the `connection_error` to answer `connection_init` with).
pub(super) async fn run<P: Protocol>(
    server: Arc<ServerState>,
    socket: WebSocket,
    auth: Result<(), String>,
    commands: broadcast::Receiver<SocketCommand>,
    protocol: P,
) {
    let mut conn = Connection {
        io: Io {
            server,
            out: Vec::new(),
            pending: FuturesUnordered::new(),
            live: SelectAll::new(),
        },
        socket,
        auth,
        commands: Some(commands),
        acked: false,
        ack_timer: None,
        keep_alive: None,
        protocol,
    };
    tracing::debug!("realtime socket open");
    conn.serve().await;
    tracing::debug!(
        subscriptions = conn.protocol.subscriptions(),
        "realtime socket closed"
    );
}

/// Whether the socket goes on.
#[must_use]
enum Flow {
    Continue,
    End,
}

/// What woke the socket task up.
enum Input<P: Protocol> {
    Frame(Option<Result<Message, axum::Error>>),
    Command(SocketCommand),
    AckDue,
    KeepAlive,
    Step(P::Step),
    Event(P::Event),
}

struct Connection<P: Protocol> {
    io: Io<P>,
    socket: WebSocket,
    auth: Result<(), String>,
    /// `None` once the fault channel closed.
    commands: Option<broadcast::Receiver<SocketCommand>>,
    acked: bool,
    /// Set between `connection_init` and `connection_ack` (the injected ack delay).
    ack_timer: Option<Pin<Box<Sleep>>>,
    /// The single keep-alive timer, started with the ack.
    keep_alive: Option<Interval>,
    protocol: P,
}

async fn next_command(rx: &mut Option<broadcast::Receiver<SocketCommand>>) -> SocketCommand {
    loop {
        let Some(r) = rx else {
            return std::future::pending().await;
        };
        match r.recv().await {
            Ok(c) => return c,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(skipped = n, "realtime socket missed fault commands");
            }
            Err(broadcast::error::RecvError::Closed) => *rx = None,
        }
    }
}

async fn timer(t: &mut Option<Pin<Box<Sleep>>>) {
    match t {
        Some(s) => s.as_mut().await,
        None => std::future::pending().await,
    }
}

async fn tick(i: &mut Option<Interval>) {
    match i {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Sends a close frame and waits briefly for the client's answer.
async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_ok() {
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            while let Some(Ok(_)) = socket.recv().await {}
        })
        .await;
    }
}

impl<P: Protocol> Connection<P> {
    async fn serve(&mut self) {
        loop {
            let input: Input<P> = tokio::select! {
                frame = self.socket.recv() => Input::Frame(frame),
                cmd = next_command(&mut self.commands) => Input::Command(cmd),
                () = timer(&mut self.ack_timer) => Input::AckDue,
                () = tick(&mut self.keep_alive) => Input::KeepAlive,
                Some(step) = self.io.pending.next(), if !self.io.pending.is_empty() => Input::Step(step),
                Some(event) = self.io.live.next(), if !self.io.live.is_empty() => Input::Event(event),
            };
            let flow = match input {
                Input::Frame(None) => Flow::End,
                Input::Frame(Some(Err(e))) => {
                    tracing::debug!(error = %e, "realtime socket read failed");
                    Flow::End
                }
                Input::Frame(Some(Ok(m))) => self.on_frame(m).await,
                Input::Command(c) => self.on_command(c).await,
                Input::AckDue => self.ack(),
                Input::KeepAlive => {
                    if !self.io.server.faults.keep_alives_paused() {
                        self.io.send(json!({"type": "ka"}));
                    }
                    Flow::Continue
                }
                Input::Step(s) => {
                    self.protocol.on_step(&mut self.io, s);
                    Flow::Continue
                }
                Input::Event(e) => {
                    self.protocol.on_event(&mut self.io, e);
                    Flow::Continue
                }
            };
            let flow = match flow {
                Flow::Continue => self.flush().await,
                Flow::End => Flow::End,
            };
            if let Flow::End = flow {
                return;
            }
        }
    }

    /// Sends every queued frame, in order.
    async fn flush(&mut self) -> Flow {
        for frame in std::mem::take(&mut self.io.out) {
            if let Err(e) = self.socket.send(Message::text(frame.to_string())).await {
                tracing::debug!(error = %e, "realtime socket write failed");
                return Flow::End;
            }
        }
        Flow::Continue
    }

    async fn on_command(&mut self, command: SocketCommand) -> Flow {
        match command {
            SocketCommand::Drop => {
                tracing::debug!("dropping the socket (injected fault)");
                Flow::End
            }
            SocketCommand::Close(code, reason) => {
                tracing::debug!(code, "closing the socket (injected fault)");
                if let Flow::Continue = self.flush().await {
                    close(&mut self.socket, code, &reason).await;
                }
                Flow::End
            }
            SocketCommand::Send(frame) => {
                self.io.send(frame);
                Flow::Continue
            }
        }
    }

    async fn on_frame(&mut self, message: Message) -> Flow {
        let text = match message {
            Message::Text(t) => t,
            Message::Close(_) => {
                // tungstenite queued the answer to the close; reading on sends it.
                let _ = tokio::time::timeout(CLOSE_GRACE, async {
                    while let Some(Ok(_)) = self.socket.recv().await {}
                })
                .await;
                return Flow::End;
            }
            Message::Binary(_) => {
                tracing::debug!("ignoring a binary frame");
                return Flow::Continue;
            }
            Message::Ping(_) | Message::Pong(_) => return Flow::Continue,
        };
        let msg = match serde_json::from_str::<Value>(text.as_str()) {
            Ok(m @ Value::Object(_)) => m,
            _ => {
                tracing::debug!("answering a frame that is not a JSON object");
                self.io.send(P::not_an_object());
                return Flow::Continue;
            }
        };
        match (msg.get("type").and_then(Value::as_str), self.acked) {
            (Some("connection_init"), _) => self.on_init().await,
            (_, false) => {
                tracing::debug!("ignoring a message sent before connection_ack");
                Flow::Continue
            }
            (_, true) => {
                self.protocol.on_message(&mut self.io, msg);
                Flow::Continue
            }
        }
    }

    async fn on_init(&mut self) -> Flow {
        if self.acked || self.ack_timer.is_some() {
            tracing::debug!("ignoring a repeated connection_init");
            return Flow::Continue;
        }
        if self.io.server.faults.acks_refused() {
            tracing::debug!("not answering connection_init (injected fault)");
            return Flow::Continue;
        }
        if let Err(message) = &self.auth {
            self.io.send(P::connection_error(message));
            if let Flow::Continue = self.flush().await {
                let (code, reason) = P::close_after_connection_error();
                close(&mut self.socket, code, reason).await;
            }
            return Flow::End;
        }
        let delay = self.io.server.faults.ack_delay();
        if delay.is_zero() {
            return self.ack();
        }
        self.ack_timer = Some(Box::pin(tokio::time::sleep(delay)));
        Flow::Continue
    }

    fn ack(&mut self) -> Flow {
        self.ack_timer = None;
        self.acked = true;
        let settings = &self.io.server.realtime;
        let timeout_ms = u64::try_from(settings.connection_timeout.as_millis()).unwrap_or(u64::MAX);
        // The first tick is immediate: a `ka` follows the ack, as AppSync does.
        let every = settings.keep_alive.max(Duration::from_millis(1));
        let mut ka = tokio::time::interval(every);
        ka.set_missed_tick_behavior(MissedTickBehavior::Delay);
        self.keep_alive = Some(ka);
        self.io.send(P::ack(timeout_ms));
        Flow::Continue
    }
}
