//! One socket: a single task owns the WebSocket and drives everything on it with one `select!`:
//! frames from the client, fault commands, the `connection_ack` timer, the keep-alive timer,
//! the `start`s being authorized and subscribed, and the events of the live subscriptions.
//!
//! Nothing is spawned per subscription: pending `start`s are futures in a `FuturesUnordered`
//! and live subscriptions are streams in a `SelectAll`, both owned by the task, so everything
//! ends when the socket does. Events wait in each subscription's bounded broadcast receiver
//! until the socket can take them.
//!
//! A `start` goes through: unique id, `payload.data` (a JSON string holding `query`,
//! `variables`, `operationName`), `payload.extensions.authorization` (checked like an HTTP
//! request to `POST /graphql` whose body is exactly `data`), the per-socket cap, then the
//! engine (document validation, field auth, `@aws_subscribe`), then `start_ack`.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::future::BoxFuture;
use futures_util::stream::{
    self, AbortHandle, Abortable, BoxStream, FuturesUnordered, SelectAll, StreamExt,
};
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio::time::{Interval, MissedTickBehavior, Sleep};

use crate::auth::{AuthInput, Identity};
use crate::faults::SocketCommand;
use crate::state::ServerState;

use super::handshake::object_pairs;

/// How long to wait for the client's answer to our close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The close code after a `connection_error` (policy violation: the handshake was refused).
const CLOSE_UNAUTHORIZED: u16 = 1008;

/// Accepts a socket that did not offer `graphql-ws`, and closes it with 1002 (protocol error).
pub(super) async fn refuse_protocol(mut socket: WebSocket) {
    close(&mut socket, 1002, "The graphql-ws subprotocol is required.").await;
}

/// Serves one socket until it closes. `auth` is the handshake's outcome (the identity, or
/// the message of the `connection_error` to answer `connection_init` with).
pub(super) async fn run(
    server: Arc<ServerState>,
    socket: WebSocket,
    auth: Result<Identity, String>,
    commands: broadcast::Receiver<SocketCommand>,
) {
    let mut conn = Connection {
        server,
        socket,
        auth,
        commands: Some(commands),
        acked: false,
        ack_timer: None,
        keep_alive: None,
        subs: HashMap::new(),
        next_key: 0,
        pending: FuturesUnordered::new(),
        live: SelectAll::new(),
    };
    tracing::debug!("realtime socket open");
    conn.serve().await;
    tracing::debug!(subscriptions = conn.subs.len(), "realtime socket closed");
}

/// Whether the socket goes on.
#[must_use]
enum Flow {
    Continue,
    End,
}

/// A subscription id in use: `key` tells apart successive uses of the same id.
struct Sub {
    key: u64,
    /// Counted against the cap (it passed authorization).
    counted: bool,
    /// Set once the subscription is live.
    abort: Option<AbortHandle>,
}

/// A parsed `payload.data`.
struct StartRequest {
    data: String,
    query: String,
    variables: Value,
    operation_name: Option<String>,
}

