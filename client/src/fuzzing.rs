//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`; unstable, not for users).
//!
//! Each function runs one input surface of the crate the way the crate itself runs it and
//! asserts what must hold for any input: no panic, and the invariants named on the function (a
//! failed assertion is a finding, like a panic). Production code paths are not changed by the
//! feature; these are thin wrappers around them.

use serde::Deserialize;
use serde_json::Value;

use crate::auth::AuthMode;
use crate::config::{Config, EndpointType};
use crate::endpoint::{select, Want};
use crate::operation::{operation_kind, OperationKind, Response};

/// Gen1 (`gen2 == false`) or Gen2 configuration text: through [`Config::from_json_str`] (with
/// its format detection) and through the format's own parser on any JSON object. For every
/// configuration read: no API key shows in its `Debug`, the endpoint and auth-mode selection
/// and the realtime URL derivation work on it (they may fail, never panic), and the realtime
/// URL with the handshake in its query is redacted. No API key shows in an error either.
pub fn config(text: &str, gen2: bool) {
    let keys = api_keys(text);
    let check = |result: crate::Result<Config>| match result {
        Ok(config) => {
            let shown = format!("{config:?}");
            for k in &keys {
                assert!(
                    !shown.contains(k.as_str()),
                    "an API key shows in Config's Debug"
                );
            }
            use_config(&config);
        }
        Err(e) => {
            let shown = format!("{e} {e:?}");
            for k in &keys {
                assert!(
                    !shown.contains(k.as_str()),
                    "an API key shows in a config error"
                );
            }
        }
    };
    check(Config::from_json_str(text));
    if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text) {
        check(crate::config::parse_as(gen2, &obj));
    }
}

/// The API keys of a configuration text that can be looked for in what is shown: the string
/// values of `apiKey` / `api_key` keys, at any depth, long enough and made of key characters
/// (as AppSync's are) so that they cannot show by coincidence, and found once in the text.
fn api_keys(text: &str) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    if let ("apiKey" | "api_key", Value::String(s)) = (k.as_str(), v) {
                        out.push(s.clone());
                    }
                    walk(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        walk(&v, &mut out);
    }
    let lower = text.to_ascii_lowercase();
    out.retain(|k| {
        k.len() >= 16
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && lower.matches(&k.to_ascii_lowercase()).count() == 1
    });
    out
}

/// What a client does with a configuration: selects endpoints and modes, derives realtime URLs.
fn use_config(config: &Config) {
    let mut names: Vec<Option<&str>> = vec![None];
    names.extend(config.endpoints().iter().map(|e| Some(e.name())));
    names.push(Some("no-such-api"));
    for ty in [EndpointType::GraphQL, EndpointType::Rest] {
        for api_name in &names {
            for auth_mode in std::iter::once(None).chain(AuthMode::ALL.iter().copied().map(Some)) {
                for allowed in [None, Some(&[AuthMode::Iam][..])] {
                    let want = Want {
                        api_name: *api_name,
                        auth_mode,
                        allowed_modes: allowed,
                        operation: Some("Op"),
                    };
                    if let Err(e) = select(config, ty, want) {
                        let _ = e.to_string();
                    }
                }
            }
        }
    }
    for e in config.endpoints() {
        let _ = format!("{e:?}");
        let _ = e.enabled_modes();
        for &m in AuthMode::ALL {
            let _ = e.allows(m);
        }
        if e.endpoint_type() == EndpointType::GraphQL {
            crate::realtime::fuzzing::realtime_urls(e);
        }
    }
}

/// A server's realtime text frame, through everything the client does with one: the lenient
/// parser, the `data` fast path, the error normalisation and classification, and the decoding
/// of a `data` frame's payload into `Response<serde_json::Value>` and into a typed response.
/// Asserts that the fast path and the parser agree on `data` frames, that error frames always
/// give at least one error, and that an ack's keep-alive timeout is within the clocks' bound.
pub fn realtime_frame(text: &str) {
    crate::realtime::fuzzing::frame(text);
}

