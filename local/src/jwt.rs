//! RS256 signing keys that appsync-local holds for its Cognito user pool and OIDC issuer: minting
//! tokens for tests, publishing a JWKS, and verifying tokens (with `jsonwebtoken`); and the
//! public keys of an external user pool, read from its JWKS ([`KeySet`]).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use std::fmt;

/// A freshly generated RSA key that signs and verifies tokens.
pub(crate) struct SigningKey {
    kid: String,
    pair: KeyPair,
    decoding: DecodingKey,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub(crate) fn generate(kid: &str) -> Result<SigningKey, String> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| "RSA key generation failed".to_owned())?;
        let c: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
        let decoding = DecodingKey::from_rsa_raw_components(&c.n, &c.e);
        Ok(SigningKey {
            kid: kid.to_owned(),
            pair,
            decoding,
            n: c.n,
            e: c.e,
        })
    }

    /// Signs `claims` as an RS256 JWT with this key's `kid`.
    pub(crate) fn mint(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0; self.pair.public_modulus_len()];
        // Signing with a key we generated cannot fail short of the system RNG failing.
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .expect("RSA signing with a freshly generated key");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// The public key as a JWKS document.
    pub(crate) fn jwks(&self) -> Value {
        json!({"keys": [{
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&self.n), "e": URL_SAFE_NO_PAD.encode(&self.e),
        }]})
    }

    /// Verifies the signature (RS256 only), `exp` (no leeway) and `iss`; returns the claims.
    /// Audience and `token_use` are the caller's checks.
    pub(crate) fn verify(&self, token: &str, issuer: &str) -> Result<Value, String> {
        verify_rs256(token, &self.decoding, issuer)
    }
}

/// Verifies an RS256 token with `key`: the signature, `exp` (no leeway) and `iss`.
fn verify_rs256(token: &str, key: &DecodingKey, issuer: &str) -> Result<Value, String> {
    let mut v = Validation::new(Algorithm::RS256);
    v.leeway = 0;
    v.validate_aud = false;
    v.set_required_spec_claims(&["exp", "iss"]);
    v.set_issuer(&[issuer, issuer.trim_end_matches('/')]);
    let data = jsonwebtoken::decode::<Value>(token, key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => "Token has expired.".to_owned(),
            ErrorKind::InvalidIssuer => "Token issuer is not valid.".to_owned(),
            ErrorKind::InvalidSignature => "Token signature is not valid.".to_owned(),
            ErrorKind::InvalidAlgorithm => "Token algorithm is not RS256.".to_owned(),
            _ => "Unable to parse JWT token.".to_owned(),
        }
    })?;
    Ok(data.claims)
}

/// The most keys a key set may hold (Cognito publishes two).
const MAX_KEYS: usize = 100;
/// The longest `kid` accepted.
const MAX_KID_LEN: usize = 256;
/// RSA moduli accepted, in bytes: 2048 to 8192 bits, what RS256 verification allows.
const MODULUS_BYTES: std::ops::RangeInclusive<usize> = 256..=1024;
/// The longest public exponent accepted, in bytes (Cognito's is 65537, three bytes).
const MAX_EXPONENT_BYTES: usize = 4;

/// The RS256 public keys of a JWKS (RFC 7517), by `kid`: what an external user pool signs with.
pub(crate) struct KeySet {
    keys: Vec<(String, DecodingKey)>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("KeySet").field("kids", &kids).finish()
    }
}

