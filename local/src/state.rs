//! The shared state of a running server: what every HTTP request and realtime socket reads
//! (the GraphQL engine, the Event API, the authenticator, the fault switches and the realtime
//! settings).

use std::time::Duration;

use crate::auth::{AuthMode, Authenticator};
use crate::engine::Engine;
use crate::events::Events;
use crate::faults::Faults;
use crate::store::Store;

/// How the realtime endpoints behave.
#[derive(Clone, Debug)]
pub(crate) struct RealtimeSettings {
    pub keep_alive: Duration,
    pub connection_timeout: Duration,
    pub max_subscriptions: usize,
    /// Refuse a bad handshake at the HTTP upgrade (401) instead of a `connection_error` frame.
    pub reject_at_upgrade: bool,
    /// Events `publish` messages allowed per second on one socket (`None`: no limit).
    pub events_publish_rate: Option<u32>,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        RealtimeSettings {
            keep_alive: Duration::from_secs(60),
            connection_timeout: Duration::from_secs(300),
            max_subscriptions: 100,
            reject_at_upgrade: false,
            events_publish_rate: Some(25),
        }
    }
}

/// The shared state of a running server.
pub(crate) struct ServerState {
    /// The GraphQL API (none on an Events-only server).
    pub engine: Option<Engine>,
    /// The Event API, if one is configured.
    pub events: Option<Events>,
    /// The store behind the default resolvers (the engine's).
    pub store: Store,
    /// The GraphQL API's default mode.
    pub default_mode: AuthMode,
    pub auth: Authenticator,
    pub faults: Faults,
    pub realtime: RealtimeSettings,
}