/// A step of a `start` finished.
enum Step {
    /// The authorization object was checked: the identity, or the error message.
    Authorized(String, u64, Result<Box<(Identity, StartRequest)>, String>),
    /// The engine accepted the subscription (and any ack delay passed), or its error entries.
    Subscribed(String, u64, Result<BoxStream<'static, Value>, Vec<Value>>),
}

/// An event of a live subscription; `None` when its stream ended.
struct Event {
    id: String,
    key: u64,
    payload: Option<Value>,
}

/// What woke the socket task up.
enum Input {
    Frame(Option<Result<Message, axum::Error>>),
    Command(SocketCommand),
    AckDue,
    KeepAlive,
    Step(Step),
    Event(Event),
}

struct Connection {
    server: Arc<ServerState>,
    socket: WebSocket,
    auth: Result<Identity, String>,
    /// `None` once the fault channel closed.
    commands: Option<broadcast::Receiver<SocketCommand>>,
    acked: bool,
    /// Set between `connection_init` and `connection_ack` (the injected ack delay).
    ack_timer: Option<Pin<Box<Sleep>>>,
    /// The single keep-alive timer, started with the ack.
    keep_alive: Option<Interval>,
    subs: HashMap<String, Sub>,
    next_key: u64,
    pending: FuturesUnordered<BoxFuture<'static, Step>>,
    live: SelectAll<BoxStream<'static, Event>>,
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

/// An `error` frame; `errors` is usually a list, but AppSync sends an object for some errors.
fn error_frame(id: Option<&str>, errors: Value) -> Value {
    let mut f = json!({"type": "error", "payload": {"errors": errors}});
    if let Some(id) = id {
        f["id"] = json!(id);
    }
    f
}

/// `payload.data`: a JSON string holding `{"query", "variables"?, "operationName"?}`.
fn parse_start(msg: &Value) -> Result<StartRequest, String> {
    let payload = match msg.get("payload") {
        Some(p @ Value::Object(_)) => p,
        _ => return Err("Validation error: the start message has no payload.".to_owned()),
    };
    let Some(data) = payload.get("data").and_then(Value::as_str) else {
        return Err(
            "Validation error: payload.data must be a string holding the JSON request \
             {\"query\", \"variables\"}."
                .to_owned(),
        );
    };
    let Ok(Value::Object(req)) = serde_json::from_str::<Value>(data) else {
        return Err("Validation error: payload.data is not a JSON object.".to_owned());
    };
    let Some(query) = req.get("query").and_then(Value::as_str) else {
        return Err("Validation error: payload.data has no query string.".to_owned());
    };
    let variables = match req.get("variables") {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err("Validation error: variables must be a JSON object.".to_owned()),
    };
    let operation_name = match req.get("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("Validation error: operationName must be a string.".to_owned()),
    };
    Ok(StartRequest {
        data: data.to_owned(),
        query: query.to_owned(),
        variables,
        operation_name,
    })
}

impl Connection {
    async fn serve(&mut self) {
        loop {
            let input = tokio::select! {
                frame = self.socket.recv() => Input::Frame(frame),
                cmd = next_command(&mut self.commands) => Input::Command(cmd),
                () = timer(&mut self.ack_timer) => Input::AckDue,
                () = tick(&mut self.keep_alive) => Input::KeepAlive,
                Some(step) = self.pending.next(), if !self.pending.is_empty() => Input::Step(step),
                Some(event) = self.live.next(), if !self.live.is_empty() => Input::Event(event),
            };
            let flow = match input {
                Input::Frame(None) => Flow::End,
                Input::Frame(Some(Err(e))) => {
                    tracing::debug!(error = %e, "realtime socket read failed");
                    Flow::End
                }
                Input::Frame(Some(Ok(m))) => self.on_frame(m).await,
                Input::Command(c) => self.on_command(c).await,
                Input::AckDue => self.ack().await,
                Input::KeepAlive => {
                    if self.server.faults.keep_alives_paused() {
                        Flow::Continue
                    } else {
                        self.send(json!({"type": "ka"})).await
                    }
                }
                Input::Step(s) => self.on_step(s).await,
                Input::Event(e) => self.on_event(e).await,
            };
            if let Flow::End = flow {
                return;
            }
        }
    }

    async fn send(&mut self, frame: Value) -> Flow {
        match self.socket.send(Message::text(frame.to_string())).await {
            Ok(()) => Flow::Continue,
            Err(e) => {
                tracing::debug!(error = %e, "realtime socket write failed");
                Flow::End
            }
        }
    }

    async fn on_command(&mut self, command: SocketCommand) -> Flow {
        match command {
            SocketCommand::Drop => {
                tracing::debug!("dropping the socket (injected fault)");
                Flow::End
            }
            SocketCommand::Close(code, reason) => {
                tracing::debug!(code, "closing the socket (injected fault)");
                close(&mut self.socket, code, &reason).await;
                Flow::End
            }
            SocketCommand::Send(frame) => self.send(frame).await,
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
                let errors = json!([{"errorType": "BadRequestException",
                    "message": "The message is not a JSON object."}]);
                return self.send(error_frame(None, errors)).await;
            }
        };
        match (msg.get("type").and_then(Value::as_str), self.acked) {
            (Some("connection_init"), _) => self.on_init().await,
            (_, false) => {
                tracing::debug!("ignoring a message sent before connection_ack");
                Flow::Continue
            }
            (Some("start"), true) => self.on_start(&msg).await,
            (Some("stop"), true) => self.on_stop(&msg).await,
            (t, true) => {
                tracing::debug!(r#type = t.unwrap_or(""), "ignoring an unknown message type");
                Flow::Continue
            }
        }
    }

