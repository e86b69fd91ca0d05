//! The AppSync Events realtime protocol (`aws-appsync-event-ws`, "Understanding the Event API
//! WebSocket protocol"), on the shared socket driver.
//!
//! Client messages, each with an `id` matching `^[a-zA-Z0-9-_+]{1,128}$` that no other
//! operation on the socket is using:
//! - `subscribe` (`channel`, optionally ending in `/*`; `authorization`, checked like
//!   `POST /event` with body `{"channel":…}`) → `subscribe_success`, or `subscribe_error`; then
//!   `data` frames `{"type":"data","id","event":"<json string>"}`, and a `broadcast_error` if
//!   the subscriber was too slow and missed events;
//! - `unsubscribe` → `unsubscribe_success`, or `unsubscribe_error` (`UnknownOperationError`)
//!   for an id with no subscription;
//! - `publish` (`channel`, `events`: 1–5 strings holding JSON, `authorization` over
//!   `{"channel","events"}`) → `publish_success` with `successful` and `failed`, or
//!   `publish_error`; at most [`crate::state::RealtimeSettings`]'s publish rate per socket.
//!
//! Errors are `errors: [{"errorType", "message"}]` at the top level of the frame (where Amplify
//! JS and Amplify Android read them); see [`crate::events::RefusalKind`] for the types. Any
//! other message type is answered with `error` (`UnsupportedOperation`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::stream::{AbortHandle, Abortable, StreamExt};
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::auth::AuthInput;
use crate::events::channel::ChannelPattern;
use crate::events::{
    subscribe_signed_body, Action, PublishRequest, Published, Refusal, RefusalKind,
};
use crate::state::ServerState;

use super::handshake::object_pairs;
use super::socket::{Io, Protocol};

/// The longest operation id.
const MAX_ID_CHARS: usize = 128;

/// The close code after a `connection_error`: AppSync Events closes normally even then
/// (Amplify Android's notes: "Events api sends normal close code even in failure").
const CLOSE_AFTER_ERROR: u16 = 1000;

/// The Events protocol's state on one socket.
pub(super) struct EventsSocket {
    subs: HashMap<String, Sub>,
    /// Publishes being authorized.
    publishes: HashSet<String>,
    next_key: u64,
    bucket: Option<TokenBucket>,
}

/// A subscription id in use: `key` tells apart successive uses of the same id.
struct Sub {
    key: u64,
    /// Counted against the cap (it passed authorization).
    counted: bool,
    /// Set once the subscription is live.
    abort: Option<AbortHandle>,
}

/// A step finished.
pub(super) enum Step {
    /// A `subscribe` was authorized (and any ack delay passed), or refused.
    Subscribed(String, u64, Result<ChannelPattern, Refusal>),
    /// A `publish` was authorized and done (its `successful`/`failed`), or refused.
    Published(String, Result<Value, Refusal>),
}

/// What a live subscription produced.
pub(super) struct Event {
    id: String,
    key: u64,
    item: Item,
}

enum Item {
    Data(Arc<Published>),
    /// This many events were dropped because the socket did not keep up.
    Missed(u64),
}

/// Publishes allowed per second on one socket, with a burst of as many.
struct TokenBucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    fn new(per_second: u32) -> Self {
        TokenBucket {
            rate: f64::from(per_second),
            tokens: f64::from(per_second),
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.saturating_duration_since(self.at).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.rate);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Whether `id` is a valid operation id: `^[a-zA-Z0-9-_+]{1,128}$`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+'))
}

/// A `<kind>_error` frame (with the id when there is one).
fn error_frame(kind: &str, id: Option<&str>, refusal: &Refusal) -> Value {
    let mut f = json!({"type": kind, "errors": refusal.socket_errors()});
    if let Some(id) = id {
        f["id"] = json!(id);
    }
    f
}

/// An authorization object as header pairs, or the refusal of a message without one.
fn authorization(msg: &Value) -> Result<Vec<(String, String)>, Refusal> {
    match msg.get("authorization") {
        Some(Value::Object(o)) => Ok(object_pairs(o)),
        _ => Err(Refusal::new(
            RefusalKind::Auth {
                status: 401,
                error_type: "UnauthorizedException",
            },
            "Valid authorization header not provided.",
        )),
    }
}

impl EventsSocket {
    pub(super) fn new(server: &ServerState) -> Self {
        EventsSocket {
            subs: HashMap::new(),
            publishes: HashSet::new(),
            next_key: 0,
            bucket: server.realtime.events_publish_rate.map(TokenBucket::new),
        }
    }

