//! Every auth mode over GraphQL and REST against a loopback server that checks the exact headers
//! (and, for IAM, recomputes the SigV4 signature independently); token caching, refresh on 401,
//! retries, error shapes, and redaction.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use appsync_client::config::EndpointConfig;
use appsync_client::{
    token_fn, AuthMode, Client, Config, GraphQLRequest, RetryPolicy, StaticToken, Token, TokenKind,
    TokenRequest,
};
use aws_credential_types::Credentials;
use serde_json::{json, Value};
use support::server::{amz_date_near, http_date, jwt, Recorded, Reply, TestServer};
use support::sigv4;

const API_KEY: &str = "da2-testkeytestkeytestkeytest";
const AKID: &str = "AKIDTESTEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYTESTKEY";
const SESSION: &str = "FQoGZXIvYXdzEtestsessiontoken";

fn ok_graphql() -> Reply {
    Reply::json(200, json!({"data": {"ping": "pong"}}))
}

fn future_jwt(sub: &str) -> String {
    let exp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    jwt(
        json!({"sub": sub, "exp": exp, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test"}),
    )
}

/// One GraphQL API whose four names each default to another mode, plus REST APIs.
fn config(server: &TestServer) -> Config {
    let gql = server.url("/graphql");
    let rest = server.url("/prod");
    let mut b = Config::builder();
    for (name, mode) in [
        ("notes_API_KEY", AuthMode::ApiKey),
        ("notes_AWS_IAM", AuthMode::Iam),
        ("notes_USER_POOLS", AuthMode::UserPools),
        ("notes_OIDC", AuthMode::Oidc),
        ("notes_LAMBDA", AuthMode::Lambda),
        ("notes_NONE", AuthMode::None),
    ] {
        b = b.endpoint(
            EndpointConfig::graphql(name, &gql)
                .authorization_type(mode)
                .api_key(API_KEY)
                .region("us-east-1"),
        );
        b = b.endpoint(
            EndpointConfig::rest(format!("rest_{name}"), &rest)
                .authorization_type(mode)
                .api_key(API_KEY)
                .region("eu-west-1"),
        );
    }
    b.default_graphql("notes_API_KEY").build().unwrap()
}

fn tokens() -> (String, String, String, String) {
    (
        future_jwt("access"),
        future_jwt("id"),
        future_jwt("oidc"),
        "lambda-opaque-token".to_owned(),
    )
}

/// User-pool tokens: the ID token when asked for it, else the access token.
fn user_pool_provider(access: String, id: String) -> impl appsync_client::TokenProvider {
    token_fn(move |req: TokenRequest| {
        let v = if req.kind == TokenKind::Id {
            id.clone()
        } else {
            access.clone()
        };
        async move { Ok(Token::new(v)) }
    })
}

fn client(server: &TestServer) -> (Client, (String, String, String, String)) {
    let t = tokens();
    let (access, id, oidc, lambda) = t.clone();
    let client = Client::builder()
        .config(config(server))
        .credentials_provider(Credentials::new(
            AKID,
            SECRET,
            Some(SESSION.into()),
            None,
            "test",
        ))
        .token_provider(AuthMode::UserPools, user_pool_provider(access, id))
        .token_provider(AuthMode::Oidc, StaticToken::new(oidc))
        .token_provider(AuthMode::Lambda, StaticToken::new(lambda))
        .header("x-client-wide", "cw")
        .interceptor(
            |req: &mut http::Request<bytes::Bytes>, _ctx: &appsync_client::RequestContext| {
                req.headers_mut()
                    .insert("x-intercepted", http::HeaderValue::from_static("yes"));
                Ok(())
            },
        )
        .build()
        .unwrap();
    (client, t)
}

/// The headers every request carries besides auth: the client-wide one, the interceptor's,
/// the per-call one, host.
fn assert_common(r: &Recorded, server: &TestServer) {
    assert_eq!(r.header("x-client-wide"), Some("cw"));
    assert_eq!(r.header("x-intercepted"), Some("yes"));
    assert_eq!(r.header("x-call"), Some("c1"));
    assert_eq!(r.header("host"), Some(server.addr.to_string().as_str()));
}

fn verify_iam(r: &Recorded, service: &str, region: &str) -> sigv4::Verified {
    sigv4::verify(
        &r.signed_parts(),
        |akid| (akid == AKID).then(|| SECRET.to_owned()),
        service,
        region,
    )
    .unwrap_or_else(|e| panic!("signature refused: {e}"))
}

fn assert_auth_headers(
    r: &Recorded,
    mode: AuthMode,
    t: &(String, String, String, String),
    service: &str,
    region: &str,
) {
    match mode {
        AuthMode::ApiKey => {
            assert_eq!(r.header("x-api-key"), Some(API_KEY));
            assert_eq!(r.header("authorization"), None);
        }
        AuthMode::UserPools => {
            // GraphQL sends the access token (as Amplify); REST the ID token, which API
            // Gateway's Cognito authorizer wants.
            let token = if service == "execute-api" { &t.1 } else { &t.0 };
            assert_eq!(r.header("authorization"), Some(token.as_str()));
            assert_eq!(r.header("x-api-key"), None);
        }
        AuthMode::Oidc => assert_eq!(r.header("authorization"), Some(t.2.as_str())),
        AuthMode::Lambda => assert_eq!(r.header("authorization"), Some(t.3.as_str())),
        AuthMode::None => {
            assert_eq!(r.header("authorization"), None);
            assert_eq!(r.header("x-api-key"), None);
            assert_eq!(r.header("x-amz-date"), None);
        }
        AuthMode::Iam => {
            let v = verify_iam(r, service, region);
            assert_eq!(v.session_token.as_deref(), Some(SESSION));
            for h in [
                "host",
                "x-amz-date",
                "x-amz-security-token",
                "x-client-wide",
                "x-intercepted",
                "x-call",
            ] {
                assert!(
                    v.signed_headers.iter().any(|s| s == h),
                    "{h} not signed: {:?}",
                    v.signed_headers
                );
            }
            assert_eq!(r.header("x-api-key"), None);
        }
        _ => unreachable!(),
    }
    if mode != AuthMode::Iam {
        assert_eq!(r.header("x-amz-security-token"), None);
    }
}

#[tokio::test]
async fn graphql_in_every_mode_sends_exactly_its_headers() {
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let (client, t) = client(&server);
    let modes = [
        AuthMode::ApiKey,
        AuthMode::Iam,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Lambda,
        AuthMode::None,
    ];
    for mode in modes {
        let r = client
            .graphql(GraphQLRequest::new("query Ping { ping }").variables(json!({"a": 1})))
            .auth_mode(mode)
            .header("x-call", "c1")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert_eq!(r.data, Some(json!({"ping": "pong"})));
    }
    let reqs = server.requests();
    assert_eq!(reqs.len(), modes.len());
    for (mode, r) in modes.iter().zip(&reqs) {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/graphql");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("accept"), Some("application/json"));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            body,
            json!({"query": "query Ping { ping }", "variables": {"a": 1}})
        );
        assert_common(r, &server);
        assert_auth_headers(r, *mode, &t, "appsync", "us-east-1");
    }
}

#[tokio::test]
async fn rest_in_every_mode_sends_exactly_its_headers() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({"ok": true}))).await;
    let (client, t) = client(&server);
    let modes = [
        AuthMode::ApiKey,
        AuthMode::Iam,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Lambda,
        AuthMode::None,
    ];
    for mode in modes {
        // Each REST name defaults to its mode; no override needed.
        let name = match mode {
            AuthMode::ApiKey => "rest_notes_API_KEY",
            AuthMode::Iam => "rest_notes_AWS_IAM",
            AuthMode::UserPools => "rest_notes_USER_POOLS",
            AuthMode::Oidc => "rest_notes_OIDC",
            AuthMode::Lambda => "rest_notes_LAMBDA",
            _ => "rest_notes_NONE",
        };
        let resp = client
            .rest(name)
            .post("/items/a b")
            .query("q", "x y")
            .query("b", "2")
            .json(&json!({"name": "n"}))
            .header("x-call", "c1")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert_eq!(resp.json::<Value>().unwrap(), json!({"ok": true}));
    }
    let reqs = server.requests();
    for (mode, r) in modes.iter().zip(&reqs) {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/prod/items/a%20b");
        assert_eq!(r.query, "q=x%20y&b=2");
        assert_eq!(&r.body[..], br#"{"name":"n"}"#);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_common(r, &server);
        assert_auth_headers(r, *mode, &t, "execute-api", "eu-west-1");
    }
}