    async fn on_init(&mut self) -> Flow {
        if self.acked || self.ack_timer.is_some() {
            tracing::debug!("ignoring a repeated connection_init");
            return Flow::Continue;
        }
        if self.server.faults.acks_refused() {
            tracing::debug!("not answering connection_init (injected fault)");
            return Flow::Continue;
        }
        if let Err(message) = &self.auth {
            let frame = json!({"type": "connection_error", "payload": {"errors": [{
                "errorType": "UnauthorizedException", "message": message, "errorCode": 401,
            }]}});
            if let Flow::Continue = self.send(frame).await {
                close(
                    &mut self.socket,
                    CLOSE_UNAUTHORIZED,
                    "UnauthorizedException",
                )
                .await;
            }
            return Flow::End;
        }
        let delay = self.server.faults.ack_delay();
        if delay.is_zero() {
            return self.ack().await;
        }
        self.ack_timer = Some(Box::pin(tokio::time::sleep(delay)));
        Flow::Continue
    }

    async fn ack(&mut self) -> Flow {
        self.ack_timer = None;
        self.acked = true;
        let timeout_ms =
            u64::try_from(self.server.realtime.connection_timeout.as_millis()).unwrap_or(u64::MAX);
        let flow = self
            .send(json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": timeout_ms}}))
            .await;
        // The first tick is immediate: a `ka` follows the ack, as AppSync does.
        let every = self
            .server
            .realtime
            .keep_alive
            .max(Duration::from_millis(1));
        let mut ka = tokio::time::interval(every);
        ka.set_missed_tick_behavior(MissedTickBehavior::Delay);
        self.keep_alive = Some(ka);
        flow
    }

    async fn on_start(&mut self, msg: &Value) -> Flow {
        let Some(id) = msg
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            let errors = json!([{"message": "Validation error: the start message has no id."}]);
            return self.send(error_frame(None, errors)).await;
        };
        if self.subs.contains_key(id) {
            let errors = json!([{"errorType": "DuplicatedOperationError",
                "message": format!("Duplicated operation with id {id}")}]);
            return self.send(error_frame(Some(id), errors)).await;
        }
        let req = match parse_start(msg) {
            Ok(r) => r,
            Err(message) => {
                return self
                    .send(error_frame(Some(id), json!([{"message": message}])))
                    .await
            }
        };
        let Some(authorization) = msg["payload"]["extensions"]["authorization"].as_object() else {
            return self
                .send(error_frame(
                    Some(id),
                    unauthorized("Valid authorization header not provided."),
                ))
                .await;
        };
        let headers = object_pairs(authorization);
        let key = self.next_key;
        self.next_key += 1;
        self.subs.insert(
            id.to_owned(),
            Sub {
                key,
                counted: false,
                abort: None,
            },
        );
        let (server, id) = (self.server.clone(), id.to_owned());
        self.pending.push(Box::pin(async move {
            let input = AuthInput {
                headers: &headers,
                method: "POST",
                path: "/graphql",
                query: "",
                body: req.data.as_bytes(),
                query_string: &req.query,
                operation_name: req.operation_name.as_deref(),
                variables: &req.variables,
            };
            let result = server.auth.authenticate_realtime(&input).await;
            Step::Authorized(
                id,
                key,
                result.map(|i| Box::new((i, req))).map_err(|f| f.message),
            )
        }));
        Flow::Continue
    }

    /// Whether `id` is still the `start` with this key (it was not stopped meanwhile).
    fn current(&self, id: &str, key: u64) -> bool {
        self.subs.get(id).is_some_and(|s| s.key == key)
    }