    /// The id of an operation message: a valid one not in use, or the refusal (and the id to
    /// answer with, if the message had a string id).
    fn operation_id<'m>(&self, msg: &'m Value) -> Result<&'m str, (Option<&'m str>, Refusal)> {
        let Some(id) = msg.get("id").and_then(Value::as_str) else {
            return Err((None, Refusal::invalid("The message has no id.")));
        };
        if !valid_id(id) {
            return Err((
                Some(id),
                Refusal::invalid(format!(
                    "Invalid id {id:?}: an id is 1 to {MAX_ID_CHARS} letters, digits, '-', '_' or '+'."
                )),
            ));
        }
        if self.subs.contains_key(id) || self.publishes.contains(id) {
            return Err((
                Some(id),
                Refusal::new(
                    RefusalKind::Duplicate,
                    format!("Duplicated operation with id {id}"),
                ),
            ));
        }
        Ok(id)
    }

    /// Whether `id` is still the subscription with this key (not unsubscribed meanwhile).
    fn current(&self, id: &str, key: u64) -> bool {
        self.subs.get(id).is_some_and(|s| s.key == key)
    }

    fn on_subscribe(&mut self, io: &mut Io<Self>, msg: &Value) {
        let id = match self.operation_id(msg) {
            Ok(id) => id.to_owned(),
            Err((id, refusal)) => {
                io.send(error_frame("subscribe_error", id, &refusal));
                return;
            }
        };
        let checked = (|| {
            let raw = match msg.get("channel") {
                Some(Value::String(c)) => c.clone(),
                _ => return Err(Refusal::invalid("The channel must be a string.")),
            };
            let pattern = ChannelPattern::parse(&raw).map_err(Refusal::invalid)?;
            namespace_exists(&io.server, pattern.namespace())?;
            Ok((raw, pattern, authorization(msg)?))
        })();
        let (raw, pattern, headers) = match checked {
            Ok(c) => c,
            Err(refusal) => {
                io.send(error_frame("subscribe_error", Some(&id), &refusal));
                return;
            }
        };
        let key = self.next_key;
        self.next_key += 1;
        self.subs.insert(
            id.clone(),
            Sub {
                key,
                counted: false,
                abort: None,
            },
        );
        let server = io.server.clone();
        io.wait(Box::pin(async move {
            let body = subscribe_signed_body(&raw);
            let input = event_input(&headers, body.as_bytes(), &raw);
            let result = match &server.events {
                Some(events) => events
                    .authorize(
                        &server.auth,
                        pattern.namespace(),
                        Action::Subscribe,
                        &input,
                        true,
                    )
                    .await
                    .map(|_| pattern),
                None => Err(no_event_api()),
            };
            if result.is_ok() {
                tokio::time::sleep(server.faults.ack_delay()).await;
            }
            Step::Subscribed(id, key, result)
        }));
    }

    fn on_publish(&mut self, io: &mut Io<Self>, msg: &Value) {
        let id = match self.operation_id(msg) {
            Ok(id) => id.to_owned(),
            Err((id, refusal)) => {
                io.send(error_frame("publish_error", id, &refusal));
                return;
            }
        };
        let checked = (|| {
            if self.bucket.as_mut().is_some_and(|b| !b.take()) {
                return Err(Refusal::new(
                    RefusalKind::RateLimited,
                    "Rate limit exceeded",
                ));
            }
            let request = PublishRequest::parse(msg.get("channel"), msg.get("events"))?;
            namespace_exists(&io.server, request.channel.namespace())?;
            Ok((request, authorization(msg)?))
        })();
        let (request, headers) = match checked {
            Ok(c) => c,
            Err(refusal) => {
                io.send(error_frame("publish_error", Some(&id), &refusal));
                return;
            }
        };
        self.publishes.insert(id.clone());
        let server = io.server.clone();
        io.wait(Box::pin(async move {
            let body = request.signed_body();
            let raw = request.raw_channel.clone();
            let input = event_input(&headers, body.as_bytes(), &raw);
            let result = match &server.events {
                Some(events) => events
                    .authorize(
                        &server.auth,
                        request.channel.namespace(),
                        Action::Publish,
                        &input,
                        true,
                    )
                    .await
                    .map(|_| events.publish(request)),
                None => Err(no_event_api()),
            };
            Step::Published(id, result)
        }));
    }

    fn on_unsubscribe(&mut self, io: &mut Io<Self>, msg: &Value) {
        let Some(id) = msg.get("id").and_then(Value::as_str) else {
            let refusal = Refusal::invalid("The message has no id.");
            io.send(error_frame("unsubscribe_error", None, &refusal));
            return;
        };
        match self.subs.remove(id) {
            Some(sub) => {
                if let Some(a) = sub.abort {
                    a.abort();
                }
                io.send(json!({"type": "unsubscribe_success", "id": id}));
            }
            None => {
                let refusal = Refusal::new(
                    RefusalKind::UnknownOperation,
                    format!("Unknown operation id {id}"),
                );
                io.send(error_frame("unsubscribe_error", Some(id), &refusal));
            }
        }
    }
}