#[tokio::test]
async fn rest_methods_and_mode_override() {
    let server = TestServer::start(|r, _| {
        if r.method == "HEAD" {
            Reply {
                status: 200,
                headers: vec![],
                body: vec![],
            }
        } else {
            Reply::json(200, json!({"m": r.method}))
        }
    })
    .await;
    let (client, t) = client(&server);
    let api = client.rest("rest_notes_NONE");
    for (call, m) in [
        (api.get("/x"), "GET"),
        (api.put("/x"), "PUT"),
        (api.patch("/x"), "PATCH"),
        (api.delete("/x"), "DELETE"),
        (api.head("/x"), "HEAD"),
    ] {
        let r = call
            .auth_mode(AuthMode::Iam)
            .header("x-call", "c1")
            .send()
            .await
            .unwrap();
        if m != "HEAD" {
            assert_eq!(r.json::<Value>().unwrap(), json!({"m": m}));
        }
    }
    for r in server.requests() {
        assert_auth_headers(&r, AuthMode::Iam, &t, "execute-api", "eu-west-1");
    }
    // Raw bytes body, signed as sent.
    api.post("/raw")
        .body(&b"\x00\x01binary"[..])
        .header("content-type", "application/octet-stream")
        .header("x-call", "c1")
        .auth_mode(AuthMode::Iam)
        .send()
        .await
        .unwrap();
    let last = server.requests().pop().unwrap();
    assert_eq!(&last.body[..], b"\x00\x01binary");
    verify_iam(&last, "execute-api", "eu-west-1");
}

#[tokio::test]
async fn user_pools_id_token_on_request() {
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let (client, t) = client(&server);
    client
        .graphql(GraphQLRequest::new("{ ping }"))
        .auth_mode(AuthMode::UserPools)
        .token_kind(TokenKind::Id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(t.1.as_str())
    );
}

/// REST defaults to the ID token, GraphQL to the access token; each is overridden per client
/// and per call.
#[tokio::test]
async fn user_pool_token_kind_defaults_and_overrides() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({"data": {"ok": true}}))).await;
    let (client, t) = client(&server);
    let rest = || client.rest("rest_notes_USER_POOLS").get("/x");
    let gql = || {
        client
            .graphql(GraphQLRequest::new("{ ping }"))
            .auth_mode(AuthMode::UserPools)
    };
    rest().send().await.unwrap();
    rest().token_kind(TokenKind::Access).send().await.unwrap();
    gql().send().await.unwrap();
    gql().token_kind(TokenKind::Id).send().await.unwrap();
    let sent: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(sent, [&t.1, &t.0, &t.0, &t.1].map(String::clone));

    // Per client: both defaults turned around.
    let (access, id) = (t.0.clone(), t.1.clone());
    let swapped = Client::builder()
        .config(config(&server))
        .token_provider(AuthMode::UserPools, user_pool_provider(access, id))
        .user_pool_token(TokenKind::Id)
        .rest_user_pool_token(TokenKind::Access)
        .build()
        .unwrap();
    swapped
        .rest("rest_notes_USER_POOLS")
        .get("/x")
        .send()
        .await
        .unwrap();
    swapped
        .graphql(GraphQLRequest::new("{ ping }"))
        .auth_mode(AuthMode::UserPools)
        .send()
        .await
        .unwrap();
    let r = server.requests();
    assert_eq!(r[4].header("authorization"), Some(t.0.as_str()));
    assert_eq!(r[5].header("authorization"), Some(t.1.as_str()));
}

