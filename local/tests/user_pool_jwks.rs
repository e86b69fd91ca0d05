//! External user pools (`user_pool_jwks`, `user_pool_jwks_url`): tokens signed by a key the
//! test generates, whose JWKS the server trusts, checked as AppSync checks Cognito's (issuer
//! from the pool id's region, RS256 by `kid`, `exp`, the app client of access and ID tokens,
//! groups for `cognito_groups` rules); several pools beside the server's own; a JWKS fetched
//! from a URL at start; malformed key sets and tokens refused without a panic.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use appsync_local::{AuthMode, LocalAppSync, LocalAppSyncBuilder};

const POOL: &str = "eu-west-2_Ext1";
const CLIENT: &str = "web-client";
const OTHER_CLIENT: &str = "ios-client";

const SDL: &str = r#"
    type Query {
      whoami: String
      admins: String @aws_cognito_user_pools(cognito_groups: ["admins"])
    }
"#;

/// A pool's signing key, as Cognito holds it: an RSA key with a `kid`.
struct PoolKey {
    kid: String,
    pair: KeyPair,
}

impl PoolKey {
    fn new(kid: &str) -> PoolKey {
        PoolKey {
            kid: kid.to_owned(),
            pair: KeyPair::generate(KeySize::Rsa2048).unwrap(),
        }
    }

    /// The public key as a JWKS, as Cognito publishes it.
    fn jwks(&self) -> Value {
        let c: PublicKeyComponents<Vec<u8>> = self.pair.public_key().into();
        json!({"keys": [{
            "alg": "RS256", "e": URL_SAFE_NO_PAD.encode(&c.e), "kid": self.kid,
            "kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&c.n), "use": "sig",
        }]})
    }

