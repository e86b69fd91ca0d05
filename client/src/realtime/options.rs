//! `RealtimeOptions`: how sockets are opened, timed, kept and recovered; `ReconnectPolicy`.

use std::fmt;
use std::time::Duration;

/// No delay, timeout or wait is longer than this (a day): larger values would only overflow
/// clocks, and AppSync ends every connection after 24 hours anyway.
pub(crate) const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);

/// The default byte budget of a socket's unread events.
pub(crate) const DEFAULT_MAX_BUFFERED_BYTES: usize = 8 << 20;

/// How the handshake's authorization object reaches the server (`appsync-protocol.md` §2.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeMethod {
    /// A second subprotocol `header-<base64url, no padding>` beside `graphql-ws` (what current
    /// Amplify clients do): credentials stay out of URLs and logs. The default.
    #[default]
    Subprotocol,
    /// The `header=<base64>&payload=e30=` query parameters (the original method): for servers
    /// or intermediaries that do not take the subprotocol, such as the Amplify simulator.
    Query,
}

/// When to reconnect a lost socket: full-jitter exponential backoff, a random delay in
/// `[0, min(max_delay, base_delay * 2^failures)]`, forever unless `max_attempts` is set.
///
/// `failures` counts the failures in a row: attempts that failed, and sockets lost before they
/// stayed up for [`healthy_after`](ReconnectPolicy::healthy_after). So a server that accepts
/// each connection and drops it at once sees the delays grow as for one that refuses them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconnectPolicy {
    base_delay: Duration,
    max_delay: Duration,
    max_attempts: Option<u32>,
    healthy_after: Duration,
    report_after: u32,
}

impl Default for ReconnectPolicy {
    /// 1 s base, 30 s cap, never gives up, healthy after 30 s, failures reported from the third
    /// in a row.
    fn default() -> Self {
        ReconnectPolicy {
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_attempts: None,
            healthy_after: Duration::from_secs(30),
            report_after: 3,
        }
    }
}

impl ReconnectPolicy {
    /// The first delay's ceiling; it doubles per failed attempt.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The largest delay's ceiling.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Gives up after this many failed attempts in a row (then every subscription of the
    /// socket ends with an error); `None` (the default) never gives up.
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// How long a connection must stay up before the failures before it are forgotten
    /// (default 30 s).
    pub fn healthy_after(mut self, duration: Duration) -> Self {
        self.healthy_after = duration;
        self
    }

    /// From how many failures in a row the application is told, on each failure after that,
    /// with its cause: [`ConnectionState::Failing`](crate::ConnectionState::Failing) and
    /// [`SubscriptionEvent::Failing`](crate::SubscriptionEvent::Failing) (default 3, at least 1).
    pub fn report_after(mut self, failures: u32) -> Self {
        self.report_after = failures;
        self
    }

    /// The configured attempt limit.
    pub(crate) fn attempts_limit(&self) -> Option<u32> {
        self.max_attempts
    }

    pub(crate) fn healthy(&self) -> Duration {
        self.healthy_after.min(LONGEST)
    }

    pub(crate) fn reports_from(&self) -> u32 {
        self.report_after.max(1)
    }

    /// The delay before attempt `attempt` (0-based count of failures so far).
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .min(self.max_delay)
            .min(LONGEST);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// Settings of the realtime (subscription) sockets. Setters never fail; values are checked by
/// [`ClientBuilder::build`](crate::ClientBuilder::build).
#[derive(Clone)]
pub struct RealtimeOptions {
    pub(crate) handshake: HandshakeMethod,
    pub(crate) connect_timeout: Duration,
    pub(crate) ack_timeout: Duration,
    pub(crate) start_ack_timeout: Duration,
    pub(crate) keep_alive_timeout: Option<Duration>,
    pub(crate) reconnect: ReconnectPolicy,
    pub(crate) idle_close_delay: Duration,
    pub(crate) buffer: Option<usize>,
    pub(crate) max_buffered_bytes: usize,
    pub(crate) max_stall: Duration,
    pub(crate) proxy: Option<String>,
}

impl fmt::Debug for RealtimeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A proxy URL may carry credentials: only its scheme, host and path are shown.
        let proxy = self.proxy.as_deref().map(crate::config::redacted_raw_url);
        f.debug_struct("RealtimeOptions")
            .field("handshake", &self.handshake)
            .field("connect_timeout", &self.connect_timeout)
            .field("ack_timeout", &self.ack_timeout)
            .field("start_ack_timeout", &self.start_ack_timeout)
            .field("keep_alive_timeout", &self.keep_alive_timeout)
            .field("reconnect", &self.reconnect)
            .field("idle_close_delay", &self.idle_close_delay)
            .field("buffer", &self.buffer)
            .field("max_buffered_bytes", &self.max_buffered_bytes)
            .field("max_stall", &self.max_stall)
            .field("proxy", &proxy)
            .finish()
    }
}

impl Default for RealtimeOptions {
    fn default() -> Self {
        RealtimeOptions {
            handshake: HandshakeMethod::Subprotocol,
            connect_timeout: Duration::from_secs(10),
            ack_timeout: Duration::from_secs(15),
            start_ack_timeout: Duration::from_secs(15),
            keep_alive_timeout: None,
            reconnect: ReconnectPolicy::default(),
            idle_close_delay: Duration::from_secs(1),
            buffer: None,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            max_stall: Duration::from_secs(10),
            proxy: None,
        }
    }
}

