//! The realtime endpoint (`/graphql/realtime`): AppSync's `graphql-ws` WebSocket protocol.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::server::Server;

/// Answers a WebSocket upgrade on the realtime paths.
pub(crate) async fn upgrade(State(_server): State<Arc<Server>>) -> Response {
    (
        axum::http::StatusCode::NOT_IMPLEMENTED,
        "realtime is not served yet",
    )
        .into_response()
}
