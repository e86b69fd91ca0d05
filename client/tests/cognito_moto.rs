//! The `cognito` feature against moto (PyPI `moto[server]`, started per test on 127.0.0.1):
//! user pools created with moto's admin APIs (pool, app clients with and without a secret,
//! users, groups), sign-in with SRP and with the password, challenges (new password, SMS MFA),
//! refresh, sign-out and global sign-out, a restored session; identity-pool credentials for the
//! guest before sign-in and for the user after, with the identity id kept. And the SRP math
//! against pycognito, live, on fresh random cases.
//!
//! What moto checks and what it does not: it checks passwords (`USER_PASSWORD_AUTH`), the
//! `SECRET_HASH` of `InitiateAuth` (both flows) and of `REFRESH_TOKEN_AUTH`, refresh tokens
//! (revoked by `GlobalSignOut`), and the shape of SRP's `PASSWORD_VERIFIER` answer, but not
//! the SRP signature itself (its `SRP_B` is a random value, not a real server's): the SRP math
//! is proved against pycognito instead. Identity pools: it hands out the same fixed
//! credentials for guests and users and does not check `Logins`; `cognito_identity.rs` tells
//! the roles apart with a loopback fake.
#![cfg(feature = "cognito")]

use std::sync::Arc;

use appsync_client::auth::cognito::{
    CognitoError, IdentityPoolCredentials, MemorySessionStore, SessionStore, SignInFlow,
    SignInOutcome, UserPoolSession,
};
use appsync_client::config::{AuthConfig, IdentityPoolConfig, UserPoolConfig};
use appsync_client::{Config, TokenKind};
use aws_credential_types::provider::ProvideCredentials;
use base64::Engine;
use serde_json::{json, Value};

mod support;
use support::moto::{Moto, REGION};

const PASSWORD: &str = "Correct-h0rse-battery";

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("JSON claims")
}

fn session(moto: &Moto, pool: &str, client: &str, secret: Option<&str>) -> UserPoolSession {
    let mut b = UserPoolSession::builder()
        .pool_id(pool)
        .client_id(client)
        .endpoint(moto.url());
    if let Some(s) = secret {
        b = b.client_secret(s);
    }
    b.build().expect("session")
}

/// Every message of an error's source chain.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

fn is_permanent(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if c.is::<appsync_client::PermanentError>() {
            return true;
        }
        cur = c.source();
    }
    false
}

/// SRP sign-in (client without a secret), the tokens' claims (groups in the ID token, the
/// issuer built from the pool), a refresh, and sign-out.
#[tokio::test]
async fn srp_sign_in_refresh_and_sign_out() {
    let moto = Moto::start();
    let pool = moto.user_pool("srp").await;
    let (client, _) = moto.app_client(&pool, false).await;
    moto.user(&pool, "alice", PASSWORD).await;
    moto.group_with(&pool, "admins", "alice").await;

    // Built from the configuration's auth section, as an app would.
    let config = Config::builder()
        .user_pool(UserPoolConfig::new(&pool, Some(client.clone()), None).endpoint(moto.url()))
        .build()
        .unwrap();
    let s = UserPoolSession::from_config(config.auth()).unwrap();
    assert_eq!(s.region(), REGION);
    let changes = s.notifier().clone();
    assert!(!s.is_signed_in());
    let e = s.token(TokenKind::Access).await.unwrap_err();
    assert!(is_permanent(&*e), "{e}");

    let out = s.sign_in("alice", PASSWORD).await.unwrap();
    assert!(matches!(out, SignInOutcome::SignedIn), "{out:?}");
    assert!(s.is_signed_in());
    assert_eq!(s.username().as_deref(), Some("alice"));
    let access = s.token(TokenKind::Access).await.unwrap();
    let id = s.token(TokenKind::Id).await.unwrap();
    let (a, i) = (claims(access.expose()), claims(id.expose()));
    assert_eq!(a["token_use"], "access");
    assert_eq!(a["client_id"], client.as_str());
    assert_eq!(i["token_use"], "id");
    assert_eq!(i["aud"], client.as_str());
    assert_eq!(i["cognito:groups"], json!(["admins"]));
    assert_eq!(
        i["iss"].as_str().unwrap().strip_prefix("https://").unwrap(),
        s.logins_key(),
        "the Logins key is the ID token's issuer without the scheme"
    );
    assert_eq!(
        s.logins_key(),
        format!("cognito-idp.{REGION}.amazonaws.com/{pool}")
    );

    s.refresh().await.unwrap();
    let again = s.token(TokenKind::Access).await.unwrap();
    assert_ne!(
        again.expose(),
        access.expose(),
        "a refresh gives new tokens"
    );

    s.sign_out().await;
    assert!(!s.is_signed_in());
    let e = s.token(TokenKind::Id).await.unwrap_err();
    assert!(is_permanent(&*e), "{e}");
    // The notifier was told of the sign-in and the sign-out.
    assert!(format!("{changes:?}").contains("changes: 2"), "{changes:?}");

    // A wrong password: moto's NotAuthorizedException, with the password nowhere in the error.
    let e = s
        .sign_in_with(SignInFlow::UserPassword, "alice", "Wrong-passw0rd")
        .await
        .unwrap_err();
    let c = CognitoError::find(&e).expect("the Cognito answer");
    assert!(c.is("NotAuthorizedException"), "{c}");
    assert!(!format!("{e} {e:?}").contains("Wrong-passw0rd"));
}