    /// Signs `claims` under `header`.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn token(&self, claims: &Value) -> String {
        self.sign(&json!({"kid": self.kid, "alg": "RS256"}), claims)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn issuer(pool: &str) -> String {
    let region = pool.split('_').next().unwrap();
    format!("https://cognito-idp.{region}.amazonaws.com/{pool}")
}

/// Claims of an access token of `pool` for `username`, as Cognito's.
fn access(pool: &str, username: &str, groups: &[&str]) -> Value {
    let mut c = json!({
        "sub": format!("sub-{username}"), "iss": issuer(pool), "client_id": CLIENT,
        "origin_jti": "o", "event_id": "e", "token_use": "access",
        "scope": "aws.cognito.signin.user.admin", "auth_time": now(), "iat": now(),
        "exp": now() + 3600, "jti": "j", "username": username,
    });
    if !groups.is_empty() {
        c["cognito:groups"] = json!(groups);
    }
    c
}

/// Claims of an ID token of `pool` for `username`, as Cognito's.
fn id(pool: &str, username: &str, groups: &[&str]) -> Value {
    let mut c = json!({
        "sub": format!("sub-{username}"), "iss": issuer(pool), "aud": CLIENT,
        "email_verified": true, "token_use": "id", "auth_time": now(), "iat": now(),
        "exp": now() + 3600, "cognito:username": username, "email": "a@example.com",
    });
    if !groups.is_empty() {
        c["cognito:groups"] = json!(groups);
    }
    c
}

/// A server trusting `POOL` (by `key`), in user-pools mode only, whose `whoami` answers
/// `<token_use> <sub> <username> <groups>` from the identity.
async fn server(
    key: &PoolKey,
    more: impl FnOnce(LocalAppSyncBuilder) -> LocalAppSyncBuilder,
) -> LocalAppSync {
    let b = LocalAppSync::builder()
        .schema(SDL)
        .default_auth_mode(AuthMode::UserPools)
        .user_pool_jwks(POOL, [CLIENT, OTHER_CLIENT], key.jwks())
        .resolver("Query", "whoami", |r| async move {
            let i = r.identity;
            assert_eq!(i.mode, AuthMode::UserPools);
            let c = i.claims.unwrap();
            let username = c
                .get("cognito:username")
                .or(c.get("username"))
                .and_then(Value::as_str)
                .unwrap_or("-")
                .to_owned();
            Ok(json!(format!(
                "{} {} {} {}",
                c["token_use"].as_str().unwrap(),
                c["sub"].as_str().unwrap(),
                username,
                i.groups.join(",")
            )))
        })
        .resolver("Query", "admins", |_| async { Ok(json!("for admins")) });
    more(b).start().await.unwrap()
}

/// POSTs `query` with `token` in `Authorization`: the status and the body.
async fn call(local: &LocalAppSync, token: &str, query: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(local.graphql_url())
        .header("authorization", token)
        .header("content-type", "application/json")
        .body(json!({"query": query}).to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap(),
    )
}

async fn whoami(local: &LocalAppSync, token: &str) -> String {
    let (status, body) = call(local, token, "{ whoami }").await;
    assert_eq!(status, 200, "{body}");
    body["data"]["whoami"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// Expects a 401 whose message contains `expected`.
async fn refused(local: &LocalAppSync, token: &str, expected: &str) {
    let (status, body) = call(local, token, "{ whoami }").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        body["errors"][0]["errorType"], "UnauthorizedException",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(expected), "{expected:?} in {message:?}");
}

#[tokio::test]
async fn access_and_id_tokens_of_a_trusted_pool_are_accepted() {
    let key = PoolKey::new("key-1");
    let local = server(&key, |b| b).await;
    let a = key.token(&access(POOL, "alice", &[]));
    assert_eq!(whoami(&local, &a).await, "access sub-alice alice ");
    assert_eq!(
        whoami(&local, &format!("Bearer {a}")).await,
        "access sub-alice alice "
    );
    let i = key.token(&id(POOL, "alice", &["admins", "staff"]));
    assert_eq!(whoami(&local, &i).await, "id sub-alice alice admins,staff");
    // Either app client.
    let mut c = access(POOL, "bob", &[]);
    c["client_id"] = json!(OTHER_CLIENT);
    assert_eq!(whoami(&local, &key.token(&c)).await, "access sub-bob bob ");
    let mut c = id(POOL, "bob", &[]);
    c["aud"] = json!(OTHER_CLIENT);
    assert_eq!(whoami(&local, &key.token(&c)).await, "id sub-bob bob ");
    // The config files name the pool and its region.
    let outputs = local.amplify_outputs();
    assert_eq!(
        outputs["auth"],
        json!({"aws_region": "eu-west-2", "user_pool_id": POOL, "user_pool_client_id": CLIENT})
    );
}

#[tokio::test]
async fn wrong_kid_issuer_expiry_and_client_are_refused() {
    let key = PoolKey::new("key-1");
    let local = server(&key, |b| b).await;
    // A kid the JWKS does not have, and the right kid on another key.
    let stranger = PoolKey::new("key-2");
    refused(&local, &stranger.token(&access(POOL, "a", &[])), "kid").await;
    let impostor = PoolKey::new("key-1");
    refused(
        &local,
        &impostor.token(&access(POOL, "a", &[])),
        "signature",
    )
    .await;
    // Issuers: another pool, the pool in another region, not https.
    let mut c = access(POOL, "a", &[]);
    c["iss"] = json!(issuer("eu-west-2_Other"));
    refused(&local, &key.token(&c), "issuer").await;
    c["iss"] = json!(format!(
        "https://cognito-idp.us-east-1.amazonaws.com/{POOL}"
    ));
    refused(&local, &key.token(&c), "issuer").await;
    c["iss"] = json!(format!("http://cognito-idp.eu-west-2.amazonaws.com/{POOL}"));
    let (status, _) = call(&local, &key.token(&c), "{ whoami }").await;
    assert_eq!(status, 401);
    // Expired, and no exp at all.
    for token_claims in [access(POOL, "a", &[]), id(POOL, "a", &[])] {
        let mut c = token_claims.clone();
        c["exp"] = json!(now() - 5);
        refused(&local, &key.token(&c), "expired").await;
        c.as_object_mut().unwrap().remove("exp");
        refused(&local, &key.token(&c), "Unable to parse").await;
    }
    // Another app client: an access token's client_id, an ID token's aud; and an access token
    // that names the client only in aud (AppSync reads client_id for access tokens).
    let mut c = access(POOL, "a", &[]);
    c["client_id"] = json!("someone-else");
    refused(&local, &key.token(&c), "client").await;
    c.as_object_mut().unwrap().remove("client_id");
    c["aud"] = json!(CLIENT);
    refused(&local, &key.token(&c), "client").await;
    let mut c = id(POOL, "a", &[]);
    c["aud"] = json!("someone-else");
    refused(&local, &key.token(&c), "client").await;
    c["aud"] = json!(null);
    c["client_id"] = json!(CLIENT);
    refused(&local, &key.token(&c), "client").await;
    // token_use neither access nor id.
    let mut c = access(POOL, "a", &[]);
    c["token_use"] = json!("refresh");
    refused(&local, &key.token(&c), "Token use").await;
}

#[tokio::test]
async fn only_rs256_by_kid_is_accepted_and_junk_is_refused() {
    let key = PoolKey::new("key-1");
    let local = server(&key, |b| b).await;
    let claims = access(POOL, "a", &[]);
    for alg in ["none", "HS256", "RS512", "PS256"] {
        let t = key.sign(&json!({"kid": "key-1", "alg": alg}), &claims);
        refused(&local, &t, "RS256").await;
    }
    // alg none with no signature at all.
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    refused(&local, &unsigned, "RS256").await;
    refused(&local, &key.sign(&json!({"alg": "RS256"}), &claims), "kid").await;
    // Claims that route to the pool but a header or signature that is junk.
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    for token in [
        format!("x.{body}.y"),
        format!(
            "{}.{body}.%%%",
            URL_SAFE_NO_PAD.encode("{\"alg\":\"RS256\",\"kid\":\"key-1\"}")
        ),
        format!("{}.{body}.", URL_SAFE_NO_PAD.encode("[]")),
        format!(
            "{}.{body}.{}",
            URL_SAFE_NO_PAD.encode("{\"alg\":\"RS256\",\"kid\":\"key-1\"}"),
            "A".repeat(20_000)
        ),
    ] {
        let (status, body) = call(&local, &token, "{ whoami }").await;
        assert_eq!(status, 401, "{body}");
    }
    // The server is still up.
    assert_eq!(whoami(&local, &key.token(&claims)).await, "access sub-a a ");
}

#[tokio::test]
async fn groups_of_a_trusted_pool_reach_cognito_groups_rules() {
    let key = PoolKey::new("key-1");
    let local = server(&key, |b| b).await;
    for claims in [
        access(POOL, "root", &["admins"]),
        id(POOL, "root", &["users", "admins"]),
    ] {
        let (status, body) = call(&local, &key.token(&claims), "{ admins }").await;
        assert_eq!(
            (status, &body),
            (200, &json!({"data": {"admins": "for admins"}}))
        );
    }
    for claims in [access(POOL, "ann", &[]), id(POOL, "ann", &["users"])] {
        let (status, body) = call(&local, &key.token(&claims), "{ admins }").await;
        assert_eq!(status, 200);
        assert_eq!(body["data"]["admins"], Value::Null, "{body}");
        assert_eq!(body["errors"][0]["errorType"], "Unauthorized", "{body}");
    }
}

#[tokio::test]
async fn several_pools_are_trusted_beside_the_servers_own() {
    let (k1, k2) = (PoolKey::new("key-1"), PoolKey::new("key-2"));
    const POOL2: &str = "ap-southeast-2_Second";
    let local = server(&k1, |b| {
        b.user_pool_jwks(POOL2, ["second-client"], k2.jwks())
            .user_pool("us-east-1_local", CLIENT)
    })
    .await;
    assert_eq!(
        whoami(&local, &k1.token(&access(POOL, "one", &[]))).await,
        "access sub-one one "
    );
    let mut c = id(POOL2, "two", &["g"]);
    c["aud"] = json!("second-client");
    assert_eq!(whoami(&local, &k2.token(&c)).await, "id sub-two two g");
    // Each pool its own clients and keys.
    refused(&local, &k2.token(&access(POOL2, "two", &[])), "client").await;
    refused(&local, &k1.token(&c), "kid").await;
    // The server's own pool still mints and accepts its tokens.
    let own = local.user_pool_token("me").groups(["admins"]).mint();
    assert_eq!(whoami(&local, &own).await, "access me me admins");
    // A Cognito issuer of no configured pool.
    let mut c = access(POOL, "a", &[]);
    c["iss"] = json!(issuer("us-west-2_Nobody"));
    refused(&local, &k1.token(&c), "issuer").await;
}

#[tokio::test]
async fn a_jwks_url_is_fetched_at_start() {
    // One local AppSync serves its own pool's JWKS; another trusts that pool by URL.
    let issuer_server = LocalAppSync::builder()
        .schema(SDL)
        .default_auth_mode(AuthMode::UserPools)
        .user_pool("us-east-1_Issuer", CLIENT)
        .start()
        .await
        .unwrap();
    let jwks_url = |pool: &str| {
        format!(
            "http://{}/{pool}/.well-known/jwks.json",
            issuer_server.addr()
        )
    };
    let local = LocalAppSync::builder()
        .schema(SDL)
        .default_auth_mode(AuthMode::UserPools)
        .user_pool_jwks_url("us-east-1_Issuer", [CLIENT], jwks_url("us-east-1_Issuer"))
        .resolver("Query", "whoami", |r| async move {
            Ok(json!(r.identity.claims.unwrap()["username"]))
        })
        .resolver("Query", "admins", |_| async { Ok(json!("for admins")) })
        .start()
        .await
        .unwrap();
    let token = issuer_server.user_pool_token("carol").mint();
    assert_eq!(whoami(&local, &token).await, "carol");
    let id_token = issuer_server
        .user_pool_token("carol")
        .id_token()
        .groups(["admins"])
        .mint();
    let (status, body) = call(&local, &id_token, "{ admins }").await;
    assert_eq!(
        (status, &body),
        (200, &json!({"data": {"admins": "for admins"}}))
    );

    // A URL without a key set, and one where nothing listens: start() says so for each.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let e = LocalAppSync::builder()
        .schema(SDL)
        .default_auth_mode(AuthMode::UserPools)
        .user_pool_jwks_url("us-east-1_Issuer", [CLIENT], jwks_url("us-east-1_Missing"))
        .user_pool_jwks_url("us-east-1_Two", [CLIENT], format!("http://{closed}/x"))
        .user_pool_jwks_url(
            "us-east-1_Three",
            [CLIENT],
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Three/.well-known/jwks.json",
        )
        .user_pool_jwks_url(
            "us-east-1_Four",
            [CLIENT],
            "http://cognito-idp.us-east-1.amazonaws.com/us-east-1_Four/.well-known/jwks.json",
        )
        .user_pool_jwks_url(
            "us-east-1_Five",
            [CLIENT],
            format!("http://admin:s3cret@{}/x", issuer_server.addr()),
        )
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("HTTP 404"), "{e}");
    assert!(
        e.contains("us-east-1_Two") && e.contains("cannot connect"),
        "{e}"
    );
    assert!(e.contains("https:// is not fetched"), "{e}");
    assert!(
        e.contains("us-east-1_Four") && e.contains("not a loopback host"),
        "{e}"
    );
    assert!(
        e.contains("us-east-1_Five") && e.contains("user info"),
        "{e}"
    );
    assert!(!e.contains("s3cret"), "{e}");
}

#[tokio::test]
async fn bad_settings_are_reported_by_start_without_a_panic() {
    let key = PoolKey::new("key-1");
    let mut absurd = key.jwks();
    absurd["keys"][0]["n"] = json!(URL_SAFE_NO_PAD.encode(vec![0xC7u8; 4096]));
    let mut small = key.jwks();
    small["keys"][0]["n"] = json!(URL_SAFE_NO_PAD.encode(vec![0xC7u8; 64]));
    let e = LocalAppSync::builder()
        .schema(SDL)
        .default_auth_mode(AuthMode::UserPools)
        .user_pool("us-east-1_local", CLIENT)
        .user_pool_jwks("us-east-1_local", [CLIENT], key.jwks())
        .user_pool_jwks("no-underscore", [CLIENT], key.jwks())
        .user_pool_jwks("US-EAST-1_x", [CLIENT], key.jwks())
        .user_pool_jwks("us-east-1_NoClients", Vec::<String>::new(), key.jwks())
        .user_pool_jwks("us-east-1_EmptyClient", [""], key.jwks())
        .user_pool_jwks("us-east-1_NotJwks", [CLIENT], json!("keys"))
        .user_pool_jwks("us-east-1_Absurd", [CLIENT], absurd)
        .user_pool_jwks("us-east-1_Small", [CLIENT], small)
        .user_pool_jwks("us-east-1_Twice", [CLIENT], key.jwks())
        .user_pool_jwks("us-east-1_Twice", [CLIENT], key.jwks())
        .start()
        .await
        .unwrap_err()
        .to_string();
    for expected in [
        "user_pool_jwks(\"us-east-1_local\"): this pool is configured twice",
        "user_pool_jwks(\"no-underscore\"): not a user pool id",
        "user_pool_jwks(\"US-EAST-1_x\"): not a user pool id",
        "user_pool_jwks(\"us-east-1_NoClients\"): give the app client ids",
        "user_pool_jwks(\"us-east-1_EmptyClient\"): give the app client ids",
        "user_pool_jwks(\"us-east-1_NotJwks\"): not a JWKS",
        "user_pool_jwks(\"us-east-1_Absurd\"): RSA key \"key-1\" of the JWKS: \"n\" is too long",
        "user_pool_jwks(\"us-east-1_Small\"): RSA key \"key-1\" of the JWKS: a 512-bit modulus",
        "user_pool_jwks(\"us-east-1_Twice\"): this pool is configured twice",
    ] {
        assert!(e.contains(expected), "{expected:?} in:\n{e}");
    }
    // A trusted pool alone is enough for user-pools mode.
    let ok = LocalAppSync::builder()
        .schema(SDL)
        .default_auth_mode(AuthMode::UserPools)
        .user_pool_jwks(POOL, [CLIENT], key.jwks())
        .start()
        .await;
    assert!(ok.is_ok());
    let e = LocalAppSync::builder()
        .schema(SDL)
        .default_auth_mode(AuthMode::UserPools)
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(".user_pool_jwks(..)"), "{e}");
}

