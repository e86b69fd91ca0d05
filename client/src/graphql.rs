//! The GraphQL call builder over HTTP (`GraphQLCall`) and the decoding of an answer's body.

use std::fmt;
use std::sync::Arc;

use appsync_types::AuthMode;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::Config;
use crate::operation::{
    errors_or_null, operation_kind, GraphQLError, GraphQLRequest, OperationKind, Response,
};
use crate::options::{call_options, CallOptions};
use crate::transport::Transport;

/// A GraphQL call being set up; finish with [`GraphQLCall::send`].
#[must_use = "a call does nothing until .send().await"]
pub struct GraphQLCall<T> {
    config: Arc<Config>,
    transport: Arc<Transport>,
    body: std::result::Result<bytes::Bytes, String>,
    kind: OperationKind,
    operation_name: Option<String>,
    allowed_modes: Option<&'static [AuthMode]>,
    options: CallOptions,
    _data: std::marker::PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for GraphQLCall<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphQLCall")
            .field("kind", &self.kind)
            .field("operation_name", &self.operation_name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl GraphQLCall<Value> {
    pub(crate) fn untyped(
        (config, transport): (Arc<Config>, Arc<Transport>),
        request: GraphQLRequest,
    ) -> Self {
        let kind = request.kind();
        let operation_name = request.operation_name_ref().map(str::to_owned);
        GraphQLCall {
            config,
            transport,
            body: serde_json::to_vec(&request)
                .map(Into::into)
                .map_err(|e| e.to_string()),
            kind,
            operation_name,
            allowed_modes: None,
            options: Default::default(),
            _data: std::marker::PhantomData,
        }
    }
}

impl<T: serde::de::DeserializeOwned> GraphQLCall<T> {
    pub(crate) fn typed<Q: graphql_client::GraphQLQuery<ResponseData = T>>(
        (config, transport): (Arc<Config>, Arc<Transport>),
        variables: Q::Variables,
        meta: Option<(OperationKind, &'static [AuthMode])>,
    ) -> Self {
        let body = Q::build_query(variables);
        let kind = meta
            .map(|m| m.0)
            .unwrap_or_else(|| operation_kind(body.query, Some(body.operation_name)));
        GraphQLCall {
            config,
            transport,
            body: serde_json::to_vec(&body)
                .map(Into::into)
                .map_err(|e| e.to_string()),
            kind,
            operation_name: Some(body.operation_name.to_owned()),
            allowed_modes: meta.map(|m| m.1),
            options: Default::default(),
            _data: std::marker::PhantomData,
        }
    }

    fn body(&self) -> crate::Result<bytes::Bytes> {
        self.body.clone().map_err(|e| {
            crate::Error::request(format!("the variables could not be serialized: {e}"))
        })
    }

    /// The call to the endpoint and mode the rules select.
    fn prepare(&self) -> crate::Result<crate::transport::Call<'_>> {
        let selected = self.options.select_graphql(
            &self.config,
            self.allowed_modes,
            self.operation_name.as_deref(),
        )?;
        Ok(self.call_to(selected, self.body()?))
    }

    fn call_to<'a>(
        &'a self,
        selected: crate::endpoint::Selected<'a>,
        body: bytes::Bytes,
    ) -> crate::transport::Call<'a> {
        crate::transport::Call {
            endpoint: selected.endpoint,
            mode: selected.mode,
            service: crate::auth::iam::Service::AppSync,
            method: http::Method::POST,
            url: std::borrow::Cow::Borrowed(selected.endpoint.url()),
            body,
            content_type: Some("application/json"),
            accept_json: true,
            options: &self.options,
            retry_safe: self.kind == OperationKind::Query,
            kind: Some(self.kind),
            operation_name: self.operation_name.as_deref(),
        }
    }

    /// The HTTP request this call would send first, fully authorized (and signed, for IAM),
    /// without sending it: for inspection, logging of non-secret parts, or another transport.
    /// With [`AuthStrategy::Multi`](crate::AuthStrategy::Multi), the request in its first mode.
    pub async fn into_http_request(self) -> crate::Result<http::Request<bytes::Bytes>> {
        let call = if self.options.multi(self.transport.strategy()) {
            let first = self.candidates()?.remove(0);
            self.call_to(first, self.body()?)
        } else {
            self.prepare()?
        };
        crate::transport::to_http(self.transport.build_request(&call, 0).await?.0)
    }