/// App clients with a secret: SECRET_HASH on InitiateAuth (SRP and password) and on refresh;
/// a wrong secret is refused.
#[tokio::test]
async fn app_clients_with_a_secret() {
    let moto = Moto::start();
    let pool = moto.user_pool("secret").await;
    let (client, secret) = moto.app_client(&pool, true).await;
    let secret = secret.expect("moto generated a secret");
    moto.user(&pool, "bob", PASSWORD).await;

    for flow in [SignInFlow::UserSrp, SignInFlow::UserPassword] {
        let s = session(&moto, &pool, &client, Some(&secret));
        let out = s.sign_in_with(flow, "bob", PASSWORD).await.unwrap();
        assert!(matches!(out, SignInOutcome::SignedIn), "{flow:?}: {out:?}");
        s.refresh().await.unwrap();
        assert!(s.token(TokenKind::Id).await.is_ok());
    }
    let wrong = session(&moto, &pool, &client, Some("not-the-secret"));
    let e = wrong.sign_in("bob", PASSWORD).await.unwrap_err();
    assert!(
        CognitoError::find(&e).unwrap().is("NotAuthorizedException"),
        "{e}"
    );
    assert!(!format!("{e:?}").contains("not-the-secret"));
    // Without the secret (moto checks SECRET_HASH on SRP, not on USER_PASSWORD_AUTH).
    let none = session(&moto, &pool, &client, None);
    assert!(none.sign_in("bob", PASSWORD).await.is_err());
}

/// A user created with a temporary password gets NEW_PASSWORD_REQUIRED (after SRP), answered
/// with a new password; a user with SMS MFA gets SMS_MFA, answered with the code.
#[tokio::test]
async fn challenges_are_typed_and_answered() {
    let moto = Moto::start();
    let pool = moto.user_pool("challenges").await;
    let (client, secret) = moto.app_client(&pool, true).await;
    moto.idp(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "carol", "TemporaryPassword": "Temp-passw0rd!",
               "MessageAction": "SUPPRESS"}),
    )
    .await;
    let s = session(&moto, &pool, &client, secret.as_deref());
    let c = match s.sign_in("carol", "Temp-passw0rd!").await.unwrap() {
        SignInOutcome::NewPasswordRequired(c) => c,
        other => panic!("{other:?}"),
    };
    assert_eq!(c.name(), "NEW_PASSWORD_REQUIRED");
    assert_eq!(c.username(), "carol");
    assert!(!format!("{c:?}").contains("Temp-passw0rd"));
    let out = s
        .complete_new_password(c, "New-passw0rd!", [])
        .await
        .unwrap();
    assert!(matches!(out, SignInOutcome::SignedIn), "{out:?}");
    s.sign_out().await;
    assert!(matches!(
        s.sign_in("carol", "New-passw0rd!").await.unwrap(),
        SignInOutcome::SignedIn
    ));

    moto.user(&pool, "dave", PASSWORD).await;
    moto.idp(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "dave",
               "UserAttributes": [{"Name": "phone_number", "Value": "+15555550100"}]}),
    )
    .await;
    moto.idp(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "dave",
               "SMSMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    )
    .await;
    let s = session(&moto, &pool, &client, secret.as_deref());
    let c = match s
        .sign_in_with(SignInFlow::UserPassword, "dave", PASSWORD)
        .await
        .unwrap()
    {
        SignInOutcome::SmsMfa(c) => c,
        other => panic!("{other:?}"),
    };
    assert!(!s.is_signed_in());
    let out = s.confirm_mfa(c, "123456").await.unwrap();
    assert!(matches!(out, SignInOutcome::SignedIn), "{out:?}");
    assert!(s.is_signed_in());
}

