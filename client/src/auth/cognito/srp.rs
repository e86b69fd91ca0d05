//! Cognito's SRP-6a variant for `USER_SRP_AUTH` (the `PASSWORD_VERIFIER` challenge), the
//! `SECRET_HASH` of app clients with a secret, and Cognito's timestamp format.
//!
//! As Amplify (`AuthenticationHelper`) and pycognito compute it: N is the 3072-bit group of RFC
//! 3526, g = 2, k = H(PAD(N) | PAD(g)), u = H(PAD(A) | PAD(B)), x = H(PAD(salt) | H(poolName |
//! userId | ":" | password)), S = (B − k·gˣ)^(a + u·x) mod N, and the key is HKDF-SHA256 of
//! PAD(S) salted with PAD(u), info "Caldera Derived Key", 16 bytes. PAD is Java's signed
//! big-endian encoding (a leading zero byte when the top bit is set). The claim is
//! HMAC-SHA256(key, poolName | userId | secretBlock | timestamp), base64. The tests compare
//! every step's result with pycognito's (`interop/moto/srp_vectors.py`).

use std::fmt;
use std::sync::OnceLock;
use std::time::SystemTime;

use aws_lc_rs::{digest, hmac};
use base64::Engine;
use num_bigint::BigUint;

use crate::error::{Error, Result};

/// RFC 3526's 3072-bit MODP group, the N of Cognito's SRP.
const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9",
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64",
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B",
    "F12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31",
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

/// The HKDF info of Cognito's key derivation.
const INFO: &[u8] = b"Caldera Derived Key";

/// The longest hex value accepted from the server (B, salt): N is 768 hex digits.
const MAX_HEX: usize = 1024;

struct Group {
    n: BigUint,
    g: BigUint,
    k: BigUint,
}

fn group() -> &'static Group {
    static GROUP: OnceLock<Group> = OnceLock::new();
    GROUP.get_or_init(|| {
        // A constant: parsing it cannot fail.
        let n = BigUint::parse_bytes(N_HEX.as_bytes(), 16).unwrap_or_default();
        let g = BigUint::from(2u32);
        let k = BigUint::from_bytes_be(&sha256(&[&pad(&n), &pad(&g)]));
        Group { n, g, k }
    })
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// Java's signed big-endian bytes of a non-negative number: a leading zero byte when the top
/// bit is set (Amplify's and pycognito's `padHex`).
fn pad(n: &BigUint) -> Vec<u8> {
    let mut b = n.to_bytes_be();
    if b.first().is_some_and(|x| x & 0x80 != 0) {
        b.insert(0, 0);
    }
    b
}

/// A hex number from the server, bounded in size.
fn parse_hex(what: &str, hex: &str) -> Result<BigUint> {
    if hex.is_empty() || hex.len() > MAX_HEX || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::auth(format!(
            "the PASSWORD_VERIFIER challenge's {what} is not a hex number of at most {MAX_HEX} digits"
        )));
    }
    BigUint::parse_bytes(hex.as_bytes(), 16).ok_or_else(|| {
        Error::auth(format!(
            "the PASSWORD_VERIFIER challenge's {what} is not hex"
        ))
    })
}

/// The client's side of one SRP exchange: the secret `a` and the public `A`. Never printed.
pub(crate) struct Srp {
    a: BigUint,
    big_a: BigUint,
}

impl fmt::Debug for Srp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Srp(<redacted>)")
    }
}

impl Srp {
    /// A fresh exchange: `a` from 128 random bytes (as Amplify), reduced mod N.
    pub(crate) fn new() -> Result<Srp> {
        loop {
            let mut bytes = [0u8; 128];
            aws_lc_rs::rand::fill(&mut bytes)
                .map_err(|_| Error::auth("the system random generator failed"))?;
            let a = BigUint::from_bytes_be(&bytes) % &group().n;
            if let Some(srp) = Srp::with_a(a) {
                return Ok(srp);
            }
        }
    }

    /// The exchange for a given `a`; `None` when A would be 0 mod N (never, in practice).
    pub(crate) fn with_a(a: BigUint) -> Option<Srp> {
        let gr = group();
        let big_a = gr.g.modpow(&a, &gr.n);
        (big_a != BigUint::ZERO).then_some(Srp { a, big_a })
    }

