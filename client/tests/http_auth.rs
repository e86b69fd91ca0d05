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
use support::server::{jwt, Recorded, Reply, TestServer};
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
        .token_provider(
            AuthMode::UserPools,
            token_fn(move |req: TokenRequest| {
                let v = if req.kind == TokenKind::Id {
                    id.clone()
                } else {
                    access.clone()
                };
                async move { Ok(Token::new(v)) }
            }),
        )
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
        .token_provider(
            AuthMode::UserPools,
            token_fn(move |req: TokenRequest| {
                let v = if req.kind == TokenKind::Id {
                    id.clone()
                } else {
                    access.clone()
                };
                async move { Ok(Token::new(v)) }
            }),
        )
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

#[tokio::test]
async fn a_network_error_is_retried_for_queries_and_reported() {
    // A port nobody listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder()
        .config(
            Config::builder()
                .endpoint(
                    EndpointConfig::graphql("api", format!("http://127.0.0.1:{port}/graphql"))
                        .authorization_type(AuthMode::None),
                )
                .build()
                .unwrap(),
        )
        .retry_policy(RetryPolicy::default().base_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
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
        let date = httpdate(server_now);
        let sent = r.header("x-amz-date").unwrap_or("");
        if amz_date_within_5_min(sent, server_now) {
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

fn httpdate(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][m as usize - 1];
    format!(
        "{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn amz_date_within_5_min(amz: &str, server_now: SystemTime) -> bool {
    // 20150830T123600Z
    if amz.len() != 16 {
        return false;
    }
    let n = |a: usize, b: usize| amz[a..b].parse::<i64>().unwrap_or(0);
    let (y, mo, d, h, mi, s) = (n(0, 4), n(4, 6), n(6, 8), n(9, 11), n(11, 13), n(13, 15));
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * ((mo + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let t = days * 86_400 + h * 3600 + mi * 60 + s;
    let now = server_now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    (t - now).abs() <= 300
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
    for mode in [
        AuthMode::ApiKey,
        AuthMode::Iam,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Lambda,
    ] {
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
