//! Event API channel paths: a channel to publish to (1–5 segments of letters, digits and
//! dashes, at most 50 characters each, the first one the namespace), a subscription pattern (the
//! same, optionally ending in the wildcard segment `*`), and whether a pattern matches a channel.
//!
//! A leading `/` is optional (AWS's own HTTP example publishes to `default/channel`, and Amplify
//! JS's `events.connect` sends the channel as the caller wrote it); a trailing `/` is an empty
//! segment, so it is refused. `/ns/*` matches every channel below `/ns`, at any depth
//! (`/ns/a`, `/ns/a/b`), but not `/ns` itself; `/ns/a/*` matches `/ns/a/b` and `/ns/a/b/c`.

/// At most this many segments, the namespace and a trailing `*` included.
pub(crate) const MAX_SEGMENTS: usize = 5;

/// At most this many characters per segment.
pub(crate) const MAX_SEGMENT_CHARS: usize = 50;

/// A concrete channel (no wildcard), as published to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Channel {
    segments: Vec<String>,
}

/// A subscription's channel: segments, the last of which may be the wildcard `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChannelPattern {
    /// The segments before any wildcard (the namespace first).
    prefix: Vec<String>,
    /// Whether the pattern ends in `/*`.
    wildcard: bool,
}

impl Channel {
    /// Parses a channel to publish to; wildcards are refused.
    pub(crate) fn parse(path: &str) -> Result<Channel, String> {
        let segments = segments(path)?;
        if let Some(s) = segments.iter().find(|s| s.contains('*')) {
            return Err(format!(
                "Invalid channel {path:?}: the wildcard {s:?} is only allowed when subscribing."
            ));
        }
        check_segments(path, &segments)?;
        Ok(Channel {
            segments: segments.into_iter().map(str::to_owned).collect(),
        })
    }

    /// The namespace: the first segment.
    pub(crate) fn namespace(&self) -> &str {
        &self.segments[0]
    }

    /// The path, with a leading `/`.
    pub(crate) fn path(&self) -> String {
        format!("/{}", self.segments.join("/"))
    }
}

impl ChannelPattern {
    /// Parses a subscription's channel: a channel, or a channel with `*` as its last segment
    /// (never the namespace).
    pub(crate) fn parse(path: &str) -> Result<ChannelPattern, String> {
        let mut segments = segments(path)?;
        let wildcard = segments.last() == Some(&"*");
        if wildcard {
            segments.pop();
            if segments.is_empty() {
                return Err(format!(
                    "Invalid channel {path:?}: the namespace cannot be a wildcard."
                ));
            }
        }
        if let Some(s) = segments.iter().find(|s| s.contains('*')) {
            return Err(format!(
                "Invalid channel {path:?}: {s:?} is not a segment; the wildcard * is only \
                 allowed as the whole last segment (/namespace/*)."
            ));
        }
        check_segments(path, &segments)?;
        Ok(ChannelPattern {
            prefix: segments.into_iter().map(str::to_owned).collect(),
            wildcard,
        })
    }

    /// The namespace: the first segment.
    pub(crate) fn namespace(&self) -> &str {
        &self.prefix[0]
    }

    /// Whether an event published to `channel` reaches this subscription.
    pub(crate) fn matches(&self, channel: &Channel) -> bool {
        let c = &channel.segments;
        if self.wildcard {
            c.len() > self.prefix.len() && c[..self.prefix.len()] == self.prefix[..]
        } else {
            *c == self.prefix
        }
    }
}

/// The `/`-separated segments (one leading `/` dropped), at most [`MAX_SEGMENTS`].
fn segments(path: &str) -> Result<Vec<&str>, String> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    if rest.is_empty() {
        return Err(format!(
            "Invalid channel {path:?}: a channel is /namespace/segment… (1 to {MAX_SEGMENTS} segments)."
        ));
    }
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.len() > MAX_SEGMENTS {
        return Err(format!(
            "Invalid channel {path:?}: {} segments, at most {MAX_SEGMENTS} are allowed.",
            segments.len()
        ));
    }
    Ok(segments)
}

