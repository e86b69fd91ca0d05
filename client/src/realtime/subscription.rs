//! What the application holds: `SubscribeCall` (the builder), `Subscription<T>` (a `Stream` of
//! events that sends `stop` when dropped) and `SubscriptionEvent`.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::mpsc;

use super::buffer::{Item, Next, Shared};
use super::connection::Command;
use super::failure::Disruption;
use super::protocol::DataFrame;
use super::Realtime;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::operation::{operation_kind, GraphQLRequest, OperationKind, Response};
use crate::options::{call_options, CallOptions};
use appsync_types::AuthMode;

/// An event of a [`Subscription`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SubscriptionEvent<T> {
    /// A `data` message: the data and any GraphQL errors, as sent.
    Data(Response<T>),
    /// The subscription runs again after its socket was lost and reconnected. Events of the
    /// `gap` (how long it was down) were missed: re-query what matters.
    Resumed {
        /// From the moment the socket was known lost to the new `start_ack`.
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
    /// The socket was lost and keeps failing to come back: this many failures in a row, and the
    /// last one's cause (sent from
    /// [`ReconnectPolicy::report_after`](crate::ReconnectPolicy::report_after) failures on). The
    /// subscription resumes (`Resumed`) when a connection succeeds, unless the reconnect policy
    /// gives up (then the stream ends with the error).
    Failing {
        /// Failures in a row.
        failures: u32,
        /// The last one's cause.
        cause: Disruption,
    },
}

/// The `payload.data` of a `start`: `{"query", "variables", "operationName"?}`.
#[derive(Serialize)]
struct Data<'a, V> {
    query: &'a str,
    variables: V,
    #[serde(rename = "operationName", skip_serializing_if = "Option::is_none")]
    operation_name: Option<&'a str>,
}

