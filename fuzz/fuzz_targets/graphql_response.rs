//! Fuzz target: the GraphQL HTTP response decoder, `Response::from_slice`, untyped
//! (`serde_json::Value`) and typed, on any body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    appsync_client::fuzzing::graphql_response(data);
});