/// Every segment is 1–50 letters, digits and dashes.
fn check_segments(path: &str, segments: &[&str]) -> Result<(), String> {
    for s in segments {
        if s.is_empty() {
            return Err(format!("Invalid channel {path:?}: a segment is empty."));
        }
        if s.chars().count() > MAX_SEGMENT_CHARS {
            return Err(format!(
                "Invalid channel {path:?}: a segment has more than {MAX_SEGMENT_CHARS} characters."
            ));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!(
                "Invalid channel {path:?}: segment {s:?} may only hold letters, digits and dashes."
            ));
        }
    }
    Ok(())
}

/// Whether `name` is a valid namespace name: 1–50 letters, digits and dashes, beginning and
/// ending with a letter or digit (the pattern of AppSync's `ChannelNamespace.name`).
pub(crate) fn valid_namespace_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_SEGMENT_CHARS
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(p: &str) -> Channel {
        Channel::parse(p).unwrap()
    }

    fn pat(p: &str) -> ChannelPattern {
        ChannelPattern::parse(p).unwrap()
    }

    #[test]
    fn channels_have_one_to_five_segments_of_letters_digits_and_dashes() {
        for ok in [
            "/default",
            "default/channel",
            "/default/channel",
            "/a/b/c/d/e",
            "/ns/Mixed-Case-9",
            &format!("/ns/{}", "x".repeat(50)),
        ] {
            assert!(Channel::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/",
            "//",
            "/a//b",
            "/a/b/",
            "/a/b/c/d/e/f",
            "/ns/under_score",
            "/ns/dot.ted",
            "/ns/spa ce",
            "/ns/é",
            "/ns/*",
            "/ns/a*",
            "/*",
            &format!("/ns/{}", "x".repeat(51)),
        ] {
            assert!(Channel::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(ch("default/channel").path(), "/default/channel");
        assert_eq!(ch("/default/channel").namespace(), "default");
    }

    #[test]
    fn patterns_allow_the_wildcard_only_as_the_whole_last_segment() {
        for ok in ["/ns/*", "ns/*", "/ns/a/*", "/a/b/c/d/*", "/ns/a"] {
            assert!(ChannelPattern::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "/*",
            "*",
            "/ns/*/a",
            "/ns/a*",
            "/ns/**",
            "/*/a",
            "/a/b/c/d/e/*",
            "/ns/*/",
        ] {
            assert!(ChannelPattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_trailing_wildcard_matches_every_channel_below_at_any_depth() {
        let all = pat("/ns/*");
        assert!(all.matches(&ch("/ns/a")));
        assert!(all.matches(&ch("/ns/a/b")));
        assert!(all.matches(&ch("/ns/a/b/c/d")));
        assert!(!all.matches(&ch("/ns")), "not the namespace itself");
        assert!(!all.matches(&ch("/other/a")));
        assert!(!all.matches(&ch("/nsx/a")));
        let a = pat("/ns/a/*");
        assert!(a.matches(&ch("/ns/a/b")));
        assert!(a.matches(&ch("/ns/a/b/c")));
        assert!(!a.matches(&ch("/ns/a")));
        assert!(!a.matches(&ch("/ns/ab/c")));
        assert!(!a.matches(&ch("/ns/b/a")));
        let exact = pat("ns/a");
        assert!(exact.matches(&ch("/ns/a")));
        assert!(!exact.matches(&ch("/ns/a/b")));
        assert!(!exact.matches(&ch("/ns/A")), "case matters");
    }

    #[test]
    fn namespace_names_follow_appsyncs_pattern() {
        for ok in ["default", "a", "chat-room-1", &"n".repeat(50)] {
            assert!(valid_namespace_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a_b", "a/b", "*", &"n".repeat(51)] {
            assert!(!valid_namespace_name(bad), "{bad:?}");
        }
    }
}