#[tokio::test]
async fn per_call_key_and_token_overrides() {
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let (client, _) = client(&server);
    client
        .graphql(GraphQLRequest::new("{ ping }"))
        .api_key("da2-other")
        .send()
        .await
        .unwrap();
    client
        .graphql(GraphQLRequest::new("{ ping }"))
        .auth_mode(AuthMode::Lambda)
        .auth_token("per-call")
        .send()
        .await
        .unwrap();
    let r = server.requests();
    assert_eq!(r[0].header("x-api-key"), Some("da2-other"));
    assert_eq!(r[1].header("authorization"), Some("per-call"));
}

#[tokio::test]
async fn a_tampered_body_fails_the_independent_verifier() {
    // Guards the verifier itself: the same request with one byte changed must be refused.
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let (client, _) = client(&server);
    client
        .graphql(GraphQLRequest::new("{ ping }"))
        .auth_mode(AuthMode::Iam)
        .send()
        .await
        .unwrap();
    let mut r = server.requests().pop().unwrap();
    verify_iam(&r, "appsync", "us-east-1");
    let mut body = r.body.to_vec();
    body[2] ^= 1;
    r.body = body.into();
    let err = sigv4::verify(
        &r.signed_parts(),
        |_| Some(SECRET.to_owned()),
        "appsync",
        "us-east-1",
    )
    .unwrap_err();
    assert!(err.contains("signature mismatch"), "{err}");
}

fn counting_provider(
    calls: Arc<AtomicUsize>,
    refreshes: Arc<AtomicUsize>,
) -> impl appsync_client::TokenProvider {
    token_fn(move |req: TokenRequest| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        if req.force_refresh {
            refreshes.fetch_add(1, Ordering::SeqCst);
        }
        async move {
            // Yield so that concurrent callers really pile up behind this one call.
            tokio::task::yield_now().await;
            Ok(Token::new(format!("token-{n}"))
                .with_expiry(SystemTime::now() + Duration::from_secs(3600)))
        }
    })
}