/// Whether the namespace exists (or the refusal).
fn namespace_exists(server: &ServerState, name: &str) -> Result<(), Refusal> {
    match &server.events {
        Some(events) => events.namespace(name).map(|_| ()),
        None => Err(no_event_api()),
    }
}

fn no_event_api() -> Refusal {
    Refusal::new(RefusalKind::NotFound, "This server has no Event API.")
}

/// A socket message's authorization as an HTTP request for the auth checks: `POST /event`
/// with `body` (what IAM signs, §2.9).
fn event_input<'a>(
    headers: &'a [(String, String)],
    body: &'a [u8],
    channel: &'a str,
) -> AuthInput<'a> {
    static NULL: Value = Value::Null;
    AuthInput {
        headers,
        method: "POST",
        path: "/event",
        query: "",
        body,
        query_string: "",
        operation_name: None,
        variables: &NULL,
        channel: Some(channel),
    }
}

/// A subscription's events: those published to a matching channel, and the count of any it
/// missed.
fn subscription_events(
    rx: broadcast::Receiver<Arc<Published>>,
    pattern: ChannelPattern,
    id: String,
    key: u64,
) -> impl futures_util::Stream<Item = Event> + Send + 'static {
    futures_util::stream::unfold(rx, move |mut rx| {
        let (pattern, id) = (pattern.clone(), id.clone());
        async move {
            loop {
                let item = match rx.recv().await {
                    Ok(p) if pattern.matches(&p.channel) => Item::Data(p),
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(n)) => Item::Missed(n),
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                return Some((Event { id, key, item }, rx));
            }
        }
    })
}

impl Protocol for EventsSocket {
    type Step = Step;
    type Event = Event;

    fn ack(connection_timeout_ms: u64) -> Value {
        json!({"type": "connection_ack", "connectionTimeoutMs": connection_timeout_ms})
    }

    fn connection_error(message: &str) -> Value {
        json!({"type": "connection_error", "errors": [{
            "errorType": "UnauthorizedException", "message": message,
        }]})
    }

    fn close_after_connection_error() -> (u16, &'static str) {
        (CLOSE_AFTER_ERROR, "UnauthorizedException")
    }

    fn not_an_object() -> Value {
        let refusal = Refusal::invalid("The message is not a JSON object.");
        json!({"type": "error", "errors": refusal.socket_errors()})
    }