impl RealtimeOptions {
    /// The defaults: subprotocol handshake, 10 s connect, 15 s acks, keep-alive timeout from
    /// the server, reconnect forever, close 1 s after the last subscription, 8 MiB of unread
    /// events per socket before it stops reading, 10 s of such a stall before the slowest
    /// readers lose events, no cap on the number of events.
    pub fn new() -> Self {
        RealtimeOptions::default()
    }

    /// How the handshake's authorization is sent (default [`HandshakeMethod::Subprotocol`]).
    pub fn handshake(mut self, method: HandshakeMethod) -> Self {
        self.handshake = method;
        self
    }

    /// The limit on opening a socket: TCP, TLS and the HTTP upgrade (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long to wait for `connection_ack` after `connection_init` (default 15 s).
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
        self
    }

    /// How long to wait for a `start_ack` (default 15 s).
    pub fn start_ack_timeout(mut self, timeout: Duration) -> Self {
        self.start_ack_timeout = timeout;
        self
    }

    /// Silence after which a socket is taken as lost, instead of the `connectionTimeoutMs` the
    /// server announces (300 s on AppSync; a server value under 60 s is taken as 300 s, as
    /// AppSync's own clients do). Any frame counts as a sign of life.
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.keep_alive_timeout = Some(timeout);
        self
    }

    /// When and how often to reconnect a lost socket.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// How long a socket stays open after its last subscription ends (default 1 s), so that a
    /// quick resubscribe reuses it.
    pub fn idle_close_delay(mut self, delay: Duration) -> Self {
        self.idle_close_delay = delay;
        self
    }

    /// A cap on the events kept per subscription (default: none, only the byte budget of
    /// [`max_buffered_bytes`](RealtimeOptions::max_buffered_bytes) bounds them). With a cap,
    /// a subscription keeps its newest `events` and drops older ones at once, without pausing
    /// the socket; the reader gets [`SubscriptionEvent::Lagged`](crate::SubscriptionEvent::Lagged)
    /// next, with the count. For readers that only want the latest state.
    pub fn buffer(mut self, events: usize) -> Self {
        self.buffer = Some(events);
        self
    }

    /// The bytes of unread events one socket may hold for its subscriptions (default 8 MiB).
    /// Beyond it the socket stops reading (the server's further frames wait in TCP) until the
    /// readers catch up, so a burst that the readers work through is delivered in full.
    pub fn max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_bytes = bytes;
        self
    }

    /// How long a socket may stay stopped for its readers (default 10 s). Then the
    /// subscriptions holding the most unread bytes drop their oldest events down to a fair
    /// share of the budget (their readers get
    /// [`SubscriptionEvent::Lagged`](crate::SubscriptionEvent::Lagged)), and keep dropping
    /// rather than stopping the socket until their reader has emptied its buffer: a stuck reader
    /// stalls its socket's other subscriptions once, for this long at most.
    pub fn max_stall(mut self, stall: Duration) -> Self {
        self.max_stall = stall;
        self
    }

    /// Opens every socket to this `ws://` or `wss://` URL (a proxy or a gateway) while the
    /// authorization still names the API host, as if connecting directly.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Every problem with the values, for `ClientBuilder::build`.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        for (name, d) in [
            ("connect_timeout", self.connect_timeout),
            ("ack_timeout", self.ack_timeout),
            ("start_ack_timeout", self.start_ack_timeout),
            ("max_stall", self.max_stall),
        ] {
            if d.is_zero() {
                p.push(format!("realtime {name}: must be more than zero"));
            }
        }
        if self.keep_alive_timeout.is_some_and(|d| d.is_zero()) {
            p.push("realtime keep_alive_timeout: must be more than zero".to_owned());
        }
        if self.buffer == Some(0) {
            p.push("realtime buffer: must hold at least one event".to_owned());
        }
        if self.max_buffered_bytes == 0 {
            p.push("realtime max_buffered_bytes: must be more than zero".to_owned());
        }
        if let Some(raw) = &self.proxy {
            match url::Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "ws" | "wss") => {}
                Ok(u) => p.push(format!(
                    "realtime proxy: scheme {:?} is not ws or wss",
                    u.scheme()
                )),
                Err(e) => p.push(format!("realtime proxy: not a valid URL ({e})")),
            }
        }
        p
    }

    /// The parsed proxy URL (checked at build).
    pub(crate) fn proxy_url(&self) -> Option<url::Url> {
        self.proxy.as_deref().and_then(|p| url::Url::parse(p).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_checked() {
        let p = ReconnectPolicy::default().max_delay(Duration::from_secs(5));
        for a in 0..100 {
            assert!(p.delay(a) <= Duration::from_secs(5));
        }
        let bad = RealtimeOptions::new()
            .buffer(0)
            .ack_timeout(Duration::ZERO)
            .proxy("http://x");
        let problems = bad.problems().join("\n");
        assert!(problems.contains("buffer"), "{problems}");
        assert!(problems.contains("ack_timeout"), "{problems}");
        assert!(problems.contains("not ws or wss"), "{problems}");
        assert!(RealtimeOptions::new().problems().is_empty());
        let shown = format!(
            "{:?}",
            RealtimeOptions::new().proxy("wss://user:pass@proxy.example.com/rt?token=t")
        );
        assert!(
            !shown.contains("pass") && !shown.contains("token=t"),
            "{shown}"
        );
        assert!(
            ReconnectPolicy::default()
                .max_delay(Duration::MAX)
                .delay(99)
                <= LONGEST
        );
    }
}
