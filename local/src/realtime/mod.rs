//! The realtime endpoints: AppSync's GraphQL `graphql-ws` protocol on `/graphql/realtime` (and
//! upgrades on `/graphql`), `appsync-protocol.md` §2, requirements §2.10; and AppSync Events'
//! `aws-appsync-event-ws` protocol on `/event/realtime` (§2.9).
//!
//! Both upgrades go through the same checks, in order: an injected refusal
//! (`Faults::refuse_next_connections`, answered with that HTTP status), the protocol's
//! subprotocol (when it is not offered the upgrade is accepted without a subprotocol and the
//! socket is closed at once with 1002, as the Amplify simulator does), then the handshake's auth
//! object (see [`handshake`]: the `header-` subprotocol, the `header` query parameter or the
//! upgrade's own headers), checked as a `POST` to the connect path with body `{}`: GraphQL's
//! `/graphql/connect` against the API's modes, Events' `/event` against its connection modes.
//! A bad handshake is refused with HTTP 401 when `reject_at_upgrade` is set; otherwise the
//! socket is accepted and `connection_init` is answered with a `connection_error` (see
//! [`socket`], which runs both protocols: [`graphql`] and [`events`]).

mod events;
mod graphql;
mod handshake;
mod socket;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::Response;
use serde_json::{json, Value};
use tracing::Instrument;

use crate::auth::{AuthFailure, AuthInput, AuthMode, HostCheck};
use crate::http::{header_pairs, json_response};
use crate::state::ServerState;

use socket::Protocol;

/// The subprotocol AppSync's GraphQL realtime endpoint speaks.
const GRAPHQL_SUBPROTOCOL: &str = "graphql-ws";

/// The subprotocol AppSync Events speaks.
const EVENTS_SUBPROTOCOL: &str = "aws-appsync-event-ws";

/// Numbers sockets for the logs.
static SOCKETS: AtomicU64 = AtomicU64::new(1);

/// Answers a WebSocket upgrade on the GraphQL realtime paths.
pub(crate) async fn upgrade(
    State(server): State<Arc<ServerState>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let endpoint = Endpoint {
        subprotocol: GRAPHQL_SUBPROTOCOL,
        connect_path: "/graphql/connect",
        modes: None,
    };
    accept(server, ws, uri, headers, endpoint, |_| {
        graphql::GraphQl::default()
    })
    .await
}

/// Answers a WebSocket upgrade on `/event/realtime`.
pub(crate) async fn events_upgrade(
    State(server): State<Arc<ServerState>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let modes = server.events.as_ref().map(|e| e.connect_modes.clone());
    let endpoint = Endpoint {
        subprotocol: EVENTS_SUBPROTOCOL,
        connect_path: "/event",
        modes: Some(modes.unwrap_or_default()),
    };
    accept(
        server,
        ws,
        uri,
        headers,
        endpoint,
        events::EventsSocket::new,
    )
    .await
}

/// What differs between the two upgrades.
struct Endpoint {
    subprotocol: &'static str,
    /// The path an IAM signature of the handshake covers (body `{}`).
    connect_path: &'static str,
    /// The modes that may connect (`None`: the GraphQL API's).
    modes: Option<BTreeSet<AuthMode>>,
}