    fn candidates(&self) -> crate::Result<Vec<crate::endpoint::Selected<'_>>> {
        self.options.select_graphql_multi(
            &self.config,
            self.transport.auth(),
            self.allowed_modes,
            self.operation_name.as_deref(),
        )
    }

    /// Sends the call. GraphQL errors in a `200` answer are in [`Response::errors`]; a non-2xx
    /// answer is an [`Error`](crate::Error) with its status, `errorType` and parsed errors.
    ///
    /// With [`AuthStrategy::Multi`](crate::AuthStrategy::Multi), each candidate mode in turn
    /// until an answer is not a refusal of that mode; the last answer otherwise.
    pub async fn send(self) -> crate::Result<Response<T>> {
        if !self.options.multi(self.transport.strategy()) {
            let call = self.prepare()?;
            return self.exchange(call).await;
        }
        let body = self.body()?;
        let mut last = None;
        for selected in self.candidates()? {
            let mode = selected.mode;
            let result = self.exchange(self.call_to(selected, body.clone())).await;
            if !refused(&result) {
                return result;
            }
            tracing::debug!(%mode, "multi-auth: refused, trying the next mode");
            last = Some(result);
        }
        last.unwrap_or_else(|| Err(crate::Error::selection("multi-auth found no mode")))
    }

    async fn exchange(&self, call: crate::transport::Call<'_>) -> crate::Result<Response<T>> {
        let resp = self.transport.execute(call).await?;
        if !resp.status.is_success() {
            return Err(crate::transport::status_error(resp));
        }
        Response::from_slice(&resp.body)
            .map_err(|e| e.with_request_meta(Some(&resp.headers), resp.attempt))
    }
}

/// Whether multi-auth moves on from this outcome: the mode's credentials or token could not be
/// had (a provider failed or has none), or the answer refuses the mode: HTTP 401/403, or an
/// `Unauthorized` (`UnauthorizedException`) error entry, AppSync's field-level denial.
fn refused<T>(result: &crate::Result<Response<T>>) -> bool {
    match result {
        Err(e) => {
            e.is_auth()
                || crate::auth::refresh::is_permanent(e)
                || e.status_code().is_some_and(|s| {
                    s == http::StatusCode::UNAUTHORIZED || s == http::StatusCode::FORBIDDEN
                })
        }
        Ok(r) => r.errors.iter().any(|e| {
            matches!(
                e.error_type.as_deref(),
                Some("Unauthorized" | "UnauthorizedException")
            )
        }),
    }
}

call_options!(impl[T] GraphQLCall<T> {
    api_name: "Calls the endpoint of this name (`apiName`).",
    auth_mode: "Uses this auth mode (and, without `api_name`, the endpoint configured for it).",
    header: "Adds a header (signed too, with IAM). It replaces a client-wide or provider header \
             of that name; a name given twice on the call sends both values.",
    api_key: "The API key for this call instead of the configured one.",
    auth_token: "The `Authorization` token for this call instead of the token provider's.",
    token_kind: "For user pools: which token to send on this call (default: the access token, \
                 or `ClientBuilder::user_pool_token`).",
    timeout: "The timeout of each attempt of this call (default: `ClientBuilder::timeout`).",
    retry: "Retries this call on network errors, 429 and 5xx even though it is a mutation (or \
            never retries it, with `false`).",
    auth_strategy: "How this call chooses its mode when it names none (default: the client's, \
                    `ClientBuilder::auth_strategy`).",
    skip_auth_mode_check: "Sends even when the operation's schema does not allow the chosen mode.",
});

/// A GraphQL answer over HTTP as sent, before it becomes a [`Response`]: whether `data` was
/// there at all, and the keys a non-GraphQL error body uses instead (`errorMessage` from AWS's
/// AppSync simulator, `message` from a proxy).
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct HttpAnswer<T> {
    #[serde(default, deserialize_with = "present")]
    data: Option<Option<T>>,
    #[serde(default, deserialize_with = "errors_or_null")]
    errors: Vec<GraphQLError>,
    #[serde(default)]
    extensions: Option<Map<String, Value>>,
    #[serde(rename = "errorMessage", default)]
    error_message: Option<Value>,
    #[serde(default)]
    message: Option<Value>,
    #[serde(rename = "errorType", default)]
    error_type: Option<Value>,
}

