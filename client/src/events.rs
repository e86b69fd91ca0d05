//! AppSync Events APIs by `apiName`: publish to a channel over HTTP (`POST /event`) or over the
//! realtime socket, and subscribe to channels (see `realtime/channel.rs`).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::iam::Service;
use crate::channel::{check_channel, publish_body, PublishResult, MAX_PUBLISH_EVENTS};
use crate::config::{Config, EndpointType};
use crate::error::{Error, Result};
use crate::options::{call_options, CallOptions};
use crate::realtime::{ChannelSubscribeCall, Realtime};
use crate::transport::{status_error, Call, Transport};

/// An AppSync Events API: publish with [`EventsApi::publish`], subscribe with
/// [`EventsApi::subscribe`]. Get one with [`Client::events`](crate::Client::events) or
/// [`Client::events_default`](crate::Client::events_default).
#[derive(Clone)]
pub struct EventsApi {
    config: Arc<Config>,
    transport: Arc<Transport>,
    realtime: Arc<Realtime>,
    api_name: Option<String>,
}

impl fmt::Debug for EventsApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventsApi")
            .field("api_name", &self.api_name)
            .finish_non_exhaustive()
    }
}

impl EventsApi {
    pub(crate) fn new(
        (config, transport, realtime): (Arc<Config>, Arc<Transport>, Arc<Realtime>),
        api_name: Option<String>,
    ) -> Self {
        EventsApi {
            config,
            transport,
            realtime,
            api_name,
        }
    }

    /// Publishes `events` (1 to [`MAX_PUBLISH_EVENTS`], each serialized to a JSON text) to
    /// `channel` (e.g. `/default/chat`; no wildcard). Over HTTP unless
    /// [`PublishCall::over_socket`] says otherwise.
    pub fn publish<E: Serialize>(
        &self,
        channel: impl Into<String>,
        events: impl IntoIterator<Item = E>,
    ) -> PublishCall {
        let events = events
            .into_iter()
            .map(|e| serde_json::to_string(&e))
            .collect::<std::result::Result<Vec<String>, _>>()
            .map_err(|e| e.to_string());
        PublishCall {
            config: self.config.clone(),
            transport: self.transport.clone(),
            realtime: self.realtime.clone(),
            channel: channel.into(),
            events,
            over_socket: false,
            options: CallOptions {
                api_name: self.api_name.clone(),
                ..CallOptions::default()
            },
        }
    }

    /// Subscribes to `channel`: one channel (`/default/chat`) or every channel under a prefix
    /// (`/default/*`). Each event is decoded into `T` (`serde_json::Value` for any JSON).
    pub fn subscribe<T: DeserializeOwned>(
        &self,
        channel: impl Into<String>,
    ) -> ChannelSubscribeCall<T> {
        ChannelSubscribeCall::new(
            (self.config.clone(), self.realtime.clone()),
            self.api_name.clone(),
            channel.into(),
        )
    }
}

/// A publish being set up; finish with [`PublishCall::send`].
#[must_use = "a publish does nothing until .send().await"]
pub struct PublishCall {
    config: Arc<Config>,
    transport: Arc<Transport>,
    realtime: Arc<Realtime>,
    channel: String,
    events: std::result::Result<Vec<String>, String>,
    over_socket: bool,
    options: CallOptions,
}

impl fmt::Debug for PublishCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishCall")
            .field("channel", &self.channel)
            .field("events", &self.events.as_ref().map(Vec::len))
            .field("over_socket", &self.over_socket)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl PublishCall {
    /// Publishes over the realtime socket instead of HTTP: the socket of this endpoint and
    /// mode that is already open (for subscriptions, say), else a new one, which closes a
    /// moment after its last use. Cheaper than HTTP when publishing often.
    ///
    /// A publish sent on a socket that is lost before the server answers fails (the events may
    /// or may not have been delivered); it is never sent twice.
    pub fn over_socket(mut self) -> Self {
        self.over_socket = true;
        self
    }

    /// Sends the publish; resolves with the server's answer per event (some may be accepted
    /// and some refused: [`PublishResult::failed`]). Fails before any traffic for an invalid
    /// channel, no event, more than [`MAX_PUBLISH_EVENTS`] events or an event that cannot be
    /// serialized ([`Error::is_request`]), or when no Events endpoint fits; then like any call
    /// (an HTTP status error, or the socket's errors), and with the server's errors when it
    /// refuses the whole publish ([`Error::graphql_errors`]).
    pub async fn send(self) -> Result<PublishResult> {
        let channel = check_channel(&self.channel, false)?;
        let events = self
            .events
            .map_err(|e| Error::request(format!("an event could not be serialized: {e}")))?;
        if events.is_empty() || events.len() > MAX_PUBLISH_EVENTS {
            return Err(Error::request(format!(
                "a publish carries 1 to {MAX_PUBLISH_EVENTS} events, not {}; send more in \
                 several publishes",
                events.len()
            )));
        }
        let selected = self.options.select_of(&self.config, EndpointType::Events)?;
        if self.over_socket {
            let publish = self.realtime.publish(
                selected.endpoint,
                selected.mode,
                &self.options,
                channel.as_str().into(),
                events.into(),
            );
            return match self.options.timeout {
                Some(limit) => tokio::time::timeout(limit, publish)
                    .await
                    .unwrap_or_else(|_| {
                        Err(Error::timeout(format!(
                            "the publish was not answered within {limit:?}; the events may or \
                             may not have been delivered"
                        )))
                    }),
                None => publish.await,
            };
        }
        let body = publish_body(&channel, &events);
        let call = Call {
            endpoint: selected.endpoint,
            mode: selected.mode,
            service: Service::AppSync,
            method: Method::POST,
            url: std::borrow::Cow::Borrowed(selected.endpoint.url()),
            body: Bytes::from(body),
            content_type: Some("application/json"),
            accept_json: true,
            options: &self.options,
            // Publishing twice delivers twice.
            retry_safe: false,
            kind: None,
            operation_name: None,
        };
        let resp = self.transport.execute(call).await?;
        if !resp.status.is_success() {
            return Err(status_error(resp));
        }
        serde_json::from_slice::<PublishResult>(&resp.body).map_err(|e| {
            Error::decode(format!("the publish answer could not be decoded: {e}"))
                .with_source(e)
                .with_request_meta(Some(&resp.headers), resp.attempt)
        })
    }
}

call_options!(impl[] PublishCall {
    api_name: "Publishes on the Events endpoint of this name (`apiName`).",
    auth_mode: "Uses this auth mode (and, without `api_name`, the Events endpoint configured for it).",
    header: "Adds a header (signed too, with IAM).",
    api_key: "The API key for this publish instead of the configured one.",
    auth_token: "The `Authorization` token for this publish instead of the token provider's.",
    token_kind: "For user pools: which token to send (default: the access token, or \
                 `ClientBuilder::user_pool_token`).",
    timeout: "Over HTTP, the timeout of each attempt (default: `ClientBuilder::timeout`); over \
              the socket, the limit on the whole publish.",
    retry: "Retries this publish over HTTP on network errors, 429 and 5xx (default: never, \
            since a publish retried after it was taken delivers twice).",
});
