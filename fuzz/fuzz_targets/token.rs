//! Fuzz target: token and JWT parsing (`Token::expires_at`, `jwt_expiry`): any token text, and
//! JWTs whose claims (the middle part) are the input, with and without `Bearer `.
#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        // Any text a provider may return.
        0 => {
            if let Ok(s) = std::str::from_utf8(rest) {
                appsync_client::fuzzing::token(s);
            }
        }
        // A JWT whose claims are the input (so `exp` of any JSON shape and size).
        m => {
            let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rest);
            let prefix = if m == 2 { "Bearer " } else { "" };
            let padding = if m == 3 { "==" } else { "" };
            let jwt = format!("{prefix}eyJhbGciOiJSUzI1NiJ9.{claims}{padding}.c2lnbmF0dXJl");
            appsync_client::fuzzing::token(&jwt);
        }
    }
});
