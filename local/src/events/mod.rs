//! AppSync Events (`appsync-protocol.md` §2.9): the Event API's rules (`config`: namespaces and
//! the auth modes of each action), channel paths and patterns (`channel`), and what publishing
//! over HTTP and over the socket share: the request's checks, its authorization, the bus that
//! carries each event to every subscriber whose pattern matches, and AppSync's refusals.
//!
//! Limits, as AWS documents them: at most 5 events per publish, each a string holding valid
//! JSON of at most 240 KB ("Publish events via HTTP", "AWS AppSync Events concepts"); a channel
//! is 1–5 segments of at most 50 letters, digits and dashes.

pub(crate) mod channel;
mod config;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::auth::{AuthFailure, AuthInput, AuthMode, Authenticator, HostCheck, Identity};

pub use config::{ChannelNamespace, EventApi};

use channel::Channel;

/// At most this many events in one publish.
pub(crate) const MAX_EVENTS: usize = 5;

/// At most this many bytes in one event (240 KB).
pub(crate) const MAX_EVENT_BYTES: usize = 240 * 1024;

/// How many published events wait for a slow subscriber before it misses some.
const BUS_CAPACITY: usize = 1024;

/// The rules of one action (publish or subscribe) on a namespace.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub modes: BTreeSet<AuthMode>,
    /// User-pool callers must be in one of these (none: any).
    pub groups: Vec<String>,
}

/// A namespace's rules.
#[derive(Clone, Debug)]
pub(crate) struct Namespace {
    pub publish: Rule,
    pub subscribe: Rule,
}

/// What a caller wants to do on a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Publish,
    Subscribe,
}

/// An event on its way to the subscribers.
#[derive(Debug)]
pub(crate) struct Published {
    pub channel: Channel,
    /// The event as published: a string holding JSON.
    pub event: String,
}

/// A running Event API.
pub(crate) struct Events {
    /// The `default_authorization_type` of the config files.
    pub default_mode: AuthMode,
    /// Who may open a realtime connection.
    pub connect_modes: BTreeSet<AuthMode>,
    namespaces: HashMap<String, Namespace>,
    bus: broadcast::Sender<Arc<Published>>,
}

/// Why an Events request was refused, in AppSync's terms.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Refusal {
    pub kind: RefusalKind,
    pub message: String,
}

/// The kinds of refusal; each has its HTTP status and error type, and its socket error type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RefusalKind {
    /// A malformed request: a bad channel or id, too many events, an event that is not a
    /// string. HTTP 400 `BadRequestException`; on the socket `InvalidInputError`.
    Invalid,
    /// No such namespace. HTTP 404 `NotFoundException`; on the socket `ResourceNotFound`.
    NotFound,
    /// Authentication failed (the authenticator's status and error type). On the socket
    /// `UnauthorizedException`, or `BadRequestException` for a bad signature (403).
    Auth {
        status: u16,
        error_type: &'static str,
    },
    /// The mode is fine but the namespace's groups exclude the caller (what an `onPublish` /
    /// `onSubscribe` handler's `util.unauthorized()` gives). HTTP 401
    /// `UnauthorizedException`; on the socket `Unauthorized`.
    Denied,
    /// An id already in use on the socket: `DuplicatedOperationError`.
    Duplicate,
    /// The per-socket subscription cap: `MaxSubscriptionsReachedError`.
    MaxSubscriptions,
    /// Too many publishes on the socket: `LimitExceededError`.
    RateLimited,
    /// An unknown subscription id on `unsubscribe`: `UnknownOperationError`.
    UnknownOperation,
}

