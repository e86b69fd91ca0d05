//! The frames of AppSync's realtime protocols: GraphQL's `graphql-ws` (`appsync-protocol.md`
//! §2.5–§2.7, here) and Events' `aws-appsync-event-ws` (§2.9, in `events.rs`), behind one
//! [`Dialect`]: the client's messages, the server's messages parsed leniently into one
//! [`ServerMessage`], and the classification of error entries.

mod events;

pub(crate) use events::{delivery, publish, signed_publish_body, Delivery, PublishOutcome};

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::operation::GraphQLError;

/// The subprotocol AppSync speaks.
pub(crate) const SUBPROTOCOL: &str = "graphql-ws";

/// The authorization "header" object of a handshake or a `start` (§2.2). It holds credentials:
/// its `Debug` shows the keys only.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct AuthObject(pub(crate) Map<String, Value>);

impl AuthObject {
    /// Sets a key (a header name) to a string value.
    pub(crate) fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), Value::String(value.into()));
    }

    /// The value of a key, compared case-insensitively (header names are).
    #[cfg(test)]
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| v.as_str())
    }

    /// The compact JSON text.
    pub(crate) fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

impl fmt::Debug for AuthObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthObject")
            .field("keys", &self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// `{"type":"connection_init"}`.
pub(crate) fn connection_init() -> String {
    r#"{"type":"connection_init"}"#.to_owned()
}

/// A `start`: `payload.data` is the JSON *string* built once (and, for IAM, signed as is).
pub(crate) fn start(id: &str, data: &str, authorization: &AuthObject) -> String {
    json!({
        "id": id,
        "type": "start",
        "payload": {
            "data": data,
            "extensions": {"authorization": Value::Object(authorization.0.clone())},
        },
    })
    .to_string()
}

/// A `stop`.
pub(crate) fn stop(id: &str) -> String {
    json!({"type": "stop", "id": id}).to_string()
}

/// Which realtime protocol a socket speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Dialect {
    /// GraphQL subscriptions: `graphql-ws`, `start`/`stop`.
    GraphQL,
    /// AppSync Events: `aws-appsync-event-ws`, `subscribe`/`unsubscribe`/`publish`.
    Events,
}

impl Dialect {
    /// The subprotocol the server must select.
    pub(crate) fn subprotocol(self) -> &'static str {
        match self {
            Dialect::GraphQL => SUBPROTOCOL,
            Dialect::Events => events::SUBPROTOCOL,
        }
    }

    /// The frame that starts a subscription: GraphQL's `start` over the `data` string, or
    /// Events' `subscribe` to the channel.
    pub(crate) fn start(self, id: &str, target: &str, authorization: &AuthObject) -> String {
        match self {
            Dialect::GraphQL => start(id, target, authorization),
            Dialect::Events => events::subscribe(id, target, authorization),
        }
    }

    /// The frame that stops one: `stop` or `unsubscribe`.
    pub(crate) fn stop(self, id: &str) -> String {
        match self {
            Dialect::GraphQL => stop(id),
            Dialect::Events => events::unsubscribe(id),
        }
    }

    /// What IAM signs for a subscription's start: the `data` string itself, or
    /// `{"channel":…}`.
    pub(crate) fn signed_start_body(self, target: &str) -> std::borrow::Cow<'_, str> {
        match self {
            Dialect::GraphQL => std::borrow::Cow::Borrowed(target),
            Dialect::Events => std::borrow::Cow::Owned(json!({ "channel": target }).to_string()),
        }
    }

    /// Parses a server frame.
    pub(crate) fn parse(self, text: &str) -> Result<ServerMessage, BadFrame> {
        match self {
            Dialect::GraphQL => parse(text),
            Dialect::Events => events::parse(text),
        }
    }
}