    fn on_message(&mut self, io: &mut Io<Self>, msg: Value) {
        match msg.get("type").and_then(Value::as_str) {
            Some("subscribe") => self.on_subscribe(io, &msg),
            Some("publish") => self.on_publish(io, &msg),
            Some("unsubscribe") => self.on_unsubscribe(io, &msg),
            t => {
                let t = t.unwrap_or("");
                tracing::debug!(r#type = t, "refusing an unknown message type");
                let mut f = json!({"type": "error", "errors": [{
                    "errorType": "UnsupportedOperation",
                    "message": format!("Operation not supported: {t:?}"),
                }]});
                if let Some(id) = msg.get("id").and_then(Value::as_str) {
                    f["id"] = json!(id);
                }
                io.send(f);
            }
        }
    }

    fn on_step(&mut self, io: &mut Io<Self>, step: Step) {
        match step {
            Step::Subscribed(id, key, _) if !self.current(&id, key) => {}
            Step::Subscribed(id, _, Err(refusal)) => {
                self.subs.remove(&id);
                tracing::debug!(
                    id,
                    error_type = refusal.socket_error_type(),
                    "subscribe refused"
                );
                io.send(error_frame("subscribe_error", Some(&id), &refusal));
            }
            Step::Subscribed(id, key, Ok(pattern)) => {
                let max = io.server.realtime.max_subscriptions;
                if self.subs.values().filter(|s| s.counted).count() >= max {
                    self.subs.remove(&id);
                    let refusal = Refusal::new(
                        RefusalKind::MaxSubscriptions,
                        format!("Max number of {max} subscriptions reached"),
                    );
                    io.send(error_frame("subscribe_error", Some(&id), &refusal));
                    return;
                }
                let Some(events) = &io.server.events else {
                    return;
                };
                // Listening starts before the success frame: every event published after
                // the client reads it reaches the subscription.
                let rx = events.listen();
                let (handle, registration) = AbortHandle::new_pair();
                if let Some(s) = self.subs.get_mut(&id) {
                    s.counted = true;
                    s.abort = Some(handle);
                }
                let stream = subscription_events(rx, pattern, id.clone(), key);
                io.listen(Abortable::new(stream, registration).boxed());
                tracing::debug!(id, "subscription started");
                io.send(json!({"type": "subscribe_success", "id": id}));
            }
            Step::Published(id, result) => {
                self.publishes.remove(&id);
                match result {
                    Ok(mut outcome) => {
                        outcome["type"] = json!("publish_success");
                        outcome["id"] = json!(id);
                        io.send(outcome);
                    }
                    Err(refusal) => {
                        tracing::debug!(
                            id,
                            error_type = refusal.socket_error_type(),
                            "publish refused"
                        );
                        io.send(error_frame("publish_error", Some(&id), &refusal));
                    }
                }
            }
        }
    }

    fn on_event(&mut self, io: &mut Io<Self>, event: Event) {
        if !self.current(&event.id, event.key) {
            return;
        }
        match event.item {
            Item::Data(p) => {
                io.send(json!({"type": "data", "id": event.id, "event": p.event}));
            }
            Item::Missed(n) => {
                tracing::debug!(id = event.id, missed = n, "subscriber too slow");
                io.send(json!({"type": "broadcast_error", "id": event.id, "errors": [{
                    "errorType": "MessageProcessingError",
                    "message": format!("{n} events were not delivered: the subscriber did not keep up."),
                }]}));
            }
        }
    }

    fn subscriptions(&self) -> usize {
        self.subs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_appsyncs_pattern() {
        for ok in [
            "a",
            "A-b_c+9",
            &"x".repeat(128),
            "2cbbb30e-8c3e-4a6e-9b3c-1b2c3d4e5f60",
        ] {
            assert!(valid_id(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "é", "a.b", &"x".repeat(129)] {
            assert!(!valid_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_publish_rate_refills_over_time() {
        let mut b = TokenBucket::new(2);
        assert!(b.take());
        assert!(b.take());
        assert!(!b.take());
        b.at -= std::time::Duration::from_millis(600);
        assert!(b.take(), "a token back after half a second");
        assert!(!b.take());
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_how_many_events_it_missed() {
        use crate::events::channel::Channel;
        let (tx, rx) = broadcast::channel(2);
        let pattern = ChannelPattern::parse("/ns/*").unwrap();
        let events = subscription_events(rx, pattern, "s".into(), 7);
        futures_util::pin_mut!(events);
        for (i, channel) in ["/ns/a", "/other/a", "/ns/b", "/ns/c", "/ns/d"]
            .iter()
            .enumerate()
        {
            tx.send(Arc::new(Published {
                channel: Channel::parse(channel).unwrap(),
                event: i.to_string(),
            }))
            .unwrap();
        }
        let first = events.next().await.unwrap();
        assert!(matches!(first.item, Item::Missed(3)));
        assert_eq!((first.id.as_str(), first.key), ("s", 7));
        for want in ["3", "4"] {
            match events.next().await.unwrap().item {
                Item::Data(p) => assert_eq!(p.event, want),
                Item::Missed(n) => panic!("missed {n}"),
            }
        }
        drop(tx);
        assert!(events.next().await.is_none(), "the bus closed");
    }

    #[test]
    fn error_frames_have_errors_at_the_top_level() {
        let r = Refusal::new(RefusalKind::UnknownOperation, "m");
        assert_eq!(
            error_frame("unsubscribe_error", Some("x"), &r),
            json!({"type": "unsubscribe_error", "id": "x",
                "errors": [{"errorType": "UnknownOperationError", "message": "m"}]})
        );
        assert!(error_frame("subscribe_error", None, &r).get("id").is_none());
    }
}
