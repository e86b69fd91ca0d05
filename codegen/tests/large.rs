//! A generated large schema (1,000 object types, 2,000 operations) goes through codegen. That
//! the output compiles, and how fast generation is, are measured in `bench/` (the criterion
//! bench `codegen` and `bench/codegen-compile.sh`).

use appsync_codegen::{testing, AuthMode, Builder};

#[test]
fn a_large_schema_with_2000_operations() {
    let types = 1000;
    let ops = testing::large_operations(types, 2000);
    let mut b = Builder::new()
        .schema_str("large.graphql", testing::large_schema(types))
        .default_auth_mode(AuthMode::ApiKey);
    for (name, text) in &ops {
        b = b.operations_str(name.as_str(), text.as_str());
    }
    let started = std::time::Instant::now();
    let code = b.generate_to_string().unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "generated {} bytes for 2,000 operations in {:?} (unoptimized build)",
        code.len(),
        started.elapsed()
    );
    assert_eq!(code.matches("impl _appsync::Operation for ").count(), 2000);
    // Every type's input is used by its mutation; enums once.
    assert_eq!(code.matches("pub enum Status {").count(), 1);
    assert_eq!(code.matches("pub struct T999Input {").count(), 1);
    // Even types allow API key and IAM on their fields, odd ones IAM and user pools; the
    // root fields allow those and more: the intersection is IAM alone or both.
    let a = b.analyze().unwrap();
    assert_eq!(
        a.operation("GetT0").unwrap().allowed_auth_modes,
        [AuthMode::Iam]
    );
    assert_eq!(
        a.operation("UpdateT3").unwrap().allowed_auth_modes,
        [AuthMode::Iam]
    );
}
