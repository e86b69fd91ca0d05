//! Tokens the server mints for its own Cognito user pool and OIDC issuer: [`TokenSpec`].

use serde_json::{json, Value};

use crate::auth::{OidcIssuer, UserPool};

/// Who signs a token.
#[derive(Debug, Clone, Copy)]
enum Issuer<'a> {
    UserPool(&'a UserPool),
    Oidc(&'a OidcIssuer),
}

/// The claims of a token to mint; finish with [`TokenSpec::mint`].
#[derive(Debug, Clone)]
#[must_use]
pub struct TokenSpec<'a> {
    issuer: Issuer<'a>,
    subject: String,
    groups: Vec<String>,
    token_use: &'static str,
    expires_in: i64,
    extra: Value,
}

impl<'a> TokenSpec<'a> {
    /// An access token of the user pool for `username`.
    pub(crate) fn user_pool(pool: &'a UserPool, username: &str) -> Self {
        TokenSpec::new(Issuer::UserPool(pool), username)
    }

    /// A token of the OIDC issuer for `subject`.
    pub(crate) fn oidc(issuer: &'a OidcIssuer, subject: &str) -> Self {
        TokenSpec::new(Issuer::Oidc(issuer), subject)
    }

    fn new(issuer: Issuer<'a>, subject: &str) -> Self {
        TokenSpec {
            issuer,
            subject: subject.to_owned(),
            groups: Vec::new(),
            token_use: "access",
            expires_in: 3600,
            extra: Value::Null,
        }
    }

    /// `cognito:groups`.
    pub fn groups(mut self, groups: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// An ID token (`token_use: id`, `aud` = client) instead of an access token.
    pub fn id_token(mut self) -> Self {
        self.token_use = "id";
        self
    }

    /// Seconds until `exp` (negative for an expired token); default 3600.
    pub fn expires_in(mut self, seconds: i64) -> Self {
        self.expires_in = seconds;
        self
    }

    /// Extra claims, merged in.
    pub fn claims(mut self, claims: Value) -> Self {
        self.extra = claims;
        self
    }

    /// Signs the token.
    pub fn mint(self) -> String {
        let now = crate::dates::unix_now();
        let exp = now + self.expires_in;
        let (mut claims, key) = match self.issuer {
            Issuer::Oidc(o) => {
                let mut c = json!({"iss": o.issuer, "sub": self.subject, "iat": now, "exp": exp});
                if let Some(client) = &o.client_id {
                    c["aud"] = json!(client);
                }
                (c, &o.key)
            }
            Issuer::UserPool(up) => {
                let mut c = json!({
                    "iss": up.issuer, "sub": self.subject, "token_use": self.token_use,
                    "iat": now, "auth_time": now, "exp": exp,
                    "cognito:groups": self.groups,
                });
                if self.token_use == "id" {
                    c["aud"] = json!(up.client_id);
                    c["cognito:username"] = json!(self.subject);
                } else {
                    c["client_id"] = json!(up.client_id);
                    c["username"] = json!(self.subject);
                }
                (c, &up.key)
            }
        };
        if let (Some(obj), Value::Object(extra)) = (claims.as_object_mut(), self.extra) {
            obj.extend(extra);
        }
        key.mint(&claims)
    }
}