/// The refresh token kept in a store signs the user back in after a "restart"; a global
/// sign-out revokes it at moto, and a later restore finds it refused and forgets it.
#[tokio::test]
async fn a_stored_session_is_restored_until_signed_out_globally() {
    let moto = Moto::start();
    let pool = moto.user_pool("store").await;
    let (client, secret) = moto.app_client(&pool, true).await;
    moto.user(&pool, "erin", PASSWORD).await;
    let store: Arc<dyn SessionStore> = Arc::new(MemorySessionStore::new());
    let make = || {
        UserPoolSession::builder()
            .pool_id(&pool)
            .client_id(&client)
            .client_secret(secret.clone().unwrap())
            .endpoint(moto.url())
            .shared_store(store.clone())
            .build()
            .unwrap()
    };
    let first = make();
    first.sign_in("erin", PASSWORD).await.unwrap();
    let key = format!("cognito-idp/{pool}/{client}/refresh_token");
    assert!(store.load(&key).await.unwrap().is_some());

    let second = make();
    assert!(
        second.restore().await.unwrap(),
        "restored from the stored refresh token"
    );
    assert_eq!(second.username().as_deref(), Some("erin"));
    assert!(second.token(TokenKind::Access).await.is_ok());

    second.sign_out_global().await.unwrap();
    assert!(
        store.load(&key).await.unwrap().is_none(),
        "sign-out clears the store"
    );
    // The first session still holds the revoked refresh token: its refresh is refused, and
    // it is signed out (a permanent error).
    let e = first.refresh().await.unwrap_err();
    assert!(is_permanent(&e), "{e}");
    assert!(!first.is_signed_in());
    let third = make();
    assert!(!third.restore().await.unwrap());
}

/// Guest credentials before sign-in, signed-in credentials after, the identity id kept across
/// calls and across sign-in (moto echoes the id it is given), a new guest identity after
/// sign-out; no guests: a permanent error.
#[tokio::test]
async fn identity_pool_guest_then_signed_in() {
    let moto = Moto::start();
    let pool = moto.user_pool("ids").await;
    let (client, _) = moto.app_client(&pool, false).await;
    moto.user(&pool, "frank", PASSWORD).await;
    let ids = moto.identity_pool(&pool, &client, true).await;

    let session = session(&moto, &pool, &client, None);
    let auth = {
        let mut a = AuthConfig::default();
        a.identity_pool = Some(IdentityPoolConfig::new(&ids, true).endpoint(moto.url()));
        a
    };
    let creds = IdentityPoolCredentials::from_config(&auth, Some(&session)).unwrap();
    assert_eq!(creds.identity_id(), None);
    let guest = creds.provide_credentials().await.unwrap();
    assert_eq!(guest.access_key_id(), "TESTACCESSKEY12345");
    assert_eq!(
        guest.secret_access_key(),
        "ABCSECRETKEY",
        "read from SecretKey"
    );
    assert_eq!(guest.session_token(), Some("ABC12345"));
    let exp = guest.expiry().expect("Expiration");
    let left = exp.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(left.as_secs() > 30 && left.as_secs() <= 90, "{left:?}");
    let guest_id = creds.identity_id().expect("an identity id");
    assert!(guest_id.starts_with("us-east-1:"), "{guest_id}");
    assert!(!creds.is_signed_in_identity());
    // Kept across calls (moto would give a new one on every GetId).
    creds.provide_credentials().await.unwrap();
    assert_eq!(creds.identity_id().as_deref(), Some(guest_id.as_str()));

    session.sign_in("frank", PASSWORD).await.unwrap();
    creds.provide_credentials().await.unwrap();
    assert!(creds.is_signed_in_identity());
    assert_eq!(
        creds.identity_id().as_deref(),
        Some(guest_id.as_str()),
        "the guest identity went on with the user (sent with the Logins)"
    );

    session.sign_out().await;
    creds.provide_credentials().await.unwrap();
    assert!(!creds.is_signed_in_identity());
    assert_ne!(
        creds.identity_id().as_deref(),
        Some(guest_id.as_str()),
        "after sign-out, a new guest identity"
    );

    let no_guests = IdentityPoolCredentials::builder()
        .pool_id(&ids)
        .endpoint(moto.url())
        .session(&session)
        .build()
        .unwrap();
    let e = no_guests.provide_credentials().await.unwrap_err();
    assert!(is_permanent(&e), "{e}");
    let chain = chain(&e);
    assert!(chain.contains("guest access is not enabled"), "{chain}");
}

