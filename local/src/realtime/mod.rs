//! The realtime endpoint (`/graphql/realtime`, and upgrades on `/graphql`): AppSync's
//! `graphql-ws` WebSocket protocol (`appsync-protocol.md` §2, requirements §2.10).
//!
//! The upgrade handler here checks, in order: an injected refusal (`Faults::refuse_next_connections`,
//! answered with that HTTP status), the `graphql-ws` subprotocol (when it is not offered the
//! upgrade is accepted without a subprotocol and the socket is closed at once with 1002, as the
//! Amplify simulator does), then the handshake's auth object (see [`handshake`]). A bad handshake
//! is refused with HTTP 401 when `reject_at_upgrade` is set; otherwise the socket is accepted and
//! `connection_init` is answered with a `connection_error` (see [`socket`]).

mod handshake;
mod socket;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::Response;
use serde_json::{json, Value};
use tracing::Instrument;

use crate::auth::{AuthFailure, AuthInput};
use crate::http::{header_pairs, json_response};
use crate::state::ServerState;

/// The subprotocol AppSync speaks.
const SUBPROTOCOL: &str = "graphql-ws";

/// Numbers sockets for the logs.
static SOCKETS: AtomicU64 = AtomicU64::new(1);

/// Answers a WebSocket upgrade on the realtime paths.
pub(crate) async fn upgrade(
    State(server): State<Arc<ServerState>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    uri: Uri,
    headers: HeaderMap,
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
    let span = tracing::debug_span!("realtime", conn);
    let offered: Vec<String> = ws
        .requested_protocols()
        .filter_map(|p| p.to_str().ok().map(str::to_owned))
        .collect();
    if !offered.iter().any(|p| p == SUBPROTOCOL) {
        tracing::debug!(parent: &span, "no graphql-ws subprotocol offered: closing with 1002");
        return ws.on_upgrade(move |socket| socket::refuse_protocol(socket).instrument(span));
    }
    let ws = ws.protocols([SUBPROTOCOL]);
    let (source, auth_headers) =
        handshake::auth_headers(offered.iter().map(String::as_str), uri.query(), || {
            header_pairs(&headers, &uri)
        });
    let auth = match auth_headers {
        Ok(hs) => server.auth.authenticate_realtime(&connect_input(&hs)).await,
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
    let fail_span = span.clone();
    ws.on_failed_upgrade(move |e| {
        tracing::debug!(parent: &fail_span, error = %e, "realtime upgrade failed");
    })
    .on_upgrade(move |socket| {
        socket::run(server, socket, auth.map_err(|f| f.message), commands).instrument(span)
    })
}

/// The connect handshake as an HTTP request for the auth checks: `POST /graphql/connect` with
/// body `{}` (what IAM signs, §2.3), carrying the header object's pairs.
fn connect_input(headers: &[(String, String)]) -> AuthInput<'_> {
    static EMPTY: Value = Value::Null;
    AuthInput {
        headers,
        method: "POST",
        path: "/graphql/connect",
        query: "",
        body: b"{}",
        query_string: "",
        operation_name: None,
        variables: &EMPTY,
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
