//! Generates the operations this crate compiles: the full fixture three ways (serde both ways,
//! the default one way, typed scalars), the notes app's statements, and every schema of the
//! real-schema corpus (`codegen/tests/corpus`) as its API is configured.

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

    // The corpus, set up as `codegen/tests/corpus.rs` does; an unsendable operation would
    // fail the build.
    let corpus = |name: &str| {
        Builder::new()
            .schema(format!("../corpus/{name}/schema.graphql"))
            .deny_operations_without_auth_mode(true)
    };
    for name in ["appsyncmasterclass", "idp", "workload-discovery"] {
        corpus(name)
            .operations(format!("../corpus/{name}/operations"))
            .default_auth_mode(AuthMode::UserPools)
            .additional_auth_modes([AuthMode::Iam])
            .generate(out.join(format!("corpus_{}.rs", name.replace('-', "_"))))
            .unwrap_or_else(|e| e.fail_build());
    }
    for name in ["amplify-docsgen", "prisma-appsync"] {
        corpus(name)
            .statements(2)
            .default_auth_mode(AuthMode::ApiKey)
            .generate(out.join(format!("corpus_{}.rs", name.replace('-', "_"))))
            .unwrap_or_else(|e| e.fail_build());
    }
}
