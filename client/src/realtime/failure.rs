//! Why a realtime connection failed: `Disruption` (what the application is shown, in connection
//! states and subscription events) and the actor's own `Failure` (enough to make one error per
//! subscription and to decide whether to retry).

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::StatusCode;

use super::protocol;
use super::socket::ConnectError;
use crate::auth::refresh::{is_permanent, SharedError};
use crate::error::Error;
use crate::operation::GraphQLError;

/// What disrupted a realtime connection, as the application sees it in
/// [`ConnectionState`](crate::ConnectionState) changes and
/// [`SubscriptionEvent::Failing`](crate::SubscriptionEvent::Failing): a message, and what the
/// server said (close code and reason, HTTP status of a refused upgrade, AppSync's error type).
/// Never holds credentials. Cheap to clone.
#[derive(Clone, PartialEq, Eq)]
pub struct Disruption(Arc<DisruptionInner>);

#[derive(PartialEq, Eq)]
struct DisruptionInner {
    message: String,
    close: Option<(u16, String)>,
    status: Option<StatusCode>,
    error_type: Option<String>,
    request_id: Option<String>,
}

impl Disruption {
    #[cfg(test)]
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Disruption(Arc::new(DisruptionInner {
            message: message.into(),
            close: None,
            status: None,
            error_type: None,
            request_id: None,
        }))
    }

    /// What happened, in words (e.g. "the server closed the socket with code 4000 (bye)").
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The code of the server's close frame, if it sent one.
    pub fn close_code(&self) -> Option<u16> {
        self.0.close.as_ref().map(|c| c.0)
    }

    /// The reason of the server's close frame, if it sent one.
    pub fn close_reason(&self) -> Option<&str> {
        self.0.close.as_ref().map(|c| c.1.as_str())
    }

    /// The HTTP status of a refused upgrade (e.g. 401).
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }

    /// AppSync's error type (`x-amzn-ErrorType`, or the first error entry's `errorType`).
    pub fn error_type(&self) -> Option<&str> {
        self.0.error_type.as_deref()
    }

    /// The server's request id (`x-amzn-RequestId`) of a refused upgrade, for support.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
}

impl fmt::Display for Disruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl fmt::Debug for Disruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Disruption");
        d.field("message", &self.0.message);
        if let Some(c) = &self.0.close {
            d.field("close", c);
        }
        if let Some(s) = &self.0.status {
            d.field("status", s);
        }
        if let Some(t) = &self.0.error_type {
            d.field("error_type", t);
        }
        if let Some(id) = &self.0.request_id {
            d.field("request_id", id);
        }
        d.finish()
    }
}

