//! Where the handshake's authorization "header" object comes from (§2.4), and how it is decoded.
//!
//! In order: the `header-<base64url>` subprotocol, the `header` query parameter, then the plain
//! HTTP headers of the upgrade request. Decoding is lenient, unlike the Amplify simulator: the
//! query value is percent-decoded without turning `+` into a space, and both base64 alphabets
//! are accepted, with or without padding.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde_json::Value;

/// The prefix of the subprotocol that carries the header object.
const SUBPROTOCOL_PREFIX: &str = "header-";

/// Where the header object was found (for logs; never the object itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Subprotocol,
    Query,
    HttpHeaders,
}

impl Source {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Source::Subprotocol => "subprotocol",
            Source::Query => "query",
            Source::HttpHeaders => "http-headers",
        }
    }
}

/// The header object as `(name, value)` pairs, or why it could not be read.
pub(crate) type AuthHeaders = Result<Vec<(String, String)>, String>;

/// Picks the header object: the `header-` subprotocol, else the `header` query parameter, else
/// the upgrade request's own headers (`raw`).
pub(crate) fn auth_headers<'a>(
    protocols: impl IntoIterator<Item = &'a str>,
    raw_query: Option<&str>,
    raw: impl FnOnce() -> Vec<(String, String)>,
) -> (Source, AuthHeaders) {
    if let Some(token) = protocols
        .into_iter()
        .find_map(|p| p.strip_prefix(SUBPROTOCOL_PREFIX))
    {
        return (Source::Subprotocol, decode_object(token));
    }
    if let Some(value) = raw_query.and_then(|q| query_param(q, "header")) {
        return (Source::Query, decode_object(&value));
    }
    (Source::HttpHeaders, Ok(raw()))
}

/// The JSON object of an auth object, as header pairs. Keys keep their case (lookups ignore
/// it); string values are taken as they are, other values as their JSON text, `null`s dropped.
pub(crate) fn object_pairs(object: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    object
        .iter()
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::String(s) => Some((k.clone(), s.clone())),
            other => Some((k.clone(), other.to_string())),
        })
        .collect()
}

fn decode_object(encoded: &str) -> AuthHeaders {
    let bytes = lenient_base64(encoded)
        .ok_or_else(|| "The authorization header object is not valid base64.".to_owned())?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(o)) => Ok(object_pairs(&o)),
        _ => Err("The authorization header object is not a JSON object.".to_owned()),
    }
}

/// Base64 in either alphabet, with or without padding; a space (a `+` that went through form
/// decoding somewhere) is read as `+`.
pub(crate) fn lenient_base64(s: &str) -> Option<Vec<u8>> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let normalized: String = s
        .trim()
        .chars()
        .filter_map(|c| match c {
            '-' | ' ' => Some('+'),
            '_' => Some('/'),
            '=' | '\r' | '\n' | '\t' => None,
            c => Some(c),
        })
        .collect();
    ENGINE.decode(normalized).ok()
}

/// The first value of `name` in a raw query string, percent-decoded (`+` stays `+`).
pub(crate) fn query_param(raw_query: &str, name: &str) -> Option<String> {
    raw_query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

/// `%XX` escapes decoded; anything else (including `+` and broken escapes) kept literally.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"host":"h","x-api-key":"k?>"}"#;

    fn encodings() -> Vec<String> {
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        vec![
            STANDARD.encode(JSON),
            STANDARD_NO_PAD.encode(JSON),
            URL_SAFE.encode(JSON),
            URL_SAFE_NO_PAD.encode(JSON),
        ]
    }

    #[test]
    fn base64_is_read_in_both_alphabets_with_or_without_padding() {
        for e in encodings() {
            assert_eq!(lenient_base64(&e).as_deref(), Some(JSON.as_bytes()), "{e}");
        }
        assert!(encodings()[0].contains('+') || encodings()[0].contains('/'));
        assert_eq!(lenient_base64("%%%"), None);
    }

    #[test]
    fn query_values_keep_plus_and_decode_escapes() {
        assert_eq!(
            query_param("payload=e30%3D&header=a+b%2Fc%3D", "header").as_deref(),
            Some("a+b/c=")
        );
        assert_eq!(query_param("a=1", "header"), None);
        assert_eq!(query_param("header", "header").as_deref(), Some(""));
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%41%"), "A%");
    }

    #[test]
    fn sources_are_taken_in_order() {
        let q = format!("header={}", encodings()[0]);
        let sub = format!("header-{}", encodings()[3]);
        let raw = || vec![("x-api-key".to_owned(), "raw".to_owned())];
        let (s, h) = auth_headers(["graphql-ws", sub.as_str()], Some(&q), raw);
        assert_eq!(s, Source::Subprotocol);
        assert_eq!(h.unwrap()[1], ("x-api-key".to_owned(), "k?>".to_owned()));
        let (s, _) = auth_headers(["graphql-ws"], Some(&q), raw);
        assert_eq!(s, Source::Query);
        let (s, h) = auth_headers(["graphql-ws"], Some("payload=e30="), raw);
        assert_eq!(s, Source::HttpHeaders);
        assert_eq!(h.unwrap()[0].1, "raw");
        let (_, h) = auth_headers(["header-!!"], None, raw);
        assert!(h.is_err());
        let (_, h) = auth_headers(["header-WzFd"], None, raw);
        assert!(h.is_err(), "[1] is not an object");
    }
}
