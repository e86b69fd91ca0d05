//! The GraphQL vocabulary below every layer: the untyped request, `Response<T>`, AppSync's error
//! entries, the `Operation` trait that generated code implements, and operation-kind detection.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use appsync_types::AuthMode;

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

pub(crate) fn errors_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<GraphQLError>, D::Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
