//! The identity flow of the README against appsync-local: an IAM call signed with the guest's
//! identity-pool credentials, the same call after sign-in (the signed-in role's credentials),
//! user-pools calls with the access token and with the ID token (its groups reach a
//! `cognito_groups` rule), a subscription that survives the switch (`Resumed`), and multi-auth
//! that goes with user pools when signed in and with IAM as the guest when signed out.
//!
//! The user pool is moto's (PyPI `moto[server]`, started per test on 127.0.0.1, see
//! `support/moto.rs`): the session signs in to it with the password, and appsync-local trusts
//! the pool through the JWKS moto serves (`user_pool_jwks_url`), so the tokens it checks are
//! the ones moto signed. The identity pool is a loopback fake (`support/fake_cognito.rs`),
//! because moto gives guests and users the same credentials and does not check `Logins`: the
//! fake gives each role its own (appsync-local knows both) and accepts only an unexpired ID
//! token of moto's pool. `cognito_moto.rs` runs the session and credentials code against moto
//! alone.
#![cfg(feature = "cognito")]

use std::time::Duration;

use appsync_client::auth::cognito::{IdentityPoolCredentials, SignInFlow, UserPoolSession};
use appsync_client::graphql_client::{GraphQLQuery, QueryBody};
use appsync_client::{
    AuthMode, AuthStrategy, Client, Config, EndpointConfig, GraphQLRequest, Operation,
    OperationKind, SubscriptionEvent, TokenKind,
};
use appsync_local::{LocalAppSync, ResolverRequest};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

mod support;
use support::fake_cognito::{self as fake, FakeCognito};
use support::local::{local_with, API_KEY};
use support::moto::{Moto, REGION};

const WAIT: Duration = Duration::from_secs(15);

const USERNAME: &str = "alice";
const PASSWORD: &str = "Correct-h0rse-battery";

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// appsync-local trusting moto's `pool` (its app client `client`, the JWKS fetched from moto)
/// and knowing both roles' credentials, with `getNote(id: "whoami")` answering who called:
/// `<mode> <access key id or -> <token_use or -> <groups>`.
async fn server(moto: &Moto, pool: &str, client: &str) -> LocalAppSync {
    let jwks_url = format!("{}{pool}/.well-known/jwks.json", moto.url());
    local_with(|b| {
        b.user_pool_jwks_url(pool, [client], jwks_url)
            .iam_credentials(
                fake::GUEST_AKID,
                fake::GUEST_SECRET,
                Some(fake::GUEST_SESSION.into()),
            )
            .iam_credentials(
                fake::USER_AKID,
                fake::USER_SECRET,
                Some(fake::USER_SESSION.into()),
            )
            .resolver("Query", "getNote", |req: ResolverRequest| async move {
                let i = &req.identity;
                let token_use = i
                    .claims
                    .as_ref()
                    .and_then(|c| c["token_use"].as_str())
                    .unwrap_or("-")
                    .to_owned();
                Ok(json!({"id": "whoami", "content": format!(
                    "{} {} {} {}",
                    i.mode.as_str(),
                    i.access_key_id.as_deref().unwrap_or("-"),
                    token_use,
                    i.groups.join(",")
                )}))
            })
            .resolver("Query", "adminStats", |_| async move {
                Ok(json!("{\"users\":1}"))
            })
    })
    .await
}

struct Setup {
    local: LocalAppSync,
    /// Kept running for the session's calls.
    _moto: Moto,
    /// The user pool's id in moto.
    pool: String,
    cognito: FakeCognito,
    session: UserPoolSession,
    credentials: IdentityPoolCredentials,
    client: Client,
}

