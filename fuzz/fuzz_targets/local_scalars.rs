//! Fuzz target: appsync-local's AWS scalar checks (local/src/scalars.rs), on any text as a
//! string value and on any JSON value, for every AWS scalar. Asserts no panic, that a date or
//! time with a non-ASCII character is refused, and that `AWSJSON` accepts exactly the strings
//! that are JSON.
#![no_main]

use appsync_local::fuzzing::scalar_valid;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const SCALARS: [&str; 10] = [
    "AWSDate",
    "AWSTime",
    "AWSDateTime",
    "AWSTimestamp",
    "AWSEmail",
    "AWSJSON",
    "AWSURL",
    "AWSPhone",
    "AWSIPAddress",
    "String",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let as_string = Value::String(text.to_owned());
    for name in SCALARS {
        let valid = scalar_valid(name, &as_string) == Some(true);
        if valid && matches!(name, "AWSDate" | "AWSTime" | "AWSDateTime") {
            assert!(text.is_ascii(), "{name} accepted {text:?}");
        }
        if name == "AWSJSON" {
            assert_eq!(
                valid,
                serde_json::from_str::<Value>(text).is_ok(),
                "{text:?}"
            );
        }
        if name == "AWSTimestamp" {
            assert!(!valid, "a string is not an AWSTimestamp");
        }
    }
    // The input as a JSON value (numbers for AWSTimestamp, objects, lists).
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        for name in SCALARS {
            let _ = scalar_valid(name, &v);
        }
    }
});
