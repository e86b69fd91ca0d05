//! AppSync Events subscriptions: `ChannelSubscribeCall` (the builder), `ChannelSubscription<T>`
//! (a `Stream` of events that sends `unsubscribe` when dropped) and `ChannelEvent`. The socket
//! underneath is the same actor as GraphQL's, speaking the Events dialect.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::buffer::{Item, Next, Shared};
use super::connection::Command;
use super::failure::Disruption;
use super::protocol::{delivery, Delivery};
use super::Realtime;
use crate::channel::check_channel;
use crate::config::{Config, EndpointType};
use crate::error::{Error, Result};
use crate::operation::GraphQLError;
use crate::options::{call_options, CallOptions};
use appsync_types::AuthMode;

/// An item of a [`ChannelSubscription`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ChannelEvent<T> {
    /// An event published to a channel the subscription covers.
    Event(T),
    /// The server could not deliver an event to this subscription (`broadcast_error`); the
    /// subscription goes on.
    BroadcastError {
        /// What the server said.
        errors: Vec<GraphQLError>,
    },
    /// The subscription runs again after its socket was lost and reconnected. Events of the
    /// `gap` (how long it was down) were missed.
    Resumed {
        /// From the moment the socket was known lost to the new `subscribe_success`.
        gap: Duration,
    },
    /// The reader fell behind by more than the socket's budget for longer than
    /// [`RealtimeOptions::max_stall`](crate::RealtimeOptions::max_stall) (or past the event cap
    /// of [`RealtimeOptions::buffer`](crate::RealtimeOptions::buffer)): this many events, the
    /// oldest ones, were dropped.
    Lagged {
        /// How many events were dropped since the previous read.
        missed: u64,
    },
    /// The socket was lost and keeps failing to come back (see
    /// [`SubscriptionEvent::Failing`](crate::SubscriptionEvent::Failing)).
    Failing {
        /// Failures in a row.
        failures: u32,
        /// The last one's cause.
        cause: Disruption,
    },
}

/// An Events subscription being set up; finish with [`ChannelSubscribeCall::start`].
#[must_use = "a subscription does nothing until .start().await"]
pub struct ChannelSubscribeCall<T> {
    config: Arc<Config>,
    realtime: Arc<Realtime>,
    channel: String,
    options: CallOptions,
    _event: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ChannelSubscribeCall<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelSubscribeCall")
            .field("channel", &self.channel)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> ChannelSubscribeCall<T> {
    pub(crate) fn new(
        (config, realtime): (Arc<Config>, Arc<Realtime>),
        api_name: Option<String>,
        channel: String,
    ) -> Self {
        ChannelSubscribeCall {
            config,
            realtime,
            channel,
            options: CallOptions {
                api_name,
                ..CallOptions::default()
            },
            _event: PhantomData,
        }
    }

    /// Opens (or shares) the socket, sends `subscribe` and resolves when the server
    /// acknowledges it (`subscribe_success`). Fails before any traffic when the channel is not
    /// a valid channel path ([`Error::is_request`]) or no Events endpoint fits; then when the
    /// authorization cannot be made, the connection cannot be opened, or the server refuses
    /// the subscription (`subscribe_error`: [`Error::graphql_errors`]); with
    /// [`ChannelSubscribeCall::timeout`], when all that takes longer ([`Error::is_timeout`]).
    pub async fn start(self) -> Result<ChannelSubscription<T>> {
        match self.options.timeout {
            Some(limit) => tokio::time::timeout(limit, self.start_now())
                .await
                .unwrap_or_else(|_| {
                    Err(Error::timeout(format!(
                        "the subscription was not acknowledged within {limit:?}"
                    )))
                }),
            None => self.start_now().await,
        }
    }

    async fn start_now(self) -> Result<ChannelSubscription<T>> {
        let channel = check_channel(&self.channel, true)?;
        let selected = self.options.select_of(&self.config, EndpointType::Events)?;
        let (commands, shared, key) = self
            .realtime
            .subscribe(
                selected.endpoint,
                selected.mode,
                &self.options,
                channel.clone(),
            )
            .await?;
        Ok(ChannelSubscription::new(
            (shared, key, commands),
            selected.endpoint.name().to_owned(),
            selected.mode,
            channel,
        ))
    }
}

call_options!(impl[T: DeserializeOwned] ChannelSubscribeCall<T> {
    api_name: "Subscribes on the Events endpoint of this name (`apiName`).",
    auth_mode: "Uses this auth mode (and, without `api_name`, the Events endpoint configured for it).",
    header: "Adds a header to the authorization of this subscription's `subscribe` messages \
             (signed too, with IAM). The socket's handshake does not carry it.",
    api_key: "The API key for this subscription instead of the configured one (such \
              subscriptions get a socket of their own).",
    auth_token: "The `Authorization` token for this subscription instead of the token \
                 provider's (such subscriptions get a socket of their own; the token is never \
                 refreshed).",
    token_kind: "For user pools: which token to send (default: the access token, or \
                 `ClientBuilder::user_pool_token`).",
    timeout: "The limit on [`ChannelSubscribeCall::start`] as a whole: opening (or sharing) \
              the socket, the handshake and the `subscribe_success`.",
});

/// A live Events subscription: a `Stream` of [`ChannelEvent`]s, each event decoded into `T`
/// (`serde_json::Value` for any JSON). Dropping it unsubscribes; the socket closes a moment
/// after its last subscription.
///
/// An `Err` item ends the stream (the server ended the subscription, or the socket could not
/// be recovered), except a decoding error ([`Error::is_decode`]), which concerns one event.
pub struct ChannelSubscription<T> {
    shared: Arc<Shared>,
    key: u64,
    commands: mpsc::UnboundedSender<Command>,
    api_name: String,
    mode: AuthMode,
    channel: String,
    _event: PhantomData<fn() -> T>,
}

impl<T> ChannelSubscription<T> {
    pub(crate) fn new(
        (shared, key, commands): (Arc<Shared>, u64, mpsc::UnboundedSender<Command>),
        api_name: String,
        mode: AuthMode,
        channel: String,
    ) -> Self {
        ChannelSubscription {
            shared,
            key,
            commands,
            api_name,
            mode,
            channel,
            _event: PhantomData,
        }
    }