async fn setup(strategy: AuthStrategy) -> Setup {
    let moto = Moto::start();
    let pool = moto.user_pool("identity-flow").await;
    let (app_client, _) = moto.app_client(&pool, false).await;
    moto.user(&pool, USERNAME, PASSWORD).await;
    moto.group_with(&pool, "admins", USERNAME).await;
    let local = server(&moto, &pool, &app_client).await;
    let cognito = FakeCognito::start(format!("cognito-idp.{REGION}.amazonaws.com/{pool}")).await;
    let session = UserPoolSession::builder()
        .pool_id(&pool)
        .client_id(&app_client)
        .flow(SignInFlow::UserPassword)
        .endpoint(moto.url())
        .build()
        .unwrap();
    let credentials = IdentityPoolCredentials::builder()
        .pool_id(format!("{REGION}:00000000-0000-0000-0000-000000000001"))
        .allow_guest(true)
        .session(&session)
        .endpoint(&cognito.url)
        .build()
        .unwrap();
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("notes", local.graphql_url())
                .authorization_type(AuthMode::ApiKey)
                .api_key(API_KEY)
                .region(local.region())
                .additional_auth_modes([AuthMode::Iam, AuthMode::UserPools]),
        )
        .build()
        .unwrap();
    let client = Client::builder()
        .config(config)
        .cognito(&session)
        .credentials_provider(credentials.clone())
        .auth_strategy(strategy)
        .build()
        .unwrap();
    Setup {
        local,
        _moto: moto,
        pool,
        cognito,
        session,
        credentials,
        client,
    }
}

const WHOAMI: &str = r#"{ getNote(id: "whoami") { id content } }"#;

async fn whoami(client: &Client, mode: AuthMode, kind: Option<TokenKind>) -> String {
    let mut call = client.graphql(GraphQLRequest::new(WHOAMI)).auth_mode(mode);
    if let Some(k) = kind {
        call = call.token_kind(k);
    }
    let r = within("whoami", call.send()).await.unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r.data.unwrap()["getNote"]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn guest_then_signed_in_over_iam_user_pools_and_a_live_subscription() {
    let s = setup(AuthStrategy::Default).await;
    // Before sign-in: IAM as the guest; user pools has no token.
    let mut sub = within(
        "the subscription's start",
        s.client
            .subscribe_graphql(GraphQLRequest::new(
                "subscription { onCreateNote { id content } }",
            ))
            .auth_mode(AuthMode::Iam)
            .start(),
    )
    .await
    .unwrap();
    assert_eq!(
        whoami(&s.client, AuthMode::Iam, None).await,
        format!("AWS_IAM {} - ", fake::GUEST_AKID)
    );
    let guest_id = s.credentials.identity_id().expect("a guest identity");
    let e = s
        .client
        .graphql(GraphQLRequest::new(WHOAMI))
        .auth_mode(AuthMode::UserPools)
        .send()
        .await
        .unwrap_err();
    assert!(e.is_auth(), "{e:?}");

    s.session.sign_in(USERNAME, PASSWORD).await.unwrap();

    // The socket reconnected with the signed-in credentials: the subscription resumed.
    match within("Resumed", sub.next()).await {
        Some(Ok(SubscriptionEvent::Resumed { .. })) => {}
        other => panic!("expected Resumed: {other:?}"),
    }
    // The same IAM call, now as the signed-in role.
    assert_eq!(
        whoami(&s.client, AuthMode::Iam, None).await,
        format!("AWS_IAM {} - ", fake::USER_AKID)
    );
    // The identity id went on (the guest's, sent with the Logins: ID token under the pool's key).
    assert_eq!(s.credentials.identity_id(), Some(guest_id.clone()));
    let signed_in: Vec<Value> = s
        .cognito
        .requests_of("GetCredentialsForIdentity")
        .into_iter()
        .filter(|b| b.get("Logins").is_some())
        .collect();
    assert!(!signed_in.is_empty());
    let key = format!("cognito-idp.{REGION}.amazonaws.com/{}", s.pool);
    for b in &signed_in {
        assert_eq!(b["IdentityId"], guest_id.as_str());
        let token = b["Logins"][&key].as_str().expect("the pool's Logins key");
        let claims = support_claims(token);
        assert_eq!(claims["token_use"], "id", "the ID token goes in Logins");
        assert_eq!(claims["iss"], format!("https://{key}"), "moto's token");
    }
    assert_eq!(s.cognito.requests_of("GetId").len(), 1, "one GetId in all");

    // User pools: the access token by default, the ID token when asked; the ID token's groups
    // reach the `cognito_groups: ["admins"]` rule.
    assert_eq!(
        whoami(&s.client, AuthMode::UserPools, None).await,
        "AMAZON_COGNITO_USER_POOLS - access admins"
    );
    assert_eq!(
        whoami(&s.client, AuthMode::UserPools, Some(TokenKind::Id)).await,
        "AMAZON_COGNITO_USER_POOLS - id admins"
    );
    let r = s
        .client
        .graphql(GraphQLRequest::new("{ adminStats }"))
        .auth_mode(AuthMode::UserPools)
        .token_kind(TokenKind::Id)
        .send()
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.data.unwrap()["adminStats"], "{\"users\":1}");

    // The resumed subscription delivers what the signed-in user creates.
    let created = s
        .client
        .graphql(GraphQLRequest::new(
            "mutation { createNote(input: {content: \"after sign-in\"}) { id content } }",
        ))
        .auth_mode(AuthMode::Iam)
        .send()
        .await
        .unwrap();
    assert!(created.errors.is_empty(), "{:?}", created.errors);
    match within("the event", sub.next()).await {
        Some(Ok(SubscriptionEvent::Data(r))) => {
            assert_eq!(r.data.unwrap()["onCreateNote"]["content"], "after sign-in")
        }
        other => panic!("{other:?}"),
    }

    // Sign-out: back to a (new) guest identity, at once for the socket too.
    s.session.sign_out().await;
    assert_eq!(
        whoami(&s.client, AuthMode::Iam, None).await,
        format!("AWS_IAM {} - ", fake::GUEST_AKID)
    );
    assert_ne!(s.credentials.identity_id(), Some(guest_id));
    match within("Resumed after sign-out", sub.next()).await {
        Some(Ok(SubscriptionEvent::Resumed { .. })) => {}
        other => panic!("{other:?}"),
    }
    drop(s.local);
}

