//! Fuzz target: appsync-codegen's front end and generator (`Builder` with a schema and
//! operation documents given as text, generating in memory). Input: flags byte, then
//! `schema NUL operations`, or operations alone (against the notes example schema). Asserts
//! that bad input is reported as errors (never a panic, never an "internal error"), that each
//! error's line is within its file, that generated code parses as Rust, and that whatever
//! generates also analyzes.
#![no_main]

use appsync_codegen::{AuthMode, Builder};
use libfuzzer_sys::fuzz_target;

const NOTES: &str = include_str!("../../schema/notes/schema.graphql");

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (schema, ops) = match text.split_once('\0') {
        Some((s, o)) => (s, o),
        None => (NOTES, text),
    };
    let mut b = Builder::new()
        .schema_str("schema.graphql", schema)
        .operations_str("ops.graphql", ops);
    let modes = AuthMode::ALL;
    if flags & 1 != 0 {
        b = b.default_auth_mode(modes[usize::from(flags >> 5) % modes.len()]);
    }
    if flags & 2 != 0 {
        b = b.additional_auth_modes(
            modes
                .iter()
                .enumerate()
                .filter(|(i, _)| flags & (4 << i) != 0)
                .map(|(_, m)| *m),
        );
    }
    if flags & 4 != 0 {
        b = b.statements(u32::from(flags >> 6));
    }
    if flags & 8 != 0 {
        b = b.all_types(true);
    }
    if flags & 16 != 0 {
        b = b.time_types(true).serde_both_ways(true);
    }
    if flags & 32 != 0 {
        b = b
            .scalar("AWSURL", "String")
            .scalar("AWSJSON", "serde_json::Value");
    }
    match b.generate_to_string() {
        Ok(code) => {
            if let Err(e) = syn::parse_file(&code) {
                panic!("the generated code does not parse: {e}");
            }
            assert!(b.analyze().is_ok(), "generates but does not analyze");
            let _ = b.statements_to_string();
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "an error with no problems");
            for e in errors.iter() {
                let shown = e.to_string();
                assert!(!shown.is_empty());
                assert!(!shown.contains("internal error"), "{shown}");
                let source = match e.file.as_str() {
                    "schema.graphql" => schema,
                    "ops.graphql" => ops,
                    _ => continue,
                };
                let lines = graphql_lines(source);
                assert!(
                    e.line <= lines,
                    "line {} of a {lines}-line file: {shown}",
                    e.line
                );
            }
        }
    }
});

/// How many lines GraphQL sees in a text: `\n`, `\r\n` and `\r` end one.
fn graphql_lines(text: &str) -> usize {
    1 + text.matches('\n').count() + text.matches('\r').count() - text.matches("\r\n").count()
}
