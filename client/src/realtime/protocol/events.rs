//! The frames of AppSync Events' `aws-appsync-event-ws` protocol (`appsync-protocol.md` §2.9,
//! AWS's "Understanding the Event API WebSocket protocol"): `subscribe`, `unsubscribe` and
//! `publish` from the client; acks, `data` (the event a JSON string), errors and publish
//! answers from the server, mapped onto the shared [`ServerMessage`].

use serde_json::{json, Map, Value};

use super::{ack_timeout, errors_of, id_of, AuthObject, BadFrame, ServerMessage};
pub(crate) use crate::channel::publish_body as signed_publish_body;
use crate::channel::PublishResult;
use crate::operation::GraphQLError;

/// The subprotocol of AppSync Events.
pub(crate) const SUBPROTOCOL: &str = "aws-appsync-event-ws";

/// What a `publish` was answered: per-event results, or the errors of a refused publish.
pub(crate) type PublishOutcome = Result<PublishResult, Vec<GraphQLError>>;

/// `{"type":"subscribe","id","channel","authorization"}`.
pub(super) fn subscribe(id: &str, channel: &str, authorization: &AuthObject) -> String {
    json!({
        "type": "subscribe",
        "id": id,
        "channel": channel,
        "authorization": Value::Object(authorization.0.clone()),
    })
    .to_string()
}

/// `{"type":"unsubscribe","id"}`.
pub(super) fn unsubscribe(id: &str) -> String {
    json!({"type": "unsubscribe", "id": id}).to_string()
}

/// `{"type":"publish","id","channel","events","authorization"}`; `events` are JSON texts
/// (each sent as a string).
pub(crate) fn publish(
    id: &str,
    channel: &str,
    events: &[String],
    authorization: &AuthObject,
) -> String {
    json!({
        "type": "publish",
        "id": id,
        "channel": channel,
        "events": events,
        "authorization": Value::Object(authorization.0.clone()),
    })
    .to_string()
}

/// The errors of an Events frame: at the top level, or (like GraphQL's) in `payload`.
fn errors(obj: &Map<String, Value>) -> Vec<GraphQLError> {
    if obj.contains_key("errors") {
        errors_of(Some(&Value::Object(obj.clone())))
    } else {
        errors_of(obj.get("payload"))
    }
}

/// Parses a server frame of the Events protocol.
pub(super) fn parse(text: &str) -> Result<ServerMessage, BadFrame> {
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text) else {
        return Err(BadFrame("not a JSON object"));
    };
    let need_id = || id_of(&obj).ok_or(BadFrame("a frame that needs an id has none"));
    Ok(match obj.get("type").and_then(Value::as_str) {
        Some("connection_ack") => ServerMessage::ConnectionAck {
            timeout: ack_timeout(&obj),
        },
        Some("ka") => ServerMessage::KeepAlive,
        Some("subscribe_success") => ServerMessage::StartAck { id: need_id()? },
        Some("subscribe_error") => ServerMessage::Error {
            id: Some(need_id()?),
            errors: errors(&obj),
        },
        Some("data") => ServerMessage::Data { id: need_id()? },
        Some("broadcast_error") => ServerMessage::BroadcastError {
            id: need_id()?,
            errors: errors(&obj),
        },
        Some("publish_success") => ServerMessage::Published {
            id: need_id()?,
            outcome: Ok(serde_json::from_value(Value::Object(obj.clone())).unwrap_or_default()),
        },
        Some("publish_error") => ServerMessage::Published {
            id: need_id()?,
            outcome: Err(errors(&obj)),
        },
        Some("connection_error") => ServerMessage::ConnectionError {
            errors: errors(&obj),
        },
        Some("error") => ServerMessage::Error {
            id: id_of(&obj),
            errors: errors(&obj),
        },
        // Answers to our own `unsubscribe`: the subscription is already gone here.
        Some("unsubscribe_success" | "unsubscribe_error") => ServerMessage::Other,
        _ => ServerMessage::Other,
    })
}

/// What a subscription's reader finds in a frame the actor handed it.
#[derive(Debug)]
pub(crate) enum Delivery<'a> {
    /// A `data` frame's event: a JSON text (it was a string in the frame).
    Event(std::borrow::Cow<'a, str>),
    /// A `broadcast_error`: an event could not be delivered to this subscription.
    BroadcastError(Vec<GraphQLError>),
}