/// The socket actor fed a script read from `data`: server frames (raw text, AppSync's frames
/// addressed to the ids the client really used, close frames, read errors, dropped
/// connections), connection outcomes, client subscribes, unsubscribes and reads, provider
/// failures, and time passing (on a current-thread runtime with paused time). Asserts that
/// every step finishes, that the unread bytes of the subscriptions stay within the socket's
/// budget (plus the frame that crossed it), that markers never pile up, and that once the
/// application drops everything the actor stops within a bounded (virtual) time.
pub fn realtime_actor(data: &[u8]) {
    crate::realtime::fuzzing::actor(data);
}

/// A typed response, as generated code would declare it (every field optional or defaulted).
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Typed {
    #[serde(rename = "getNote")]
    get_note: Option<TypedNote>,
    #[serde(rename = "listNotes", default)]
    list_notes: Option<TypedList>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct TypedNote {
    id: String,
    content: Option<String>,
    #[serde(rename = "createdAt")]
    created_at: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    score: Option<f64>,
    count: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct TypedList {
    items: Vec<Option<TypedNote>>,
    #[serde(rename = "nextToken")]
    next_token: Option<String>,
}

/// A GraphQL HTTP response body, through [`Response::from_slice`] untyped and typed. Asserts
/// that an `Ok` has data, errors or an explicit `"data": null`, and that an `Err` is a
/// decoding error.
pub fn graphql_response(body: &[u8]) {
    fn check<T: serde::de::DeserializeOwned + std::fmt::Debug>(body: &[u8]) {
        match Response::<T>::from_slice(body) {
            Ok(r) => {
                assert!(
                    r.data.is_some() || !r.errors.is_empty() || has_data_key(body),
                    "Ok without data or errors"
                );
                let _ = format!("{r:?}");
                for e in &r.errors {
                    let _ = e.to_string();
                }
                let _ = r.has_error_type("Unauthorized");
                let _ = r.into_result();
            }
            Err(e) => {
                assert!(e.is_decode(), "not a decoding error: {e:?}");
                let _ = e.to_string();
                let _ = e.graphql_errors();
            }
        }
    }
    check::<Value>(body);
    check::<Typed>(body);
}

/// A body whose `data` key is present (as `null`, which AppSync sends for missing variables):
/// a GraphQL answer with no data. Values are skipped as the decoder skips unknown keys.
fn has_data_key(body: &[u8]) -> bool {
    serde_json::from_slice::<std::collections::HashMap<String, serde::de::IgnoredAny>>(body)
        .is_ok_and(|m| m.contains_key("data"))
}

/// The operation kind of a document (and of the operation `name` in it). Asserts that a name
/// the document does not contain changes nothing.
pub fn operation_kind_of(doc: &str, name: Option<&str>) -> OperationKind {
    let kind = operation_kind(doc, name);
    if let Some(n) = name {
        if !doc.contains(n) {
            assert_eq!(
                kind,
                operation_kind(doc, None),
                "an absent name changed the kind"
            );
        }
    }
    kind
}

/// A token as a token provider may return it: its expiry (JWT `exp`) read as the client reads
/// it, and its `Debug`. Asserts that `Token::expires_at` is the JWT reading, never before the
/// epoch, and that a token with a `.` (every JWT) never shows in `Debug` (whose own text has
/// none).
pub fn token(value: &str) {
    let token = crate::Token::new(value.to_owned());
    let at = token.expires_at();
    let direct = crate::auth::token::jwt_expiry(value);
    assert_eq!(at, direct);
    let shown = format!("{token:?}");
    if value.contains('.') {
        assert!(!shown.contains(value), "the token shows in Debug");
    }
    if let Some(t) = at {
        assert!(t >= std::time::SystemTime::UNIX_EPOCH);
    }
    let _ = token
        .with_expiry(std::time::SystemTime::UNIX_EPOCH)
        .expires_at();
}