    /// `SRP_A` as sent: lowercase hex without padding.
    pub(crate) fn big_a_hex(&self) -> String {
        self.big_a.to_str_radix(16)
    }

    /// The 16-byte password authentication key for the server's B and salt.
    fn key(
        &self,
        pool_name: &str,
        user_id: &str,
        password: &str,
        b_hex: &str,
        salt_hex: &str,
    ) -> Result<[u8; 16]> {
        let gr = group();
        let b = parse_hex("SRP_B", b_hex)?;
        if (&b % &gr.n) == BigUint::ZERO {
            return Err(Error::auth(
                "the PASSWORD_VERIFIER challenge's SRP_B is not valid (B mod N is 0)",
            ));
        }
        let salt = parse_hex("SALT", salt_hex)?;
        let u = BigUint::from_bytes_be(&sha256(&[&pad(&self.big_a), &pad(&b)]));
        if u == BigUint::ZERO {
            return Err(Error::auth("the PASSWORD_VERIFIER challenge gives u = 0"));
        }
        let inner = sha256(&[
            pool_name.as_bytes(),
            user_id.as_bytes(),
            b":",
            password.as_bytes(),
        ]);
        let x = BigUint::from_bytes_be(&sha256(&[&pad(&salt), &inner]));
        let kgx = (&gr.k * gr.g.modpow(&x, &gr.n)) % &gr.n;
        // (B − k·gˣ) mod N, kept non-negative.
        let base = ((&b % &gr.n) + &gr.n - kgx) % &gr.n;
        let s = base.modpow(&(&self.a + &u * &x), &gr.n);
        let prk = hmac_sha256(&pad(&u), &[&pad(&s)]);
        let okm = hmac_sha256(&prk, &[INFO, &[1u8]]);
        let mut key = [0u8; 16];
        key.copy_from_slice(&okm[..16]);
        Ok(key)
    }

    /// `PASSWORD_CLAIM_SIGNATURE` for the challenge's parameters and `timestamp` (as sent in
    /// `TIMESTAMP`). `pool_id` is `<region>_<name>`; `user_id` is `USER_ID_FOR_SRP`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn password_claim(
        &self,
        pool_id: &str,
        user_id: &str,
        password: &str,
        b_hex: &str,
        salt_hex: &str,
        secret_block_b64: &str,
        timestamp: &str,
    ) -> Result<String> {
        let pool_name = pool_id.split_once('_').map_or(pool_id, |(_, n)| n);
        let key = self.key(pool_name, user_id, password, b_hex, salt_hex)?;
        let block = lenient_base64(secret_block_b64).ok_or_else(|| {
            Error::auth("the PASSWORD_VERIFIER challenge's SECRET_BLOCK is not base64")
        })?;
        let sig = hmac_sha256(
            &key,
            &[
                pool_name.as_bytes(),
                user_id.as_bytes(),
                &block,
                timestamp.as_bytes(),
            ],
        );
        Ok(base64::engine::general_purpose::STANDARD.encode(sig))
    }
}

/// Base64 read as Amplify's (Node's `Buffer.from(.., 'base64')`) and pycognito's (Python's
/// `b64decode`) decoders read it: characters outside the alphabet are skipped, padding may be
/// missing. Cognito sends plain base64; test servers send other opaque text.
fn lenient_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{
        general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig,
    };
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let kept: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/')
        .collect();
    LENIENT.decode(kept).ok()
}

/// `SECRET_HASH`: base64(HMAC-SHA256(key = app client secret, username | client id)).
pub(crate) fn secret_hash(username: &str, client_id: &str, client_secret: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
        client_secret.as_bytes(),
        &[username.as_bytes(), client_id.as_bytes()],
    ))
}