/// Why a connection attempt failed or a socket was lost, kept so that one error can be made
/// per subscription.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub message: String,
    /// The server refused the credentials.
    pub refused: bool,
    /// Retrying cannot help (a provider said so).
    pub permanent: bool,
    /// A wait ran out (no `connection_ack` in time).
    pub timeout: bool,
    pub status: Option<StatusCode>,
    pub error_type: Option<String>,
    pub errors: Vec<GraphQLError>,
    pub body: Bytes,
    pub date: Option<SystemTime>,
    pub close: Option<(u16, String)>,
    /// The server's id of a refused upgrade.
    pub request_id: Option<String>,
    /// A provider's error, shared by every subscription's error.
    pub auth: Option<SharedError>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            refused: false,
            permanent: false,
            timeout: false,
            status: None,
            error_type: None,
            errors: Vec::new(),
            body: Bytes::new(),
            date: None,
            close: None,
            request_id: None,
            auth: None,
        }
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        Failure {
            timeout: true,
            ..Failure::new(message)
        }
    }

    /// A close frame: its code and reason in the message and kept.
    pub fn closed(
        close: Option<(u16, String)>,
        before_ack: Option<super::HandshakeMethod>,
    ) -> Self {
        let mut message = match &close {
            Some((code, reason)) if reason.is_empty() => {
                format!("the server closed the socket with code {code}")
            }
            Some((code, reason)) => {
                format!("the server closed the socket with code {code} ({reason})")
            }
            None => "the server closed the socket".to_owned(),
        };
        // The AppSync simulator (and proxies that strip subprotocols) close a handshake they
        // cannot read with 1002: say what was tried and what else there is.
        if let (Some((1002, _)), Some(method)) = (&close, before_ack) {
            let (used, other) = match method {
                super::HandshakeMethod::Subprotocol => (
                    "the `header-` subprotocol",
                    "RealtimeOptions::handshake(HandshakeMethod::Query)",
                ),
                super::HandshakeMethod::Query => (
                    "the `header` query parameter",
                    "RealtimeOptions::handshake(HandshakeMethod::Subprotocol)",
                ),
            };
            message.push_str(&format!(
                " before connection_ack: the server may not read the handshake authorization \
                 carried in {used}; try {other}"
            ));
        }
        Failure {
            close,
            ..Failure::new(message)
        }
    }

    pub fn from_connect(e: ConnectError) -> Self {
        match e {
            ConnectError::Refused {
                status,
                error_type,
                errors,
                body,
                date,
                request_id,
            } => {
                let refused = matches!(status.as_u16(), 400 | 401 | 403);
                let mut message = format!("the realtime connection was refused with HTTP {status}");
                if let Some(t) = &error_type {
                    message.push_str(&format!(" ({t})"));
                }
                Failure {
                    refused,
                    request_id,
                    status: Some(status),
                    error_type,
                    errors,
                    body,
                    date,
                    ..Failure::new(message)
                }
            }
            ConnectError::Auth(e) => {
                let permanent = is_permanent(&e);
                let timeout = e.is_timeout();
                Failure {
                    permanent,
                    timeout,
                    auth: Some(SharedError::new(e)),
                    ..Failure::new(String::new())
                }
                .with_auth_message()
            }
            ConnectError::Protocol(m) => Failure::new(m),
            ConnectError::Failed(m) => {
                Failure::new(format!("the realtime connection could not be opened: {m}"))
            }
        }
    }

    fn with_auth_message(mut self) -> Self {
        if let Some(a) = &self.auth {
            self.message = a.to_string();
        }
        self
    }

    pub fn from_errors(message: &str, errors: Vec<GraphQLError>) -> Self {
        let mut f = Failure::new(message);
        if let Some(first) = errors.first() {
            f.message.push_str(": ");
            f.message.push_str(&first.to_string());
        }
        f.refused = protocol::is_credentials_refusal(&errors);
        f.error_type = errors.iter().find_map(|e| e.error_type.clone());
        f.errors = errors;
        f
    }

    /// The error each subscription ends with.
    pub fn to_error(&self) -> Error {
        if let Some(a) = &self.auth {
            return a.to_error();
        }
        if self.timeout {
            return Error::timeout(self.message.clone());
        }
        match self.status {
            Some(s) => Error::realtime_refused(
                self.message.clone(),
                s,
                self.error_type.clone(),
                self.errors.clone(),
                self.body.clone(),
            )
            .with_request_id(self.request_id.clone()),
            // The message already quotes the first error entry.
            None => Error::realtime_errors_quoted(self.message.clone(), self.errors.clone()),
        }
    }

    /// What the application is shown.
    pub fn disruption(&self) -> Disruption {
        Disruption(Arc::new(DisruptionInner {
            message: self.message.clone(),
            close: self.close.clone(),
            status: self.status,
            error_type: self.error_type.clone(),
            request_id: self.request_id.clone(),
        }))
    }

    /// The same failure, its message prefixed with why it is the last one.
    pub fn terminal(&self, why: &str) -> Failure {
        let mut f = self.clone();
        f.message = format!("{why}: {}", self.message);
        if let Some(a) = &f.auth {
            f.auth = Some(a.with_message(f.message.clone()));
        }
        f
    }
}