/// A message from the server.
#[derive(Debug, PartialEq)]
pub(crate) enum ServerMessage {
    /// `connection_ack`, with the keep-alive timeout when it says one (`connectionTimeoutMs`,
    /// or the simulator's `connectionTimeout`).
    ConnectionAck { timeout: Option<Duration> },
    /// `ka`.
    KeepAlive,
    /// `start_ack` (the simulator adds `payload: {}`).
    StartAck { id: String },
    /// `data`: the frame's `payload` is a GraphQL response (`data`, maybe `errors`), decoded
    /// by the reader from the frame's text (see [`data_id`]).
    Data { id: String },
    /// `error`, with or without an id, `errors` normalised to a list.
    Error {
        id: Option<String>,
        errors: Vec<GraphQLError>,
    },
    /// `complete`.
    Complete { id: String },
    /// `connection_error`.
    ConnectionError { errors: Vec<GraphQLError> },
    /// AppSync's untyped `{"message": "Subscription complete."}`: the server invalidated the
    /// connection's subscriptions (and closes it).
    SubscriptionComplete,
    /// Events: an event could not be broadcast to this subscription (`broadcast_error`); the
    /// subscription goes on.
    BroadcastError {
        id: String,
        errors: Vec<GraphQLError>,
    },
    /// Events: the answer to a `publish` (`publish_success`, or `publish_error`).
    Published { id: String, outcome: PublishOutcome },
    /// Anything else (unknown types): ignored.
    Other,
}