impl KeySet {
    /// Reads a JWKS document: `{"keys": [..]}`. RSA keys meant for signatures (`use` absent or
    /// `sig`, `alg` absent or `RS256`) are kept; keys of another type or use are skipped. A
    /// document that is not a JWKS, an RSA key without a `kid` or with a malformed or absurdly
    /// sized `n` or `e`, a `kid` twice, or no usable key at all is an error.
    pub(crate) fn from_jwks(jwks: &Value) -> Result<KeySet, String> {
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("not a JWKS: expected an object with a \"keys\" array")?;
        if keys.len() > MAX_KEYS {
            return Err(format!(
                "the JWKS has {} keys, more than {MAX_KEYS}",
                keys.len()
            ));
        }
        let mut out: Vec<(String, DecodingKey)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let Some(key) = key.as_object() else {
                return Err(format!("key {i} of the JWKS is not an object"));
            };
            let field = |name: &str| -> Result<Option<&str>, String> {
                match key.get(name) {
                    None => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s)),
                    Some(_) => Err(format!("key {i} of the JWKS: \"{name}\" is not a string")),
                }
            };
            let kty = field("kty")?.ok_or(format!("key {i} of the JWKS has no \"kty\""))?;
            let usable = kty == "RSA"
                && matches!(field("use")?, None | Some("sig"))
                && matches!(field("alg")?, None | Some("RS256"));
            if !usable {
                continue;
            }
            let kid = match field("kid")? {
                Some(k) if !k.is_empty() && k.len() <= MAX_KID_LEN => k.to_owned(),
                Some(k) if !k.is_empty() => {
                    return Err(format!(
                        "key {i} of the JWKS: its kid is longer than {MAX_KID_LEN} bytes"
                    ))
                }
                _ => return Err(format!("key {i} of the JWKS has no \"kid\"")),
            };
            if out.iter().any(|(k, _)| *k == kid) {
                return Err(format!("the JWKS has the kid {kid:?} twice"));
            }
            let component = |name: &str| -> Result<Vec<u8>, String> {
                let text =
                    field(name)?.ok_or(format!("RSA key {kid:?} of the JWKS has no \"{name}\""))?;
                // Base64url of at most 1024 bytes: refuse a longer text before decoding it.
                if text.len() > 2 * MODULUS_BYTES.end() {
                    return Err(format!(
                        "RSA key {kid:?} of the JWKS: \"{name}\" is too long"
                    ));
                }
                let bytes = URL_SAFE_NO_PAD
                    .decode(text.trim_end_matches('='))
                    .map_err(|_| {
                        format!("RSA key {kid:?} of the JWKS: \"{name}\" is not base64url")
                    })?;
                let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
                Ok(bytes[first..].to_vec())
            };
            let (n, e) = (component("n")?, component("e")?);
            if !MODULUS_BYTES.contains(&n.len()) {
                return Err(format!(
                    "RSA key {kid:?} of the JWKS: a {}-bit modulus (2048 to 8192 bits are accepted)",
                    n.len() * 8
                ));
            }
            if e.is_empty() || e.len() > MAX_EXPONENT_BYTES || e[e.len() - 1] & 1 == 0 || e == [1] {
                return Err(format!(
                    "RSA key {kid:?} of the JWKS: the exponent is not a small odd number above 1"
                ));
            }
            out.push((kid, DecodingKey::from_rsa_raw_components(&n, &e)));
        }
        if out.is_empty() {
            return Err("the JWKS has no RSA signing key (kty RSA, alg RS256)".to_owned());
        }
        Ok(KeySet { keys: out })
    }

    /// Verifies `token`: its header must name `RS256` and a `kid` of this set, then the
    /// signature, `exp` (no leeway) and `iss` are checked; returns the claims.
    pub(crate) fn verify(&self, token: &str, issuer: &str) -> Result<Value, String> {
        let header = peek_part(token, 0).ok_or("Unable to parse JWT token.")?;
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err("Token algorithm is not RS256.".to_owned());
        }
        let kid = header.get("kid").and_then(Value::as_str);
        let key = self
            .keys
            .iter()
            .find(|(k, _)| Some(k.as_str()) == kid)
            .ok_or("Token key id (kid) is not one of the user pool's keys.")?;
        verify_rs256(token, &key.1, issuer)
    }
}

/// Reads a JWT's claims without verifying (to route by `iss`).
pub(crate) fn peek_claims(token: &str) -> Option<Value> {
    peek_part(token, 1)
}

