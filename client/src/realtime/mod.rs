//! Realtime subscriptions over AppSync's WebSocket protocol: the per-client registry of sockets
//! (one actor per socket, keyed by realtime URL, GraphQL URL, mode and identity), and the
//! public types.

mod auth;
mod buffer;
mod connection;
mod options;
mod protocol;
mod socket;
mod state;
mod subscription;
mod url;

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc};

pub use options::{HandshakeMethod, RealtimeOptions, ReconnectPolicy};
pub use state::{ConnectionState, ConnectionStates};
pub use subscription::{SubscribeCall, Subscription, SubscriptionEvent};

use self::auth::ClientAuthorizer;
use self::buffer::Shared;
use self::connection::{ActorConfig, Command, Handle, Reply, SubRequest};
use self::socket::WsConnector;
use self::state::StateEvent;
use crate::auth::{AuthMode, TokenKind};
use crate::client::ClientInner;
use crate::config::EndpointConfig;
use crate::error::{Error, Result};
use crate::transport::{parse_headers, CallOptions};

/// A URL as it may be shown: without query, fragment or password.
pub(crate) fn redacted_url(u: &::url::Url) -> String {
    url::redacted(u)
}

/// How many sockets one subscribe may be sent to (each full or closing one sends it on).
const MAX_HOPS: usize = 64;

/// Numbers subscriptions and sockets across the process.
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// Which socket a subscription can share: same realtime URL and API, same mode, same
/// credentials (the hash of per-call overrides; the secrets themselves are not kept here).
#[derive(Clone, PartialEq, Eq, Hash)]
struct SocketKey {
    url: String,
    graphql: String,
    mode: AuthMode,
    identity: u64,
}

impl fmt::Debug for SocketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketKey")
            .field("graphql", &self.graphql)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// The client's sockets.
pub(crate) struct Realtime {
    options: RealtimeOptions,
    proxy: Option<::url::Url>,
    sockets: Mutex<HashMap<SocketKey, Vec<Handle>>>,
    states: broadcast::Sender<StateEvent>,
    /// Tests open in-memory sockets instead.
    #[cfg(test)]
    connector: std::sync::OnceLock<Arc<dyn socket::Connector>>,
}