/// Why a text frame is not a server message.
#[derive(Debug, PartialEq)]
pub(crate) struct BadFrame(pub(crate) &'static str);

pub(super) fn id_of(obj: &Map<String, Value>) -> Option<String> {
    match obj.get("id") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The fast path for the frame that comes by the thousand: when `text` is a `data` frame, its
/// (non-empty, string) id, borrowed from `text`. A scan of the top-level keys that stops as
/// soon as it knows `type` and `id` (AppSync sends them first): nothing of the payload is
/// parsed or even read, and the frame is decoded once, by the reader, straight into its type
/// ([`DataFrame`]) — a malformed payload is that reader's decoding error.
///
/// `None` means "not that, or not plain": escapes in a key or value, a non-string `type` or
/// `id`, anything unexpected. [`parse`] then says what the frame is, with the same leniency as
/// ever.
pub(crate) fn data_id(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let (mut ty, mut id): (Option<&str>, Option<&str>) = (None, None);
    loop {
        i = skip_ws(b, i);
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let (key, after) = plain_string(text, i)?;
        i = skip_ws(b, after);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        match key {
            "type" | "id" => {
                let (value, after) = plain_string(text, i)?;
                i = after;
                if key == "type" {
                    if value != "data" {
                        return None;
                    }
                    ty = Some(value);
                } else {
                    id = Some(value);
                }
                if let (Some(_), Some(id)) = (ty, id) {
                    return (!id.is_empty()).then_some(id);
                }
            }
            _ => i = skip_value(b, i)?,
        }
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => i += 1,
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The string starting at `b[i] == '"'` when it has no escapes, and the index after it.
fn plain_string(text: &str, i: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let len = b[i + 1..].iter().position(|&c| c == b'"' || c == b'\\')?;
    let end = i + 1 + len;
    // An escape: the slow path unescapes.
    if b[end] == b'\\' {
        return None;
    }
    // Both ends are ASCII quotes, so these are character boundaries.
    Some((text.get(i + 1..end)?, end + 1))
}

/// The index after the JSON value starting at `i` (strings, objects and arrays skipped by their
/// brackets and quotes, not validated: the reader's decode validates).
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        match *b.get(i)? {
            b'"' => {
                i += 1;
                loop {
                    match *b.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
                i += 1;
            }
            b',' if depth == 0 => return Some(i),
            _ => i += 1,
        }
        if depth == 0 && matches!(b.get(i), Some(b',' | b'}')) {
            return Some(i);
        }
    }
}

/// A `data` frame as its reader decodes it: only the payload, into a [`Response`] of its type.
///
/// [`Response`]: crate::operation::Response
#[derive(Deserialize)]
#[serde(bound = "T: serde::de::DeserializeOwned")]
pub(crate) struct DataFrame<T> {
    pub(crate) payload: crate::operation::Response<T>,
}

/// Parses a text frame. Unknown types are [`ServerMessage::Other`]; a frame that is not a JSON
/// object, or a known type missing its id, is a [`BadFrame`].
pub(crate) fn parse(text: &str) -> Result<ServerMessage, BadFrame> {
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text) else {
        return Err(BadFrame("not a JSON object"));
    };
    let ty = obj.get("type").and_then(Value::as_str);
    let need_id = || id_of(&obj).ok_or(BadFrame("a frame that needs an id has none"));
    Ok(match ty {
        Some("connection_ack") => ServerMessage::ConnectionAck {
            timeout: ack_timeout(&obj),
        },
        Some("ka") => ServerMessage::KeepAlive,
        Some("start_ack") => ServerMessage::StartAck { id: need_id()? },
        Some("data") => ServerMessage::Data { id: need_id()? },
        Some("complete") => ServerMessage::Complete { id: need_id()? },
        Some("error") => ServerMessage::Error {
            id: id_of(&obj),
            errors: errors_of(obj.get("payload")),
        },
        Some("connection_error") => ServerMessage::ConnectionError {
            errors: errors_of(obj.get("payload")),
        },
        None if obj.get("message").and_then(Value::as_str) == Some("Subscription complete.") => {
            ServerMessage::SubscriptionComplete
        }
        _ => ServerMessage::Other,
    })
}

/// The keep-alive timeout a `connection_ack` announces: `payload.connectionTimeoutMs`
/// (GraphQL), the simulator's `payload.connectionTimeout`, or a top-level
/// `connectionTimeoutMs` (Events).
pub(super) fn ack_timeout(obj: &Map<String, Value>) -> Option<Duration> {
    let payload = obj.get("payload");
    let ms = payload
        .and_then(|p| {
            p.get("connectionTimeoutMs")
                .or_else(|| p.get("connectionTimeout"))
        })
        .or_else(|| obj.get("connectionTimeoutMs"))
        .and_then(Value::as_f64)
        .filter(|ms| ms.is_finite() && *ms > 0.0)?;
    Some(Duration::from_millis(ms.min(u64::MAX as f64) as u64).min(super::options::LONGEST))
}

/// The error entries of an `error` / `connection_error` payload: `errors` as a list or as a
/// single object, plus the legacy top-level `payload.errorType` / `payload.message` (§2.7).
/// Never empty: a payload with nothing usable gives one entry saying so.
pub(crate) fn errors_of(payload: Option<&Value>) -> Vec<GraphQLError> {
    let mut out = Vec::new();
    let entry = |v: &Value| -> Option<GraphQLError> {
        match v {
            Value::Object(_) => serde_json::from_value(v.clone()).ok(),
            Value::String(s) => Some(plain_error(s, None)),
            _ => None,
        }
    };
    if let Some(p) = payload {
        match p.get("errors") {
            Some(Value::Array(list)) => out.extend(list.iter().filter_map(entry)),
            Some(v @ Value::Object(_)) => out.extend(entry(v)),
            _ => {}
        }
        if out.is_empty() {
            let ty = p.get("errorType").and_then(Value::as_str);
            let message = p.get("message").and_then(Value::as_str);
            if ty.is_some() || message.is_some() {
                let mut e = plain_error(message.or(ty).unwrap_or_default(), ty);
                if let Some(code) = p.get("errorCode") {
                    e.extra.insert("errorCode".to_owned(), code.clone());
                }
                out.push(e);
            }
        }
    }
    if out.is_empty() {
        out.push(plain_error(
            "the server sent an error frame with no errors",
            None,
        ));
    }
    out
}

fn plain_error(message: &str, error_type: Option<&str>) -> GraphQLError {
    GraphQLError::plain(message, error_type.map(str::to_owned))
}

fn types(errors: &[GraphQLError]) -> impl Iterator<Item = &str> {
    errors.iter().filter_map(|e| e.error_type.as_deref())
}

/// The subscription cap of the connection is reached (`MaxSubscriptionsReachedError`, or the
/// legacy `…Exception`).
pub(crate) fn is_max_subscriptions(errors: &[GraphQLError]) -> bool {
    types(errors).any(|t| t.starts_with("MaxSubscriptionsReached"))
}

/// The server throttles (`LimitExceededError`).
pub(crate) fn is_limit_exceeded(errors: &[GraphQLError]) -> bool {
    types(errors).any(|t| t.starts_with("LimitExceeded"))
}

fn error_code(e: &GraphQLError) -> Option<u64> {
    match e.extra.get("errorCode") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
}

/// The credentials were refused (expired token, bad signature): `UnauthorizedException` (also
/// the legacy `…#UnauthorizedException`), `BadRequestException`, or `errorCode` 400/401/403.
/// Not the field-level `Unauthorized`, which is about the operation, not the credentials.
pub(crate) fn is_credentials_refusal(errors: &[GraphQLError]) -> bool {
    errors.iter().any(|e| {
        let t = e.error_type.as_deref().unwrap_or_default();
        t.contains("UnauthorizedException")
            || t.contains("BadRequestException")
            || matches!(error_code(e), Some(400 | 401 | 403))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(v: Value) -> ServerMessage {
        parse(&v.to_string()).unwrap()
    }

    #[test]
    fn acks_read_both_timeout_names() {
        assert_eq!(
            parse_ok(json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}})),
            ServerMessage::ConnectionAck {
                timeout: Some(Duration::from_secs(300))
            }
        );
        assert_eq!(
            parse_ok(json!({"type": "connection_ack", "payload": {"connectionTimeout": 1500}})),
            ServerMessage::ConnectionAck {
                timeout: Some(Duration::from_millis(1500))
            }
        );
        assert_eq!(
            parse_ok(json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": 1e300}})),
            ServerMessage::ConnectionAck {
                timeout: Some(super::super::options::LONGEST)
            }
        );
        assert_eq!(
            parse_ok(json!({"type": "connection_ack"})),
            ServerMessage::ConnectionAck { timeout: None }
        );
        assert_eq!(
            parse_ok(json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": -1}})),
            ServerMessage::ConnectionAck { timeout: None }
        );
    }

    #[test]
    fn data_frames_take_the_fast_path_and_decode_from_the_text() {
        let text = json!({"type": "data", "id": "a-1", "payload": {"data": {"onX": {"n": 1}}}})
            .to_string();
        assert_eq!(data_id(&text), Some("a-1"));
        assert_eq!(
            parse(&text).unwrap(),
            ServerMessage::Data { id: "a-1".into() }
        );
        let frame: DataFrame<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(frame.payload.data, Some(json!({"onX": {"n": 1}})));
        // Any order of keys, payload first included, with whitespace.
        for frame in [
            r#"{"id":"a-2","type":"data","payload":{"x":"}"}}"#,
            r#" { "payload" : {"a":[1,{"b":"\"}]"}],"c":null} , "type":"data" , "id" : "a-2" } "#,
            r#"{"extra":12.5e3,"more":[true,false,null],"type":"data","id":"a-2"}"#,
        ] {
            assert_eq!(data_id(frame), Some("a-2"), "{frame}");
        }
        // The scan stops once it knows: what follows is the reader's to decode.
        assert_eq!(
            data_id(r#"{"type":"data","id":"a-3","payload":{"#),
            Some("a-3")
        );
        // Escapes, other types, odd shapes and bad JSON go to the slow path.
        for other in [
            r#"{"id":"a\u002d2","type":"data","payload":{}}"#,
            r#"{"ty\u0070e":"data","id":"a"}"#,
            r#"{"type":"data"}"#,
            r#"{"type":"data","id":""}"#,
            r#"{"type":"data","id":7}"#,
            r#"{"type":"ka"}"#,
            r#"{"payload":{"#,
            r#"{"payload":"unterminated"#,
            r#"[1]"#,
            "",
            "{",
            r#"{"a" "b"}"#,
            "{\"é\":\"ü\",\"type\":\"data\",\"id\":\"ß\"}",
        ] {
            let routed = data_id(other);
            assert!(
                routed.is_none() || routed == Some("ß"),
                "{other}: {routed:?}"
            );
        }
        // The slow path unescapes.
        assert_eq!(
            parse(r#"{"id":"a\u002d2","type":"data","payload":{}}"#).unwrap(),
            ServerMessage::Data { id: "a-2".into() }
        );
    }

    #[test]
    fn the_scan_never_panics_on_any_prefix_or_byte() {
        let frame =
            r#"{"payload":{"data":{"s":"a\"b\\","n":[1,2,{"x":"é"}]}},"type":"data","id":"p-1"}"#;
        for end in 0..=frame.len() {
            if let Some(text) = frame.get(..end) {
                let _ = data_id(text);
            }
        }
        for (i, _) in frame.char_indices() {
            for b in ["\"", "\\", "{", "}", "[", "]", ",", ":", "é"] {
                let mut t = frame.to_owned();
                t.insert_str(i, b);
                let _ = data_id(&t);
            }
        }
    }

    #[test]
    fn start_ack_with_a_payload_and_unknown_types() {
        assert_eq!(
            parse_ok(json!({"type": "start_ack", "id": "a", "payload": {}})),
            ServerMessage::StartAck { id: "a".into() }
        );
        assert_eq!(
            parse_ok(json!({"message": "Subscription complete."})),
            ServerMessage::SubscriptionComplete
        );
        assert_eq!(
            parse_ok(json!({"type": "x", "message": "Subscription complete."})),
            ServerMessage::Other
        );
        assert_eq!(parse_ok(json!({"type": "later"})), ServerMessage::Other);
        assert!(parse("[1]").is_err());
        assert!(parse("{\"type\":\"data\"}").is_err());
    }

    #[test]
    fn every_error_shape_is_normalised() {
        // A list, with an id.
        let m = parse_ok(json!({"type": "error", "id": "a", "payload": {"errors": [
            {"errorType": "Unauthorized", "message": "Not Authorized to access x on type Subscription"}
        ]}}));
        let ServerMessage::Error { id, errors } = m else {
            panic!()
        };
        assert_eq!(id.as_deref(), Some("a"));
        assert_eq!(errors[0].error_type.as_deref(), Some("Unauthorized"));
        assert!(!is_credentials_refusal(&errors));
        // An object, no id.
        let m = parse_ok(json!({"type": "error", "payload": {"errors":
            {"errorType": "MaxSubscriptionsReachedError", "message": "Max number of 100 subscriptions reached"}}}));
        let ServerMessage::Error { id, errors } = m else {
            panic!()
        };
        assert_eq!(id, None);
        assert!(is_max_subscriptions(&errors));
        // Legacy: payload.errorType.
        let m = parse_ok(json!({"type": "error", "id": "b", "payload": {
            "errorType": "MaxSubscriptionsReachedException", "message": "too many"}}));
        let ServerMessage::Error { errors, .. } = m else {
            panic!()
        };
        assert!(is_max_subscriptions(&errors));
        assert_eq!(errors[0].message, "too many");
        // No errorType (validation) and an empty payload.
        let e = errors_of(Some(
            &json!({"errors": [{"message": "Validation error of type FieldUndefined"}]}),
        ));
        assert_eq!(e[0].error_type, None);
        assert_eq!(errors_of(None).len(), 1);
        assert!(is_limit_exceeded(&errors_of(Some(
            &json!({"errors": [{"errorType": "LimitExceededError", "message": "Rate limit exceeded"}]})
        ))));
    }

    #[test]
    fn credential_refusals_are_recognised() {
        let conn = |v: Value| match parse_ok(v) {
            ServerMessage::ConnectionError { errors } => errors,
            other => panic!("{other:?}"),
        };
        assert!(is_credentials_refusal(&conn(
            json!({"type": "connection_error", "payload": {
            "errors": [{"errorType": "UnauthorizedException", "message": "You are not authorized to make this call.", "errorCode": 401}]}})
        )));
        assert!(is_credentials_refusal(&conn(
            json!({"type": "connection_error", "payload": {
            "errors": [{"errorType": "com.amazonaws.deepdish.graphql.auth#UnauthorizedException", "message": "x", "errorCode": 400}]}})
        )));
        assert!(is_credentials_refusal(&conn(
            json!({"type": "connection_error", "payload": {"errors": [{"message": "x", "errorCode": "403"}]}})
        )));
        assert!(!is_credentials_refusal(&conn(
            json!({"type": "connection_error", "payload": {"errors": [{"errorType": "InternalFailure", "message": "x", "errorCode": 500}]}})
        )));
    }

    #[test]
    fn client_frames_keep_data_as_a_string_and_hide_auth_in_debug() {
        let mut auth = AuthObject::default();
        auth.insert("host", "h");
        auth.insert("x-api-key", "da2-secret");
        let s = start(
            "id1",
            r#"{"query":"subscription { a }","variables":{}}"#,
            &auth,
        );
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(
            v["payload"]["data"],
            json!(r#"{"query":"subscription { a }","variables":{}}"#)
        );
        assert_eq!(
            v["payload"]["extensions"]["authorization"]["x-api-key"],
            "da2-secret"
        );
        assert!(!format!("{auth:?}").contains("da2-secret"));
        assert_eq!(auth.get("X-API-KEY"), Some("da2-secret"));
        assert_eq!(
            serde_json::from_str::<Value>(&stop("id1")).unwrap(),
            json!({"type": "stop", "id": "id1"})
        );
    }
}
