//! Benchmarks for appsync-rs: criterion benches live in `benches/`; this library holds the
//! shared parts of the load bench (`bench/load/`, `src/bin/load*`).

pub mod load;
