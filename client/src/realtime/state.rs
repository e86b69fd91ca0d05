//! Connection states of the realtime sockets, and the `Stream` of their changes.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast;

use super::failure::Disruption;
use appsync_types::AuthMode;

/// The state of a realtime socket, as seen by [`Client::connection_states`](crate::Client::connection_states).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Opening the first socket: handshake, then waiting for `connection_ack`.
    Connecting,
    /// Acknowledged; subscriptions run.
    Connected,
    /// Nothing heard for half the keep-alive timeout; the socket may be lost.
    KeepAliveMissed,
    /// An established socket was lost (closed, reset, refused, or silent past the keep-alive
    /// timeout); its subscriptions wait for the reconnection.
    Disrupted {
        /// What happened: e.g. the server's close code and reason.
        cause: Disruption,
    },
    /// Reconnection attempt `attempt` (1, 2, …) is under way.
    Reconnecting {
        /// How many attempts, this one included, since the socket was last healthy.
        attempt: u32,
    },
    /// The socket keeps failing to come back: this many failures in a row (sent from
    /// [`ReconnectPolicy::report_after`](crate::ReconnectPolicy::report_after) failures on,
    /// once per failure), the last one's cause. Reconnection goes on unless the policy gives up.
    Failing {
        /// Failures in a row.
        failures: u32,
        /// The last one's cause (e.g. HTTP 401, or "frame over 16 MiB").
        cause: Disruption,
    },
    /// The server sent a connection-level error that does not end the socket (throttling:
    /// `LimitExceededError`, `MaxSubscriptionsReachedError` without an id); starts waiting for
    /// their acknowledgement are withdrawn and made again later.
    Throttled {
        /// The server's error.
        cause: Disruption,
    },
    /// The socket is closed for good: its last subscription ended, or recovery gave up.
    Disconnected,
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionState::Connecting => f.write_str("connecting"),
            ConnectionState::Connected => f.write_str("connected"),
            ConnectionState::KeepAliveMissed => f.write_str("keep-alive missed"),
            ConnectionState::Disrupted { cause } => write!(f, "disrupted: {cause}"),
            ConnectionState::Reconnecting { attempt } => write!(f, "reconnecting ({attempt})"),
            ConnectionState::Failing { failures, cause } => {
                write!(f, "failing ({failures} in a row): {cause}")
            }
            ConnectionState::Throttled { cause } => write!(f, "throttled: {cause}"),
            ConnectionState::Disconnected => f.write_str("disconnected"),
        }
    }
}

/// One change: the endpoint's name, the socket's auth mode, the new state.
pub(crate) type StateEvent = (String, AuthMode, ConnectionState);

/// The changes of every realtime socket of a client: `(api name, auth mode, state)`. Made by
/// [`Client::connection_states`](crate::Client::connection_states); sees only changes after it
/// was made. A reader that falls far behind skips the oldest changes.
pub struct ConnectionStates {
    inner: BoxStream<'static, StateEvent>,
}

impl ConnectionStates {
    pub(crate) fn new(rx: broadcast::Receiver<StateEvent>) -> Self {
        let inner = futures_util::stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(ev) => return Some((ev, rx)),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::debug!(skipped = n, "connection state reader fell behind");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .boxed();
        ConnectionStates { inner }
    }
}

impl Stream for ConnectionStates {
    type Item = (String, AuthMode, ConnectionState);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

impl fmt::Debug for ConnectionStates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionStates").finish_non_exhaustive()
    }
}