/// The SRP computation equals pycognito's on fresh random cases (A, the HKDF key through the
/// claim signature, timestamps as Cognito formats them).
#[test]
fn srp_matches_pycognito_live() {
    use std::io::Write;
    let python = support::moto::python();
    let mut child = std::process::Command::new(python)
        .arg(support::moto::harness_dir().join("srp_vectors.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run srp_vectors.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"random\": 25}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut n = 0;
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let s = |k: &str| v[k].as_str().unwrap();
        let (a, sig) = appsync_client::auth::cognito::srp_for_tests::password_claim(
            s("a"),
            s("pool_id"),
            s("user_id"),
            s("password"),
            s("b"),
            s("salt"),
            s("secret_block"),
            s("timestamp"),
        )
        .expect("a claim");
        assert_eq!(a, s("big_a"));
        assert_eq!(sig, s("signature"), "{line}");
        n += 1;
    }
    assert_eq!(n, 25);
}

/// Nothing secret is logged at any level, nor shown by `Debug`: passwords, tokens, the refresh
/// token, the app client's secret and its `SECRET_HASH`, the AWS secret key and session token.
#[tokio::test]
async fn nothing_secret_is_logged_or_debug_printed() {
    let moto = Moto::start();
    let pool = moto.user_pool("quiet").await;
    let (client, secret) = moto.app_client(&pool, true).await;
    let secret = secret.unwrap();
    moto.user(&pool, "gina", PASSWORD).await;
    let ids = moto.identity_pool(&pool, &client, true).await;
    let capture = support::trace::Capture::default();
    let _guard = capture.install();
    let store = Arc::new(MemorySessionStore::new());
    let s = UserPoolSession::builder()
        .pool_id(&pool)
        .client_id(&client)
        .client_secret(secret.clone())
        .endpoint(moto.url())
        .shared_store(store.clone())
        .build()
        .unwrap();
    let creds = IdentityPoolCredentials::builder()
        .pool_id(&ids)
        .allow_guest(true)
        .session(&s)
        .endpoint(moto.url())
        .build()
        .unwrap();
    let guest = creds.provide_credentials().await.unwrap();
    s.sign_in("gina", PASSWORD).await.unwrap();
    let _ = s.sign_in("gina", "Wrong-passw0rd").await;
    s.refresh().await.unwrap();
    let access = s.token(TokenKind::Access).await.unwrap();
    let id = s.token(TokenKind::Id).await.unwrap();
    let refresh = store
        .load(&format!("cognito-idp/{pool}/{client}/refresh_token"))
        .await
        .unwrap()
        .unwrap();
    creds.provide_credentials().await.unwrap();
    let shown = format!("{s:?} {creds:?} {store:?}");
    s.sign_out_global().await.unwrap();
    let hash = {
        use aws_lc_rs::hmac;
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        base64::engine::general_purpose::STANDARD
            .encode(hmac::sign(&key, format!("gina{client}").as_bytes()))
    };
    let text = format!("{}\n{shown}", capture.text());
    assert!(text.contains("Cognito"), "the capture works: {text}");
    for (what, value) in [
        ("password", PASSWORD),
        ("wrong password", "Wrong-passw0rd"),
        ("app client secret", secret.as_str()),
        ("SECRET_HASH", hash.as_str()),
        ("access token", access.expose()),
        ("ID token", id.expose()),
        ("refresh token", refresh.expose()),
        ("secret key", guest.secret_access_key()),
        ("session token", guest.session_token().unwrap()),
    ] {
        assert!(!text.contains(value), "the {what} was logged or shown");
    }
}
