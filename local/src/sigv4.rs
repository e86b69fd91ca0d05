//! AWS Signature Version 4 verification, written from the spec (no `aws-sigv4`): how appsync-local checks IAM requests.
//!
//! This module deliberately does not use `aws-sigv4` (the client's signer): it rebuilds the canonical
//! request from the request exactly as received, with only `hmac`, `sha2` and `hex`, so a bug shared by
//! the signer and the verifier cannot make a wrong signature pass.
//!
//! Choices, following `shared/appsync-protocol.md` §6.1 and §1.3:
//!
//! - **Path**: the raw path as sent (already percent-encoded) is URI-encoded *again*, segment by
//!   segment (double encoding, as for every service except S3); `/` is kept and an empty path becomes
//!   `/`. The verifier does **not** normalize the path: `.` and `..` segments and duplicate slashes are
//!   kept as they are, because a server checks what was sent. A client that normalizes before signing
//!   must also send the normalized path. For AppSync (`/graphql`, `/graphql/connect`) both agree.
//! - **Query**: each name and value is percent-decoded (`+` stays `+`, it is not a space; an invalid
//!   `%` escape is kept literally), RFC 3986-encoded (unreserved `A-Za-z0-9-_.~`), then the pairs are
//!   sorted by encoded name, then by encoded value. Empty `&&` pieces are skipped; `k` becomes `k=`.
//! - **Headers**: only the names listed in `SignedHeaders`, with the values as received (never
//!   constants): trimmed, internal runs of ASCII whitespace collapsed to one space, repeated headers
//!   joined with `,` in the order received. `host` is used as received (with its port, if any).
//! - **Payload hash**: always `hex(sha256(body))` of the bytes received. An `x-amz-content-sha256`
//!   header (S3 only) is treated as an ordinary header and never replaces the body hash.
//! - **`SignedHeaders`** must be lowercase, sorted and without duplicates (what every AWS signer emits).
//! - The check of the request date against the current time (clock skew) is not done here.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub use crate::dates::amz_date;

/// The only algorithm accepted in the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The parts of a received request that SigV4 covers.
#[derive(Debug, Clone)]
pub struct SignedRequestParts<'a> {
    /// HTTP method as sent, e.g. `POST` (used verbatim, not upper-cased).
    pub method: &'a str,
    /// Raw path as sent, already percent-encoded, e.g. `/graphql`.
    pub path: &'a str,
    /// Raw query string as sent, without the leading `?` (empty when there is none).
    pub query: &'a str,
    /// Headers as received: names in any case, duplicates allowed, in the order received.
    pub headers: Vec<(String, String)>,
    /// Body bytes exactly as received.
    pub body: &'a [u8],
}

/// What a successful [`verify`] found out about the request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// Access key id from the credential scope.
    pub access_key_id: String,
    /// Region from the credential scope.
    pub region: String,
    /// Service from the credential scope.
    pub service: String,
    /// `SignedHeaders` as listed in the `Authorization` header (lowercase, sorted).
    pub signed_headers: Vec<String>,
    /// Value of the `x-amz-security-token` header, when the request had one.
    pub session_token: Option<String>,
    /// Canonical request rebuilt by the verifier.
    pub canonical_request: String,
    /// String to sign rebuilt by the verifier.
    pub string_to_sign: String,
}

/// The fields of a parsed `Authorization: AWS4-HMAC-SHA256 …` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParsedAuthorization {
    /// Access key id (first element of `Credential`).
    pub access_key_id: String,
    /// Scope date `YYYYMMDD`.
    pub date: String,
    /// Scope region.
    pub region: String,
    /// Scope service.
    pub service: String,
    /// `SignedHeaders`, split on `;`, as written.
    pub signed_headers: Vec<String>,
    /// `Signature`, lowercase hex as written.
    pub signature: String,
}

