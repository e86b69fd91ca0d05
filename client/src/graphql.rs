//! GraphQL requests and responses: the untyped request, `Response<T>`, AppSync's error entries,
//! and the `Operation` trait that generated code implements.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::auth::AuthMode;

/// An untyped GraphQL request: a document, optional variables and operation name.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GraphQLRequest {
    query: String,
    variables: Option<Value>,
    #[serde(rename = "operationName", skip_serializing_if = "Option::is_none")]
    operation_name: Option<String>,
}

impl GraphQLRequest {
    /// A request for a document (with no variables).
    pub fn new(query: impl Into<String>) -> Self {
        GraphQLRequest {
            query: query.into(),
            variables: None,
            operation_name: None,
        }
    }

    /// Sets the variables (an object).
    pub fn variables(mut self, variables: Value) -> Self {
        self.variables = Some(variables);
        self
    }

    /// Names the operation to run when the document holds several.
    pub fn operation_name(mut self, name: impl Into<String>) -> Self {
        self.operation_name = Some(name.into());
        self
    }

    /// The document.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The variables, if set.
    pub(crate) fn variables_ref(&self) -> Option<&Value> {
        self.variables.as_ref()
    }

    /// The operation name, if set.
    pub(crate) fn operation_name_ref(&self) -> Option<&str> {
        self.operation_name.as_deref()
    }

    /// The operation's kind, read from the document.
    pub fn kind(&self) -> OperationKind {
        operation_kind(&self.query, self.operation_name.as_deref())
    }
}

pub use appsync_types::OperationKind;

/// A typed operation with the metadata that codegen knows: its kind and the auth modes the
/// schema lets reach every field it selects. The client refuses a call in another mode unless
/// the call opts out.
pub trait Operation: graphql_client::GraphQLQuery {
    /// Query, mutation or subscription.
    const KIND: OperationKind;
    /// The auth modes that reach every selected field.
    const ALLOWED_AUTH_MODES: &'static [AuthMode];
}

/// The kind of the operation named `name` (or the first one) in a document. Reads only the
/// tokens needed: comments, strings, bodies and what is between parentheses (variable
/// definitions, arguments of directives) are skipped, and a keyword counts only where a
/// definition starts, so that `$query`, `@mutation`, a fragment named or typed `subscription`
/// or a fragment before the operation never decide the kind.
pub(crate) fn operation_kind(doc: &str, name: Option<&str>) -> OperationKind {
    /// What the definition being read is.
    #[derive(Clone, Copy, PartialEq)]
    enum Def {
        /// Between definitions: the next word or `{` starts one.
        Start,
        Operation(OperationKind),
        Fragment,
        /// A type-system definition (not executable: its grammar is not followed, and an
        /// operation keyword after it starts an operation).
        TypeSystem,
    }
    let bytes = doc.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    let mut parens = 0usize;
    let mut def = Def::Start;
    let mut first: Option<OperationKind> = None;
    let mut expect_name = false;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            // A comment ends at a line terminator: `\n`, `\r\n` or `\r`.
            b'#' => {
                while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
            }
            // Byte-wise from here on: `i` may stop inside a multi-byte character (after an
            // escape), where slicing the `str` would panic. `"` and `\` never occur inside one.
            b'"' => {
                if bytes[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    // In a block string only `\"""` is an escape.
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += if bytes[i..].starts_with(b"\\\"\"\"") {
                            4
                        } else {
                            1
                        };
                    }
                    i += 2;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                }
            }
            // Inside a body only braces, strings and comments matter: skip to the next one.
            _ if depth > 0 => match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        def = Def::Start;
                    }
                }
                _ => {
                    i += bytes[i..]
                        .iter()
                        .position(|&c| matches!(c, b'{' | b'}' | b'"' | b'#'))
                        .unwrap_or(bytes.len() - i);
                    continue;
                }
            },
            b'(' => {
                parens += 1;
                expect_name = false;
            }
            b')' => parens = parens.saturating_sub(1),
            // Between parentheses (variable definitions, arguments): values and types, whose
            // braces are object values and whose words are names.
            _ if parens > 0 => {}
            b'{' => {
                let kind = match def {
                    // The query shorthand: `{ … }`.
                    Def::Start => Some(OperationKind::Query),
                    Def::Operation(k) => Some(k),
                    Def::Fragment | Def::TypeSystem => None,
                };
                if let Some(kind) = kind {
                    // Without a name the first operation decides: nothing after it matters.
                    if name.is_none() {
                        return kind;
                    }
                    first.get_or_insert(kind);
                }
                expect_name = false;
                depth = 1;
            }
            b'@' | b'$' => expect_name = false,
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &doc[start..i];
                let keyword = match word {
                    "query" => Some(Def::Operation(OperationKind::Query)),
                    "mutation" => Some(Def::Operation(OperationKind::Mutation)),
                    "subscription" => Some(Def::Operation(OperationKind::Subscription)),
                    "fragment" => Some(Def::Fragment),
                    _ => None,
                };
                if def == Def::Start || (def == Def::TypeSystem && keyword.is_some()) {
                    def = keyword.unwrap_or(Def::TypeSystem);
                    expect_name = matches!(def, Def::Operation(_));
                } else if expect_name {
                    expect_name = false;
                    if let (Some(n), Def::Operation(k)) = (name, def) {
                        if word == n {
                            return k;
                        }
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    first.unwrap_or(OperationKind::Query)
}

/// A GraphQL response: partial `data` and every error, as AppSync sent them.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Response<T> {
    /// The data, possibly partial when there are errors.
    #[serde(default = "none")]
    pub data: Option<T>,
    /// Every error entry, in order.
    #[serde(default, deserialize_with = "errors_or_null")]
    pub errors: Vec<GraphQLError>,
    /// The `extensions` object, if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
}

