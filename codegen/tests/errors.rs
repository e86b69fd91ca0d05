//! Problems are reported all at once as `file:line:col: message`, and no input makes the
//! generator panic.

use appsync_codegen::{AuthMode, Builder, Errors};

const SCHEMA: &str = "\
type Query @aws_api_key {
  note(id: ID!): Note
  notes(limit: Int): [Note!]!
}

type Note @aws_api_key {
  id: ID!
  title: String
  meta: AWSJSON
}
";

fn run(schema: &str, ops: &str) -> Result<String, Errors> {
    Builder::new()
        .schema_str("schema.graphql", schema)
        .operations_str("ops.graphql", ops)
        .default_auth_mode(AuthMode::ApiKey)
        .generate_to_string()
}

fn errors(schema: &str, ops: &str) -> Vec<String> {
    match run(schema, ops) {
        Ok(code) => panic!("expected errors, got code:\n{code}"),
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

fn assert_has(errors: &[String], expected: &str) {
    assert!(
        errors.iter().any(|e| e == expected),
        "expected {expected:?} among {errors:#?}"
    );
}

#[test]
fn an_unknown_field() {
    let e = errors(
        SCHEMA,
        "query Q {\n  note(id: \"1\") {\n    id\n    nope\n  }\n}\n",
    );
    assert_has(
        &e,
        "ops.graphql:4:5: type `Note` does not have a field `nope`",
    );
}

#[test]
fn a_wrong_variable_type() {
    let e = errors(
        SCHEMA,
        "query Q($id: String) {\n  note(id: $id) { id }\n}\n",
    );
    assert_eq!(
        e,
        ["ops.graphql:2:8: variable `$id` of type `String` cannot be used for argument `id` of type `ID!`"]
    );
}

#[test]
fn an_unknown_type() {
    let e = errors(SCHEMA, "query Q($f: NoteFilter) {\n  notes { id }\n}\n");
    assert_has(
        &e,
        "ops.graphql:1:9: cannot find type `NoteFilter` in this document",
    );
    let e = errors(
        "type Query @aws_api_key {\n  a: Missing\n}\n",
        "query Q { a }",
    );
    assert_has(
        &e,
        "schema.graphql:2:6: cannot find type `Missing` in this document",
    );
}

#[test]
fn bad_syntax() {
    let e = errors(SCHEMA, "query Q {\n  note(id: \"1\") {\n    id\n  \n");
    assert!(
        e.iter()
            .any(|e| e.starts_with("ops.graphql:") && e.contains("syntax error")),
        "{e:#?}"
    );
    let e = errors("type Query {\n  a: String\n", "query Q { a }");
    assert!(
        e.iter()
            .any(|e| e.starts_with("schema.graphql:") && e.contains("syntax error")),
        "{e:#?}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let ops = "\
query A {
  note(id: \"1\") { nope }
}
query B($x: Nope) {
  notes { id }
}
query C {
  notes { title(arg: 1) }
}
";
    let e = errors(SCHEMA, ops);
    assert!(e.len() >= 3, "{e:#?}");
    assert!(e.iter().any(|e| e.starts_with("ops.graphql:2:")), "{e:#?}");
    assert!(e.iter().any(|e| e.starts_with("ops.graphql:4:")), "{e:#?}");
    assert!(e.iter().any(|e| e.starts_with("ops.graphql:8:")), "{e:#?}");
    // Display: a header, then one problem per line.
    let shown = run(SCHEMA, ops).unwrap_err().to_string();
    assert!(shown.starts_with(&format!("appsync-codegen found {} problems:\n", e.len())));
    assert_eq!(shown.lines().count(), e.len() + 1);
}

#[test]
fn codegen_rules() {
    // Operations need names.
    let e = errors(SCHEMA, "{ notes { id } }");
    assert_has(
        &e,
        "ops.graphql:1:1: give the operation a name: codegen names its Rust types after it",
    );
    // Without a default mode, fields that no directive covers are reported.
    let e = Builder::new()
        .schema_str("s.graphql", "type Query {\n  a: String\n}\n")
        .operations_str("o.graphql", "query Q { a }")
        .generate_to_string()
        .unwrap_err();
    let e: Vec<String> = e.iter().map(|e| e.to_string()).collect();
    assert!(
        e[0].starts_with("s.graphql:1:1: type Query has fields with no auth directive (a)"),
        "{e:#?}"
    );
    // Settings problems.
    let e = Builder::new()
        .schema_str("s.graphql", SCHEMA)
        .operations_str("o.graphql", "query Q { notes { id } }")
        .scalar("AWSJSON", "not a type!")
        .client_crate("1bad")
        .statements(0)
        .generate_to_string()
        .unwrap_err();
    assert_eq!(e.len(), 3, "{e:?}");
    // Missing files.
    let e = Builder::new()
        .schema("/nonexistent/schema.graphql")
        .operations("/nonexistent/ops")
        .generate_to_string()
        .unwrap_err();
    let e: Vec<String> = e.iter().map(|e| e.to_string()).collect();
    assert!(
        e[0].starts_with("/nonexistent/schema.graphql: cannot read the file"),
        "{e:#?}"
    );
}

#[test]
fn a_schema_may_declare_the_prelude_itself() {
    let schema =
        format!("scalar AWSJSON\ndirective @aws_api_key on FIELD_DEFINITION | OBJECT\n{SCHEMA}");
    run(&schema, "query Q { notes { id meta } }").unwrap_or_else(|e| panic!("{e}"));
}

/// A small deterministic generator (no dependency): xorshift.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "!",
    ":",
    "$",
    "@",
    "...",
    "on",
    "query",
    "fragment",
    "\"",
    "\"\"\"",
    "#",
    "\n",
    " ",
    "__typename",
    "id",
    "Note",
    "type",
    "input",
    "enum",
    "union",
    "interface",
    "implements",
    "extend",
    "scalar",
    "directive",
    "=",
    "|",
    "&",
    "1",
    "1.5e3",
    "null",
    "true",
    "@include(if: $x)",
    "@aws_api_key",
    "@deprecated",
    "\u{1F600}",
    "\0",
    "é",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 if !chars.is_empty() => {
                let end = (at + rng.below(12)).min(chars.len());
                chars.drain(at.min(end)..end);
            }
            1 => {
                let piece = PIECES[rng.below(PIECES.len())];
                for (i, c) in piece.chars().enumerate() {
                    chars.insert(at + i, c);
                }
            }
            2 if !chars.is_empty() => {
                // Duplicate a slice (nesting, repeated definitions).
                let end = (at + rng.below(40)).min(chars.len());
                let slice: Vec<char> = chars[at.min(end)..end].to_vec();
                for (i, c) in slice.into_iter().enumerate() {
                    chars.insert(at.min(end) + i, c);
                }
            }
            _ => {
                let piece = PIECES[rng.below(PIECES.len())];
                chars.splice(
                    at.min(chars.len())..(at + 1).min(chars.len()),
                    piece.chars(),
                );
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn no_input_makes_it_panic() {
    let schema = include_str!("fixtures/full/schema.graphql");
    let ops = [
        include_str!("fixtures/full/operations/queries.graphql"),
        include_str!("fixtures/full/operations/fragments.graphql"),
        include_str!("fixtures/full/operations/mutations.graphql"),
    ]
    .concat();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ok = 0;
    let mut failed = 0;
    for round in 0..300 {
        let (s, o) = if round % 3 == 0 {
            (mutate(&mut rng, schema), ops.clone())
        } else {
            (schema.to_owned(), mutate(&mut rng, &ops))
        };
        let result = Builder::new()
            .schema_str("s.graphql", s.clone())
            .operations_str("o.graphql", o.clone())
            .default_auth_mode(AuthMode::ApiKey)
            .statements(1 + (round % 3) as u32)
            .generate_to_string();
        match result {
            Ok(_) => ok += 1,
            Err(e) => {
                failed += 1;
                for err in &e {
                    assert!(
                        !err.message.contains("internal error"),
                        "round {round}: {err}\n--- schema\n{s}\n--- operations\n{o}"
                    );
                }
            }
        }
    }
    assert!(
        ok > 0 && failed > 0,
        "both outcomes were exercised: {ok} ok, {failed} failed"
    );
    // Deep nesting does not overflow the stack.
    let deep = format!(
        "query Q {{ {} id {} }}",
        "notes { ".repeat(5000),
        "}".repeat(5000)
    );
    assert!(run(SCHEMA, &deep).is_err());
    let deep_list = format!(
        "type Query @aws_api_key {{ a(x: {}Int{}): Int }}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert!(run(&deep_list, "query Q { a }").is_err());
}

/// Non-ASCII text in block strings and descriptions (schema and document), in comments, and
/// before an error: generated as written, errors located in characters, never a panic.
#[test]
fn non_ascii_text_in_block_strings_and_descriptions() {
    let schema = "\
\"\"\"
Ünïcödé notes 😀: 日本語, e\u{301}, \u{10FFFF}
  indented « quoted \\\"\"\" »
\"\"\"
type Query @aws_api_key {
  \"\"\"Fïeld 🎉\"\"\"
  note(\"arg ✓\" id: ID!, text: String = \"\"\"défaut 😀\"\"\"): Note
}

\"tÿpe\"
type Note @aws_api_key {
  \"\"\"
  ☃
  \"\"\"
  id: ID!
}
";
    let ops = "\
# Lit l'élément 😀
# 二行目
query Get {
  note(id: \"é\", text: \"\"\"
    bloc « 😀 » e\u{301}
  \"\"\") { id }
}
";
    let code = run(schema, ops).unwrap_or_else(|e| panic!("{e}"));
    for text in ["Lit l'élément 😀", "二行目", "Fïeld 🎉", "bloc « 😀 »"] {
        assert!(
            code.contains(text),
            "{text:?} is in the generated code:\n{code}"
        );
    }
    // A problem after multi-byte characters: the column counts characters.
    let e = errors(SCHEMA, "query Q { note(id: \"😀é\") { nope } }");
    assert_has(
        &e,
        "ops.graphql:1:28: type `Note` does not have a field `nope`",
    );
    // A syntax error inside and right after a non-ASCII block string.
    for bad in [
        "query Q { note(id: \"\"\"😀",
        "query Q { note(id: \"\"\"😀\"\"\") { id } é }",
        "query Q { note(id: \"\\u{D800}😀\") { id } }",
        "\u{FEFF}query Q { note(id: \"1\") { id } }",
        "query Q { note(id: \"1\") { id } } # 😀",
    ] {
        for result in [
            run(SCHEMA, bad),
            run(
                &format!("\"\"\"😀{bad}\n{SCHEMA}"),
                "query Q { notes { id } }",
            ),
        ] {
            // The builder turns a panic into an "internal error": there must be none.
            if let Err(e) = result {
                assert!(
                    e.iter().all(|e| !e.message.contains("internal error")),
                    "{bad:?}: {e}"
                );
            }
        }
    }
}

#[test]
fn duplicate_names_name_both_places() {
    let e = Builder::new()
        .schema_str("schema.graphql", SCHEMA)
        .operations_str("one.graphql", "query Q { notes { id } }\nfragment F on Note { id }\n")
        .operations_str(
            "two.graphql",
            "\n\nquery Q { notes { title } }\nfragment F on Note { title }\nquery R { notes { ...F } }\n",
        )
        .default_auth_mode(AuthMode::ApiKey)
        .generate_to_string()
        .unwrap_err();
    let e: Vec<String> = e.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        e,
        [
            "two.graphql:3:7: the operation `Q` is defined twice: here and at one.graphql:1:7; \
             names must be unique across all operation files",
            "two.graphql:4:10: the fragment `F` is defined twice: here and at one.graphql:2:10; \
             names must be unique across all operation files",
        ]
    );
}

#[test]
fn a_syntax_error_is_reported_alone_and_the_other_documents_are_still_checked() {
    // A template splice left in a document extracted from JavaScript.
    let e = Builder::new()
        .schema_str("schema.graphql", SCHEMA)
        .operations_str(
            "extracted.graphql",
            "fragment F on Note { id }\nquery Q($m: Int) { notes(limit: ${mode}) { id nope } }\n\
             query R { notes { nope } }\n",
        )
        .operations_str("other.graphql", "query S { notes { ...F title nada } }\n")
        .default_auth_mode(AuthMode::ApiKey)
        .generate_to_string()
        .unwrap_err();
    let e: Vec<String> = e.iter().map(|e| e.to_string()).collect();
    // One error for the broken document (not one per recovery of the parser, nor the
    // validation of what it recovered), and the other document validated, with the fragment
    // it uses from the broken one.
    assert_eq!(
        e,
        [
            "extracted.graphql:2:34: syntax error: expected a Name",
            "other.graphql:1:30: type `Note` does not have a field `nada`",
        ]
    );
}

#[test]
fn statement_arguments_with_defaults_are_optional_with_the_same_default() {
    let schema = "type Query @aws_api_key {\n  notes(limit: Int = 20, archived: Boolean! = false, q: String!): [Note!]!\n}\n\
                  type Note @aws_api_key { id: ID! }\n";
    let b = Builder::new()
        .schema_str("schema.graphql", schema)
        .default_auth_mode(AuthMode::ApiKey)
        .statements(1);
    let text = b.statements_to_string().unwrap();
    assert!(
        text.contains("query Notes($limit: Int = 20, $archived: Boolean! = false, $q: String!) {"),
        "{text}"
    );
    let code = b.generate_to_string().unwrap_or_else(|e| panic!("{e}"));
    // Optional in Rust: left out of the request when absent, so the server applies the default.
    assert!(code.contains("pub archived: Option<bool>"), "{code}");
    assert!(
        code.contains("pub limit: _appsync::types::Nullable<i32>"),
        "{code}"
    );
    assert!(code.contains("pub q: String"), "{code}");
}