impl Refusal {
    pub(crate) fn new(kind: RefusalKind, message: impl Into<String>) -> Self {
        Refusal {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Refusal::new(RefusalKind::Invalid, message)
    }

    fn auth(f: AuthFailure) -> Self {
        Refusal::new(
            RefusalKind::Auth {
                status: f.status,
                error_type: f.error_type,
            },
            f.message,
        )
    }

    /// The HTTP status of `POST /event`'s answer.
    pub(crate) fn http_status(&self) -> u16 {
        match &self.kind {
            RefusalKind::NotFound => 404,
            RefusalKind::Auth { status, .. } => *status,
            RefusalKind::Denied => 401,
            RefusalKind::RateLimited => 429,
            _ => 400,
        }
    }

    /// The `errorType` (and `x-amzn-ErrorType`) of `POST /event`'s answer.
    pub(crate) fn http_error_type(&self) -> &'static str {
        match &self.kind {
            RefusalKind::NotFound => "NotFoundException",
            RefusalKind::Auth { error_type, .. } => error_type,
            RefusalKind::Denied => "UnauthorizedException",
            RefusalKind::RateLimited => "TooManyRequestsException",
            _ => "BadRequestException",
        }
    }

    /// The `errorType` in a socket frame's `errors`.
    pub(crate) fn socket_error_type(&self) -> &'static str {
        match &self.kind {
            RefusalKind::Invalid => "InvalidInputError",
            RefusalKind::NotFound => "ResourceNotFound",
            RefusalKind::Auth { status: 403, .. } => "BadRequestException",
            RefusalKind::Auth { .. } => "UnauthorizedException",
            RefusalKind::Denied => "Unauthorized",
            RefusalKind::Duplicate => "DuplicatedOperationError",
            RefusalKind::MaxSubscriptions => "MaxSubscriptionsReachedError",
            RefusalKind::RateLimited => "LimitExceededError",
            RefusalKind::UnknownOperation => "UnknownOperationError",
        }
    }

    /// The `errors` list of a socket frame.
    pub(crate) fn socket_errors(&self) -> Value {
        json!([{"errorType": self.socket_error_type(), "message": self.message}])
    }

    /// The `errors` envelope of an HTTP answer.
    pub(crate) fn http_body(&self) -> Value {
        json!({"errors": [{"errorType": self.http_error_type(), "message": self.message}]})
    }
}

/// A publish's `channel` and `events`, checked.
#[derive(Debug)]
pub(crate) struct PublishRequest {
    /// The channel as the client wrote it (what an IAM signature covers).
    pub raw_channel: String,
    pub channel: Channel,
    pub events: Vec<String>,
}

impl PublishRequest {
    /// Checks a publish's `channel` and `events` (a list of 1–5 strings).
    pub(crate) fn parse(channel: Option<&Value>, events: Option<&Value>) -> Result<Self, Refusal> {
        let raw_channel = match channel {
            Some(Value::String(c)) => c.clone(),
            _ => return Err(Refusal::invalid("The channel must be a string.")),
        };
        let channel = Channel::parse(&raw_channel).map_err(Refusal::invalid)?;
        let Some(Value::Array(list)) = events else {
            return Err(Refusal::invalid(
                "The events must be a list of strings, each holding JSON.",
            ));
        };
        if list.is_empty() {
            return Err(Refusal::invalid("There are no events to publish."));
        }
        if list.len() > MAX_EVENTS {
            return Err(Refusal::invalid(format!(
                "Too many events: {} were sent, at most {MAX_EVENTS} can be published at once.",
                list.len()
            )));
        }
        let events = list
            .iter()
            .enumerate()
            .map(|(i, e)| match e {
                Value::String(s) => Ok(s.clone()),
                _ => Err(Refusal::invalid(format!(
                    "Event {i} is not a string: each event is a string holding JSON."
                ))),
            })
            .collect::<Result<_, _>>()?;
        Ok(PublishRequest {
            raw_channel,
            channel,
            events,
        })
    }

    /// The body an IAM signature of a socket `publish` covers: `{"channel","events"}`, as
    /// Amplify JS serializes it (`JSON.stringify`, which escapes as `serde_json` does).
    pub(crate) fn signed_body(&self) -> String {
        json!({"channel": self.raw_channel, "events": self.events}).to_string()
    }
}

