//! Examples for appsync-rs live in `examples/`; this library crate holds nothing of its own.
