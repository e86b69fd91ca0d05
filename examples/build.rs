//! Generates the notes app's typed operations (`schema/notes`) into `OUT_DIR/notes.rs`.

use appsync_codegen::{AuthMode, Builder};

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    Builder::new()
        .schema("../schema/notes/schema.graphql")
        .operations("../schema/notes/operations")
        // The notes API: API key by default; user pools, IAM, OIDC and Lambda too.
        .default_auth_mode(AuthMode::ApiKey)
        .additional_auth_modes([
            AuthMode::UserPools,
            AuthMode::Iam,
            AuthMode::Oidc,
            AuthMode::Lambda,
        ])
        .generate(out.join("notes.rs"))
        .unwrap_or_else(|e| e.fail_build());
}