    /// The endpoint's name.
    pub fn api_name(&self) -> &str {
        &self.api_name
    }

    /// The auth mode of its socket.
    pub fn auth_mode(&self) -> AuthMode {
        self.mode
    }

    /// The channel (or wildcard) subscribed to.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// How many items wait to be read (bounded by the socket's byte budget, plus markers).
    pub fn backlog(&self) -> usize {
        self.shared.len()
    }
}

impl<T> fmt::Debug for ChannelSubscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelSubscription")
            .field("api_name", &self.api_name)
            .field("mode", &self.mode)
            .field("channel", &self.channel)
            .field("backlog", &self.backlog())
            .finish()
    }
}

impl<T: DeserializeOwned> Stream for ChannelSubscription<T> {
    type Item = Result<ChannelEvent<T>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(Some(match self.shared.next(cx.waker()) {
            Next::Pending => return Poll::Pending,
            Next::Done => return Poll::Ready(None),
            Next::Failed(e) => Err(e),
            Next::Lagged(missed) => Ok(ChannelEvent::Lagged { missed }),
            Next::Item(Item::Resumed(gap)) => Ok(ChannelEvent::Resumed { gap }),
            Next::Item(Item::Failing(failures, cause)) => {
                Ok(ChannelEvent::Failing { failures, cause })
            }
            Next::Item(Item::Data(frame)) => match delivery(frame.as_str()) {
                Ok(Delivery::Event(event)) => serde_json::from_str::<T>(&event)
                    .map(ChannelEvent::Event)
                    .map_err(|e| {
                        Error::decode(format!("an event could not be decoded: {e}")).with_source(e)
                    }),
                Ok(Delivery::BroadcastError(errors)) => Ok(ChannelEvent::BroadcastError { errors }),
                Err(why) => Err(Error::decode(format!("an event frame is malformed: {why}"))),
            },
        }))
    }
}

impl<T> Drop for ChannelSubscription<T> {
    fn drop(&mut self) {
        self.shared.close();
        let _ = self.commands.send(Command::Unsubscribe(self.key));
    }
}