#[tokio::test]
async fn an_oidc_issuer_at_a_cognito_address_is_still_reached_beside_trusted_pools() {
    // AppSync's OIDC mode may name a Cognito pool as its issuer: a token of that issuer goes
    // to OIDC, not to "issuer is not valid" because it is not one of the user pools.
    let key = PoolKey::new("key-1");
    let oidc_issuer = issuer("us-east-1_OidcPool");
    let local = LocalAppSync::builder()
        .schema("type Query @aws_cognito_user_pools @aws_oidc { whoami: String }")
        .default_auth_mode(AuthMode::UserPools)
        .additional_auth_modes([AuthMode::Oidc])
        .user_pool_jwks(POOL, [CLIENT], key.jwks())
        .oidc_issuer(oidc_issuer.clone(), None)
        .resolver("Query", "whoami", |r| async move {
            Ok(json!(format!(
                "{} {}",
                r.identity.mode.as_str(),
                r.identity.claims.unwrap()["sub"].as_str().unwrap()
            )))
        })
        .start()
        .await
        .unwrap();
    let token = local.oidc_token("olga").mint();
    assert_eq!(whoami(&local, &token).await, "OPENID_CONNECT olga");
    assert_eq!(
        whoami(&local, &key.token(&access(POOL, "a", &[]))).await,
        "AMAZON_COGNITO_USER_POOLS sub-a"
    );
    let mut c = access(POOL, "a", &[]);
    c["iss"] = json!(issuer("us-east-1_Neither"));
    refused(&local, &key.token(&c), "issuer").await;
}