fn none<T>() -> Option<T> {
    None
}

fn errors_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<GraphQLError>, D::Error> {
    Ok(Option::<Vec<GraphQLError>>::deserialize(d)?.unwrap_or_default())
}

impl<T> Response<T> {
    /// The data when there are no errors; else every error.
    pub fn into_result(self) -> Result<Option<T>, Vec<GraphQLError>> {
        if self.errors.is_empty() {
            Ok(self.data)
        } else {
            Err(self.errors)
        }
    }

    /// Whether any error carries this `errorType` (e.g. `Unauthorized`).
    pub fn has_error_type(&self, error_type: &str) -> bool {
        self.errors
            .iter()
            .any(|e| e.error_type.as_deref() == Some(error_type))
    }
}

/// One error entry. AppSync puts its own keys at the top level (`errorType`, `errorInfo`,
/// `data`); other keys are kept in `extra`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct GraphQLError {
    /// The message.
    #[serde(default)]
    pub message: String,
    /// AppSync's error type, e.g. `Unauthorized`, `DynamoDB:ConditionalCheckFailedException`.
    #[serde(rename = "errorType", default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// The custom info given to `util.error`.
    #[serde(rename = "errorInfo", default, skip_serializing_if = "Option::is_none")]
    pub error_info: Option<Value>,
    /// The custom data given to `util.error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Where in the response the error happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<PathSegment>>,
    /// Where in the document the error happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<Location>>,
    /// The standard `extensions` object, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
    /// Any other key, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl GraphQLError {
    /// An entry with only a message and maybe a type, for errors that came in another shape.
    pub(crate) fn plain(message: impl Into<String>, error_type: Option<String>) -> Self {
        GraphQLError {
            message: message.into(),
            error_type,
            error_info: None,
            data: None,
            path: None,
            locations: None,
            extensions: None,
            extra: Map::new(),
        }
    }
}

impl fmt::Display for GraphQLError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(t) = &self.error_type {
            write!(f, "{t}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for GraphQLError {}

/// A step of an error path: a field name or a list index.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum PathSegment {
    /// A field name or alias.
    Key(String),
    /// A list index.
    Index(u64),
}

/// A line and column in the document. AppSync adds `sourceName`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// AppSync's `sourceName` (usually null).
    #[serde(
        rename = "sourceName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub source_name: Option<String>,
}

