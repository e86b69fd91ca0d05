//! AppSync's GraphQL realtime protocol (`graphql-ws`, `appsync-protocol.md` §2.5–§2.7): `start`,
//! `start_ack`, `data`, `stop`, `complete` and `error` frames, on the shared socket driver.
//!
//! A `start` goes through: unique id, `payload.data` (a JSON string holding `query`,
//! `variables`, `operationName`), `payload.extensions.authorization` (checked like an HTTP
//! request to `POST /graphql` whose body is exactly `data`), the per-socket cap, then the
//! engine (document validation, field auth, `@aws_subscribe`), then `start_ack`.

use std::collections::HashMap;

use futures_util::stream::{self, AbortHandle, Abortable, BoxStream, StreamExt};
use serde_json::{json, Value};

use crate::auth::{AuthInput, Identity};

use super::handshake::object_pairs;
use super::socket::{Io, Protocol};

/// The close code after a `connection_error` (policy violation: the handshake was refused).
const CLOSE_UNAUTHORIZED: u16 = 1008;

/// The `graphql-ws` protocol's state on one socket.
#[derive(Default)]
pub(super) struct GraphQl {
    subs: HashMap<String, Sub>,
    next_key: u64,
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
pub(super) struct StartRequest {
    data: String,
    query: String,
    variables: Value,
    operation_name: Option<String>,
}

/// A step of a `start` finished.
pub(super) enum Step {
    /// The authorization object was checked: the identity, or the error message.
    Authorized(String, u64, Result<Box<(Identity, StartRequest)>, String>),
    /// The engine accepted the subscription (and any ack delay passed), or its error entries.
    Subscribed(String, u64, Result<BoxStream<'static, Value>, Vec<Value>>),
}

/// An event of a live subscription; `None` when its stream ended.
pub(super) struct Event {
    id: String,
    key: u64,
    payload: Option<Value>,
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

/// The `errors` of a refused `start` authorization.
fn unauthorized(message: &str) -> Value {
    json!([{"errorType": "UnauthorizedException", "message": message}])
}

impl Protocol for GraphQl {
    type Step = Step;
    type Event = Event;

    fn ack(connection_timeout_ms: u64) -> Value {
        json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": connection_timeout_ms}})
    }

    fn connection_error(message: &str) -> Value {
        json!({"type": "connection_error", "payload": {"errors": [{
            "errorType": "UnauthorizedException", "message": message, "errorCode": 401,
        }]}})
    }

    fn close_after_connection_error() -> (u16, &'static str) {
        (CLOSE_UNAUTHORIZED, "UnauthorizedException")
    }

    fn not_an_object() -> Value {
        let errors = json!([{"errorType": "BadRequestException",
            "message": "The message is not a JSON object."}]);
        error_frame(None, errors)
    }