/// `Some(value)` when the key is present, even as `null`; absent keys stay `None` by default.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl<T: serde::de::DeserializeOwned> Response<T> {
    /// Decodes a GraphQL response body. A body with neither `data` nor `errors` (e.g.
    /// `{"errorMessage": "Syntax Error: …"}`, as AWS's AppSync simulator answers a bad
    /// document with a `200`) is not a GraphQL answer: it is an error carrying the body's
    /// message, also as its one [`Error::graphql_errors`](crate::Error::graphql_errors) entry.
    pub fn from_slice(body: &[u8]) -> crate::Result<Self> {
        let answer = serde_json::from_slice::<HttpAnswer<T>>(body).map_err(|e| {
            crate::Error::decode(format!("the GraphQL response could not be decoded: {e}"))
                .with_source(e)
        })?;
        match answer.data {
            Some(data) => Ok(Response {
                data,
                errors: answer.errors,
                extensions: answer.extensions,
            }),
            None if !answer.errors.is_empty() => Ok(Response {
                data: None,
                errors: answer.errors,
                extensions: answer.extensions,
            }),
            None => {
                let text = |v: Option<Value>| match v {
                    Some(Value::String(s)) => Some(s),
                    _ => None,
                };
                let message = text(answer.error_message).or_else(|| text(answer.message));
                let error_type = text(answer.error_type);
                let mut msg =
                    "the answer has neither \"data\" nor \"errors\", so it is not a GraphQL response"
                        .to_owned();
                if let Some(m) = &message {
                    msg.push_str(": ");
                    if let Some(t) = &error_type {
                        msg.push_str(t);
                        msg.push_str(": ");
                    }
                    msg.push_str(m);
                }
                let errors = message
                    .map(|m| vec![GraphQLError::plain(m, error_type)])
                    .unwrap_or_default();
                Err(crate::Error::decode_errors(msg, errors))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::PathSegment;
    use serde_json::json;

    /// A `200` with neither `data` nor `errors` is an error with the body's message.
    #[test]
    fn an_answer_without_data_or_errors_is_an_error() {
        let e = Response::<Value>::from_slice(
            br#"{"errorMessage": "Syntax Error: Expected Name, found <EOF>", "errorType": "GraphQLError"}"#,
        )
        .unwrap_err();
        assert!(e.is_decode());
        assert!(
            e.to_string()
                .contains("GraphQLError: Syntax Error: Expected Name, found <EOF>"),
            "{e}"
        );
        assert_eq!(
            e.graphql_errors()[0].message,
            "Syntax Error: Expected Name, found <EOF>"
        );
        assert!(
            Response::<Value>::from_slice(br#"{"message": "Forbidden"}"#)
                .unwrap_err()
                .to_string()
                .contains("Forbidden")
        );
        for nothing in [&b"{}"[..], br#"{"errors": []}"#, br#"{"errors": null}"#] {
            assert!(Response::<Value>::from_slice(nothing)
                .unwrap_err()
                .is_decode());
        }
        // `data: null` is an answer (AppSync sends it for missing variables), as are errors
        // alone.
        let r = Response::<Value>::from_slice(br#"{"data": null}"#).unwrap();
        assert!(r.data.is_none() && r.errors.is_empty());
        let r = Response::<Value>::from_slice(br#"{"errors": [{"message": "m"}]}"#).unwrap();
        assert_eq!(r.errors[0].message, "m");
        let r = Response::<Value>::from_slice(br#"{"data": {"a": 1}, "extensions": {"x": 2}}"#)
            .unwrap();
        assert_eq!(r.data, Some(json!({"a": 1})));
        assert_eq!(r.extensions.unwrap()["x"], json!(2));
    }

    #[test]
    fn keeps_every_appsync_error_field() {
        let body = json!({
            "data": {"getPost": null},
            "errors": [{
                "path": ["getPost", 0, "secret"],
                "data": null,
                "errorType": "Unauthorized",
                "errorInfo": null,
                "locations": [{"line": 1, "column": 3, "sourceName": null}],
                "message": "Not Authorized to access secret on type Post",
                "custom": 7
            }]
        });
        let r: Response<Value> = serde_json::from_value(body).unwrap();
        assert_eq!(r.data, Some(json!({"getPost": null})));
        let e = &r.errors[0];
        assert_eq!(e.error_type.as_deref(), Some("Unauthorized"));
        assert_eq!(e.path.as_ref().unwrap()[1], PathSegment::Index(0));
        assert_eq!(e.locations.as_ref().unwrap()[0].column, 3);
        assert_eq!(e.extra["custom"], json!(7));
        assert!(r.has_error_type("Unauthorized"));
        let r: Response<Value> =
            serde_json::from_value(json!({"data": null, "errors": null})).unwrap();
        assert!(r.errors.is_empty() && r.data.is_none());
    }
}
