//! The frames of AppSync's `graphql-ws` protocol (`appsync-protocol.md` §2.5–§2.7): the client's
//! messages, the server's messages parsed leniently, and the classification of error entries.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::graphql::GraphQLError;

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
    /// Anything else (unknown types): ignored.
    Other,
}

/// Why a text frame is not a server message.
#[derive(Debug, PartialEq)]
pub(crate) struct BadFrame(pub(crate) &'static str);

fn id_of(obj: &Map<String, Value>) -> Option<String> {
    match obj.get("id") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The routing fields of a frame; everything else (the `payload`) is only checked to be JSON.
#[derive(Deserialize)]
struct Head<'a> {
    // Bare `Cow`s: serde borrows those (not inside an `Option`). Missing is empty; any other
    // JSON type fails, and `parse` takes over.
    #[serde(rename = "type", borrow, default)]
    ty: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Cow<'a, str>,
}

/// The fast path for the frame that comes by the thousand: when `text` is a well-formed `data`
/// frame with a (non-empty, string) id, that id, borrowed from `text` when it has no escapes.
/// Nothing of the payload is built: the reader decodes it straight into its type
/// ([`DataFrame`]). `None` means "not that": [`parse`] then says what the frame is, with the
/// same leniency as ever.
pub(crate) fn data_id(text: &str) -> Option<Cow<'_, str>> {
    let head: Head<'_> = serde_json::from_str(text).ok()?;
    (head.ty == "data" && !head.id.is_empty()).then_some(head.id)
}

/// A `data` frame as its reader decodes it: only the payload, into a [`Response`] of its type.
///
/// [`Response`]: crate::graphql::Response
#[derive(Deserialize)]
#[serde(bound = "T: serde::de::DeserializeOwned")]
pub(crate) struct DataFrame<T> {
    pub(crate) payload: crate::graphql::Response<T>,
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
        Some("connection_ack") => {
            let payload = obj.get("payload");
            let ms = payload
                .and_then(|p| {
                    p.get("connectionTimeoutMs")
                        .or_else(|| p.get("connectionTimeout"))
                })
                .or_else(|| obj.get("connectionTimeoutMs"))
                .and_then(Value::as_f64)
                .filter(|ms| ms.is_finite() && *ms > 0.0);
            ServerMessage::ConnectionAck {
                timeout: ms.map(|ms| {
                    Duration::from_millis(ms.min(u64::MAX as f64) as u64)
                        .min(super::options::LONGEST)
                }),
            }
        }
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
        let id = data_id(&text).unwrap();
        assert!(matches!(id, Cow::Borrowed("a-1")));
        assert_eq!(
            parse(&text).unwrap(),
            ServerMessage::Data { id: "a-1".into() }
        );
        let frame: DataFrame<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(frame.payload.data, Some(json!({"onX": {"n": 1}})));
        // An escaped id is unescaped; other frames, odd shapes and bad JSON are not data.
        assert_eq!(
            data_id(r#"{"id":"a\u002d2","type":"data","payload":{}}"#).as_deref(),
            Some("a-2")
        );
        for other in [
            r#"{"type":"data"}"#,
            r#"{"type":"data","id":""}"#,
            r#"{"type":"data","id":7}"#,
            r#"{"type":"ka"}"#,
            r#"{"type":"data","id":"a","payload":{"#,
            r#"[1]"#,
        ] {
            assert_eq!(data_id(other), None, "{other}");
        }
        // The lenient parser still names a data frame whose head the fast path refused.
        assert_eq!(
            parse(r#"{"type":"data","id":"x","id":"y"}"#).unwrap(),
            ServerMessage::Data { id: "y".into() }
        );
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
