//! Multi-auth that picks the mode (`AuthStrategy::Multi`) against appsync-local: the order
//! (user pools, OIDC, IAM, API key, Lambda) filtered by what the operation allows and what the
//! client can send, the fall to the next mode on a refusal (HTTP 401 or a field-level
//! `Unauthorized`), per client and per call, for queries and subscriptions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use appsync_client::graphql_client::{GraphQLQuery, QueryBody};
use appsync_client::{
    token_fn, AuthMode, AuthStrategy, GraphQLRequest, Operation, OperationKind, SubscriptionEvent,
    Token,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

mod support;
use support::local::{bare, builder, local};

const WAIT: Duration = Duration::from_secs(15);

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// `listNotes`, declared as a generated operation would be, allowed for user pools, IAM and API
/// keys (the order of the list does not matter: multi-auth's order does).
struct ListNotes;

#[derive(Serialize)]
struct NoVariables {}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct ListData {
    #[serde(rename = "listNotes")]
    list_notes: Value,
}

impl GraphQLQuery for ListNotes {
    type Variables = NoVariables;
    type ResponseData = ListData;

    fn build_query(variables: NoVariables) -> QueryBody<NoVariables> {
        QueryBody {
            variables,
            query: "query ListNotes { listNotes { items { id } } }",
            operation_name: "ListNotes",
        }
    }
}

impl Operation for ListNotes {
    const KIND: OperationKind = OperationKind::Query;
    const ALLOWED_AUTH_MODES: &'static [AuthMode] =
        &[AuthMode::ApiKey, AuthMode::Iam, AuthMode::UserPools];
}

/// Which auth header a request carries.
fn mode_of(req: &http::Request<bytes::Bytes>) -> &'static str {
    let h = req.headers();
    match h.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(v) if v.starts_with("AWS4-HMAC-SHA256") => "iam",
        Some(_) => "token",
        None if h.contains_key("x-api-key") => "api-key",
        None => "none",
    }
}

#[tokio::test]
async fn a_typed_operation_goes_with_the_first_mode_the_client_can_send() {
    let local = local().await;
    // Every mode available: user pools first.
    let all = builder(&local)
        .auth_strategy(AuthStrategy::Multi)
        .build()
        .unwrap();
    let req = all
        .operation::<ListNotes>(NoVariables {})
        .into_http_request()
        .await
        .unwrap();
    assert_eq!(mode_of(&req), "token");
    assert!(all
        .operation::<ListNotes>(NoVariables {})
        .send()
        .await
        .unwrap()
        .errors
        .is_empty());
    // No token providers: IAM (the guest's credentials) comes next.
    let guest = bare(&local)
        .auth_strategy(AuthStrategy::Multi)
        .build()
        .unwrap();
    let req = guest
        .operation::<ListNotes>(NoVariables {})
        .into_http_request()
        .await
        .unwrap();
    assert_eq!(mode_of(&req), "iam");
    assert!(guest
        .operation::<ListNotes>(NoVariables {})
        .send()
        .await
        .unwrap()
        .errors
        .is_empty());
    // Per call, on a client whose default is the endpoint's mode; a named mode wins over it.
    let plain = builder(&local).build().unwrap();
    let call = plain
        .operation::<ListNotes>(NoVariables {})
        .auth_strategy(AuthStrategy::Multi);
    assert_eq!(mode_of(&call.into_http_request().await.unwrap()), "token");
    let call = all
        .operation::<ListNotes>(NoVariables {})
        .auth_mode(AuthMode::ApiKey);
    assert_eq!(mode_of(&call.into_http_request().await.unwrap()), "api-key");
    let call = plain.operation::<ListNotes>(NoVariables {});
    assert_eq!(
        mode_of(&call.into_http_request().await.unwrap()),
        "api-key",
        "the default"
    );
}

