//! Codegen speed: the large schema (1,000 object types) with 200 and 2,000 operations, from
//! text to formatted Rust (parse, validate, auth metadata, generate, format). Budget: 1 s for
//! 2,000 operations. Compile time of the output: `bench/codegen-compile.sh`.

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

fn codegen(c: &mut Criterion) {
    let mut g = c.benchmark_group("codegen");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for ops in [200, 2000] {
        let b = builder(1000, ops);
        g.bench_function(format!("1000 types, {ops} operations"), |bench| {
            bench.iter(|| b.generate_to_string().map(|s| s.len()).unwrap_or(0))
        });
    }
    let b = builder(1000, 2000);
    g.bench_function("1000 types, 2000 operations, analyze only", |bench| {
        bench.iter(|| b.analyze().map(|a| a.operations.len()).unwrap_or(0))
    });
    g.finish();
}

criterion_group!(benches, codegen);
criterion_main!(benches);
