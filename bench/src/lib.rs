//! Benchmarks for appsync-rs live in `benches/`; this library crate holds nothing of its own.