/// Parses an `Authorization` header value of the form
/// `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=<hex>`.
///
/// Spaces after the commas are optional; the three components may come in any order.
pub fn parse_authorization(value: &str) -> Result<ParsedAuthorization, String> {
    let value = value.trim();
    let rest = value.strip_prefix(ALGORITHM).ok_or_else(|| {
        let alg = value.split_whitespace().next().unwrap_or("");
        format!("unsupported Authorization algorithm {alg:?}, expected {ALGORITHM}")
    })?;
    if !rest.starts_with([' ', '\t']) {
        return Err(format!(
            "malformed Authorization header: expected whitespace after {ALGORITHM}: {value:?}"
        ));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.trim().split(',') {
        let part = part.trim();
        let (key, val) = part.split_once('=').ok_or_else(|| {
            format!("malformed Authorization header: component {part:?} has no '='")
        })?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => {
                return Err(format!(
                    "malformed Authorization header: unknown component {other:?}"
                ))
            }
        };
        if slot.replace(val).is_some() {
            return Err(format!(
                "malformed Authorization header: {key} appears twice"
            ));
        }
    }
    let credential =
        credential.ok_or("malformed Authorization header: missing Credential".to_string())?;
    let signed_headers = signed_headers
        .ok_or("malformed Authorization header: missing SignedHeaders".to_string())?;
    let signature =
        signature.ok_or("malformed Authorization header: missing Signature".to_string())?;

    let scope: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, service, terminator] = scope.as_slice() else {
        return Err(format!(
            "malformed Credential {credential:?}: expected AKID/YYYYMMDD/region/service/aws4_request"
        ));
    };
    if *terminator != "aws4_request" {
        return Err(format!(
            "malformed Credential {credential:?}: scope must end with aws4_request, not {terminator:?}"
        ));
    }
    if akid.is_empty() || region.is_empty() || service.is_empty() {
        return Err(format!(
            "malformed Credential {credential:?}: empty access key, region or service"
        ));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "malformed Credential {credential:?}: scope date {date:?} is not YYYYMMDD"
        ));
    }
    if signed_headers.is_empty() {
        return Err("malformed Authorization header: SignedHeaders is empty".to_string());
    }
    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_string).collect();
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "malformed Signature {signature:?}: expected 64 lowercase hex digits"
        ));
    }
    Ok(ParsedAuthorization {
        access_key_id: akid.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
        signature: signature.to_string(),
    })
}

/// Verifies the SigV4 `Authorization` header of a received request.
///
/// `lookup_secret` maps an access key id to its secret access key (`None` = unknown key).
/// The credential scope must name `expected_service` and `expected_region`, its date must be the
/// date of the `x-amz-date` header, `host` and `x-amz-date` must be signed, so must
/// `x-amz-security-token` when the request carries one, and every signed header must be present.
/// Headers that are present but not signed are allowed. Every failure is an `Err` whose message says
/// what did not match; a signature mismatch includes the verifier's canonical request and string to
/// sign. Clock skew is not checked here.
pub fn verify(
    req: &SignedRequestParts<'_>,
    lookup_secret: impl Fn(&str) -> Option<String>,
    expected_service: &str,
    expected_region: &str,
) -> Result<Verified, String> {
    let authorization = single_header(req, "authorization")?
        .ok_or_else(|| "missing Authorization header".to_string())?;
    let auth = parse_authorization(authorization)?;

    let amz_date = single_header(req, "x-amz-date")?
        .ok_or_else(|| "missing x-amz-date header".to_string())?
        .trim();
    if !is_amz_date(amz_date) {
        return Err(format!(
            "malformed x-amz-date {amz_date:?}: expected YYYYMMDD'T'HHMMSS'Z'"
        ));
    }
    if amz_date[..8] != auth.date {
        return Err(format!(
            "credential scope date {} does not match x-amz-date {amz_date}",
            auth.date
        ));
    }
    if auth.service != expected_service {
        return Err(format!(
            "credential scope service {:?} does not match expected service {expected_service:?}",
            auth.service
        ));
    }
    if auth.region != expected_region {
        return Err(format!(
            "credential scope region {:?} does not match expected region {expected_region:?}",
            auth.region
        ));
    }

    for pair in auth.signed_headers.windows(2) {
        if pair[0] >= pair[1] {
            return Err(format!(
                "SignedHeaders not sorted or has duplicates: {:?} before {:?}",
                pair[0], pair[1]
            ));
        }
    }
    for name in &auth.signed_headers {
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "SignedHeaders entry {name:?} is empty or not lowercase"
            ));
        }
    }
    let is_signed = |name: &str| auth.signed_headers.iter().any(|h| h == name);
    if !is_signed("host") {
        return Err("host not signed".to_string());
    }
    if !is_signed("x-amz-date") {
        return Err("x-amz-date not signed".to_string());
    }
    let session_token = single_header(req, "x-amz-security-token")?.map(str::to_string);
    if session_token.is_some() && !is_signed("x-amz-security-token") {
        return Err("x-amz-security-token present but not signed".to_string());
    }
    for name in &auth.signed_headers {
        if !req
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return Err(format!("signed header {name:?} missing from the request"));
        }
    }

    let secret = lookup_secret(&auth.access_key_id)
        .ok_or_else(|| format!("unknown access key {}", auth.access_key_id))?;

    let canonical = canonical_request(req, &auth.signed_headers);
    let string_to_sign = string_to_sign(amz_date, &auth.region, &auth.service, &canonical);
    let expected = signature_of(
        &secret,
        amz_date,
        &auth.region,
        &auth.service,
        &string_to_sign,
    );
    if expected != auth.signature {
        return Err(format!(
            "signature mismatch: request has {}, verifier computed {expected}\n\
             verifier's canonical request:\n{canonical}\n\
             verifier's string to sign:\n{string_to_sign}",
            auth.signature
        ));
    }
    Ok(Verified {
        access_key_id: auth.access_key_id,
        region: auth.region,
        service: auth.service,
        signed_headers: auth.signed_headers,
        session_token,
        canonical_request: canonical,
        string_to_sign,
    })
}

