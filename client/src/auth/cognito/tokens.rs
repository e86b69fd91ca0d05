//! A signed-in user's tokens (access, ID, refresh) as Cognito's `AuthenticationResult` gives
//! them, with their expiry and the claims the session needs (username, issuer).

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// `AuthenticationResult` as sent; every field checked before use.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AuthenticationResult {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<f64>,
}

impl fmt::Debug for AuthenticationResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticationResult")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// The tokens of a signed-in user.
#[derive(Clone)]
pub(crate) struct Tokens {
    pub access: Secret,
    pub id: Secret,
    pub refresh: Option<Secret>,
    /// When the access token expires (the earlier of `ExpiresIn` and its `exp`).
    pub access_expires_at: SystemTime,
    /// When the ID token expires (its `exp`, else the access token's expiry).
    pub id_expires_at: SystemTime,
    /// When these tokens were obtained.
    pub obtained_at: SystemTime,
    /// The user's name in the pool (the access token's `username`, else the ID token's
    /// `cognito:username`, else the name signed in with): what `SECRET_HASH` is computed over.
    pub username: String,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("username", &self.username)
            .field("access_expires_at", &self.access_expires_at)
            .field("has_refresh_token", &self.refresh.is_some())
            .finish_non_exhaustive()
    }
}

/// A JWT's claims, read without verifying (the server verifies; the client needs the expiry
/// and names). `None` when it is not a JWT with an object payload.
pub(crate) fn claims(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut parts = token.split('.');
    let (_h, payload, _s) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `exp` as a time, if it is a sane number.
fn exp_of(claims: &serde_json::Map<String, serde_json::Value>) -> Option<SystemTime> {
    let exp = claims.get("exp")?.as_f64()?;
    if !(exp.is_finite() && exp >= 0.0) {
        return None;
    }
    SystemTime::UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(exp).ok()?)
}

impl Tokens {
    /// The tokens of an answer; `previous` supplies what a refresh answer leaves out (the
    /// refresh token, the username).
    pub(crate) fn from_result(
        result: AuthenticationResult,
        previous_refresh: Option<Secret>,
        fallback_username: &str,
        now: SystemTime,
    ) -> Result<Tokens> {
        let missing = |what: &str| {
            Error::auth(format!(
                "Cognito's AuthenticationResult has no {what}: the answer cannot be used"
            ))
        };
        let access = result
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| missing("AccessToken"))?;
        let id = result
            .id_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| missing("IdToken"))?;
        let access_claims = claims(&access).unwrap_or_default();
        let id_claims = claims(&id).unwrap_or_default();
        // `ExpiresIn` (seconds), bounded to a day so that an absurd value cannot keep a token
        // forever; the JWT's `exp` wins when earlier.
        let by_expires_in = result
            .expires_in
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| now + Duration::from_secs_f64(s.min(86_400.0)));
        let by_exp = exp_of(&access_claims);
        let access_expires_at = match (by_expires_in, by_exp) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => now + Duration::from_secs(300),
        };
        let id_expires_at = exp_of(&id_claims).unwrap_or(access_expires_at);
        let username = access_claims
            .get("username")
            .and_then(|v| v.as_str())
            .or_else(|| id_claims.get("cognito:username").and_then(|v| v.as_str()))
            .unwrap_or(fallback_username)
            .to_owned();
        Ok(Tokens {
            access: access.into(),
            id: id.into(),
            refresh: result
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(Secret::from)
                .or(previous_refresh),
            access_expires_at,
            id_expires_at,
            obtained_at: now,
            username,
        })
    }

    /// The earlier of the two expiries.
    pub(crate) fn expires_at(&self) -> SystemTime {
        self.access_expires_at.min(self.id_expires_at)
    }

    /// Whether a refresh is due: within `min(2 min, half the lifetime)` of expiry, or asked for
    /// (`force`, after a refusal) and these tokens are not brand new (a refusal of tokens just
    /// obtained is not cured by more of the same).
    pub(crate) fn needs_refresh(&self, force: bool, now: SystemTime) -> bool {
        let exp = self.expires_at();
        let life = exp.duration_since(self.obtained_at).unwrap_or_default();
        let margin = Duration::from_secs(120).min(life / 2);
        let due = exp.checked_sub(margin).is_none_or(|t| now >= t);
        let age = now.duration_since(self.obtained_at).unwrap_or_default();
        due || (force && age > Duration::from_secs(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        let b = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!("{}.{}.sig", b(r#"{"alg":"none"}"#), b(&claims.to_string()))
    }

    #[test]
    fn answers_become_tokens_and_odd_values_do_not_panic() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let r = AuthenticationResult {
            access_token: Some(jwt(
                serde_json::json!({"exp": 1_003_600, "username": "alice"}),
            )),
            id_token: Some(jwt(
                serde_json::json!({"exp": 1_003_600, "cognito:username": "x"}),
            )),
            refresh_token: Some("r".into()),
            expires_in: Some(3600.0),
        };
        let t = Tokens::from_result(r, None, "fallback", now).unwrap();
        assert_eq!(t.username, "alice");
        assert_eq!(t.expires_at(), now + Duration::from_secs(3600));
        assert!(!t.needs_refresh(false, now));
        assert!(!t.needs_refresh(true, now + Duration::from_secs(5)));
        assert!(t.needs_refresh(true, now + Duration::from_secs(11)));
        assert!(t.needs_refresh(false, now + Duration::from_secs(3481)));
        for (exp, expires_in) in [
            (serde_json::json!(1e300), Some(1e300)),
            (serde_json::json!(-5), Some(-1.0)),
            (serde_json::json!("soon"), Some(f64::NAN)),
            (serde_json::json!(null), None),
        ] {
            let r = AuthenticationResult {
                access_token: Some(jwt(serde_json::json!({ "exp": exp }))),
                id_token: Some("not a jwt".into()),
                refresh_token: None,
                expires_in,
            };
            let t = Tokens::from_result(r, Some("old".into()), "bob", now).unwrap();
            assert_eq!(t.username, "bob");
            assert_eq!(t.refresh.as_ref().unwrap().expose(), "old");
            let _ = t.needs_refresh(true, now);
        }
        let e = Tokens::from_result(AuthenticationResult::default(), None, "u", now).unwrap_err();
        assert!(e.to_string().contains("no AccessToken"), "{e}");
    }
}
