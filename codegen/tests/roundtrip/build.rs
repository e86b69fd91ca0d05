//! Generates the operations this crate compiles: the full fixture three ways (serde both ways,
//! the default one way, typed scalars), and the notes app's statements.

use appsync_codegen::{AuthMode, Builder};

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let full = || {
        Builder::new()
            .schema("../fixtures/full/schema.graphql")
            .operations("../fixtures/full/operations")
            .default_auth_mode(AuthMode::ApiKey)
            .serde_both_ways(true)
    };
    full()
        .generate(out.join("full.rs"))
        .unwrap_or_else(|e| e.fail_build());
    // The default: responses only deserialize, variables only serialize.
    full()
        .serde_both_ways(false)
        .generate(out.join("full_one_way.rs"))
        .unwrap_or_else(|e| e.fail_build());
    full()
        .time_types(true)
        .scalar("AWSJSON", "crate::Meta")
        .scalar("AWSURL", "crate::Url")
        .generate(out.join("full_typed.rs"))
        .unwrap_or_else(|e| e.fail_build());
    Builder::new()
        .schema("../../../schema/notes/schema.graphql")
        .default_auth_mode(AuthMode::ApiKey)
        .statements(2)
        .all_types(true)
        .serde_both_ways(true)
        .generate(out.join("notes_statements.rs"))
        .unwrap_or_else(|e| e.fail_build());
}
