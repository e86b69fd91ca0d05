//! The HTTP endpoints: `POST /graphql` (AppSync's request and error shapes, authentication, then
//! execution), `POST /event` (AppSync Events' publish: the request's checks, authentication with
//! the namespace's publish modes, then the bus) and the JWKS of the token issuers; the JSON
//! responses the realtime upgrade shares.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::auth::{AuthFailure, AuthInput};
use crate::events::{Action, PublishRequest, Refusal};
use crate::state::ServerState;

/// Headers as `(lowercase name, value)` pairs, the form the auth checks take.
pub(crate) fn header_pairs(headers: &HeaderMap, uri: &Uri) -> Vec<(String, String)> {
    let mut hs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    if !hs.iter().any(|(k, _)| k == "host") {
        if let Some(a) = uri.authority() {
            hs.push(("host".into(), a.to_string()));
        }
    }
    hs
}

pub(crate) fn json_response(status: u16, body: &Value, error_type: Option<&str>) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json; charset=UTF-8",
        )],
        body.to_string(),
    )
        .into_response();
    if let Some(t) = error_type {
        if let Ok(v) = HeaderValue::from_str(t) {
            r.headers_mut().insert("x-amzn-errortype", v);
        }
    }
    r
}

/// The answer to an authentication failure; 403s carry `Date` so clients can learn their skew.
pub(crate) fn auth_failure_response(f: &AuthFailure) -> Response {
    let mut r = json_response(f.status, &f.body(), Some(f.error_type));
    if f.status == 403 {
        if let Ok(v) = HeaderValue::from_str(&crate::dates::http_date_now()) {
            r.headers_mut().insert(axum::http::header::DATE, v);
        }
    }
    r
}

fn malformed(message: &str) -> Response {
    json_response(
        400,
        &json!({"errors": [{"errorType": "MalformedHttpRequestException", "message": message}]}),
        Some("MalformedHttpRequestException"),
    )
}

/// An injected failure (`Faults::fail_next_requests`), if one is due.
fn injected_failure(server: &ServerState) -> Option<Response> {
    let status = server.faults.take_http_failure()?;
    let t = if status == 429 {
        "TooManyRequestsException"
    } else {
        "InternalFailure"
    };
    Some(json_response(
        status,
        &json!({"errors": [{"errorType": t, "message": "injected failure"}]}),
        Some(t),
    ))
}

pub(crate) async fn graphql(
    State(server): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = injected_failure(&server) {
        return r;
    }
    let Some(engine) = &server.engine else {
        return json_response(
            404,
            &json!({"errors": [{"errorType": "NotFoundException",
                "message": "This server has no GraphQL API."}]}),
            Some("NotFoundException"),
        );
    };
    if body.is_empty() {
        return malformed("Request body is empty.");
    }
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(&body) else {
        return malformed("Unable to parse GraphQL query.");
    };
    let Some(query) = req.get("query").and_then(Value::as_str) else {
        return malformed("Unable to parse GraphQL query.");
    };
    let variables = match req.get("variables") {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return malformed("Variables must be a JSON object."),
    };
    let operation_name = req.get("operationName").and_then(Value::as_str);
    let headers = header_pairs(&headers, &uri);
    let input = AuthInput {
        headers: &headers,
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        body: &body,
        query_string: query,
        operation_name,
        variables: &variables,
        channel: None,
    };
    let identity = match server.auth.authenticate(&input).await {
        Ok(id) => id,
        Err(f) => return auth_failure_response(&f),
    };
    let answer = engine
        .execute(query, variables.clone(), operation_name, identity)
        .await;
    json_response(200, &answer, None)
}

/// The answer to a refused `POST /event`.
fn events_refusal(r: &Refusal) -> Response {
    let mut resp = json_response(r.http_status(), &r.http_body(), Some(r.http_error_type()));
    if r.http_status() == 403 {
        if let Ok(v) = HeaderValue::from_str(&crate::dates::http_date_now()) {
            resp.headers_mut().insert(axum::http::header::DATE, v);
        }
    }
    resp
}

/// `POST /event`: `{"channel": "/ns/a", "events": ["<json>", …]}` with the same auth headers as
/// GraphQL (IAM signed over the exact body), answered with `{"successful", "failed"}`.
pub(crate) async fn events(
    State(server): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = injected_failure(&server) {
        return r;
    }
    let Some(events) = &server.events else {
        return events_refusal(&Refusal::new(
            crate::events::RefusalKind::NotFound,
            "This server has no Event API.",
        ));
    };
    if body.is_empty() {
        return events_refusal(&Refusal::invalid("Request body is empty."));
    }
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(&body) else {
        return events_refusal(&Refusal::invalid(
            "The request body is not a JSON object {\"channel\", \"events\"}.",
        ));
    };
    let request = match PublishRequest::parse(req.get("channel"), req.get("events")) {
        Ok(r) => r,
        Err(refusal) => return events_refusal(&refusal),
    };
    let headers = header_pairs(&headers, &uri);
    static NULL: Value = Value::Null;
    let input = AuthInput {
        headers: &headers,
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        body: &body,
        query_string: "",
        operation_name: None,
        variables: &NULL,
        channel: Some(&request.raw_channel),
    };
    let namespace = request.channel.namespace().to_owned();
    if let Err(refusal) = events
        .authorize(&server.auth, &namespace, Action::Publish, &input, false)
        .await
    {
        return events_refusal(&refusal);
    }
    json_response(200, &events.publish(request), None)
}

/// `GET /{pool}/.well-known/jwks.json`: the public key of the user pool (by its id) or of the
/// OIDC issuer (`oidc`).
pub(crate) async fn jwks(
    State(server): State<Arc<ServerState>>,
    axum::extract::Path(pool): axum::extract::Path<String>,
) -> Response {
    let key = match (&server.auth.user_pool, &server.auth.oidc) {
        (Some(up), _) if up.pool_id == pool => Some(up.key.jwks()),
        (_, Some(o)) if pool == "oidc" => Some(o.key.jwks()),
        _ => None,
    };
    match key {
        Some(k) => json_response(200, &k, None),
        None => json_response(404, &json!({"message": "no such key set"}), None),
    }
}
