//! Realtime subscriptions over AppSync's WebSocket protocol: the per-client registry of sockets
//! (one actor per socket, keyed by realtime URL, GraphQL URL, mode and identity), and the
//! public types.

mod auth;
mod buffer;
mod channel;
mod connection;
mod failure;
mod ids;
mod options;
mod protocol;
mod socket;
mod state;
mod subscription;
mod url;

#[cfg(feature = "fuzzing")]
pub(crate) mod fuzzing;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc};

pub use channel::{ChannelEvent, ChannelSubscribeCall, ChannelSubscription};
pub use failure::Disruption;
pub use options::{HandshakeMethod, RealtimeOptions, ReconnectPolicy};
pub use state::{ConnectionState, ConnectionStates};
pub use subscription::{SubscribeCall, Subscription, SubscriptionEvent};

use self::auth::ClientAuthorizer;
use self::buffer::Shared;
use self::connection::{ActorConfig, Command, Handle, PubReply, PublishRequest, Reply, SubRequest};
use self::protocol::Dialect;
use self::socket::WsConnector;
use self::state::StateEvent;
use crate::auth::Auth;
use crate::auth::TokenKind;
use crate::config::EndpointConfig;
use crate::error::{Error, Result};
use crate::headers::{parse_headers, Headers};
use crate::options::CallOptions;
use appsync_types::AuthMode;

/// A URL as it may be shown: without query, fragment or password.
pub(crate) fn redacted_url(u: &::url::Url) -> String {
    url::redacted(u)
}

/// How many sockets one subscribe may be sent to (each full or closing one sends it on).
const MAX_HOPS: usize = 64;

/// Numbers subscriptions and sockets across the process.
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// Which sockets a subscription can share: same realtime URL and API, same mode, same
/// user-pool token kind. Sockets under one key also differ by [`Identity`].
#[derive(Clone, PartialEq, Eq, Hash)]
struct SocketKey {
    url: String,
    graphql: String,
    mode: AuthMode,
    token_kind: Option<TokenKind>,
}

impl fmt::Debug for SocketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketKey")
            .field("graphql", &self.graphql)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// The per-call credentials of a socket's subscriptions: two subscriptions share a socket only
/// when these are the same secrets (compared in constant time), never by a hash of them.
#[derive(Clone, Default)]
struct Identity {
    api_key: Option<crate::secret::Secret>,
    auth_token: Option<crate::secret::Secret>,
}

impl Identity {
    fn same(&self, other: &Identity) -> bool {
        fn eq(a: Option<&crate::secret::Secret>, b: Option<&crate::secret::Secret>) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => a.ct_eq(b),
                _ => false,
            }
        }
        // Both compared, whatever the first says.
        let key = eq(self.api_key.as_ref(), other.api_key.as_ref());
        let token = eq(self.auth_token.as_ref(), other.auth_token.as_ref());
        key & token
    }
}

