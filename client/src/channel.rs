//! The Events vocabulary below every layer: channel paths and their validation, and what a
//! publish answers (per event: accepted or failed).

use serde::Deserialize;

use crate::error::{Error, Result};

/// The most events one publish may carry (AppSync Events' limit).
pub const MAX_PUBLISH_EVENTS: usize = 5;

/// Checks a channel path before anything is sent and returns it as it is sent, with its leading
/// `/` (AWS's documents write `/default/chat`, Amplify's `default/chat`: both are taken): 1 to 5
/// segments of letters, digits and dashes, each at most 50 characters; when subscribing
/// (`wildcard`), the last segment may be `*` (every channel below, e.g. `/default/*`).
pub(crate) fn check_channel(channel: &str, wildcard: bool) -> Result<String> {
    let bad = |why: &str| {
        Error::request(format!(
            "channel {channel:?} is not a valid Events channel: {why} (a channel is /segment/… \
             with 1 to 5 segments of letters, digits and dashes, each at most 50 characters{})",
            if wildcard {
                ", the last one possibly *"
            } else {
                "; publishing takes no wildcard"
            }
        ))
    };
    let path = channel.strip_prefix('/').unwrap_or(channel);
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() > 5 {
        return Err(bad("it has more than 5 segments"));
    }
    for (i, s) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if *s == "*" && wildcard && last && i > 0 {
            continue;
        }
        if s.is_empty() {
            return Err(bad("it has an empty segment"));
        }
        if s.len() > 50 {
            return Err(bad("a segment is longer than 50 characters"));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(bad(
                "a segment holds a character other than a letter, digit or dash",
            ));
        }
    }
    Ok(format!("/{path}"))
}

/// The body of a publish over HTTP, and what IAM signs for one over the socket:
/// `{"channel":…,"events":[…]}`, compact, keys in that order (the server rebuilds it so), each
/// event a JSON text.
pub(crate) fn publish_body(channel: &str, events: &[String]) -> String {
    serde_json::json!({ "channel": channel, "events": events }).to_string()
}

/// One event a publish accepted.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PublishedEvent {
    /// The identifier AppSync gave the event.
    #[serde(default)]
    pub identifier: String,
    /// Its position in the published batch.
    #[serde(default)]
    pub index: usize,
}

/// One event a publish refused.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct FailedEvent {
    /// The identifier AppSync gave the event, if any.
    #[serde(default)]
    pub identifier: Option<String>,
    /// Its position in the published batch.
    #[serde(default)]
    pub index: usize,
    /// AppSync's error code, if any.
    #[serde(default)]
    pub code: Option<serde_json::Value>,
    /// Why.
    #[serde(default)]
    pub message: Option<String>,
}

/// What a publish answered, per event: accepted or failed (a batch can be partly accepted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct PublishResult {
    /// The events accepted.
    #[serde(default)]
    pub successful: Vec<PublishedEvent>,
    /// The events refused.
    #[serde(default)]
    pub failed: Vec<FailedEvent>,
}

impl PublishResult {
    /// Whether every event was accepted.
    pub fn all_accepted(&self) -> bool {
        self.failed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_checked_before_sending() {
        for ok in ["/default", "/default/chat", "/a/b/c/d/e", "/ns/room-1"] {
            assert_eq!(check_channel(ok, false).unwrap(), ok);
        }
        // Amplify's spelling, without the leading slash, is sent with it.
        assert_eq!(
            check_channel("default/chat", false).unwrap(),
            "/default/chat"
        );
        assert_eq!(check_channel("default/*", true).unwrap(), "/default/*");
        for ok in ["/default/*", "/a/b/*"] {
            assert!(check_channel(ok, true).is_ok(), "{ok}");
            assert!(check_channel(ok, false).is_err(), "{ok} publishes nowhere");
        }
        let long = format!("/{}", "x".repeat(51));
        for bad in [
            "",
            "/",
            "//a",
            "/a//b",
            "/a/b/c/d/e/f",
            "/a b",
            "/é",
            "/*",
            "/a/*/b",
            "/a/",
            long.as_str(),
        ] {
            let e = check_channel(bad, true).unwrap_err();
            assert!(e.is_request(), "{bad}");
        }
    }
}