#[tokio::test]
async fn a_refused_mode_falls_to_the_next() {
    let local = Arc::new(local().await);
    let calls = Arc::new(AtomicUsize::new(0));
    let (c, l) = (calls.clone(), local.clone());
    // The user-pool provider hands out expired tokens: AppSync answers 401.
    let client = bare(&local)
        .token_provider(
            AuthMode::UserPools,
            token_fn(move |_| {
                c.fetch_add(1, Ordering::SeqCst);
                let t = l.user_pool_token("alice").expires_in(-60).mint();
                async move { Ok(Token::new(t)) }
            }),
        )
        .auth_strategy(AuthStrategy::Multi)
        .build()
        .unwrap();
    let r = within(
        "the query",
        client.operation::<ListNotes>(NoVariables {}).send(),
    )
    .await
    .unwrap();
    assert!(r.errors.is_empty(), "IAM answered: {:?}", r.errors);
    assert!(
        calls.load(Ordering::SeqCst) >= 1,
        "user pools were tried first"
    );

    // A field-level `Unauthorized` is a refusal too: `adminStats` is for the user pool's
    // admins only, so alice's token (no group) is refused, and so is every other mode: the
    // last answer comes back, with its error.
    let client = builder(&local)
        .auth_strategy(AuthStrategy::Multi)
        .build()
        .unwrap();
    let r = within(
        "adminStats",
        client.graphql(GraphQLRequest::new("{ adminStats }")).send(),
    )
    .await
    .unwrap();
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(r.errors[0].error_type.as_deref(), Some("Unauthorized"));
    // An admin's token gets through with the first mode.
    let admin = support::local::bare(&local)
        .token_provider(
            AuthMode::UserPools,
            appsync_client::StaticToken::new(
                local.user_pool_token("root").groups(["admins"]).mint(),
            ),
        )
        .auth_strategy(AuthStrategy::Multi)
        .build()
        .unwrap();
    let r = admin
        .graphql(GraphQLRequest::new("{ adminStats }"))
        .send()
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
}

#[tokio::test]
async fn nothing_to_send_is_a_selection_error_before_any_traffic() {
    let local = local().await;
    let config = appsync_client::Config::builder()
        .endpoint(
            appsync_client::EndpointConfig::graphql("notes", local.graphql_url())
                .authorization_type(AuthMode::UserPools)
                .additional_auth_modes([AuthMode::Oidc]),
        )
        .build()
        .unwrap();
    let client = appsync_client::Client::builder()
        .config(config)
        .auth_strategy(AuthStrategy::Multi)
        .build()
        .unwrap();
    let e = client
        .operation::<ListNotes>(NoVariables {})
        .send()
        .await
        .unwrap_err();
    assert!(e.is_selection(), "{e:?}");
    assert!(e.to_string().contains("multi-auth found no mode"), "{e}");
}

#[tokio::test]
async fn a_subscription_picks_once_per_start_and_moves_on_when_refused() {
    let local = Arc::new(local().await);
    let l = local.clone();
    let client = bare(&local)
        .token_provider(
            AuthMode::UserPools,
            token_fn(move |_| {
                let t = l.user_pool_token("alice").expires_in(-60).mint();
                async move { Ok(Token::new(t)) }
            }),
        )
        .auth_strategy(AuthStrategy::Multi)
        .build()
        .unwrap();
    let mut sub = within(
        "start_ack",
        client
            .subscribe_graphql(GraphQLRequest::new("subscription { onCreateNote { id } }"))
            .start(),
    )
    .await
    .unwrap();
    assert_eq!(
        sub.auth_mode(),
        AuthMode::Iam,
        "user pools refused, IAM next"
    );
    let r = client
        .graphql(
            GraphQLRequest::new("mutation($i: CreateNoteInput!) { createNote(input: $i) { id } }")
                .variables(json!({"i": {"id": "m1", "content": "x"}})),
        )
        .auth_mode(AuthMode::Iam)
        .send()
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let ev = within("the event", sub.next()).await.unwrap().unwrap();
    assert!(matches!(ev, SubscriptionEvent::Data(_)), "{ev:?}");
}

#[tokio::test]
async fn a_failing_provider_counts_as_a_mode_the_client_cannot_send() {
    let local = local().await;
    let client = bare(&local)
        .token_provider(
            AuthMode::UserPools,
            token_fn(|_| async { Err("nobody is signed in".into()) }),
        )
        .auth_strategy(AuthStrategy::Multi)
        .build()
        .unwrap();
    let r = client
        .operation::<ListNotes>(NoVariables {})
        .send()
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "IAM answered: {:?}", r.errors);
}