fn support_claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// `getNote(id: "whoami")` as a generated operation allowed for user pools, IAM and API keys.
struct WhoAmI;

#[derive(Serialize)]
struct NoVariables {}

#[derive(Deserialize, Debug)]
struct WhoAmIData {
    #[serde(rename = "getNote")]
    get_note: Value,
}

impl GraphQLQuery for WhoAmI {
    type Variables = NoVariables;
    type ResponseData = WhoAmIData;

    fn build_query(variables: NoVariables) -> QueryBody<NoVariables> {
        QueryBody {
            variables,
            query: r#"query WhoAmI { getNote(id: "whoami") { id content } }"#,
            operation_name: "WhoAmI",
        }
    }
}

impl Operation for WhoAmI {
    const KIND: OperationKind = OperationKind::Query;
    const ALLOWED_AUTH_MODES: &'static [AuthMode] =
        &[AuthMode::UserPools, AuthMode::Iam, AuthMode::ApiKey];
}

async fn who(client: &Client) -> String {
    let r = within(
        "the typed call",
        client.operation::<WhoAmI>(NoVariables {}).send(),
    )
    .await
    .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r.data.unwrap().get_note["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn multi_auth_goes_with_user_pools_signed_in_and_iam_guest_signed_out() {
    let s = setup(AuthStrategy::Multi).await;
    assert_eq!(
        who(&s.client).await,
        format!("AWS_IAM {} - ", fake::GUEST_AKID),
        "signed out: user pools has nothing to give, IAM as the guest"
    );
    s.session.sign_in(USERNAME, PASSWORD).await.unwrap();
    assert_eq!(
        who(&s.client).await,
        "AMAZON_COGNITO_USER_POOLS - access admins"
    );
    s.session.sign_out().await;
    assert_eq!(
        who(&s.client).await,
        format!("AWS_IAM {} - ", fake::GUEST_AKID)
    );
    // A subscription picks the same way.
    let sub = within(
        "the subscription's start",
        s.client
            .subscribe_graphql(GraphQLRequest::new("subscription { onCreateNote { id } }"))
            .start(),
    )
    .await
    .unwrap();
    drop(sub);
}