impl fmt::Debug for Realtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Realtime")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Realtime {
    /// The registry for a client (options checked by the builder).
    pub(crate) fn new(options: RealtimeOptions) -> Self {
        Realtime {
            proxy: options.proxy_url(),
            options,
            sockets: Mutex::default(),
            states: broadcast::channel(256).0,
            #[cfg(test)]
            connector: std::sync::OnceLock::new(),
        }
    }

    /// How many sockets are open (or opening) for any key.
    #[cfg(test)]
    fn open_sockets(&self) -> usize {
        let sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        sockets
            .values()
            .flatten()
            .filter(|h| !h.tx.is_closed())
            .count()
    }

    /// A new reader of the connection states.
    pub(crate) fn states(&self) -> ConnectionStates {
        ConnectionStates::new(self.states.subscribe())
    }

    /// Starts a subscription on a socket of its key: an open one that is not full, else a new
    /// one. Resolves after `start_ack`.
    pub(crate) async fn subscribe(
        &self,
        inner: &Arc<ClientInner>,
        endpoint: &EndpointConfig,
        mode: AuthMode,
        call: &CallOptions,
        data: String,
    ) -> Result<(mpsc::UnboundedSender<Command>, Arc<Shared>, u64)> {
        // Bad headers are the caller's mistake: say so now rather than at every start.
        parse_headers(&call.headers)?;
        let connect_url = url::connect_url(endpoint, self.proxy.as_ref())?;
        let token_kind = match mode {
            AuthMode::UserPools => Some(call.token_kind.unwrap_or(inner.user_pool_token)),
            _ => None,
        };
        let key = SocketKey {
            url: connect_url.to_string(),
            graphql: endpoint.url().to_string(),
            mode,
            identity: identity(call, token_kind),
        };
        let data: Arc<str> = data.into();
        let headers: Arc<[(String, String)]> = call.headers.clone().into();
        let shared = Arc::new(Shared::new(self.options.buffer));
        let sub_key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        // If the caller stops waiting, the subscription must not stay on the socket unread.
        let mut cancel = CancelGuard {
            tx: None,
            key: sub_key,
        };
        for _ in 0..MAX_HOPS {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let req = SubRequest {
                key: sub_key,
                data: data.clone(),
                headers: headers.clone(),
                shared: shared.clone(),
                reply: tx,
            };
            let handle = {
                let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
                // Forget closed sockets, and keys left with none.
                sockets.retain(|_, list| {
                    list.retain(|h| !h.tx.is_closed());
                    !list.is_empty()
                });
                let list = sockets.entry(key.clone()).or_default();
                match list.iter().find(|h| !h.full.load(Ordering::SeqCst)) {
                    Some(h) => match h.tx.send(Command::Subscribe(req)) {
                        Ok(()) => h.clone(),
                        Err(_) => continue,
                    },
                    None => {
                        let h = self.spawn(inner, endpoint, mode, call, &connect_url, req);
                        list.push(h.clone());
                        h
                    }
                }
            };
            cancel.tx = Some(handle.tx.clone());
            match rx.await {
                Ok(Reply::Started) => {
                    cancel.tx = None;
                    return Ok((handle.tx, shared, sub_key));
                }
                Ok(Reply::Failed(e)) => return Err(e),
                Ok(Reply::Retry) | Err(_) => continue,
            }
        }
        Err(Error::realtime(format!(
            "no realtime socket took the subscription after {MAX_HOPS} tries"
        )))
    }

    fn spawn(
        &self,
        inner: &Arc<ClientInner>,
        endpoint: &EndpointConfig,
        mode: AuthMode,
        call: &CallOptions,
        connect_url: &::url::Url,
        first: SubRequest,
    ) -> Handle {
        let o = &self.options;
        let authorizer = ClientAuthorizer::new(
            inner.clone(),
            endpoint,
            mode,
            call.api_key.clone(),
            call.auth_token.clone(),
            call.token_kind,
        );
        let connector: Arc<dyn socket::Connector> =
            Arc::new(WsConnector::new(connect_url.clone(), o.handshake));
        #[cfg(test)]
        let connector = self.connector.get().cloned().unwrap_or(connector);
        let socket = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        let span = tracing::debug_span!(
            "appsync.realtime",
            api = endpoint.name(),
            mode = %mode,
            socket,
            url = %url::redacted(connect_url),
        );
        connection::spawn(
            ActorConfig {
                api_name: endpoint.name().to_owned(),
                mode,
                connect_timeout: o.connect_timeout,
                ack_timeout: o.ack_timeout,
                start_ack_timeout: o.start_ack_timeout,
                keep_alive_timeout: o.keep_alive_timeout,
                reconnect: o.reconnect.clone(),
                idle_close_delay: o.idle_close_delay,
            },
            connector,
            Arc::new(authorizer),
            self.states.clone(),
            first,
            span,
        )
    }
}

/// Unsubscribes when dropped while armed (the caller of `start()` gave up waiting).
struct CancelGuard {
    tx: Option<mpsc::UnboundedSender<Command>>,
    key: u64,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Command::Unsubscribe(self.key));
        }
    }
}

/// A hash of what makes one subscription's credentials differ from another's on the same
/// endpoint and mode: the per-call key or token, and the user-pool token kind.
fn identity(call: &CallOptions, token_kind: Option<TokenKind>) -> u64 {
    let mut h = DefaultHasher::new();
    call.api_key.as_ref().map(|s| s.expose()).hash(&mut h);
    call.auth_token.as_ref().map(|s| s.expose()).hash(&mut h);
    token_kind.map(|k| k == TokenKind::Id).hash(&mut h);
    h.finish()
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
