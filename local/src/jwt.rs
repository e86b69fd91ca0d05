//! RS256 signing keys that appsync-local holds for its Cognito user pool and OIDC issuer: minting
//! tokens for tests, publishing a JWKS, and verifying tokens (with `jsonwebtoken`).

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
        let mut v = Validation::new(Algorithm::RS256);
        v.leeway = 0;
        v.validate_aud = false;
        v.set_required_spec_claims(&["exp", "iss"]);
        v.set_issuer(&[issuer, issuer.trim_end_matches('/')]);
        let data = jsonwebtoken::decode::<Value>(token, &self.decoding, &v).map_err(|e| {
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
}

/// Reads a JWT's claims without verifying (to route by `iss`).
pub(crate) fn peek_claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_h, p, _s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok()?;
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
}