/// The body an IAM signature of a socket `subscribe` covers: `{"channel"}`.
pub(crate) fn subscribe_signed_body(raw_channel: &str) -> String {
    json!({ "channel": raw_channel }).to_string()
}

impl Events {
    fn new(
        default_mode: AuthMode,
        connect_modes: BTreeSet<AuthMode>,
        namespaces: HashMap<String, Namespace>,
    ) -> Self {
        Events {
            default_mode,
            connect_modes,
            namespaces,
            bus: broadcast::channel(BUS_CAPACITY).0,
        }
    }

    /// Every mode the API uses anywhere (each needs its credentials configured).
    pub(crate) fn modes(&self) -> BTreeSet<AuthMode> {
        let mut all = self.connect_modes.clone();
        for ns in self.namespaces.values() {
            all.extend(&ns.publish.modes);
            all.extend(&ns.subscribe.modes);
        }
        all
    }

    /// The namespace's rules, or AppSync's refusal of an unknown namespace.
    pub(crate) fn namespace(&self, name: &str) -> Result<&Namespace, Refusal> {
        self.namespaces.get(name).ok_or_else(|| {
            Refusal::new(
                RefusalKind::NotFound,
                format!("Namespace {name:?} was not found."),
            )
        })
    }

    /// Authenticates `input` with the modes the namespace allows for the action, then checks
    /// its groups. `realtime`: the authorization object of a socket message, whose `host`
    /// (optional there, AWS's own examples leave it out) must name this API if present.
    pub(crate) async fn authorize(
        &self,
        auth: &Authenticator,
        namespace: &str,
        action: Action,
        input: &AuthInput<'_>,
        realtime: bool,
    ) -> Result<Identity, Refusal> {
        let rule = match action {
            Action::Publish => &self.namespace(namespace)?.publish,
            Action::Subscribe => &self.namespace(namespace)?.subscribe,
        };
        let identity = if realtime {
            auth.authenticate_realtime_in(input, &rule.modes, HostCheck::IfPresent)
                .await
        } else {
            auth.authenticate_in(input, &rule.modes).await
        }
        .map_err(|f| {
            // Credentials of a mode the namespace does not allow count as none; say so plainly.
            let carries = ["x-api-key", "authorization"]
                .iter()
                .any(|h| input.header(h).is_some_and(|v| !v.trim().is_empty()));
            if carries && f.status == 401 && f.message == "Missing authorization header." {
                return Refusal::auth(AuthFailure {
                    message: "You are not authorized to make this call.".to_owned(),
                    ..f
                });
            }
            Refusal::auth(f)
        })?;
        if identity.mode == AuthMode::UserPools
            && !rule.groups.is_empty()
            && !identity.groups.iter().any(|g| rule.groups.contains(g))
        {
            let verb = match action {
                Action::Publish => "publish to",
                Action::Subscribe => "subscribe to",
            };
            return Err(Refusal::new(
                RefusalKind::Denied,
                format!("You are not authorized to {verb} namespace {namespace:?}."),
            ));
        }
        Ok(identity)
    }

    /// Sends each event that holds valid JSON (and is not too big) to the subscribers;
    /// answers AppSync's `{"successful": [{identifier, index}], "failed": [{identifier, index,
    /// code, message}]}`.
    pub(crate) fn publish(&self, request: PublishRequest) -> Value {
        tracing::debug!(channel = %request.channel.path(), events = request.events.len(), "publish");
        let mut successful = Vec::new();
        let mut failed = Vec::new();
        for (index, event) in request.events.into_iter().enumerate() {
            let identifier = uuid_v4();
            let problem = if event.len() > MAX_EVENT_BYTES {
                Some(format!(
                    "The event is {} bytes; an event is at most {MAX_EVENT_BYTES} bytes (240 KB).",
                    event.len()
                ))
            } else if serde_json::from_str::<serde::de::IgnoredAny>(&event).is_err() {
                Some("The event is not valid JSON.".to_owned())
            } else {
                None
            };
            match problem {
                Some(message) => failed.push(json!({
                    "identifier": identifier, "index": index, "code": 400, "message": message,
                })),
                None => {
                    // No receiver is not an error: nobody is listening.
                    let _ = self.bus.send(Arc::new(Published {
                        channel: request.channel.clone(),
                        event,
                    }));
                    successful.push(json!({"identifier": identifier, "index": index}));
                }
            }
        }
        json!({"successful": successful, "failed": failed})
    }

