//! Fuzz target: operation-kind detection (`GraphQLRequest::kind`, `operation_kind`), which
//! decides whether a call may be retried (a mutation never is) and whether it goes over the
//! realtime socket. Input: `name NUL document`, or a document alone, or (first byte 0xff) a
//! document made of GraphQL tokens the next bytes pick. Asserts no panic, that a
//! name absent from the document changes nothing, and, for every document a real GraphQL
//! parser (apollo-compiler) accepts as executable, the kind of the named (else the first)
//! operation it finds.
#![no_main]

use apollo_compiler::ast::{Definition, Document, OperationType};
use appsync_client::{GraphQLRequest, OperationKind};
use libfuzzer_sys::fuzz_target;

/// Tokens that documents are made of, for inputs that start with byte 0xff: random text seldom
/// parses, and the oracle only speaks for documents that do.
const TOKENS: [&str; 40] = [
    "query",
    "mutation",
    "subscription",
    "fragment",
    "on",
    "Q",
    "M",
    "S",
    "F",
    "T",
    "a",
    "b",
    "$query",
    "$mutation",
    "$a",
    ":",
    "String",
    "Int!",
    "(",
    ")",
    "{",
    "}",
    "...F",
    "... on T",
    "@query",
    "@d",
    "(x: 1)",
    "=",
    "{x: 1}",
    "[1]",
    "\"s\"",
    "\"}\"",
    "\"\"\"b\"\"\"",
    "# c\n",
    "# c\r",
    ",",
    "subscription:",
    "query: a",
    "\n",
    "\r\n",
];

fuzz_target!(|data: &[u8]| {
    let generated;
    let text = match data.split_first() {
        Some((0xff, rest)) => {
            generated = rest
                .iter()
                .map(|b| TOKENS[usize::from(*b) % TOKENS.len()])
                .collect::<Vec<_>>()
                .join(" ");
            generated.as_str()
        }
        _ => match std::str::from_utf8(data) {
            Ok(t) => t,
            Err(_) => return,
        },
    };
    let (name, doc) = match text.split_once('\0') {
        Some((n, d)) => (Some(n), d),
        None => (None, text),
    };
    let kind = appsync_client::fuzzing::operation_kind_of(doc, name);
    let mut request = GraphQLRequest::new(doc);
    if let Some(n) = name {
        request = request.operation_name(n);
    }
    assert_eq!(request.kind(), kind);

    // The oracle.
    let Ok(parsed) = Document::parse(doc, "doc.graphql") else {
        return;
    };
    let mut operations = Vec::new();
    for d in &parsed.definitions {
        match d {
            Definition::OperationDefinition(op) => operations.push(op),
            Definition::FragmentDefinition(_) => {}
            // Not an executable document: no server runs it.
            _ => return,
        }
    }
    let chosen = match name {
        Some(n) => operations
            .iter()
            .find(|op| op.name.as_ref().is_some_and(|o| o.as_str() == n)),
        None => operations.first(),
    };
    if let Some(op) = chosen {
        let expected = match op.operation_type {
            OperationType::Query => OperationKind::Query,
            OperationType::Mutation => OperationKind::Mutation,
            OperationType::Subscription => OperationKind::Subscription,
        };
        assert_eq!(kind, expected, "name {name:?} in {doc:?}");
    }
});