/// Builds the SigV4 canonical request of `req` for the given signed header names.
///
/// The names are lowercased, sorted and deduplicated before use. A listed header that is absent
/// from the request gets an empty value (callers wanting an error use [`verify`]).
pub fn canonical_request(req: &SignedRequestParts<'_>, signed_headers: &[String]) -> String {
    let mut names: Vec<String> = signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();

    let mut out = String::new();
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&canonical_uri(req.path));
    out.push('\n');
    out.push_str(&canonical_query(req.query));
    out.push('\n');
    for name in &names {
        let values: Vec<String> = req
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| normalize_header_value(v))
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&names.join(";"));
    out.push('\n');
    out.push_str(&hex::encode(Sha256::digest(req.body)));
    out
}

/// Builds the string to sign: `AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n<hex(sha256(canonical))>`.
pub fn string_to_sign(
    amz_date: &str,
    region: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    let date = amz_date.get(..8).unwrap_or(amz_date);
    format!(
        "{ALGORITHM}\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Signs `canonical_request` and returns the lowercase hex signature (used for test vectors).
///
/// `amz_date` is the `x-amz-date` value (`YYYYMMDD'T'HHMMSS'Z'`); its first 8 characters are the
/// scope date.
pub fn sign(
    secret: &str,
    amz_date: &str,
    region: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    let sts = string_to_sign(amz_date, region, service, canonical_request);
    signature_of(secret, amz_date, region, service, &sts)
}

/// HMAC chain kDate → kRegion → kService → kSigning, then hex(HMAC(kSigning, string_to_sign)).
fn signature_of(
    secret: &str,
    amz_date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The value of a header that must appear at most once (name compared case-insensitively).
fn single_header<'r>(
    req: &'r SignedRequestParts<'_>,
    name: &str,
) -> Result<Option<&'r str>, String> {
    let mut found = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str());
    let first = found.next();
    if found.next().is_some() {
        return Err(format!("{name} header appears more than once"));
    }
    Ok(first)
}

/// `YYYYMMDD'T'HHMMSS'Z'`, digits only checked (not calendar validity).
fn is_amz_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
}

/// Trims the value and collapses each internal run of ASCII whitespace (including folded
/// line breaks) to one space.
fn normalize_header_value(value: &str) -> String {
    value.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

/// Double encoding of the raw (already encoded) path, one segment at a time; no normalization.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    let mut out = String::with_capacity(path.len() * 2);
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        uri_encode(segment.as_bytes(), &mut out);
    }
    out
}

/// Decode, re-encode, sort by (name, value) on the encoded forms, join with `&`.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            let mut n = String::new();
            let mut v = String::new();
            uri_encode(&percent_decode(name), &mut n);
            uri_encode(&percent_decode(value), &mut v);
            (n, v)
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 3986 encoding: unreserved `A-Za-z0-9-_.~` kept, every other byte as `%XX` (uppercase hex).
fn uri_encode(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// Percent-decoding without `+` → space; an invalid escape is kept as literal text.
fn percent_decode(s: &str) -> Vec<u8> {
    fn hex_val(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(hi), Some(lo)) = (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}