/// A JWT's header (0) or claims (1) as a JSON object, unverified.
fn peek_part(token: &str, index: usize) -> Option<Value> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(parts[index].trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.is_object().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_tampering_fails() {
        let k = SigningKey::generate("k1").unwrap();
        let exp = crate::dates::unix_now() + 600;
        let t = k.mint(&json!({"iss": "https://issuer.test", "exp": exp, "sub": "u"}));
        assert_eq!(k.verify(&t, "https://issuer.test").unwrap()["sub"], "u");
        assert_eq!(
            k.verify(&t, "https://other.test").unwrap_err(),
            "Token issuer is not valid."
        );
        // A character in the middle of the signature: the last one may hold only padding bits,
        // which a decoder can ignore, so changing it may change nothing.
        let sig = t.rfind('.').unwrap() + 1;
        let mid = sig + (t.len() - sig) / 2;
        let mut bad = t.clone().into_bytes();
        bad[mid] = if bad[mid] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        assert_ne!(bad, t);
        assert_eq!(
            k.verify(&bad, "https://issuer.test").unwrap_err(),
            "Token signature is not valid."
        );
        let old = k.mint(&json!({"iss": "https://issuer.test", "exp": 1_000, "sub": "u"}));
        assert_eq!(
            k.verify(&old, "https://issuer.test").unwrap_err(),
            "Token has expired."
        );
        let other = SigningKey::generate("k2").unwrap();
        assert_eq!(
            other.verify(&t, "https://issuer.test").unwrap_err(),
            "Token signature is not valid."
        );
        assert_eq!(k.jwks()["keys"][0]["kid"], "k1");
    }

    /// An RSA JWK with these base64url components.
    fn rsa(kid: &str, n: &str, e: &str) -> Value {
        json!({"kty": "RSA", "kid": kid, "n": n, "e": e})
    }

    #[test]
    fn key_sets_are_read_from_a_jwks_and_malformed_ones_are_errors() {
        let k = SigningKey::generate("k1").unwrap();
        let set = KeySet::from_jwks(&k.jwks()).unwrap();
        let exp = crate::dates::unix_now() + 600;
        let t = k.mint(&json!({"iss": "https://issuer.test", "exp": exp, "sub": "u"}));
        assert_eq!(set.verify(&t, "https://issuer.test").unwrap()["sub"], "u");

        let good = k.jwks()["keys"][0].clone();
        let (n, e) = (good["n"].as_str().unwrap(), good["e"].as_str().unwrap());
        // Keys of another type or use are skipped; a set with no usable key is an error.
        let mut ec = json!({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"});
        let with_ec = json!({"keys": [ec.clone(), good.clone()]});
        assert!(KeySet::from_jwks(&with_ec).is_ok());
        let enc = json!({"kty": "RSA", "use": "enc", "kid": "x", "n": n, "e": e});
        let ps = json!({"kty": "RSA", "alg": "PS256", "kid": "y", "n": n, "e": e});
        ec["kid"] = json!("ec2");
        let huge_n = URL_SAFE_NO_PAD.encode(vec![0xC5; 2048]);
        let small_n = URL_SAFE_NO_PAD.encode(vec![0xC5; 128]);
        let cases = [
            (json!(null), "not a JWKS"),
            (json!([]), "not a JWKS"),
            (json!({"keys": {}}), "not a JWKS"),
            (json!({"keys": []}), "no RSA signing key"),
            (json!({"keys": [ec, enc, ps]}), "no RSA signing key"),
            (json!({"keys": [1]}), "not an object"),
            (json!({"keys": [{"kid": "a"}]}), "no \"kty\""),
            (json!({"keys": [{"kty": 7}]}), "\"kty\" is not a string"),
            (
                json!({"keys": [{"kty": "RSA", "n": n, "e": e}]}),
                "no \"kid\"",
            ),
            (json!({"keys": [rsa("", n, e)]}), "no \"kid\""),
            (
                json!({"keys": [rsa(&"k".repeat(300), n, e)]}),
                "longer than",
            ),
            (json!({"keys": [rsa("a", n, e), rsa("a", n, e)]}), "twice"),
            (
                json!({"keys": [{"kty": "RSA", "kid": "a", "e": e}]}),
                "no \"n\"",
            ),
            (
                json!({"keys": [{"kty": "RSA", "kid": "a", "n": n}]}),
                "no \"e\"",
            ),
            (json!({"keys": [rsa("a", "!!!", e)]}), "not base64url"),
            (json!({"keys": [rsa("a", &huge_n, e)]}), "too long"),
            (json!({"keys": [rsa("a", &small_n, e)]}), "1024-bit modulus"),
            (json!({"keys": [rsa("a", "", e)]}), "0-bit modulus"),
            (json!({"keys": [rsa("a", n, "AQ")]}), "exponent"),
            (json!({"keys": [rsa("a", n, "AAE")]}), "exponent"),
            (json!({"keys": [rsa("a", n, "AQAA")]}), "exponent"),
            (json!({"keys": [rsa("a", n, "AQAAAAAB")]}), "exponent"),
        ];
        for (jwks, expected) in cases {
            let e = KeySet::from_jwks(&jwks).expect_err(&jwks.to_string());
            assert!(e.contains(expected), "{jwks}: {e}");
        }
        let too_many = json!({"keys": vec![good.clone(); MAX_KEYS + 1]});
        assert!(KeySet::from_jwks(&too_many)
            .unwrap_err()
            .contains("more than"));
        // Leading zero bytes of a component do not count toward its size.
        let mut padded = good.clone();
        let mut n_bytes = vec![0, 0];
        n_bytes.extend(URL_SAFE_NO_PAD.decode(n).unwrap());
        padded["n"] = json!(URL_SAFE_NO_PAD.encode(n_bytes));
        let set = KeySet::from_jwks(&json!({"keys": [padded]})).unwrap();
        assert!(set.verify(&t, "https://issuer.test").is_ok());
    }

    #[test]
    fn a_key_set_refuses_other_algorithms_unknown_kids_and_other_keys() {
        let k = SigningKey::generate("k1").unwrap();
        let set = KeySet::from_jwks(&k.jwks()).unwrap();
        let exp = crate::dates::unix_now() + 600;
        let claims = json!({"iss": "https://issuer.test", "exp": exp, "sub": "u"});
        let t = k.mint(&claims);
        let (_, rest) = t.split_once('.').unwrap();
        let with_header = |h: Value| format!("{}.{rest}", URL_SAFE_NO_PAD.encode(h.to_string()));
        let verify = |token: &str| set.verify(token, "https://issuer.test").unwrap_err();
        for alg in ["none", "HS256", "RS384", "PS256", "ES256"] {
            let e = verify(&with_header(json!({"alg": alg, "kid": "k1"})));
            assert_eq!(e, "Token algorithm is not RS256.", "{alg}");
        }
        assert_eq!(
            verify(&with_header(json!({"kid": "k1"}))),
            "Token algorithm is not RS256."
        );
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        assert_eq!(verify(&unsigned), "Token algorithm is not RS256.");
        for header in [
            json!({"alg": "RS256"}),
            json!({"alg": "RS256", "kid": "k2"}),
        ] {
            assert!(verify(&with_header(header)).contains("kid"));
        }
        // The same kid, another key.
        let other = SigningKey::generate("k1").unwrap();
        assert_eq!(
            verify(&other.mint(&claims)),
            "Token signature is not valid."
        );
        for junk in [
            "",
            "a",
            "a.b",
            "a.b.c",
            "..",
            "a.b.c.d",
            "\u{0}.\u{0}.\u{0}",
        ] {
            assert_eq!(verify(junk), "Unable to parse JWT token.", "{junk:?}");
        }
        let not_json = format!("{}.{rest}", URL_SAFE_NO_PAD.encode("{alg"));
        assert_eq!(verify(&not_json), "Unable to parse JWT token.");
    }
}