    /// A receiver of every event published from now on.
    pub(crate) fn listen(&self) -> broadcast::Receiver<Arc<Published>> {
        self.bus.subscribe()
    }
}

/// A random (version 4) UUID, as AppSync's event identifiers are.
fn uuid_v4() -> String {
    let hi = fastrand::u64(..);
    let lo = fastrand::u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0x0fff,
        ((lo >> 48) & 0x3fff) | 0x8000,
        lo & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_requests_are_checked() {
        let ok = PublishRequest::parse(Some(&json!("default/a")), Some(&json!(["1", "{}"])));
        let ok = ok.unwrap();
        assert_eq!(ok.channel.path(), "/default/a");
        assert_eq!(
            ok.signed_body(),
            r#"{"channel":"default/a","events":["1","{}"]}"#
        );
        for (channel, events) in [
            (json!(1), json!(["1"])),
            (json!("/ns/*"), json!(["1"])),
            (json!("/ns/a"), json!("1")),
            (json!("/ns/a"), json!([])),
            (json!("/ns/a"), json!(["1", "2", "3", "4", "5", "6"])),
            (json!("/ns/a"), json!([1])),
        ] {
            let e = PublishRequest::parse(Some(&channel), Some(&events)).unwrap_err();
            assert_eq!(e.kind, RefusalKind::Invalid, "{channel} {events}");
        }
        assert!(PublishRequest::parse(None, None).is_err());
        assert_eq!(subscribe_signed_body("/a/\"b"), r#"{"channel":"/a/\"b"}"#);
    }

    #[test]
    fn events_that_are_not_json_fail_one_by_one() {
        let mut problems = Vec::new();
        let events = EventApi::new().check(AuthMode::ApiKey, &mut problems);
        let mut rx = events.listen();
        let req = PublishRequest::parse(
            Some(&json!("/default/a")),
            Some(&json!(["{\"a\":1}", "{a:1}", "\"s\""])),
        )
        .unwrap();
        let r = events.publish(req);
        let ok: Vec<u64> = r["successful"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["index"].as_u64().unwrap())
            .collect();
        assert_eq!(ok, [0, 2]);
        assert_eq!(r["failed"][0]["index"], 1);
        assert_eq!(r["failed"][0]["code"], 400);
        assert_eq!(rx.try_recv().unwrap().event, "{\"a\":1}");
        assert_eq!(rx.try_recv().unwrap().event, "\"s\"");
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn identifiers_are_version_4_uuids() {
        let re = regex::Regex::new(
            "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        )
        .unwrap();
        for _ in 0..100 {
            let u = uuid_v4();
            assert!(re.is_match(&u), "{u}");
        }
    }

    #[test]
    fn refusals_map_to_appsyncs_error_types() {
        let r = Refusal::new(RefusalKind::NotFound, "x");
        assert_eq!(
            (r.http_status(), r.http_error_type()),
            (404, "NotFoundException")
        );
        assert_eq!(r.socket_errors()[0]["errorType"], "ResourceNotFound");
        let sig = Refusal::auth(AuthFailure {
            status: 403,
            error_type: "InvalidSignatureException",
            message: "m".into(),
        });
        assert_eq!(sig.http_error_type(), "InvalidSignatureException");
        assert_eq!(sig.socket_error_type(), "BadRequestException");
        assert_eq!(r.http_body()["errors"][0]["message"], "x");
    }
}