/// The shared upgrade: faults, subprotocol, handshake auth, then the protocol's socket.
async fn accept<P: Protocol>(
    server: Arc<ServerState>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    uri: Uri,
    headers: HeaderMap,
    endpoint: Endpoint,
    protocol: impl FnOnce(&ServerState) -> P,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return not_an_upgrade(&uri, &headers, &rejection),
    };
    if let Some(status) = server.faults.take_connection_refusal() {
        tracing::debug!(status, "realtime upgrade refused (injected fault)");
        return refusal(status);
    }
    // Subscribe before answering, so that no fault command sent once the client is connected
    // can be missed.
    let commands = server.faults.socket_commands();
    let conn = SOCKETS.fetch_add(1, Ordering::Relaxed);
    let span = tracing::debug_span!("realtime", conn, protocol = endpoint.subprotocol);
    let offered: Vec<String> = ws
        .requested_protocols()
        .filter_map(|p| p.to_str().ok().map(str::to_owned))
        .collect();
    if !offered.iter().any(|p| p == endpoint.subprotocol) {
        tracing::debug!(parent: &span, "subprotocol not offered: closing with 1002");
        let reason = if endpoint.subprotocol == GRAPHQL_SUBPROTOCOL {
            "The graphql-ws subprotocol is required."
        } else {
            "The aws-appsync-event-ws subprotocol is required."
        };
        return ws
            .on_upgrade(move |socket| socket::refuse_protocol(socket, reason).instrument(span));
    }
    let ws = ws.protocols([endpoint.subprotocol]);
    let (source, auth_headers) =
        handshake::auth_headers(offered.iter().map(String::as_str), uri.query(), || {
            header_pairs(&headers, &uri)
        });
    let auth = match auth_headers {
        Ok(hs) => {
            let input = connect_input(&hs, endpoint.connect_path);
            match &endpoint.modes {
                None => server.auth.authenticate_realtime(&input).await,
                Some(modes) => {
                    server
                        .auth
                        .authenticate_realtime_in(&input, modes, HostCheck::Required)
                        .await
                }
            }
        }
        Err(message) => Err(AuthFailure {
            status: 401,
            error_type: "UnauthorizedException",
            message,
        }),
    };
    match &auth {
        Ok(id) => {
            tracing::debug!(parent: &span, source = source.as_str(), mode = %id.mode, "realtime handshake authorized")
        }
        Err(f) => {
            tracing::debug!(parent: &span, source = source.as_str(), error_type = f.error_type, "realtime handshake refused")
        }
    }
    if let (Err(f), true) = (&auth, server.realtime.reject_at_upgrade) {
        return json_response(
            401,
            &json!({"errors": [{"errorType": "UnauthorizedException", "message": f.message}]}),
            Some("UnauthorizedException"),
        );
    }
    let protocol = protocol(&server);
    let fail_span = span.clone();
    ws.on_failed_upgrade(move |e| {
        tracing::debug!(parent: &fail_span, error = %e, "realtime upgrade failed");
    })
    .on_upgrade(move |socket| {
        let auth = auth.map(|_| ()).map_err(|f| f.message);
        socket::run(server, socket, auth, commands, protocol).instrument(span)
    })
}

/// The connect handshake as an HTTP request for the auth checks: `POST <path>` with body `{}`
/// (what IAM signs, §2.3, §2.9), carrying the header object's pairs.
fn connect_input<'a>(headers: &'a [(String, String)], path: &'a str) -> AuthInput<'a> {
    static EMPTY: Value = Value::Null;
    AuthInput {
        headers,
        method: "POST",
        path,
        query: "",
        body: b"{}",
        query_string: "",
        operation_name: None,
        variables: &EMPTY,
        channel: None,
    }
}

/// A request on a realtime path that is not a WebSocket upgrade.
fn not_an_upgrade(
    uri: &Uri,
    headers: &HeaderMap,
    rejection: &WebSocketUpgradeRejection,
) -> Response {
    if uri.path() == "/graphql" && !headers.contains_key(header::UPGRADE) {
        let mut r = json_response(
            405,
            &json!({"errors": [{"errorType": "MethodNotAllowedException",
                "message": "GET /graphql serves only WebSocket upgrades; send queries with POST."}]}),
            Some("MethodNotAllowedException"),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    json_response(
        400,
        &json!({"errors": [{"errorType": "BadRequestException",
            "message": format!("Expected a WebSocket upgrade: {}", rejection.body_text())}]}),
        Some("BadRequestException"),
    )
}

/// An injected refusal of the upgrade.
fn refusal(status: u16) -> Response {
    let error_type = match status {
        401 => "UnauthorizedException",
        403 => "ForbiddenException",
        429 => "TooManyRequestsException",
        400..=499 => "BadRequestException",
        _ => "InternalFailure",
    };
    json_response(
        status,
        &json!({"errors": [{"errorType": error_type, "message": "The connection was refused (injected fault)."}]}),
        Some(error_type),
    )
}