/// A GraphQL call being set up; finish with [`GraphQLCall::send`].
#[must_use = "a call does nothing until .send().await"]
pub struct GraphQLCall<T> {
    client: crate::Client,
    body: std::result::Result<bytes::Bytes, String>,
    kind: OperationKind,
    operation_name: Option<String>,
    allowed_modes: Option<&'static [AuthMode]>,
    options: crate::transport::CallOptions,
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
    pub(crate) fn untyped(client: crate::Client, request: GraphQLRequest) -> Self {
        let kind = request.kind();
        let operation_name = request.operation_name.clone();
        GraphQLCall {
            client,
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
        client: crate::Client,
        variables: Q::Variables,
        meta: Option<(OperationKind, &'static [AuthMode])>,
    ) -> Self {
        let body = Q::build_query(variables);
        let kind = meta
            .map(|m| m.0)
            .unwrap_or_else(|| operation_kind(body.query, Some(body.operation_name)));
        GraphQLCall {
            client,
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

    /// Calls the endpoint of this name (`apiName`).
    pub fn api_name(mut self, name: impl Into<String>) -> Self {
        self.options.api_name = Some(name.into());
        self
    }

    /// Uses this auth mode (and, without `api_name`, the endpoint configured for it).
    pub fn auth_mode(mut self, mode: AuthMode) -> Self {
        self.options.auth_mode = Some(mode);
        self
    }

    /// Adds a header (signed too, with IAM). It replaces a client-wide or provider header of
    /// that name; a name given twice on the call sends both values.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.headers.push((name.into(), value.into()));
        self
    }

    /// The API key for this call instead of the configured one.
    pub fn api_key(mut self, key: impl Into<crate::Secret>) -> Self {
        self.options.api_key = Some(key.into());
        self
    }

    /// The `Authorization` token for this call instead of the token provider's.
    pub fn auth_token(mut self, token: impl Into<crate::Secret>) -> Self {
        self.options.auth_token = Some(token.into());
        self
    }

    /// For user pools: which token to send on this call.
    pub fn token_kind(mut self, kind: crate::TokenKind) -> Self {
        self.options.token_kind = Some(kind);
        self
    }

    /// The timeout of each attempt of this call.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Retries this call on network errors, 429 and 5xx even though it is a mutation (or never
    /// retries it, with `false`).
    pub fn retry(mut self, retry: bool) -> Self {
        self.options.retry = Some(retry);
        self
    }

    /// Sends even when the operation's schema does not allow the chosen mode.
    pub fn skip_auth_mode_check(mut self) -> Self {
        self.options.skip_mode_check = true;
        self
    }

    fn prepare<'a>(
        &'a self,
        inner: &'a crate::client::ClientInner,
    ) -> crate::Result<crate::transport::Call<'a>> {
        let body = self.body.clone().map_err(|e| {
            crate::Error::request(format!("the variables could not be serialized: {e}"))
        })?;
        let selected = crate::endpoint::select(
            &inner.config,
            crate::EndpointType::GraphQL,
            crate::endpoint::Want {
                api_name: self.options.api_name.as_deref(),
                auth_mode: self.options.auth_mode,
                allowed_modes: self.allowed_modes.filter(|_| !self.options.skip_mode_check),
                operation: self.operation_name.as_deref(),
            },
        )?;
        Ok(crate::transport::Call {
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
        })
    }

    /// The HTTP request this call would send first, fully authorized (and signed, for IAM),
    /// without sending it: for inspection, logging of non-secret parts, or another transport.
    pub async fn into_http_request(self) -> crate::Result<http::Request<bytes::Bytes>> {
        let inner = &self.client.inner;
        let call = self.prepare(inner)?;
        crate::transport::to_http(inner.build_request(&call, 0).await?.0)
    }

    /// Sends the call. GraphQL errors in a `200` answer are in [`Response::errors`]; a non-2xx
    /// answer is an [`Error`](crate::Error) with its status, `errorType` and parsed errors.
    pub async fn send(self) -> crate::Result<Response<T>> {
        let inner = &self.client.inner;
        let call = self.prepare(inner)?;
        let resp = inner.execute(call).await?;
        if !resp.status.is_success() {
            return Err(crate::transport::status_error(resp));
        }
        Response::from_slice(&resp.body)
            .map_err(|e| e.with_request_meta(Some(&resp.headers), resp.attempt))
    }
}

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
    use serde_json::json;

    #[test]
    fn detects_operation_kinds() {
        use OperationKind::*;
        assert_eq!(operation_kind("{ a }", None), Query);
        assert_eq!(operation_kind("mutation M { a }", None), Mutation);
        assert_eq!(
            operation_kind("# mutation\nquery Q($a: Int = 1) @x { a }", None),
            Query
        );
        let doc = "fragment F on T { a } query Q { ...F } mutation M($s: String = \"{\") { b }";
        assert_eq!(operation_kind(doc, Some("M")), Mutation);
        assert_eq!(operation_kind(doc, Some("Q")), Query);
        assert_eq!(operation_kind(doc, None), Query);
        assert_eq!(
            operation_kind("subscription { onX { id } }", None),
            Subscription
        );
        assert_eq!(
            operation_kind("\"\"\"doc\"\"\" mutation { a }", None),
            Mutation
        );
    }