/// Decodes a frame of a subscription: its event (unescaped once), or a `broadcast_error`.
pub(crate) fn delivery(text: &str) -> Result<Delivery<'_>, String> {
    /// The frame as the reader decodes it: the type, and the event if any.
    #[derive(serde::Deserialize)]
    struct Frame<'a> {
        #[serde(rename = "type", borrow, default)]
        kind: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, default)]
        event: Option<std::borrow::Cow<'a, str>>,
    }
    let frame: Frame<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match (frame.kind.as_deref(), frame.event) {
        (Some("broadcast_error"), _) => match parse(text) {
            Ok(ServerMessage::BroadcastError { errors, .. }) => {
                Ok(Delivery::BroadcastError(errors))
            }
            _ => Err("a malformed broadcast_error".to_owned()),
        },
        (_, Some(event)) => Ok(Delivery::Event(event)),
        (_, None) => Err("a data frame without a string event".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_frames_map_onto_the_shared_messages() {
        let p = |v: Value| parse(&v.to_string()).unwrap();
        assert_eq!(
            p(json!({"type": "connection_ack", "connectionTimeoutMs": 300000})),
            ServerMessage::ConnectionAck {
                timeout: Some(std::time::Duration::from_secs(300))
            }
        );
        assert_eq!(
            p(json!({"type": "subscribe_success", "id": "a"})),
            ServerMessage::StartAck { id: "a".into() }
        );
        match p(json!({"type": "subscribe_error", "id": "a", "errors": [
            {"errorType": "UnauthorizedException", "message": "no"}]}))
        {
            ServerMessage::Error { id, errors } => {
                assert_eq!(id.as_deref(), Some("a"));
                assert_eq!(
                    errors[0].error_type.as_deref(),
                    Some("UnauthorizedException")
                );
            }
            other => panic!("{other:?}"),
        }
        match p(json!({"type": "publish_success", "id": "p", "successful": [
            {"identifier": "i0", "index": 0}], "failed": [{"identifier": "i1", "index": 1,
            "code": 400, "message": "bad"}]}))
        {
            ServerMessage::Published { id, outcome: Ok(r) } => {
                assert_eq!(id, "p");
                assert_eq!(r.successful[0].identifier, "i0");
                assert_eq!(r.failed[0].index, 1);
                assert_eq!(r.failed[0].message.as_deref(), Some("bad"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            p(json!({"type": "publish_error", "id": "p", "errors": [{"message": "x"}]})),
            ServerMessage::Published {
                outcome: Err(_),
                ..
            }
        ));
        assert!(matches!(
            p(json!({"type": "broadcast_error", "id": "a", "errors": [{"message": "x"}]})),
            ServerMessage::BroadcastError { .. }
        ));
        assert_eq!(
            p(json!({"type": "unsubscribe_success", "id": "a"})),
            ServerMessage::Other
        );
        assert!(parse("[]").is_err());
        assert!(parse(r#"{"type":"subscribe_success"}"#).is_err());
    }

    #[test]
    fn client_frames_carry_the_channel_and_events_as_strings() {
        let mut auth = AuthObject::default();
        auth.insert("x-api-key", "k");
        let s: Value = serde_json::from_str(&subscribe("a", "/ns/*", &auth)).unwrap();
        assert_eq!(s["channel"], "/ns/*");
        assert_eq!(s["authorization"]["x-api-key"], "k");
        let p: Value =
            serde_json::from_str(&publish("b", "/ns/c", &[r#"{"n":1}"#.to_owned()], &auth))
                .unwrap();
        assert_eq!(p["events"][0], r#"{"n":1}"#);
        let frame = r#"{"type":"data","id":"a","event":"{\"n\":1}"}"#;
        match delivery(frame).unwrap() {
            Delivery::Event(e) => assert_eq!(e, r#"{"n":1}"#),
            other => panic!("{other:?}"),
        }
        let frame =
            r#"{"type":"broadcast_error","id":"a","errors":[{"errorType":"X","message":"m"}]}"#;
        match delivery(frame).unwrap() {
            Delivery::BroadcastError(e) => assert_eq!(e[0].message, "m"),
            other => panic!("{other:?}"),
        }
        assert!(delivery(r#"{"type":"data","id":"a","event":{"n":1}}"#).is_err());
        assert!(delivery("[").is_err());
    }
}
