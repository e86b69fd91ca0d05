//! The shared state of a running server: what every HTTP request and realtime socket reads
//! (the engine, the authenticator, the fault switches and the realtime settings).

use std::time::Duration;

use crate::auth::Authenticator;
use crate::engine::Engine;
use crate::faults::Faults;

/// How the realtime endpoint behaves.
#[derive(Clone, Debug)]
pub(crate) struct RealtimeSettings {
    pub keep_alive: Duration,
    pub connection_timeout: Duration,
    pub max_subscriptions: usize,
    /// Refuse a bad handshake at the HTTP upgrade (401) instead of a `connection_error` frame.
    pub reject_at_upgrade: bool,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        RealtimeSettings {
            keep_alive: Duration::from_secs(60),
            connection_timeout: Duration::from_secs(300),
            max_subscriptions: 100,
            reject_at_upgrade: false,
        }
    }
}

/// The shared state of a running server.
pub(crate) struct ServerState {
    pub engine: Engine,
    pub auth: Authenticator,
    pub faults: Faults,
    pub realtime: RealtimeSettings,
}
