//! Fuzz target: the client's realtime frame decoder (`protocol::parse`, the `data` fast path
//! `data_id`, `errors_of` and the error classification, and a `data` frame decoded into
//! `Response<serde_json::Value>` and into a typed response), on any UTF-8 text frame.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // WebSocket text frames are UTF-8 (the socket layer checks it).
    if let Ok(text) = std::str::from_utf8(data) {
        appsync_client::fuzzing::realtime_frame(text);
    }
});
