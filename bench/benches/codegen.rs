//! Codegen speed: the large schema (1,000 object types) with 200 and 2,000 operations, from
//! text to formatted Rust (parse, validate, auth metadata, generate, format). Budget: 1 s for
//! 2,000 operations. Compile time of the output: `bench/codegen-compile.sh`.
//!
//! A last case times the reporting of 60,000 syntax errors (a broken schema must not take
//! long to explain).
//!
//! A failed generation fails the bench (a panic with the errors), checked once before timing
//! and on every iteration: a failure must never be timed as a fast run.
//!
//! Generation runs on as many threads as there are cores, so wall time depends on how busy the
//! machine is; a closing summary gives, per case, the median wall time and the median process
//! CPU time (every thread) of five more runs, the second being the steadier figure on a shared
//! machine.

use std::time::{Duration, Instant};

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

/// A schema of `types` one-line types, each with three syntax errors.
fn broken_schema(types: usize) -> Builder {
    let text: String = (0..types)
        .map(|i| format!("type T{i} {{ f: Int! ! }}\n"))
        .collect();
    Builder::new()
        .schema_str("broken.graphql", text)
        .operations_str("ops.graphql", "query Q { a }")
}

/// The number of errors; panics when generation succeeds.
fn errors(b: &Builder) -> usize {
    match b.generate_to_string() {
        Ok(_) => panic!("a broken schema generated"),
        Err(e) => e.iter().count(),
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
    // Reporting many errors must stay linear: each used to be located by counting from the
    // start of its file (29 s for this schema before, 0.5 s after).
    let broken = broken_schema(20_000);
    assert_eq!(errors(&broken), 60_000, "three errors per broken type");
    g.bench_function("20000 broken types, 60000 errors", |bench| {
        bench.iter(|| errors(&broken))
    });
    g.finish();
}

/// This process's CPU time (user + system, every thread).
fn cpu_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Median wall and CPU time of five runs of `f`.
fn wall_and_cpu(f: impl Fn() -> usize) -> (Duration, Duration) {
    let mut runs: Vec<(Duration, Duration)> = (0..5)
        .map(|_| {
            let (w, c) = (Instant::now(), cpu_now());
            std::hint::black_box(f());
            (w.elapsed(), cpu_now().saturating_sub(c))
        })
        .collect();
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    walls.sort();
    runs.sort_by_key(|r| r.1);
    (walls[2], runs[2].1)
}

fn summary(_: &mut Criterion) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("\ncodegen summary ({threads} cores; median of 5 runs each):");
    for ops in [200, 2000] {
        let b = builder(1000, ops);
        let (wall, cpu) = wall_and_cpu(|| generate(&b));
        println!("  1000 types, {ops:>4} operations: wall {wall:>10.1?}, CPU {cpu:>10.1?}");
    }
    let b = builder(1000, 2000);
    let (wall, cpu) = wall_and_cpu(|| analyze(&b));
    println!("  1000 types, 2000 operations, analyze only: wall {wall:>10.1?}, CPU {cpu:>10.1?}");
}

criterion_group!(benches, codegen, summary);
criterion_main!(benches);