fn oidc_client(
    server: &TestServer,
    calls: Arc<AtomicUsize>,
    refreshes: Arc<AtomicUsize>,
) -> Client {
    Client::builder()
        .config(
            Config::builder()
                .endpoint(
                    EndpointConfig::graphql("api", server.url("/graphql"))
                        .authorization_type(AuthMode::Oidc),
                )
                .build()
                .unwrap(),
        )
        .token_provider(AuthMode::Oidc, counting_provider(calls, refreshes))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_calls_fetch_the_token_once() {
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let client = oidc_client(&server, calls.clone(), Arc::default());
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.graphql(GraphQLRequest::new("{ ping }")).send().await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 100);
    assert!(reqs
        .iter()
        .all(|r| r.header("authorization") == Some("token-0")));
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_retries_once() {
    let server = TestServer::start(|r, _| {
        if r.header("authorization") == Some("token-0") {
            Reply::json(401, json!({"errors": [{"errorType": "UnauthorizedException", "message": "Token has expired."}]}))
                .header("x-amzn-ErrorType", "UnauthorizedException")
        } else {
            ok_graphql()
        }
    })
    .await;
    let (calls, refreshes) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let client = oidc_client(&server, calls.clone(), refreshes.clone());
    let r = client
        .graphql(GraphQLRequest::new("mutation { ping }"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.data, Some(json!({"ping": "pong"})));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    let auths: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(auths, ["token-0", "token-1"]);
    // The fresh token is cached for the next call.
    client
        .graphql(GraphQLRequest::new("{ ping }"))
        .send()
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_second_401_is_returned_as_the_error() {
    let server = TestServer::start(|_, _| {
        Reply::json(401, json!({"errors": [{"errorType": "UnauthorizedException", "message": "Valid authorization header not provided."}]}))
            .header("x-amzn-ErrorType", "UnauthorizedException:http://internal.amazon.com/coral/")
    })
    .await;
    let (calls, refreshes) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let client = oidc_client(&server, calls.clone(), refreshes.clone());
    let e = client
        .graphql(GraphQLRequest::new("{ ping }"))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_status());
    assert_eq!(e.status_code(), Some(http::StatusCode::UNAUTHORIZED));
    assert_eq!(e.error_type(), Some("UnauthorizedException"));
    assert_eq!(
        e.graphql_errors()[0].message,
        "Valid authorization header not provided."
    );
    assert!(e.to_string().contains("401"), "{e}");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
}

fn flaky(fail_first: usize, status: u16) -> impl Fn(&Recorded, usize) -> Reply + Send + Sync {
    move |_, i| {
        if i < fail_first {
            Reply::json(
                status,
                json!({"errors": [{"errorType": "ServiceUnavailable", "message": "try later"}]}),
            )
        } else {
            ok_graphql()
        }
    }
}

fn fast_retry_client(server: &TestServer) -> Client {
    Client::builder()
        .config(
            Config::builder()
                .endpoint(
                    EndpointConfig::graphql("api", server.url("/graphql"))
                        .authorization_type(AuthMode::None),
                )
                .build()
                .unwrap(),
        )
        .retry_policy(
            RetryPolicy::default()
                .max_retries(2)
                .base_delay(Duration::from_millis(1)),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn queries_are_retried_on_5xx_and_429() {
    for status in [503, 429, 500] {
        let server = TestServer::start(flaky(2, status)).await;
        let client = fast_retry_client(&server);
        client
            .graphql(GraphQLRequest::new("query { ping }"))
            .send()
            .await
            .unwrap();
        assert_eq!(server.requests().len(), 3, "status {status}");
    }
    // Three failures exhaust two retries.
    let server = TestServer::start(flaky(3, 503)).await;
    let e = fast_retry_client(&server)
        .graphql(GraphQLRequest::new("{ ping }"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status_code(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn mutations_are_not_retried_unless_asked() {
    let server = TestServer::start(flaky(1, 503)).await;
    let client = fast_retry_client(&server);
    let e = client
        .graphql(GraphQLRequest::new("mutation M { ping }"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status_code(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(server.requests().len(), 1);
    client
        .graphql(GraphQLRequest::new("mutation M { ping }"))
        .retry(true)
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
    // 4xx other than 429 is never retried, even for queries.
    let server = TestServer::start(flaky(1, 400)).await;
    let client = fast_retry_client(&server);
    assert!(client
        .graphql(GraphQLRequest::new("{ ping }"))
        .send()
        .await
        .is_err());
    assert_eq!(server.requests().len(), 1);
}

/// A client of a GraphQL API (mode NONE) on a port nobody listens on: bind, learn the port,
/// close.
fn unreachable_client(retry: RetryPolicy) -> Client {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Client::builder()
        .config(
            Config::builder()
                .endpoint(
                    EndpointConfig::graphql("api", format!("http://127.0.0.1:{port}/graphql"))
                        .authorization_type(AuthMode::None),
                )
                .build()
                .unwrap(),
        )
        .retry_policy(retry)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_network_error_is_retried_for_queries_and_reported() {
    let client = unreachable_client(RetryPolicy::default().base_delay(Duration::from_millis(1)));
    let e = client
        .graphql(GraphQLRequest::new("{ ping }"))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e:?}");
    assert!(std::error::Error::source(&e).is_some());
}

#[tokio::test]
async fn graphql_errors_in_a_200_are_data() {
    let server = TestServer::start(|_, _| {
        Reply::json(200, json!({
            "data": {"a": 1, "secret": null},
            "errors": [{"path": ["secret"], "data": null, "errorType": "Unauthorized", "errorInfo": null,
                        "locations": [{"line": 1, "column": 7, "sourceName": null}],
                        "message": "Not Authorized to access secret on type Query"}]
        }))
    })
    .await;
    let (client, _) = client(&server);
    let r = client
        .graphql(GraphQLRequest::new("{ a secret }"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.data, Some(json!({"a": 1, "secret": null})));
    assert!(r.has_error_type("Unauthorized"));
}

#[tokio::test]
async fn missing_credentials_or_tokens_fail_before_any_traffic() {
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let client = Client::builder().config(config(&server)).build().unwrap();
    for mode in [
        AuthMode::Iam,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Lambda,
    ] {
        let e = client
            .graphql(GraphQLRequest::new("{ ping }"))
            .auth_mode(mode)
            .send()
            .await
            .unwrap_err();
        assert!(e.is_auth(), "{mode}: {e:?}");
        assert!(e.to_string().contains(mode.as_str()), "{e}");
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_clock_skew_refusal_is_learned_and_retried_once() {
    // The server's clock is an hour ahead; it refuses signatures dated more than 5 min away.
    let server = TestServer::start(|r, _| {
        let server_now = SystemTime::now() + Duration::from_secs(3600);
        let date = http_date(server_now);
        let sent = r.header("x-amz-date").unwrap_or("");
        if amz_date_near(sent, server_now, Duration::from_secs(300)) {
            ok_graphql().header("date", &date)
        } else {
            Reply::json(403, json!({"errors": [{"errorType": "InvalidSignatureException", "message": "Signature expired"}]}))
                .header("x-amzn-ErrorType", "InvalidSignatureException")
                .header("date", &date)
        }
    })
    .await;
    let (client, _) = client(&server);
    client
        .graphql(GraphQLRequest::new("mutation { ping }"))
        .auth_mode(AuthMode::Iam)
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
    // The skew is kept: the next call is right the first time.
    client
        .graphql(GraphQLRequest::new("mutation { ping }"))
        .auth_mode(AuthMode::Iam)
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn secrets_never_show_in_debug_display_or_errors() {
    let server = TestServer::start(|_, _| {
        Reply::json(403, json!({"errors": [{"errorType": "InvalidSignatureException", "message": "The request signature we calculated does not match"}]}))
            .header("x-amzn-ErrorType", "InvalidSignatureException")
    })
    .await;
    let (client, t) = client(&server);
    let mut texts = vec![format!("{client:?}"), format!("{:?}", client.config())];
    for mode in SECRET_MODES {
        let call = client
            .graphql(GraphQLRequest::new("{ ping }"))
            .auth_mode(mode)
            .api_key(API_KEY)
            .auth_token(t.3.clone());
        texts.push(format!("{call:?}"));
        let e = client
            .graphql(GraphQLRequest::new("{ ping }"))
            .auth_mode(mode)
            .send()
            .await
            .unwrap_err();
        texts.push(format!("{e:?}"));
        texts.push(e.to_string());
        let req = client
            .graphql(GraphQLRequest::new("{ ping }"))
            .auth_mode(mode)
            .into_http_request()
            .await
            .unwrap();
        texts.push(format!("{:?}", req.headers()));
    }
    texts.push(format!("{:?}", Token::new(t.0.clone())));
    let all = texts.join("\n");
    for secret in [API_KEY, SECRET, SESSION, &t.0, &t.1, &t.2, &t.3] {
        assert!(!all.contains(secret), "a secret leaked into:\n{all}");
    }
    assert!(
        !all.contains("Signature="),
        "a signature leaked into:\n{all}"
    );
}

#[tokio::test]
async fn every_header_provider_runs_before_signing() {
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let provider = |name: &'static str| {
        appsync_client::headers_fn(move |ctx: appsync_client::RequestContext| async move {
            let mut h = http::HeaderMap::new();
            h.insert(
                name,
                http::HeaderValue::from_str(&format!("{}-{}", ctx.api_name, ctx.attempt)).unwrap(),
            );
            Ok(h)
        })
    };
    let client = Client::builder()
        .config(config(&server))
        .credentials_provider(Credentials::new(
            AKID,
            SECRET,
            Some(SESSION.into()),
            None,
            "test",
        ))
        .header_provider(provider("x-first"))
        .header_provider(provider("x-second"))
        .build()
        .unwrap();
    client
        .graphql(GraphQLRequest::new("{ ping }"))
        .auth_mode(AuthMode::Iam)
        .send()
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.header("x-first"), Some("notes_AWS_IAM-0"));
    assert_eq!(r.header("x-second"), Some("notes_AWS_IAM-0"));
    let v = verify_iam(r, "appsync", "us-east-1");
    assert!(
        v.signed_headers.iter().any(|h| h == "x-second"),
        "{:?}",
        v.signed_headers
    );
}

// ----------------------------------------------------------------------------------------------
// Hostile servers and careless inputs (issue 8): redirects, huge bodies, request ids and
// spans, header values and repeats, bodies that are not GraphQL, REST paths, server dates.

const AUTH_HEADERS: [&str; 3] = ["x-api-key", "authorization", "x-amz-security-token"];

/// The modes that send a secret.
const SECRET_MODES: [AuthMode; 5] = [
    AuthMode::ApiKey,
    AuthMode::Iam,
    AuthMode::UserPools,
    AuthMode::Oidc,
    AuthMode::Lambda,
];

/// A redirect to another server is never followed, in any mode, with any 3xx: the other server
/// sees nothing, and the error names the status and the target host, not its path or query.
#[tokio::test]
async fn redirects_are_refused_and_never_followed() {
    let elsewhere = TestServer::start(|_, _| ok_graphql()).await;
    let target = elsewhere.url("/graphql?token=leaked-if-shown");
    let statuses = [301u16, 302, 303, 307, 308];
    let server = TestServer::start(move |_, i| Reply {
        status: statuses[i % statuses.len()],
        headers: vec![("location".into(), target.clone())],
        body: vec![],
    })
    .await;
    let (c, t) = client(&server);
    let mut calls = 0;
    for mode in SECRET_MODES {
        for status in statuses {
            let e = c
                .graphql(GraphQLRequest::new("{ ping }"))
                .auth_mode(mode)
                .send()
                .await
                .unwrap_err();
            calls += 1;
            assert!(e.is_redirect() && e.is_status(), "{mode}: {e:?}");
            assert_eq!(e.status_code().map(|s| s.as_u16()), Some(status));
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("redirected to http://{}", elsewhere.addr)),
                "{msg}"
            );
            assert!(msg.contains("not followed"), "{msg}");
            for hidden in [
                "leaked-if-shown",
                "/graphql?",
                API_KEY,
                &t.0,
                &t.2,
                &t.3,
                SESSION,
            ] {
                assert!(
                    !msg.contains(hidden) && !format!("{e:?}").contains(hidden),
                    "{msg}"
                );
            }
        }
    }
    // REST, with a relative Location: still refused.
    let (e, rest_server) = rest_error("rest_notes_API_KEY", || Reply {
        status: 307,
        headers: vec![("location".into(), "/other?k=secret".into())],
        body: vec![],
    })
    .await;
    assert!(e.is_redirect(), "{e:?}");
    assert!(
        e.to_string()
            .contains(&format!("http://{}", rest_server.addr)),
        "{e}"
    );
    assert!(!e.to_string().contains("secret"), "{e}");
    assert_eq!(rest_server.requests().len(), 1);
    assert_eq!(server.requests().len(), calls);
    let seen = elsewhere.requests();
    assert!(seen.is_empty(), "the other host got {seen:?}");
    for r in server.requests() {
        // Each went to the configured server once, with its auth: nothing was re-sent.
        assert!(AUTH_HEADERS.iter().any(|h| r.header(h).is_some()));
    }
}

/// A client of a GraphQL API `api` (mode NONE) at `{base}/graphql` and a REST API `rest` at
/// `{base}/prod`, taking answers of at most `limit` bytes.
fn limited_client(base: &str, limit: u64) -> Client {
    Client::builder()
        .config(
            Config::builder()
                .endpoint(
                    EndpointConfig::graphql("api", format!("{base}/graphql"))
                        .authorization_type(AuthMode::None),
                )
                .endpoint(EndpointConfig::rest("rest", format!("{base}/prod")))
                .build()
                .unwrap(),
        )
        .max_response_size(limit)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A body that never ends is cut at the limit, as soon as it is passed; a declared length over
/// the limit is refused before reading. A body of exactly the limit is fine.
#[tokio::test]
async fn a_huge_body_stops_at_the_size_limit() {
    const LIMIT: u64 = 1024 * 1024;
    // The server stops by itself after 1 GiB: a client that reads on would time out instead.
    const CAP: u64 = 1024 * 1024 * 1024;
    for declared in [None, Some(CAP)] {
        let server = support::server::EndlessServer::start(declared, CAP).await;
        let client = limited_client(&server.url(""), LIMIT);
        let e = client
            .graphql(GraphQLRequest::new("{ big }"))
            .send()
            .await
            .unwrap_err();
        assert!(e.is_too_large(), "{declared:?}: {e:?}");
        assert!(e.to_string().contains("1048576 bytes"), "{e}");
        assert!(e.to_string().contains("max_response_size"), "{e}");
        assert_eq!(e.request_id(), Some("endless-1"));
        let e = client.rest("rest").get("/big").send().await.unwrap_err();
        assert!(e.is_too_large(), "{e:?}");
        tokio::time::timeout(Duration::from_secs(20), server.stopped())
            .await
            .expect("the server is still writing: the client kept reading");
        // What the server got out before noticing the hang-up: the limit plus socket buffers.
        assert!(server.written() < 64 * 1024 * 1024, "{}", server.written());
    }

    // Under the limit, a body in many chunks arrives whole.
    let half = LIMIT / 2;
    let server = support::server::EndlessServer::start(Some(half), half).await;
    let r = limited_client(&server.url(""), LIMIT)
        .rest("rest")
        .get("/x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().len() as u64, half);
    assert!(r.bytes().iter().all(|b| *b == b'0'));

    // Exactly the limit passes; one byte less of limit fails.
    let exact = vec![b' '; LIMIT as usize - 2];
    let body = [b"{}".as_slice(), &exact].concat();
    let server = TestServer::start(move |_, _| Reply {
        status: 200,
        headers: vec![],
        body: body.clone(),
    })
    .await;
    let r = limited_client(&server.url(""), LIMIT)
        .rest("rest")
        .get("/x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().len() as u64, LIMIT);
    let e = limited_client(&server.url(""), LIMIT - 1)
        .rest("rest")
        .get("/x")
        .send()
        .await
        .unwrap_err();
    assert!(e.is_too_large(), "{e:?}");
    assert!(Client::builder()
        .config(limited_client(&server.url(""), 1).config().clone())
        .max_response_size(0)
        .build()
        .unwrap_err()
        .to_string()
        .contains("max_response_size"));
}

/// The error of one REST `GET /items` to `api` on a server that always answers `reply`.
async fn rest_error(
    api: &str,
    reply: impl Fn() -> Reply + Send + Sync + 'static,
) -> (appsync_client::Error, TestServer) {
    let server = TestServer::start(move |_, _| reply()).await;
    let (c, _) = client(&server);
    let e = c.rest(api).get("/items").send().await.unwrap_err();
    (e, server)
}

/// Every HTTP error carries the server's request id (AppSync's `x-amzn-RequestId`, API
/// Gateway's `x-amz-apigw-id`, any case) and the attempt; a network error has no id.
#[tokio::test]
async fn errors_carry_the_request_id_and_the_attempt() {
    let server = TestServer::start(|_, i| {
        Reply::json(
            503,
            json!({"errors": [{"errorType": "ServiceUnavailable", "message": "later"}]}),
        )
        .header("X-Amzn-RequestId", &format!("req-{i}"))
        .header("x-amzn-ErrorType", "ServiceUnavailable")
    })
    .await;
    let e = fast_retry_client(&server)
        .graphql(GraphQLRequest::new("{ ping }"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.request_id(), Some("req-2"));
    assert_eq!(e.attempt(), Some(2));
    assert_eq!(e.error_type(), Some("ServiceUnavailable"));
    assert!(e.to_string().contains("request id req-2"), "{e}");
    assert!(format!("{e:?}").contains("req-2"), "{e:?}");

    let (e, _) = rest_error("rest_notes_NONE", || {
        Reply::json(403, json!({"message": "Missing Authentication Token"}))
            .header("x-amz-apigw-id", "apigw-42=")
            .header("x-amzn-ErrorType", "MissingAuthenticationTokenException")
    })
    .await;
    assert_eq!(e.request_id(), Some("apigw-42="));
    assert_eq!(e.attempt(), Some(0));
    assert_eq!(e.error_type(), Some("MissingAuthenticationTokenException"));

    // A 200 that is not a GraphQL answer is an error with the server's message and id.
    let sim = TestServer::start(|_, _| {
        Reply::json(
            200,
            json!({"errorMessage": "Syntax Error: Expected Name, found <EOF>."}),
        )
        .header("x-amzn-requestid", "sim-7")
    })
    .await;
    let (c, _) = client(&sim);
    let e = c
        .graphql(GraphQLRequest::new("{"))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_decode(), "{e:?}");
    assert!(e.to_string().contains("Syntax Error: Expected Name"), "{e}");
    assert_eq!(
        e.graphql_errors()[0].message,
        "Syntax Error: Expected Name, found <EOF>."
    );
    assert_eq!(e.request_id(), Some("sim-7"));

    // No answer, no id; the attempt is still known.
    let e = unreachable_client(RetryPolicy::none())
        .graphql(GraphQLRequest::new("mutation { a }"))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e:?}");
    assert_eq!(e.request_id(), None);
    assert_eq!(e.attempt(), Some(0));
}

/// Each call runs in one `appsync.http` span naming the API, mode, operation kind and method,
/// with the last attempt's number, status, request id and error type; no secret is logged.
#[tokio::test]
async fn every_call_has_an_appsync_http_span() {
    let capture = support::trace::Capture::default();
    let _guard = capture.install();
    let server = TestServer::start(|r, i| {
        let reply = if i == 0 {
            Reply::json(503, json!({"errors": [{"message": "later"}]}))
                .header("x-amzn-ErrorType", "ServiceUnavailable")
        } else if r.path.starts_with("/prod") {
            Reply::json(404, json!({"message": "no"}))
                .header("x-amzn-ErrorType", "NotFoundException")
        } else {
            ok_graphql()
        };
        reply.header("x-amzn-RequestId", &format!("span-{i}"))
    })
    .await;
    let (client, t) = client(&server);
    client
        .graphql(GraphQLRequest::new("query Ping { ping }").operation_name("Ping"))
        .auth_mode(AuthMode::Iam)
        .send()
        .await
        .unwrap();
    client
        .rest("rest_notes_LAMBDA")
        .delete("/items/1")
        .send()
        .await
        .unwrap_err();
    let spans = capture.spans("appsync.http");
    assert_eq!(spans.len(), 2, "{spans:?}");
    let gql = &spans[0].fields;
    for (k, v) in [
        ("api", "notes_AWS_IAM"),
        ("mode", "AWS_IAM"),
        ("kind", "query"),
        ("operation", "Ping"),
        ("method", "POST"),
        ("attempt", "1"),
        ("status", "200"),
        ("request_id", "span-1"),
    ] {
        assert_eq!(gql.get(k).map(String::as_str), Some(v), "{k}: {gql:?}");
    }
    let rest = &spans[1].fields;
    for (k, v) in [
        ("api", "rest_notes_LAMBDA"),
        ("mode", "AWS_LAMBDA"),
        ("kind", "rest"),
        ("method", "DELETE"),
        ("attempt", "0"),
        ("status", "404"),
        ("request_id", "span-2"),
        ("error_type", "NotFoundException"),
    ] {
        assert_eq!(rest.get(k).map(String::as_str), Some(v), "{k}: {rest:?}");
    }
    let logged = capture.text();
    for secret in [SECRET, SESSION, &t.3, "Signature="] {
        assert!(!logged.contains(secret), "{secret} logged:\n{logged}");
    }
}

/// A header given twice on a call sends both values (signed as one comma-joined value), and
/// replaces a client-wide header of that name.
#[tokio::test]
async fn a_header_given_twice_sends_both_values() {
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let (client, _) = client(&server);
    client
        .graphql(GraphQLRequest::new("{ ping }"))
        .auth_mode(AuthMode::Iam)
        .header("x-multi", "1")
        .header("x-multi", "2")
        .header("x-client-wide", "mine")
        .send()
        .await
        .unwrap();
    client
        .rest("rest_notes_AWS_IAM")
        .get("/x")
        .header("x-multi", "a")
        .header("X-Multi", "b")
        .send()
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[0].header_values("x-multi"), ["1", "2"]);
    assert_eq!(reqs[0].header_values("x-client-wide"), ["mine"]);
    assert_eq!(reqs[1].header_values("x-multi"), ["a", "b"]);
    let v = verify_iam(&reqs[0], "appsync", "us-east-1");
    assert!(v.signed_headers.iter().any(|h| h == "x-multi"));
    verify_iam(&reqs[1], "execute-api", "eu-west-1");
}

/// With IAM, every header the server receives is signed, `accept` included (reqwest would add
/// it after signing), on GraphQL and REST, except `content-length` and the two that AWS SDKs
/// leave unsigned because proxies and X-Ray rewrite them: `user-agent`, `x-amzn-trace-id`.
#[tokio::test]
async fn iam_signs_every_header_sent() {
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let (client, _) = client(&server);
    client
        .graphql(GraphQLRequest::new("{ ping }"))
        .auth_mode(AuthMode::Iam)
        .header("x-call", "c1")
        .header(
            "x-amzn-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793",
        )
        .send()
        .await
        .unwrap();
    client
        .rest("rest_notes_AWS_IAM")
        .post("/x")
        .json(&json!({"a": 1}))
        .send()
        .await
        .unwrap();
    client
        .rest("rest_notes_AWS_IAM")
        .get("/x")
        .send()
        .await
        .unwrap();
    for (r, service, region) in server
        .requests()
        .iter()
        .zip([
            ("appsync", "us-east-1"),
            ("execute-api", "eu-west-1"),
            ("execute-api", "eu-west-1"),
        ])
        .map(|(r, (s, g))| (r, s, g))
    {
        let v = verify_iam(r, service, region);
        for (name, _) in &r.headers {
            let name = name.to_ascii_lowercase();
            if [
                "authorization",
                "content-length",
                "user-agent",
                "x-amzn-trace-id",
            ]
            .contains(&name.as_str())
            {
                assert!(!v.signed_headers.contains(&name), "{name} signed");
                continue;
            }
            assert!(
                v.signed_headers.contains(&name),
                "{name} sent but not signed ({service}): {:?}",
                v.signed_headers
            );
        }
        assert!(r.header("user-agent").unwrap().starts_with("appsync-rs/"));
        assert!(v.signed_headers.iter().any(|h| h == "accept"));
    }
}

/// Tabs and runs of spaces in a header value are sent as SigV4 canonicalises them, so a real
/// SigV4 checker (appsync-local's) accepts the call.
#[tokio::test]
async fn header_whitespace_is_signed_as_sent_for_appsync_local() {
    use appsync_local::{AuthMode as LocalMode, LocalAppSync};
    let schema = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/notes/schema.graphql"
    ))
    .unwrap();
    let local = LocalAppSync::builder()
        .schema(schema)
        .default_auth_mode(LocalMode::Iam)
        .iam_credentials(AKID, SECRET, Some(SESSION.to_owned()))
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .config(
            Config::builder()
                .endpoint(
                    EndpointConfig::graphql("local", local.graphql_url())
                        .authorization_type(AuthMode::Iam)
                        .region(local.region()),
                )
                .build()
                .unwrap(),
        )
        .credentials_provider(Credentials::new(
            AKID,
            SECRET,
            Some(SESSION.into()),
            None,
            "t",
        ))
        .header("x-default", "\ttabbed  default ")
        .build()
        .unwrap();
    for (name, value) in [
        ("x-h", "a\tb"),
        ("x-h", "a  b"),
        ("x-h", " a \t\t b "),
        ("x-h", "\t"),
    ] {
        let r = client
            .graphql(GraphQLRequest::new("query { listNotes { items { id } } }"))
            .header(name, value)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{value:?}: {e}"));
        assert!(r.errors.is_empty(), "{value:?}: {:?}", r.errors);
    }
}

/// A REST path is sent as given (it is percent-encoded text), `path_segment` encodes raw
/// text into one segment, and SigV4 (service `execute-api`) signs exactly what is sent, as
/// appsync-local's independent verifier checks. Dot segments never leave the client.
#[tokio::test]
async fn rest_paths_are_sent_and_signed_exactly() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({"ok": true}))).await;
    let (client, _) = client(&server);
    let api = client.rest("rest_notes_AWS_IAM");
    let cases: Vec<(appsync_client::RestCall, &str)> = vec![
        (api.get("/items/a%41"), "/prod/items/a%41"),
        (api.get("/items/a%2Fb"), "/prod/items/a%2Fb"),
        (api.get("/items/a b"), "/prod/items/a%20b"),
        (
            api.get("/items/Zürich ✓"),
            "/prod/items/Z%C3%BCrich%20%E2%9C%93",
        ),
        (
            api.get("/items/~!$&'()*+,;=:@"),
            "/prod/items/~!$&'()*+,;=:@",
        ),
        (api.get("/items/%25"), "/prod/items/%25"),
        (api.get("/items").path_segment("a/b"), "/prod/items/a%2Fb"),
        (api.get("/items/").path_segment("50%"), "/prod/items/50%25"),
        (
            api.get("items").path_segment("é ?#").path_segment("..."),
            "/prod/items/%C3%A9%20%3F%23/...",
        ),
        (api.get("/items").path_segment("%2F"), "/prod/items/%252F"),
    ];
    let expected: Vec<&str> = cases.iter().map(|(_, p)| *p).collect();
    for (call, path) in cases {
        call.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let reqs = server.requests();
    let sent: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(sent, expected);
    for r in &reqs {
        verify_iam(r, "execute-api", "eu-west-1");
    }
    for call in [
        api.get("/items/../admin"),
        api.get("/items/%2e%2E/admin"),
        api.get("/items/./x"),
        api.get("/items//x"),
        api.get("/items/100%"),
        api.get("/items").path_segment(".."),
        api.get("/items").path_segment("."),
        api.get("/items").path_segment(""),
    ] {
        let e = call.send().await.unwrap_err();
        assert!(e.is_request(), "{e:?}");
    }
    assert_eq!(
        server.requests().len(),
        reqs.len(),
        "a refused path was sent"
    );
}

/// A `Date` header no real clock could give (year 9999, year 0, garbage, numbers too large for
/// any integer) never panics and never poisons later signing: it is ignored with a warning.
#[tokio::test]
async fn hostile_server_dates_never_poison_signing() {
    let capture = support::trace::Capture::default();
    let _guard = capture.install();
    let hostile = [
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "Sat, 01 Jan 10000 00:00:00 GMT",
        "Mon, 01 Jan 0000 00:00:00 GMT",
        "Sun, 30 Aug 99999999999999999999 12:36:00 GMT",
        "Sun, 30 Aug 2015 99999999999999999999:00:00 GMT",
        "soon",
    ];
    let server = TestServer::start(move |r, i| {
        let sent = r.header("x-amz-date").unwrap_or("");
        let fresh = amz_date_near(sent, SystemTime::now(), Duration::from_secs(300));
        // Every odd request is refused with a hostile date, as a broken server or proxy would.
        if i % 2 == 1 || !fresh {
            let date = hostile[(i / 2) % hostile.len()];
            Reply::json(403, json!({"errors": [{"errorType": "InvalidSignatureException", "message": "Signature expired"}]}))
                .header("x-amzn-ErrorType", "InvalidSignatureException")
                .header("date", date)
        } else {
            ok_graphql()
        }
    })
    .await;
    let (client, _) = client(&server);
    for round in 0..hostile.len() {
        client
            .graphql(GraphQLRequest::new("{ ping }"))
            .auth_mode(AuthMode::Iam)
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        // Refused with a hostile date, and not retried with a skew learned from it.
        let e = client
            .graphql(GraphQLRequest::new("{ ping }"))
            .auth_mode(AuthMode::Iam)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.status_code(), Some(http::StatusCode::FORBIDDEN));
    }
    // Every call was signed with the real time: no skew was learned.
    assert_eq!(server.requests().len(), 2 * hostile.len());
    for r in server.requests() {
        let sent = r.header("x-amz-date").unwrap();
        assert!(
            amz_date_near(sent, SystemTime::now(), Duration::from_secs(300)),
            "{sent}"
        );
    }
    let warned = capture
        .events()
        .iter()
        .filter(|e| e.level == tracing::Level::WARN && e.fields["message"].contains("Date header"))
        .count();
    // The dates that parse are more than a day away; the others are not dates at all.
    assert_eq!(warned, 2, "{:?}", capture.events());
}

/// AWS credentials that never come.
#[derive(Debug)]
struct StuckCredentials;

impl aws_credential_types::provider::ProvideCredentials for StuckCredentials {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(std::future::pending())
    }
}

/// A provider that never answers fails its own calls after the provider timeout, with a
/// timeout error, and blocks nothing else: a call in another mode goes through meanwhile.
#[tokio::test(start_paused = true)]
async fn a_stuck_provider_times_out_and_blocks_no_other_call() {
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let stuck = appsync_client::token_fn(|_req| std::future::pending());
    let client = Client::builder()
        .config(config(&server))
        .token_provider(AuthMode::Oidc, stuck)
        .credentials_provider(StuckCredentials)
        .provider_timeout(std::time::Duration::from_secs(3))
        .build()
        .unwrap();
    let t0 = tokio::time::Instant::now();
    let oidc = client
        .graphql(GraphQLRequest::new("{ ping }"))
        .auth_mode(AuthMode::Oidc)
        .send();
    let key = async {
        // While the OIDC call waits for its provider, an API key call is answered.
        let r = client
            .graphql(GraphQLRequest::new("{ ping }"))
            .auth_mode(AuthMode::ApiKey)
            .send()
            .await;
        (r, t0.elapsed())
    };
    let iam = client
        .graphql(GraphQLRequest::new("{ ping }"))
        .auth_mode(AuthMode::Iam)
        .send();
    let (oidc, iam, (key, key_at)) = tokio::join!(oidc, iam, key);
    let e = iam.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(e.to_string().contains("AWS credentials provider"), "{e}");
    assert!(key.is_ok(), "{key:?}");
    assert!(key_at < std::time::Duration::from_secs(1), "{key_at:?}");
    let e = oidc.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(
        e.to_string().contains("OPENID_CONNECT token provider"),
        "{e}"
    );
    assert_eq!(t0.elapsed(), std::time::Duration::from_secs(3));
    assert_eq!(
        server.requests().len(),
        1,
        "nothing was sent for the stuck call"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stuck_header_provider_times_out() {
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let client = Client::builder()
        .config(config(&server))
        .header_provider(appsync_client::headers_fn(|_ctx| std::future::pending()))
        .provider_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap();
    let e = client
        .graphql(GraphQLRequest::new("{ ping }"))
        .auth_mode(AuthMode::ApiKey)
        .send()
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(server.requests().is_empty());
}

/// After an identity change, the next call fetches a new token (the cached one was for
/// whoever was signed in before), and only then.
#[tokio::test]
async fn an_identity_change_drops_the_cached_token() {
    let server = TestServer::start(|_, _| ok_graphql()).await;
    let (calls, refreshes) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let notifier = appsync_client::IdentityNotifier::new();
    let client = Client::builder()
        .config(
            Config::builder()
                .endpoint(
                    EndpointConfig::graphql("api", server.url("/graphql"))
                        .authorization_type(AuthMode::Oidc),
                )
                .build()
                .unwrap(),
        )
        .token_provider(AuthMode::Oidc, counting_provider(calls.clone(), refreshes))
        .identity_notifier(&notifier)
        .build()
        .unwrap();
    let send = || client.graphql(GraphQLRequest::new("{ ping }")).send();
    send().await.unwrap();
    send().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1, "cached");
    notifier.notify();
    send().await.unwrap();
    send().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2, "fetched again once");
    let tokens: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(tokens, ["token-0", "token-0", "token-1", "token-1"]);
}