    fn on_message(&mut self, io: &mut Io<Self>, msg: Value) {
        match msg.get("type").and_then(Value::as_str) {
            Some("start") => self.on_start(io, &msg),
            Some("stop") => self.on_stop(io, &msg),
            t => tracing::debug!(r#type = t.unwrap_or(""), "ignoring an unknown message type"),
        }
    }

    fn on_step(&mut self, io: &mut Io<Self>, step: Step) {
        match step {
            Step::Authorized(id, key, _) | Step::Subscribed(id, key, _)
                if !self.current(&id, key) => {}
            Step::Authorized(id, _, Err(message)) => {
                self.subs.remove(&id);
                tracing::debug!(id, "start refused: unauthorized");
                io.send(error_frame(Some(&id), unauthorized(&message)));
            }
            Step::Authorized(id, key, Ok(authorized)) => {
                let (identity, req) = *authorized;
                let max = io.server.realtime.max_subscriptions;
                if self.subs.values().filter(|s| s.counted).count() >= max {
                    self.subs.remove(&id);
                    let errors = json!({"errorType": "MaxSubscriptionsReachedError",
                        "message": format!("Max number of {max} subscriptions reached")});
                    io.send(error_frame(Some(&id), errors));
                    return;
                }
                if let Some(s) = self.subs.get_mut(&id) {
                    s.counted = true;
                }
                tracing::debug!(id, mode = %identity.mode, "start authorized");
                let server = io.server.clone();
                io.wait(Box::pin(async move {
                    let result = match &server.engine {
                        Some(engine) => {
                            engine
                                .subscribe(
                                    &req.query,
                                    req.variables,
                                    req.operation_name.as_deref(),
                                    identity,
                                )
                                .await
                        }
                        None => Err(vec![json!({"message": "This server has no GraphQL API."})]),
                    };
                    if result.is_ok() {
                        tokio::time::sleep(server.faults.ack_delay()).await;
                    }
                    Step::Subscribed(id, key, result)
                }));
            }
            Step::Subscribed(id, _, Err(errors)) => {
                self.subs.remove(&id);
                tracing::debug!(id, "start refused by the engine");
                io.send(error_frame(Some(&id), Value::Array(errors)));
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
                io.listen(Abortable::new(tagged, registration).boxed());
                tracing::debug!(id, "subscription started");
                io.send(json!({"type": "start_ack", "id": id}));
            }
        }
    }

    fn on_event(&mut self, io: &mut Io<Self>, event: Event) {
        if !self.current(&event.id, event.key) {
            return;
        }
        match event.payload {
            Some(payload) => {
                io.send(json!({"type": "data", "id": event.id, "payload": payload}));
            }
            None => {
                self.subs.remove(&event.id);
                io.send(json!({"type": "complete", "id": event.id}));
            }
        }
    }

    fn subscriptions(&self) -> usize {
        self.subs.len()
    }
}

impl GraphQl {
    fn on_start(&mut self, io: &mut Io<Self>, msg: &Value) {
        let Some(id) = msg
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            let errors = json!([{"message": "Validation error: the start message has no id."}]);
            io.send(error_frame(None, errors));
            return;
        };
        if self.subs.contains_key(id) {
            let errors = json!([{"errorType": "DuplicatedOperationError",
                "message": format!("Duplicated operation with id {id}")}]);
            io.send(error_frame(Some(id), errors));
            return;
        }
        let req = match parse_start(msg) {
            Ok(r) => r,
            Err(message) => {
                io.send(error_frame(Some(id), json!([{"message": message}])));
                return;
            }
        };
        let Some(authorization) = msg["payload"]["extensions"]["authorization"].as_object() else {
            io.send(error_frame(
                Some(id),
                unauthorized("Valid authorization header not provided."),
            ));
            return;
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
        let (server, id) = (io.server.clone(), id.to_owned());
        io.wait(Box::pin(async move {
            let input = AuthInput {
                headers: &headers,
                method: "POST",
                path: "/graphql",
                query: "",
                body: req.data.as_bytes(),
                query_string: &req.query,
                operation_name: req.operation_name.as_deref(),
                variables: &req.variables,
                channel: None,
            };
            let result = server.auth.authenticate_realtime(&input).await;
            Step::Authorized(
                id,
                key,
                result.map(|i| Box::new((i, req))).map_err(|f| f.message),
            )
        }));
    }

    /// Whether `id` is still the `start` with this key (it was not stopped meanwhile).
    fn current(&self, id: &str, key: u64) -> bool {
        self.subs.get(id).is_some_and(|s| s.key == key)
    }

    fn on_stop(&mut self, io: &mut Io<Self>, msg: &Value) {
        let Some(id) = msg.get("id").and_then(Value::as_str) else {
            tracing::debug!("ignoring a stop without id");
            return;
        };
        if let Some(sub) = self.subs.remove(id) {
            if let Some(a) = sub.abort {
                a.abort();
            }
        }
        io.send(json!({"type": "complete", "id": id}));
    }
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
