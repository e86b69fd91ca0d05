//! Fuzz target: Gen1 `amplifyconfiguration.json` parsing (`Config::from_json_str` with format
//! detection, and the Gen1 parser itself on any JSON object), then endpoint selection and
//! realtime URL derivation on what it read; no API key may show in `Debug` or errors.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        appsync_client::fuzzing::config(text, false);
    }
});