/// Cognito's `TIMESTAMP`: Java's `EEE MMM d HH:mm:ss 'UTC' yyyy` in UTC, English names, the
/// day without a leading zero (`Tue Mar 3 07:05:09 UTC 2026`).
pub(crate) fn timestamp(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{} {} {} {:02}:{:02}:{:02} UTC {}",
        DAYS[((days + 4) % 7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        y
    )
}

/// The proleptic Gregorian (year, month 1..=12, day 1..=31) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`, for non-negative counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    //! Against pycognito (an independent implementation): the vectors in
    //! `tests/fixtures/cognito/srp_vectors.jsonl` were computed by
    //! `interop/moto/srp_vectors.py`; the moto tests also compare fresh random cases live.

    use super::*;
    use std::time::Duration;

    fn vectors() -> Vec<serde_json::Value> {
        include_str!("../../../tests/fixtures/cognito/srp_vectors.jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn the_group_is_rfc_3526s_3072_bit_one() {
        let g = group();
        assert_eq!(g.n.bits(), 3072);
        assert_eq!(g.g, BigUint::from(2u32));
        // k = H(00 || N || 02), as pycognito's `hex_hash("00" + N_HEX + "0" + G_HEX)`.
        let mut bytes = vec![0u8];
        bytes.extend(g.n.to_bytes_be());
        bytes.push(2);
        assert_eq!(g.k, BigUint::from_bytes_be(&sha256(&[&bytes])));
    }

    #[test]
    fn password_claims_match_pycognito() {
        let mut n = 0;
        for v in vectors().iter().filter(|v| v.get("signature").is_some()) {
            let s = |k: &str| v[k].as_str().unwrap();
            let srp = Srp::with_a(BigUint::parse_bytes(s("a").as_bytes(), 16).unwrap()).unwrap();
            assert_eq!(srp.big_a_hex(), s("big_a"), "A");
            let pool_name = s("pool_id").split_once('_').unwrap().1;
            let key = srp
                .key(pool_name, s("user_id"), s("password"), s("b"), s("salt"))
                .unwrap();
            assert_eq!(hex(&key), s("key"), "HKDF key");
            let sig = srp
                .password_claim(
                    s("pool_id"),
                    s("user_id"),
                    s("password"),
                    s("b"),
                    s("salt"),
                    s("secret_block"),
                    s("timestamp"),
                )
                .unwrap();
            assert_eq!(sig, s("signature"));
            n += 1;
        }
        assert!(n >= 10, "{n} vectors");
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn timestamps_and_secret_hashes_match_pycognito() {
        for v in vectors() {
            if let Some(t) = v.get("timestamp_of") {
                let at = SystemTime::UNIX_EPOCH + Duration::from_secs(t.as_u64().unwrap());
                assert_eq!(timestamp(at), v["timestamp"].as_str().unwrap());
            }
            if let Some(args) = v.get("secret_hash") {
                let a = |i: usize| args[i].as_str().unwrap();
                assert_eq!(secret_hash(a(0), a(1), a(2)), v["hash"].as_str().unwrap());
            }
        }
        // Before 1970: the epoch, never a panic.
        assert_eq!(
            timestamp(SystemTime::UNIX_EPOCH - Duration::from_secs(5)),
            "Thu Jan 1 00:00:00 UTC 1970"
        );
    }

    #[test]
    fn bad_server_values_are_errors_not_panics() {
        let srp = Srp::new().unwrap();
        let n_hex = group().n.to_str_radix(16);
        for (b, salt, block) in [
            ("", "ab", "AA=="),
            ("zz", "ab", "AA=="),
            ("0", "ab", "AA=="),
            (n_hex.as_str(), "ab", "AA=="),
            ("ab", "", "AA=="),
            ("ab", "ab", "a"),
            (&"f".repeat(100_000), "ab", "AA=="),
            ("ab", &"1".repeat(5000), "AA=="),
        ] {
            assert!(srp
                .password_claim("us-east-1_x", "u", "p", b, salt, block, "t")
                .is_err());
        }
        // A pool id without `_` and a B larger than N still give a claim.
        assert!(srp
            .password_claim(
                "nounderscore",
                "u",
                "p",
                &"f".repeat(800),
                "ab",
                "AA==",
                "t"
            )
            .is_ok());
        assert_eq!(format!("{srp:?}"), "Srp(<redacted>)");
        // Opaque text as a secret block (moto sends a UUID) is read as pycognito reads it:
        // its signature, computed by pycognito for these values.
        let a = Srp::with_a(BigUint::from(0x1234u32)).unwrap();
        let sig = a
            .password_claim(
                "us-east-1_x",
                "u",
                "p",
                "abcd",
                "12",
                "1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d",
                "t",
            )
            .unwrap();
        assert_eq!(sig, "ZgG0wkJwaRh/xaTajNgMRL/HhBofZ3SiTqdjXma0qsc=");
    }
}