/// The client's sockets.
pub(crate) struct Realtime {
    options: RealtimeOptions,
    proxy: Option<::url::Url>,
    /// The client the WebSocket upgrades go through.
    http: reqwest::Client,
    /// The auth layer and the client's headers, for the authorization objects.
    auth: Arc<Auth>,
    headers: Arc<Headers>,
    /// How subscriptions that name no mode choose one, unless the call says.
    strategy: crate::endpoint::AuthStrategy,
    sockets: Mutex<HashMap<SocketKey, Vec<(Identity, Handle)>>>,
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
    /// The registry for a client (options checked by the builder); upgrades go through `http`.
    pub(crate) fn new(
        options: RealtimeOptions,
        http: reqwest::Client,
        auth: Arc<Auth>,
        headers: Arc<Headers>,
        strategy: crate::endpoint::AuthStrategy,
    ) -> Self {
        Realtime {
            strategy,
            proxy: options.proxy_url(),
            options,
            http,
            auth,
            headers,
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
            .filter(|(_, h)| !h.tx.is_closed())
            .count()
    }

    /// The auth layer (for the subscription builder's multi-auth choice).
    pub(crate) fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The client's default way of choosing a mode.
    pub(crate) fn strategy(&self) -> crate::endpoint::AuthStrategy {
        self.strategy
    }

    /// A new reader of the connection states.
    pub(crate) fn states(&self) -> ConnectionStates {
        ConnectionStates::new(self.states.subscribe())
    }

    /// The key and identity of the sockets a call on `endpoint` in `mode` may share.
    fn socket_key(
        &self,
        endpoint: &EndpointConfig,
        mode: AuthMode,
        call: &CallOptions,
    ) -> Result<(::url::Url, SocketKey, Identity)> {
        let connect_url = url::connect_url(endpoint, self.proxy.as_ref())?;
        let token_kind = match mode {
            AuthMode::UserPools => Some(self.auth.token_kind(mode, false, call.token_kind)),
            _ => None,
        };
        let key = SocketKey {
            url: connect_url.to_string(),
            graphql: endpoint.url().to_string(),
            mode,
            token_kind,
        };
        let identity = Identity {
            api_key: call.api_key.clone(),
            auth_token: call.auth_token.clone(),
        };
        Ok((connect_url, key, identity))
    }

    /// Events: publishes over a socket of its key (an open one, subscriptions or not, else a
    /// new one). Resolves with the server's answer.
    pub(crate) async fn publish(
        &self,
        endpoint: &EndpointConfig,
        mode: AuthMode,
        call: &CallOptions,
        channel: Arc<str>,
        events: Arc<[String]>,
    ) -> Result<crate::channel::PublishResult> {
        parse_headers(&call.headers)?;
        let (connect_url, key, identity) = self.socket_key(endpoint, mode, call)?;
        let headers: Arc<[(String, String)]> = call.headers.clone().into();
        let pub_key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        for _ in 0..MAX_HOPS {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let req = PublishRequest {
                key: pub_key,
                channel: channel.clone(),
                events: events.clone(),
                headers: headers.clone(),
                reply: tx,
            };
            {
                let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
                sockets.retain(|_, list| {
                    list.retain(|(_, h)| !h.tx.is_closed());
                    !list.is_empty()
                });
                let list = sockets.entry(key.clone()).or_default();
                match list.iter().find(|(id, _)| id.same(&identity)) {
                    Some((_, h)) => {
                        if h.tx.send(Command::Publish(req)).is_err() {
                            continue;
                        }
                    }
                    None => {
                        let h =
                            self.spawn(endpoint, mode, call, &connect_url, Command::Publish(req));
                        list.push((identity.clone(), h));
                    }
                }
            }
            match rx.await {
                Ok(PubReply::Done(r)) => return r,
                Ok(PubReply::Retry) => continue,
                Err(_) => {
                    return Err(Error::realtime(
                        "the realtime connection task ended before the publish was answered",
                    ))
                }
            }
        }
        Err(Error::realtime(format!(
            "no realtime socket took the publish after {MAX_HOPS} tries"
        )))
    }

    /// Starts a subscription on a socket of its key: an open one that is not full, else a new
    /// one. Resolves after `start_ack`.
    pub(crate) async fn subscribe(
        &self,
        endpoint: &EndpointConfig,
        mode: AuthMode,
        call: &CallOptions,
        data: String,
    ) -> Result<(mpsc::UnboundedSender<Command>, Arc<Shared>, u64)> {
        // Bad headers are the caller's mistake: say so now rather than at every start.
        parse_headers(&call.headers)?;
        let (connect_url, key, identity) = self.socket_key(endpoint, mode, call)?;
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
                    list.retain(|(_, h)| !h.tx.is_closed());
                    !list.is_empty()
                });
                let list = sockets.entry(key.clone()).or_default();
                let open = list
                    .iter()
                    .find(|(id, h)| id.same(&identity) && !h.full.load(Ordering::SeqCst));
                match open {
                    Some((_, h)) => match h.tx.send(Command::Subscribe(req)) {
                        Ok(()) => h.clone(),
                        Err(_) => continue,
                    },
                    None => {
                        let h =
                            self.spawn(endpoint, mode, call, &connect_url, Command::Subscribe(req));
                        list.push((identity.clone(), h.clone()));
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
        endpoint: &EndpointConfig,
        mode: AuthMode,
        call: &CallOptions,
        connect_url: &::url::Url,
        first: Command,
    ) -> Handle {
        let dialect = dialect_of(endpoint);
        let o = &self.options;
        let authorizer = ClientAuthorizer::new(
            (self.auth.clone(), self.headers.clone()),
            endpoint,
            mode,
            call.api_key.clone(),
            call.auth_token.clone(),
            call.token_kind,
        );
        let connector: Arc<dyn socket::Connector> = Arc::new(WsConnector::new(
            connect_url.clone(),
            o.handshake,
            self.http.clone(),
            dialect.subprotocol(),
        ));
        #[cfg(test)]
        let connector = self.connector.get().cloned().unwrap_or(connector);
        let socket = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        let span = tracing::debug_span!(
            "appsync.realtime",
            api = endpoint.name(),
            mode = %mode,
            socket,
            url = %url::redacted(connect_url),
            connection = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        connection::spawn(
            ActorConfig {
                api_name: endpoint.name().to_owned(),
                mode,
                handshake: o.handshake,
                connect_timeout: o.connect_timeout,
                ack_timeout: o.ack_timeout,
                start_ack_timeout: o.start_ack_timeout,
                keep_alive_timeout: o.keep_alive_timeout,
                auth_timeout: self.auth.provider_timeout(),
                reconnect: o.reconnect.clone(),
                idle_close_delay: o.idle_close_delay,
                max_buffered_bytes: o.max_buffered_bytes,
                max_stall: o.max_stall,
                // Keys and per-call tokens do not change with the identity.
                identity: match (mode, &call.auth_token) {
                    (AuthMode::Iam, _) => self.auth.identity_changes(),
                    (m, None) if m.uses_token() => self.auth.identity_changes(),
                    _ => None,
                },
                dialect,
            },
            connector,
            Arc::new(authorizer),
            self.states.clone(),
            first,
            span,
        )
    }
}

/// The protocol of an endpoint's sockets.
fn dialect_of(endpoint: &EndpointConfig) -> Dialect {
    match endpoint.endpoint_type() {
        crate::config::EndpointType::Events => Dialect::Events,
        _ => Dialect::GraphQL,
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

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