    /// Flagged by the `operation_kind` fuzz target's oracle (apollo-compiler): a keyword
    /// counts only where a definition starts. Before, a fragment ahead of the operation, a variable
    /// or directive named `query`, or a fragment typed on `subscription` decided the kind, so
    /// that a mutation was taken for a query (and retried) or a query for a subscription.
    #[test]
    fn only_a_definition_keyword_decides_the_kind() {
        use OperationKind::*;
        let fragment_first = "fragment NoteFields on Note { id content }\n\
            mutation CreateNote($input: CreateNoteInput!) { createNote(input: $input) { ...NoteFields } }";
        assert_eq!(operation_kind(fragment_first, None), Mutation);
        assert_eq!(operation_kind(fragment_first, Some("CreateNote")), Mutation);
        // The minimized input of the finding (fuzz/corpus/operation_kind/fragment_first).
        assert_eq!(
            operation_kind("fragment F on T { a } mutation Q { a }", None),
            Mutation
        );
        let search = "mutation Search($query: String!) { search(query: $query) { id } }";
        assert_eq!(operation_kind(search, None), Mutation);
        assert_eq!(operation_kind(search, Some("Search")), Mutation);
        assert_eq!(
            operation_kind("mutation M @query { a } query Q { b }", None),
            Mutation
        );
        assert_eq!(
            operation_kind("query Q($s: subscription = {query: 1}) { a }", None),
            Query
        );
        assert_eq!(
            operation_kind(
                "fragment subscription on subscription { a } mutation { b }",
                None
            ),
            Mutation
        );
        // A comment ends at any line terminator, `\r` too.
        assert_eq!(operation_kind("# c\rmutation M { a }", None), Mutation);
        // The named one, wherever it is; the first one for an unknown name.
        let doc = "fragment F on T { a } query Q { ...F } subscription S($query: Int) { s }";
        assert_eq!(operation_kind(doc, Some("S")), Subscription);
        assert_eq!(operation_kind(doc, Some("Q")), Query);
        assert_eq!(operation_kind(doc, Some("nope")), Query);
        assert_eq!(operation_kind("fragment F on T { a }", None), Query);
    }

    /// Non-ASCII text in strings, escapes right before multi-byte characters, unterminated
    /// strings: the kind is still found where it can be, and nothing panics.
    #[test]
    fn non_ascii_and_broken_strings_never_panic() {
        use OperationKind::*;
        assert_eq!(
            operation_kind("\"\"\"Заметки ✓ 📝\"\"\" mutation { a }", None),
            Mutation
        );
        assert_eq!(
            operation_kind("\"\"\"a \\\"\"\" é\"\"\" subscription { a }", None),
            Subscription
        );
        let doc = "query Q($s: String = \"\\é\\ü{\") { a } mutation M { b }";
        assert_eq!(operation_kind(doc, Some("M")), Mutation);
        assert_eq!(
            operation_kind("mutation { a(s: \"\\😀\") }", None),
            Mutation
        );
        for doc in [
            "\"\"\"é",
            "\"\"\"é\\",
            "\"é\\",
            "\"\\",
            "\"\"\"\\\"\"",
            "query { a(s: \"é",
            "é",
            "\"\"\"\"",
            "{ \"\\é\" }",
        ] {
            let _ = operation_kind(doc, None);
            let _ = operation_kind(doc, Some("M"));
        }
    }

    /// Many generated documents from pieces chosen to break byte indexing: multi-byte
    /// characters, quotes, escapes, braces, comments, keywords.
    #[test]
    fn generated_documents_never_panic() {
        const PIECES: [&str; 22] = [
            "\"",
            "\"\"\"",
            "\\",
            "é",
            "📝",
            "✓",
            "{",
            "}",
            "#",
            "\n",
            " ",
            "query",
            "mutation",
            "subscription",
            "fragment",
            "M",
            "(",
            "$",
            "@",
            "\\\"\"\"",
            "a",
            "ü\\",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..50_000 {
            let n = (next() % 24) as usize;
            let doc: String = (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let _ = operation_kind(&doc, None);
            let _ = operation_kind(&doc, Some("M"));
        }
    }

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
