//! Codegen speed: the large schema (1,000 object types) with 200 and 2,000 operations, from
//! text to formatted Rust (parse, validate, auth metadata, generate, format). Budget: 1 s for
//! 2,000 operations. Compile time of the output: `bench/codegen-compile.sh`.
//!
//! A failed generation fails the bench (a panic with the errors), checked once before timing
//! and on every iteration: a failure must never be timed as a fast run.

use std::time::Duration;

use appsync_codegen::{testing, AuthMode, Builder};
use criterion::{criterion_group, criterion_main, Criterion};

fn builder(types: usize, ops: usize) -> Builder {
    let mut b = Builder::new()
        .schema_str("large.graphql", testing::large_schema(types))
        .default_auth_mode(AuthMode::ApiKey);
    for (name, text) in testing::large_operations(types, ops) {
        b = b.operations_str(name, text);
    }
    b
}

/// The generated code's length; panics with every error when generation fails.
fn generate(b: &Builder) -> usize {
    match b.generate_to_string() {
        Ok(s) => s.len(),
        Err(e) => panic!("codegen failed:\n{e}"),
    }
}

/// The number of operations analyzed; panics with every error when analysis fails.
fn analyze(b: &Builder) -> usize {
    match b.analyze() {
        Ok(a) => a.operations.len(),
        Err(e) => panic!("codegen analysis failed:\n{e}"),
    }
}

fn codegen(c: &mut Criterion) {
    let mut g = c.benchmark_group("codegen");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for ops in [200, 2000] {
        let b = builder(1000, ops);
        // Checked before timing, so that a broken generator stops the bench at once.
        assert!(generate(&b) > 0, "codegen produced nothing");
        g.bench_function(format!("1000 types, {ops} operations"), |bench| {
            bench.iter(|| generate(&b))
        });
    }
    let b = builder(1000, 2000);
    assert_eq!(analyze(&b), 2000, "every operation analyzed");
    g.bench_function("1000 types, 2000 operations, analyze only", |bench| {
        bench.iter(|| analyze(&b))
    });
    g.finish();
}

criterion_group!(benches, codegen);
criterion_main!(benches);
