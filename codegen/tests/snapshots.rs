//! Snapshots of the generated code: the full fixture (every feature) and the notes app, and
//! of generated statements.

use appsync_codegen::{AuthMode, Builder};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Paths in the output (operation docs) relative to the crate, so snapshots do not depend on
/// the checkout's location.
fn relative(code: String) -> String {
    code.replace(concat!(env!("CARGO_MANIFEST_DIR"), "/"), "")
}

#[test]
fn full_fixture_default_scalars() {
    let code = Builder::new()
        .schema(fixture("full/schema.graphql"))
        .operations(fixture("full/operations"))
        .default_auth_mode(AuthMode::ApiKey)
        .generate_to_string()
        .unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("full", relative(code));
}

#[test]
fn full_fixture_typed_scalars() {
    let code = Builder::new()
        .schema(fixture("full/schema.graphql"))
        .operations(fixture("full/operations/queries.graphql"))
        .operations(fixture("full/operations/fragments.graphql"))
        .default_auth_mode(AuthMode::ApiKey)
        .time_types(true)
        .scalar("AWSJSON", "crate::Meta")
        .scalar("AWSURL", "url::Url")
        .client_crate("my_client")
        .serde_both_ways(true)
        .generate_to_string()
        .unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("full_typed", relative(code));
}

#[test]
fn notes_app() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/notes");
    let code = Builder::new()
        .schema(format!("{root}/schema.graphql"))
        .operations(format!("{root}/operations"))
        .default_auth_mode(AuthMode::ApiKey)
        .generate_to_string()
        .unwrap_or_else(|e| panic!("{e}"));
    let code = code.replace(&format!("{root}/"), "schema/notes/");
    insta::assert_snapshot!("notes", code);
}

#[test]
fn statements_for_the_full_schema() {
    let b = Builder::new()
        .schema(fixture("full/schema.graphql"))
        .default_auth_mode(AuthMode::ApiKey);
    let depth1 = b.clone().statements(1).statements_to_string().unwrap();
    let depth2 = b.clone().statements(2).statements_to_string().unwrap();
    let depth3 = b.clone().statements(3).statements_to_string().unwrap();
    insta::assert_snapshot!("statements_depth_1", depth1);
    insta::assert_snapshot!("statements_depth_2", depth2);
    insta::assert_snapshot!("statements_depth_3", depth3);
    // The statements are typed like hand-written operations.
    let code = b
        .statements(2)
        .generate_to_string()
        .unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("statements_code", relative(code));
}

#[test]
fn output_is_deterministic() {
    let gen = || {
        Builder::new()
            .schema(fixture("full/schema.graphql"))
            .operations(fixture("full/operations"))
            .default_auth_mode(AuthMode::ApiKey)
            .statements(2)
            .generate_to_string()
            .unwrap()
    };
    assert_eq!(gen(), gen());
}