    async fn on_step(&mut self, step: Step) -> Flow {
        match step {
            Step::Authorized(id, key, _) | Step::Subscribed(id, key, _)
                if !self.current(&id, key) =>
            {
                Flow::Continue
            }
            Step::Authorized(id, _, Err(message)) => {
                self.subs.remove(&id);
                tracing::debug!(id, "start refused: unauthorized");
                self.send(error_frame(Some(&id), unauthorized(&message)))
                    .await
            }
            Step::Authorized(id, key, Ok(authorized)) => {
                let (identity, req) = *authorized;
                let max = self.server.realtime.max_subscriptions;
                if self.subs.values().filter(|s| s.counted).count() >= max {
                    self.subs.remove(&id);
                    let errors = json!({"errorType": "MaxSubscriptionsReachedError",
                        "message": format!("Max number of {max} subscriptions reached")});
                    return self.send(error_frame(Some(&id), errors)).await;
                }
                if let Some(s) = self.subs.get_mut(&id) {
                    s.counted = true;
                }
                tracing::debug!(id, mode = %identity.mode, "start authorized");
                let server = self.server.clone();
                self.pending.push(Box::pin(async move {
                    let result = server
                        .engine
                        .subscribe(
                            &req.query,
                            req.variables,
                            req.operation_name.as_deref(),
                            identity,
                        )
                        .await;
                    if result.is_ok() {
                        tokio::time::sleep(server.faults.ack_delay()).await;
                    }
                    Step::Subscribed(id, key, result)
                }));
                Flow::Continue
            }
            Step::Subscribed(id, _, Err(errors)) => {
                self.subs.remove(&id);
                tracing::debug!(id, "start refused by the engine");
                self.send(error_frame(Some(&id), Value::Array(errors)))
                    .await
            }
            Step::Subscribed(id, key, Ok(events)) => {
                let (handle, registration) = AbortHandle::new_pair();
                if let Some(s) = self.subs.get_mut(&id) {
                    s.abort = Some(handle);
                }
                let tag = id.clone();
                let tagged = events
                    .map(move |payload| Event {
                        id: tag.clone(),
                        key,
                        payload: Some(payload),
                    })
                    .chain(stream::once(std::future::ready(Event {
                        id: id.clone(),
                        key,
                        payload: None,
                    })));
                self.live.push(Abortable::new(tagged, registration).boxed());
                tracing::debug!(id, "subscription started");
                self.send(json!({"type": "start_ack", "id": id})).await
            }
        }
    }

    async fn on_event(&mut self, event: Event) -> Flow {
        if !self.current(&event.id, event.key) {
            return Flow::Continue;
        }
        match event.payload {
            Some(payload) => {
                self.send(json!({"type": "data", "id": event.id, "payload": payload}))
                    .await
            }
            None => {
                self.subs.remove(&event.id);
                self.send(json!({"type": "complete", "id": event.id})).await
            }
        }
    }

    async fn on_stop(&mut self, msg: &Value) -> Flow {
        let Some(id) = msg.get("id").and_then(Value::as_str) else {
            tracing::debug!("ignoring a stop without id");
            return Flow::Continue;
        };
        if let Some(sub) = self.subs.remove(id) {
            if let Some(a) = sub.abort {
                a.abort();
            }
        }
        self.send(json!({"type": "complete", "id": id})).await
    }
}

/// The `errors` of a refused `start` authorization.
fn unauthorized(message: &str) -> Value {
    json!([{"errorType": "UnauthorizedException", "message": message}])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_payloads_are_parsed_strictly() {
        let ok =
            json!({"payload": {"data": r#"{"query":"subscription { a }","operationName":"A"}"#}});
        let r = parse_start(&ok).unwrap();
        assert_eq!(r.variables, json!({}));
        assert_eq!(r.operation_name.as_deref(), Some("A"));
        for bad in [
            json!({}),
            json!({"payload": "x"}),
            json!({"payload": {"data": {"query": "subscription { a }"}}}),
            json!({"payload": {"data": "not json"}}),
            json!({"payload": {"data": "{\"variables\":{}}"}}),
            json!({"payload": {"data": "{\"query\":\"q\",\"variables\":[1]}"}}),
        ] {
            let e = parse_start(&bad).err().unwrap();
            assert!(e.starts_with("Validation error"), "{e}");
        }
    }

    #[test]
    fn error_frames_carry_the_id_only_when_known() {
        assert_eq!(
            error_frame(None, json!([])),
            json!({"type": "error", "payload": {"errors": []}})
        );
        assert_eq!(error_frame(Some("a"), json!({}))["id"], "a");
    }
}