/// A subscription being set up; finish with [`SubscribeCall::start`].
#[must_use = "a subscription does nothing until .start().await"]
pub struct SubscribeCall<T> {
    config: Arc<Config>,
    realtime: Arc<Realtime>,
    data: std::result::Result<String, String>,
    kind: OperationKind,
    operation_name: Option<String>,
    allowed_modes: Option<&'static [AuthMode]>,
    options: CallOptions,
    _data: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for SubscribeCall<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscribeCall")
            .field("kind", &self.kind)
            .field("operation_name", &self.operation_name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SubscribeCall<serde_json::Value> {
    pub(crate) fn untyped(
        (config, realtime): (Arc<Config>, Arc<Realtime>),
        request: GraphQLRequest,
    ) -> Self {
        let kind = request.kind();
        let operation_name = request.operation_name_ref().map(str::to_owned);
        let data = Data {
            query: request.query(),
            variables: request
                .variables_ref()
                .cloned()
                .unwrap_or_else(|| serde_json::json!({})),
            operation_name: operation_name.as_deref(),
        };
        SubscribeCall {
            data: serde_json::to_string(&data).map_err(|e| e.to_string()),
            config,
            realtime,
            kind,
            operation_name,
            allowed_modes: None,
            options: CallOptions::default(),
            _data: PhantomData,
        }
    }
}

impl<T: DeserializeOwned> SubscribeCall<T> {
    pub(crate) fn typed<Q: graphql_client::GraphQLQuery<ResponseData = T>>(
        (config, realtime): (Arc<Config>, Arc<Realtime>),
        variables: Q::Variables,
        meta: Option<(OperationKind, &'static [AuthMode])>,
    ) -> Self {
        let body = Q::build_query(variables);
        let kind = meta
            .map(|m| m.0)
            .unwrap_or_else(|| operation_kind(body.query, Some(body.operation_name)));
        let data = Data {
            query: body.query,
            variables: &body.variables,
            operation_name: Some(body.operation_name),
        };
        SubscribeCall {
            data: serde_json::to_string(&data).map_err(|e| e.to_string()),
            config,
            realtime,
            kind,
            operation_name: Some(body.operation_name.to_owned()),
            allowed_modes: meta.map(|m| m.1),
            options: CallOptions::default(),
            _data: PhantomData,
        }
    }

    /// Opens (or shares) the socket, sends `start` and resolves when the server acknowledges
    /// it (`start_ack`). Fails when the operation is not a subscription, no endpoint or mode
    /// fits, the authorization cannot be made, the connection cannot be opened, or the server
    /// refuses the subscription (the error carries its errors: [`Error::graphql_errors`]); with
    /// [`SubscribeCall::timeout`], when all that takes longer ([`Error::is_timeout`]).
    pub async fn start(self) -> Result<Subscription<T>> {
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

    async fn start_now(self) -> Result<Subscription<T>> {
        if self.kind != OperationKind::Subscription {
            return Err(Error::request(format!(
                "operation {} is not a subscription; send queries and mutations with \
                 Client::graphql, Client::query or Client::operation",
                self.operation_name.as_deref().unwrap_or("(unnamed)")
            )));
        }
        let data = self
            .data
            .map_err(|e| Error::request(format!("the variables could not be serialized: {e}")))?;
        let candidates = if self.options.multi(self.realtime.strategy()) {
            self.options.select_graphql_multi(
                &self.config,
                self.realtime.auth(),
                self.allowed_modes,
                self.operation_name.as_deref(),
            )?
        } else {
            vec![self.options.select_graphql(
                &self.config,
                self.allowed_modes,
                self.operation_name.as_deref(),
            )?]
        };
        let last = candidates.len() - 1;
        let mut refusal = None;
        for (i, selected) in candidates.into_iter().enumerate() {
            match self
                .realtime
                .subscribe(
                    selected.endpoint,
                    selected.mode,
                    &self.options,
                    data.clone(),
                )
                .await
            {
                Ok((commands, shared, key)) => {
                    return Ok(Subscription::new(
                        shared,
                        key,
                        commands,
                        selected.endpoint.name().to_owned(),
                        selected.mode,
                    ))
                }
                // Multi-auth: a start refused for its mode moves on to the next one.
                Err(e) if i < last && refused(&e) => {
                    tracing::debug!(mode = %selected.mode, "multi-auth: refused, trying the next mode");
                    refusal = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(refusal.unwrap_or_else(|| Error::selection("multi-auth found no mode")))
    }
}

/// Whether multi-auth may try the next mode after this failed start: the mode's credentials or
/// token could not be had, or it was refused at the upgrade with 401/403, or with an
/// `Unauthorized`-like error.
fn refused(e: &Error) -> bool {
    e.is_auth()
        || crate::auth::refresh::is_permanent(e)
        || e.status_code().is_some_and(|s| {
            s == http::StatusCode::UNAUTHORIZED || s == http::StatusCode::FORBIDDEN
        })
        || e.error_type()
            .is_some_and(|t| t == "Unauthorized" || t.contains("UnauthorizedException"))
}

call_options!(impl[T: DeserializeOwned] SubscribeCall<T> {
    api_name: "Subscribes on the endpoint of this name (`apiName`).",
    auth_mode: "Uses this auth mode (and, without `api_name`, the endpoint configured for it).",
    header: "Adds a header to the authorization of this subscription's `start` messages (signed \
             too, with IAM). The socket's handshake does not carry it.",
    api_key: "The API key for this subscription instead of the configured one (such \
              subscriptions get a socket of their own).",
    auth_token: "The `Authorization` token for this subscription instead of the token \
                 provider's (such subscriptions get a socket of their own; the token is never \
                 refreshed).",
    token_kind: "For user pools: which token to send (default: the access token, or \
                 `ClientBuilder::user_pool_token`).",
    timeout: "The limit on [`SubscribeCall::start`] as a whole: opening (or sharing) the \
              socket, the handshake and the `start_ack` (default: the realtime timeouts alone).",
    auth_strategy: "How this subscription chooses its mode when it names none (default: the \
                    client's, `ClientBuilder::auth_strategy`); multi-auth picks once per start.",
    skip_auth_mode_check: "Subscribes even when the operation's schema does not allow the \
                           chosen mode.",
});

/// A live subscription: a `Stream` of [`SubscriptionEvent`]s. Dropping it stops the
/// subscription (`stop`); the socket closes a moment after its last subscription.
///
/// An `Err` item ends the stream (the server ended or refused the subscription, or the socket
/// could not be recovered), except a decoding error ([`Error::is_decode`]), which concerns one
/// event. `None` follows when the server completed the subscription or after an error.
pub struct Subscription<T> {
    shared: Arc<Shared>,
    key: u64,
    commands: mpsc::UnboundedSender<Command>,
    api_name: String,
    mode: AuthMode,
    _data: PhantomData<fn() -> T>,
}

impl<T> Subscription<T> {
    pub(crate) fn new(
        shared: Arc<Shared>,
        key: u64,
        commands: mpsc::UnboundedSender<Command>,
        api_name: String,
        mode: AuthMode,
    ) -> Self {
        Subscription {
            shared,
            key,
            commands,
            api_name,
            mode,
            _data: PhantomData,
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

    /// How many events wait to be read (bounded by the socket's byte budget, plus markers).
    pub fn backlog(&self) -> usize {
        self.shared.len()
    }
}

impl<T> fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("api_name", &self.api_name)
            .field("mode", &self.mode)
            .field("backlog", &self.backlog())
            .finish()
    }
}

impl<T: DeserializeOwned> Stream for Subscription<T> {
    type Item = Result<SubscriptionEvent<T>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(Some(match self.shared.next(cx.waker()) {
            Next::Pending => return Poll::Pending,
            Next::Done => return Poll::Ready(None),
            Next::Failed(e) => Err(e),
            Next::Lagged(missed) => Ok(SubscriptionEvent::Lagged { missed }),
            Next::Item(Item::Resumed(gap)) => Ok(SubscriptionEvent::Resumed { gap }),
            Next::Item(Item::Failing(failures, cause)) => {
                Ok(SubscriptionEvent::Failing { failures, cause })
            }
            // Decoded once, from the frame's text straight into `Response<T>`.
            Next::Item(Item::Data(frame)) => serde_json::from_str::<DataFrame<T>>(frame.as_str())
                .map(|f| SubscriptionEvent::Data(f.payload))
                .map_err(|e| {
                    Error::decode(format!("a subscription event could not be decoded: {e}"))
                        .with_source(e)
                }),
        }))
    }
}

impl<T> Drop for Subscription<T> {
    fn drop(&mut self) {
        self.shared.close();
        let _ = self.commands.send(Command::Unsubscribe(self.key));
    }
}
