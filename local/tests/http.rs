//! appsync-local over HTTP: each auth mode accepted with good credentials and refused with bad
//! ones, the directive matrix, AppSync's error shapes, default and user resolvers, faults.

mod support;

use appsync_client::{AuthMode as M, Client, Config, GraphQLRequest, RetryPolicy};
use appsync_local::{AuthMode, LocalAppSync, ResolverError};
use serde_json::{json, Value};
use support::local::{self, API_KEY, CLIENT_ID, SECRET};

const GET: &str = "query Get($id: ID!) { getNote(id: $id) { id content } }";
const CREATE: &str =
    "mutation C($input: CreateNoteInput!) { createNote(input: $input) { id content owner } }";

async fn create(client: &Client, mode: M, id: &str) -> Value {
    let r = client
        .graphql(GraphQLRequest::new(CREATE).variables(
            json!({"input": {"id": id, "content": format!("c-{id}"), "owner": "alice"}}),
        ))
        .auth_mode(mode)
        .send()
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{mode}: {:?}", r.errors);
    r.data.unwrap()
}

#[tokio::test]
async fn every_mode_is_accepted_with_good_credentials() {
    let local = local::start().await;
    let client = local::client(&local);
    create(&client, M::Iam, "n1").await;
    create(&client, M::UserPools, "n2").await;
    create(&client, M::Lambda, "n3").await;
    for mode in [M::ApiKey, M::Iam, M::UserPools, M::Oidc, M::Lambda] {
        let r = client
            .graphql(GraphQLRequest::new(GET).variables(json!({"id": "n1"})))
            .auth_mode(mode)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert_eq!(
            r.data,
            Some(json!({"getNote": {"id": "n1", "content": "c-n1"}})),
            "{mode}: {:?}",
            r.errors
        );
    }
    let r = client
        .graphql(GraphQLRequest::new(
            "{ listNotes { items { id } nextToken } }",
        ))
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = r.data.as_ref().unwrap()["listNotes"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["n1", "n2", "n3"]);
}

/// Sends and expects an HTTP error with this status and error type.
async fn refused(
    call: appsync_client::GraphQLCall<Value>,
    status: u16,
    error_type: &str,
) -> String {
    let e = call.send().await.expect_err("the server should refuse");
    assert_eq!(e.status_code().map(|s| s.as_u16()), Some(status), "{e}");
    assert_eq!(e.error_type(), Some(error_type), "{e}");
    e.to_string()
}

fn q(client: &Client) -> appsync_client::GraphQLCall<Value> {
    client.graphql(GraphQLRequest::new(GET).variables(json!({"id": "x"})))
}

#[tokio::test]
async fn api_keys_wrong_and_expired_are_refused() {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    let local = local::start_with(|b| b.api_key_expiring("da2-expired", past)).await;
    let client = local::client(&local);
    let m = refused(
        q(&client).api_key("da2-wrong"),
        401,
        "UnauthorizedException",
    )
    .await;
    assert!(!m.contains("da2-wrong"));
    let m = refused(
        q(&client).api_key("da2-expired"),
        401,
        "UnauthorizedException",
    )
    .await;
    assert!(m.contains("expired"), "{m}");
    q(&client).send().await.unwrap();
}

#[tokio::test]
async fn jwts_are_verified() {
    let local = local::start().await;
    let client = local::client(&local);
    let good = local.user_pool_token("alice").mint();
    q(&client)
        .auth_mode(M::UserPools)
        .auth_token(good.clone())
        .send()
        .await
        .unwrap();
    q(&client)
        .auth_mode(M::UserPools)
        .auth_token(format!("Bearer {good}"))
        .send()
        .await
        .unwrap();
    q(&client)
        .auth_mode(M::UserPools)
        .auth_token(local.user_pool_token("a").id_token().mint())
        .send()
        .await
        .unwrap();

    // Tampered: one claim changed after signing.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
    claims["cognito:groups"] = json!(["admins"]);
    parts[1] = b64.encode(claims.to_string());
    let m = refused(
        q(&client)
            .auth_mode(M::UserPools)
            .auth_token(parts.join(".")),
        401,
        "UnauthorizedException",
    )
    .await;
    assert!(m.contains("signature"), "{m}");

    let other_pool = local
        .user_pool_token("alice")
        .claims(json!({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}))
        .mint();
    let m = refused(
        q(&client).auth_mode(M::UserPools).auth_token(other_pool),
        401,
        "UnauthorizedException",
    )
    .await;
    assert!(m.contains("issuer"), "{m}");
    let expired = local.user_pool_token("alice").expires_in(-5).mint();
    let m = refused(
        q(&client).auth_mode(M::UserPools).auth_token(expired),
        401,
        "UnauthorizedException",
    )
    .await;
    assert!(m.contains("expired"), "{m}");
    let other_client = local
        .user_pool_token("alice")
        .claims(json!({"client_id": "someone-else"}))
        .mint();
    refused(
        q(&client).auth_mode(M::UserPools).auth_token(other_client),
        401,
        "UnauthorizedException",
    )
    .await;

    // OIDC: a token of another issuer's key, an expired one, one for another audience.
    let other = LocalAppSync::builder()
        .schema(local::notes_schema())
        .default_auth_mode(AuthMode::Oidc)
        .oidc_issuer(local::ISSUER, Some(CLIENT_ID.to_owned()))
        .start()
        .await
        .unwrap();
    refused(
        q(&client)
            .auth_mode(M::Oidc)
            .auth_token(other.oidc_token("bob").mint()),
        401,
        "UnauthorizedException",
    )
    .await;
    refused(
        q(&client)
            .auth_mode(M::Oidc)
            .auth_token(local.oidc_token("bob").expires_in(-1).mint()),
        401,
        "UnauthorizedException",
    )
    .await;
    refused(
        q(&client)
            .auth_mode(M::Oidc)
            .auth_token(local.oidc_token("bob").claims(json!({"aud": "x"})).mint()),
        401,
        "UnauthorizedException",
    )
    .await;
}

#[tokio::test]
async fn iam_signatures_are_recomputed() {
    let local = local::start().await;
    refused(
        q(&local::client_with(
            &local,
            "wrong-secret",
            Some(local::SESSION),
        ))
        .auth_mode(M::Iam),
        403,
        "InvalidSignatureException",
    )
    .await;
    refused(
        q(&local::client_with(&local, SECRET, None)).auth_mode(M::Iam),
        403,
        "UnrecognizedClientException",
    )
    .await;
    refused(
        q(&local::client_with(&local, SECRET, Some("other-token"))).auth_mode(M::Iam),
        403,
        "UnrecognizedClientException",
    )
    .await;

    // The body altered after signing.
    let client = local::client(&local);
    let req = q(&client)
        .auth_mode(M::Iam)
        .into_http_request()
        .await
        .unwrap();
    let (parts, body) = req.into_parts();
    let mut tampered = body.to_vec();
    let i = tampered.iter().position(|b| *b == b'x').unwrap();
    tampered[i] = b'y';
    let http = reqwest::Client::new();
    let send = |body: Vec<u8>| {
        let mut r = http.post(local.graphql_url()).body(body);
        for (k, v) in parts.headers.iter() {
            r = r.header(k, v);
        }
        r.send()
    };
    let resp = send(tampered).await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "InvalidSignatureException"
    );
    assert!(
        resp.headers().contains_key("date"),
        "403s carry the server's Date for skew"
    );
    // The same request untouched passes: the tampering is what was refused.
    let resp = send(body.to_vec()).await.unwrap();
    assert_eq!(resp.status(), 200);
}

/// A request with `x-h: a<TAB>b`, signed the way botocore canonicalises it (`x-h:a b`; the
/// canonical request is written out here, not built by the verifier), is served.
#[tokio::test]
async fn a_tab_in_a_signed_header_is_canonicalised_as_botocore_does() {
    let local = local::start().await;
    let host = local.addr().to_string();
    let date = appsync_local::sigv4::amz_date(std::time::SystemTime::now());
    let body = r#"{"query":"{ listNotes { nextToken } }"}"#;
    let body_hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(body.as_bytes()))
    };
    let signed = "content-type;host;x-amz-date;x-amz-security-token;x-h";
    let creq = format!(
        "POST\n/graphql\n\ncontent-type:application/json\nhost:{host}\nx-amz-date:{date}\n\
         x-amz-security-token:{}\nx-h:a b\n\n{signed}\n{body_hash}",
        local::SESSION
    );
    let sig = appsync_local::sigv4::sign(SECRET, &date, local.region(), "appsync", &creq);
    let send = |x_h: &'static str, sig: &str| {
        reqwest::Client::new()
            .post(local.graphql_url())
            .header("content-type", "application/json")
            .header("x-amz-date", &date)
            .header("x-amz-security-token", local::SESSION)
            .header("x-h", x_h)
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential={}/{}/{}/appsync/aws4_request, \
                     SignedHeaders={signed}, Signature={sig}",
                    local::AKID,
                    &date[..8],
                    local.region()
                ),
            )
            .body(body)
            .send()
    };
    let resp = send("a\tb", &sig).await.unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let resp = send("a \t  b ", &sig).await.unwrap();
    assert_eq!(resp.status(), 200, "any run of blanks is one space");
    let resp = send("a\tc", &sig).await.unwrap();
    assert_eq!(resp.status(), 403, "the value is still covered");
}

#[tokio::test]
async fn a_session_token_on_a_long_term_key_is_refused() {
    // The server knows the key as long-term (no session token).
    let local = local::start_with(|b| {
        b.iam_credentials("AKIDLONGTERM", SECRET, None)
            .region("us-east-1")
    })
    .await;
    let client_for = |session: Option<&str>| {
        let config = Config::from_json(&local.amplify_outputs()).unwrap();
        Client::builder()
            .config(config)
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIDLONGTERM",
                SECRET,
                session.map(str::to_owned),
                None,
                "test",
            ))
            .build()
            .unwrap()
    };
    let m = refused(
        q(&client_for(Some("any-token"))).auth_mode(M::Iam),
        403,
        "UnrecognizedClientException",
    )
    .await;
    assert!(
        m.contains("The security token included in the request is invalid"),
        "{m}"
    );
    q(&client_for(None)).auth_mode(M::Iam).send().await.unwrap();
}

/// An authorizer that counts its calls: allows tokens starting with `ok`, answers with the
/// `ttlOverride` the token names after `ttl=` (in seconds), if any.
fn counting_authorizer(
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> impl Fn(appsync_local::LambdaAuthRequest) -> std::future::Ready<appsync_local::LambdaAuthResponse>
       + Send
       + Sync
       + 'static {
    move |req| {
        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let t = req.authorization_token;
        let mut r = if t.starts_with("ok") {
            appsync_local::LambdaAuthResponse::allow()
        } else {
            appsync_local::LambdaAuthResponse::deny()
        };
        if let Some(secs) = t.split_once("ttl=").and_then(|(_, n)| n.parse().ok()) {
            r = r.ttl_override(std::time::Duration::from_secs(secs));
        }
        std::future::ready(r)
    }
}

async fn lambda_server(
    configure: impl FnOnce(appsync_local::LocalAppSyncBuilder) -> appsync_local::LocalAppSyncBuilder,
) -> (
    LocalAppSync,
    Client,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let b = LocalAppSync::builder()
        .schema("type Query { hello: String }")
        .default_auth_mode(AuthMode::Lambda)
        .lambda_authorizer(counting_authorizer(calls.clone()))
        .resolver("Query", "hello", |_| async { Ok(json!("hi")) });
    let local = configure(b).start().await.unwrap();
    let client = Client::builder()
        .config(Config::from_json(&local.amplify_outputs()).unwrap())
        .build()
        .unwrap();
    (local, client, calls)
}

/// Sends `{ hello }` with this Lambda token; `Ok` when served, else the HTTP status.
async fn hello(client: &Client, token: &str) -> Result<(), u16> {
    match client
        .graphql(GraphQLRequest::new("{ hello }"))
        .auth_mode(M::Lambda)
        .auth_token(token.to_owned())
        .send()
        .await
    {
        Ok(r) => {
            assert_eq!(r.data, Some(json!({"hello": "hi"})), "{:?}", r.errors);
            Ok(())
        }
        Err(e) => Err(e.status_code().map_or(0, |s| s.as_u16())),
    }
}

#[tokio::test]
async fn the_identity_validation_expression_is_checked_before_the_authorizer() {
    use std::sync::atomic::Ordering::SeqCst;
    let (_local, client, calls) =
        lambda_server(|b| b.lambda_identity_validation_expression("[a-z]+-[0-9]+")).await;
    hello(&client, "ok-1").await.unwrap();
    assert_eq!(calls.load(SeqCst), 1);
    // The whole token must match: a matching part is not enough.
    for bad in ["ok", "ok-1 ok-2", "OK-1", "ok-1!", "Bearer ok-1"] {
        assert_eq!(hello(&client, bad).await, Err(401), "{bad}");
    }
    assert_eq!(calls.load(SeqCst), 1, "the authorizer was not called");
    // A token that matches goes to the authorizer, which still decides.
    assert_eq!(hello(&client, "nope-1").await, Err(401));
    assert_eq!(calls.load(SeqCst), 2);

    let bad = LocalAppSync::builder()
        .schema("type Query { hello: String }")
        .default_auth_mode(AuthMode::Lambda)
        .lambda_authorizer(|_| async { appsync_local::LambdaAuthResponse::allow() })
        .lambda_identity_validation_expression("(unclosed")
        .lambda_authorizer_result_ttl(std::time::Duration::from_secs(3601))
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(bad.contains("not a valid regex"), "{bad}");
    assert!(bad.contains("at most 3600 s"), "{bad}");
}

#[tokio::test]
async fn authorizer_answers_are_cached_by_token_for_their_ttl() {
    use std::sync::atomic::Ordering::SeqCst;
    // No default TTL: every request calls the authorizer, unless the answer says otherwise.
    let (_local, client, calls) = lambda_server(|b| b).await;
    for _ in 0..3 {
        hello(&client, "ok").await.unwrap();
    }
    assert_eq!(calls.load(SeqCst), 3);
    for _ in 0..3 {
        hello(&client, "ok-ttl=300").await.unwrap();
    }
    assert_eq!(
        calls.load(SeqCst),
        4,
        "ttlOverride: cached after the first call"
    );
    hello(&client, "ok-other-ttl=300").await.unwrap();
    assert_eq!(calls.load(SeqCst), 5, "keyed by token");
    // A denial is an answer too, and is cached the same way.
    assert_eq!(hello(&client, "no-ttl=300").await, Err(401));
    assert_eq!(hello(&client, "no-ttl=300").await, Err(401));
    assert_eq!(calls.load(SeqCst), 6);

    // A default TTL caches every answer; ttlOverride 0 opts one out.
    let (_local, client, calls) =
        lambda_server(|b| b.lambda_authorizer_result_ttl(std::time::Duration::from_secs(300)))
            .await;
    for _ in 0..3 {
        hello(&client, "ok").await.unwrap();
    }
    assert_eq!(calls.load(SeqCst), 1);
    for _ in 0..3 {
        hello(&client, "ok-ttl=0").await.unwrap();
    }
    assert_eq!(calls.load(SeqCst), 4);
}

#[tokio::test]
async fn the_lambda_authorizer_decides_and_denies_fields() {
    let local = local::start().await;
    let client = local::client(&local);
    create(&client, M::Iam, "n1").await;
    refused(
        q(&client).auth_mode(M::Lambda).auth_token("nope"),
        401,
        "UnauthorizedException",
    )
    .await;
    let doc = GraphQLRequest::new("{ getNote(id: \"n1\") { id privateNotes } }");
    let r = client
        .graphql(doc.clone())
        .auth_mode(M::Lambda)
        .auth_token("no-private")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.data,
        Some(json!({"getNote": {"id": "n1", "privateNotes": null}}))
    );
    assert!(r.has_error_type("Unauthorized"));
    // "allow" has no denied fields, but privateNotes is still not open to Lambda by directive.
    let r = client
        .graphql(doc)
        .auth_mode(M::Lambda)
        .send()
        .await
        .unwrap();
    assert!(r.has_error_type("Unauthorized"));
}

#[tokio::test]
async fn no_credentials_at_all_is_a_401() {
    let local = local::start().await;
    let resp = reqwest::Client::new()
        .post(local.graphql_url())
        .body(r#"{"query":"{ listNotes { nextToken } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["x-amzn-errortype"], "UnauthorizedException");
    let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(body["errors"][0]["errorType"], "UnauthorizedException");
}

#[tokio::test]
async fn field_directives_replace_type_directives_and_denials_have_appsyncs_shape() {
    let local = local::start().await;
    let client = local::client(&local);
    client
        .graphql(
            GraphQLRequest::new(CREATE.replace("owner }", "owner privateNotes }"))
                .variables(json!({"input": {"id": "p", "content": "c", "privateNotes": "s"}})),
        )
        .auth_mode(M::Iam)
        .send()
        .await
        .unwrap();
    let doc = "query { getNote(id: \"p\") { id privateNotes } }";
    for (mode, readable) in [
        (M::ApiKey, false),
        (M::Oidc, false),
        (M::Iam, true),
        (M::UserPools, true),
    ] {
        let r = client
            .graphql(GraphQLRequest::new(doc))
            .auth_mode(mode)
            .send()
            .await
            .unwrap();
        let private = &r.data.as_ref().unwrap()["getNote"]["privateNotes"];
        assert_eq!(private == "s", readable, "{mode}: {r:?}");
        if !readable {
            // The exact body, as sent (not round-tripped through the client's types).
            let req = client
                .graphql(GraphQLRequest::new(doc))
                .auth_mode(mode)
                .into_http_request()
                .await
                .unwrap();
            let (parts, body) = req.into_parts();
            let mut raw = reqwest::Client::new()
                .post(local.graphql_url())
                .body(body.to_vec());
            for (k, v) in parts.headers.iter() {
                raw = raw.header(k, v);
            }
            let full: Value =
                serde_json::from_slice(&raw.send().await.unwrap().bytes().await.unwrap()).unwrap();
            assert_eq!(
                full["data"],
                json!({"getNote": {"id": "p", "privateNotes": null}})
            );
            let body = full["errors"][0].clone();
            assert_eq!(
                body,
                json!({
                    "path": ["getNote", "privateNotes"], "data": null, "errorType": "Unauthorized", "errorInfo": null,
                    "locations": [{"line": 1, "column": 31, "sourceName": null}],
                    "message": "Not Authorized to access privateNotes on type Note"
                }),
                "{mode}"
            );
        }
    }
    // A root field the mode may not reach: null data and the error, nothing created.
    let r = client
        .graphql(
            GraphQLRequest::new(CREATE).variables(json!({"input": {"id": "k", "content": "c"}})),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.data, Some(json!({"createNote": null})));
    assert_eq!(
        r.errors[0].message,
        "Not Authorized to access createNote on type Mutation"
    );
    assert!(local.store().get("Note", "k").is_none());
}

#[tokio::test]
async fn default_mode_only_without_directives_nested_types_and_groups() {
    let sdl = r#"
        type Post @aws_api_key { id: ID! author: Author }
        type Author { name: String }
        type Query {
          getPost(id: ID!): Post @aws_api_key @aws_cognito_user_pools
          open: String
          admins: String @aws_cognito_user_pools(cognito_groups: ["admins"])
        }
    "#;
    let local = LocalAppSync::builder()
        .schema(sdl)
        .default_auth_mode(AuthMode::UserPools)
        .additional_auth_modes([AuthMode::ApiKey])
        .user_pool(local::POOL, CLIENT_ID)
        .api_key(API_KEY)
        .resolver("Query", "getPost", |_| async {
            Ok(json!({"id": "1", "author": {"name": "ann"}}))
        })
        .resolver("Query", "open", |_| async { Ok(json!("open")) })
        .resolver("Query", "admins", |r| async move {
            Ok(json!(format!(
                "hello {}",
                r.identity.claims.unwrap()["username"].as_str().unwrap()
            )))
        })
        .start()
        .await
        .unwrap();
    let config = Config::builder()
        .endpoint(
            appsync_client::config::EndpointConfig::graphql("api", local.graphql_url())
                .authorization_type(M::UserPools)
                .api_key(API_KEY),
        )
        .build()
        .unwrap();
    let user = Client::builder()
        .config(config.clone())
        .token_provider(
            M::UserPools,
            appsync_client::StaticToken::new(local.user_pool_token("ann").mint()),
        )
        .build()
        .unwrap();
    let admin = Client::builder()
        .config(config)
        .token_provider(
            M::UserPools,
            appsync_client::StaticToken::new(
                local.user_pool_token("root").groups(["admins"]).mint(),
            ),
        )
        .build()
        .unwrap();
    let doc = GraphQLRequest::new("{ getPost(id: \"1\") { id author { name } } open }");
    // API key: getPost resolves, Post.id too (type directive), but the nested Author has no
    // directive: default mode (user pools) only. `open` has none either.
    let r = user
        .graphql(doc.clone())
        .auth_mode(M::ApiKey)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.data,
        Some(json!({"getPost": {"id": "1", "author": {"name": null}}, "open": null}))
    );
    let denied: Vec<&str> = r.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        denied,
        [
            "Not Authorized to access name on type Author",
            "Not Authorized to access open on type Query"
        ]
    );
    // User pools: Post is API-key-only by its type directive (exclusive), so the non-null
    // `Post.id` is denied and its null propagates to the nullable `getPost`; `open` is default.
    let r = user.graphql(doc).send().await.unwrap();
    assert_eq!(r.data, Some(json!({"getPost": null, "open": "open"})));
    let paths: Vec<_> = r
        .errors
        .iter()
        .map(|e| serde_json::to_value(&e.path).unwrap())
        .collect();
    assert_eq!(
        paths,
        [json!(["getPost", "id"]), json!(["getPost", "author"])],
        "{:?}",
        r.errors
    );
    // Groups.
    let admins = GraphQLRequest::new("{ admins }");
    let r = user.graphql(admins.clone()).send().await.unwrap();
    assert!(r.has_error_type("Unauthorized"));
    let r = admin.graphql(admins).send().await.unwrap();
    assert_eq!(r.data, Some(json!({"admins": "hello root"})));
}

#[tokio::test]
async fn request_errors_have_appsyncs_shapes() {
    let local = local::start().await;
    let http = reqwest::Client::new();
    for (body, message) in [
        ("", "Request body is empty."),
        ("not json", "Unable to parse GraphQL query."),
        ("{}", "Unable to parse GraphQL query."),
    ] {
        let resp = http
            .post(local.graphql_url())
            .header("x-api-key", API_KEY)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        assert_eq!(
            v,
            json!({"errors": [{"errorType": "MalformedHttpRequestException", "message": message}]})
        );
    }
    let client = local::client(&local);
    let r = client
        .graphql(GraphQLRequest::new("{ listNotes { "))
        .send()
        .await
        .unwrap();
    assert!(
        r.errors[0]
            .message
            .starts_with("Validation error of type InvalidSyntax"),
        "{:?}",
        r.errors
    );
    assert_eq!(r.data, None);
    let r = client
        .graphql(GraphQLRequest::new("{ nope }"))
        .send()
        .await
        .unwrap();
    assert!(
        r.errors[0].error_type.is_none() && r.errors[0].path.is_none(),
        "{:?}",
        r.errors
    );
    assert!(r.errors[0].message.contains("nope"), "{:?}", r.errors);
}

/// A server for `sdl` whose `Query.echo` answers with its arguments, and an API-key client.
async fn echo_server(sdl: &str) -> (LocalAppSync, Client) {
    let local = LocalAppSync::builder()
        .schema(sdl)
        .api_key(API_KEY)
        .resolver("Query", "echo", |r| async move {
            Ok(json!(r.arguments.to_string()))
        })
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .config(Config::from_json(&local.amplify_outputs()).unwrap())
        .build()
        .unwrap();
    (local, client)
}

#[tokio::test]
async fn aws_scalars_are_validated() {
    let sdl = "type Query { echo(at: AWSDateTime, j: AWSJSON, ts: AWSTimestamp): String }";
    let (_local, client) = echo_server(sdl).await;
    let doc = "query E($at: AWSDateTime, $j: AWSJSON, $ts: AWSTimestamp) { echo(at: $at, j: $j, ts: $ts) }";
    let ok = client
        .graphql(GraphQLRequest::new(doc).variables(
            json!({"at": "2024-01-02T03:04:05.678Z", "j": "{\"a\":1}", "ts": 1700000000}),
        ))
        .send()
        .await
        .unwrap();
    assert!(ok.errors.is_empty(), "{:?}", ok.errors);
    for bad in [
        json!({"at": "2024-01-02T03:04:05"}),
        json!({"j": "{a: 1}"}),
        json!({"ts": "1700000000"}),
    ] {
        let r = client
            .graphql(GraphQLRequest::new(doc).variables(bad.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.errors.len(), 1, "{bad}: {:?}", r);
    }
}

#[tokio::test]
async fn default_resolvers_keep_an_in_memory_store() {
    let local = local::start().await;
    let client = local::client(&local);
    let made = create(&client, M::Iam, "a").await;
    assert_eq!(made["createNote"]["owner"], "alice");
    let auto = client
        .graphql(GraphQLRequest::new(
            "mutation { createNote(input: {content: \"x\"}) { id createdAt } }",
        ))
        .auth_mode(M::Iam)
        .send()
        .await
        .unwrap();
    let id = auto.data.unwrap()["createNote"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36);
    let upd = client
        .graphql(GraphQLRequest::new(
            "mutation { updateNote(input: {id: \"a\", content: \"new\"}) { id content owner } }",
        ))
        .auth_mode(M::Iam)
        .send()
        .await
        .unwrap();
    assert_eq!(
        upd.data,
        Some(json!({"updateNote": {"id": "a", "content": "new", "owner": "alice"}}))
    );
    let missing = client
        .graphql(GraphQLRequest::new(
            "mutation { updateNote(input: {id: \"zz\", content: \"n\"}) { id } }",
        ))
        .auth_mode(M::Iam)
        .send()
        .await
        .unwrap();
    assert_eq!(
        missing.errors[0].error_type.as_deref(),
        Some("DynamoDB:ConditionalCheckFailedException")
    );
    let del = client
        .graphql(GraphQLRequest::new(
            "mutation { deleteNote(input: {id: \"a\"}) { id } }",
        ))
        .auth_mode(M::Iam)
        .send()
        .await
        .unwrap();
    assert_eq!(del.data, Some(json!({"deleteNote": {"id": "a"}})));
    assert!(local.store().get("Note", "a").is_none());
    assert!(local.store().get("Note", &id).is_some());
}

#[tokio::test]
async fn resolver_errors_carry_util_error_fields() {
    let local = LocalAppSync::builder()
        .schema("type Query { boom: String }")
        .api_key(API_KEY)
        .resolver("Query", "boom", |_| async {
            Err(ResolverError::new("it broke")
                .error_type("Custom:Boom")
                .data(json!({"x": 1}))
                .error_info(json!({"why": "test"})))
        })
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .config(Config::from_json(&local.amplify_outputs()).unwrap())
        .build()
        .unwrap();
    let r = client
        .graphql(GraphQLRequest::new("{ boom }"))
        .send()
        .await
        .unwrap();
    let e = &r.errors[0];
    assert_eq!(
        (e.message.as_str(), e.error_type.as_deref()),
        ("it broke", Some("Custom:Boom"))
    );
    assert_eq!(e.data, Some(json!({"x": 1})));
    assert_eq!(e.error_info, Some(json!({"why": "test"})));
}

#[tokio::test]
async fn injected_http_failures_are_retried_by_the_client() {
    let local = local::start().await;
    let client = Client::builder()
        .config(Config::from_json(&local.amplify_outputs()).unwrap())
        .retry_policy(RetryPolicy::default().base_delay(std::time::Duration::from_millis(1)))
        .build()
        .unwrap();
    local.faults().fail_next_requests(2, 503);
    client
        .graphql(GraphQLRequest::new("{ listNotes { nextToken } }"))
        .send()
        .await
        .unwrap();
    local.faults().fail_next_requests(1, 429);
    let e = client
        .graphql(GraphQLRequest::new(
            "mutation { createNote(input: {content: \"x\"}) { id } }",
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status_code().map(|s| s.as_u16()), Some(429));
}

#[tokio::test]
async fn written_configs_load_in_the_client() {
    let local = local::start().await;
    let gen2 = Config::from_json(&local.amplify_outputs()).unwrap();
    let e = gen2.endpoint("data").unwrap();
    assert_eq!(e.authorization_type(), M::ApiKey);
    assert_eq!(e.enabled_modes().unwrap().len(), 5);
    let gen1 = Config::from_json(&local.amplify_configuration("notes")).unwrap();
    let names: Vec<&str> = gen1.endpoints().iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        [
            "notes",
            "notes_AMAZON_COGNITO_USER_POOLS",
            "notes_AWS_IAM",
            "notes_AWS_LAMBDA",
            "notes_OPENID_CONNECT"
        ]
    );
    assert_eq!(
        gen1.default_endpoint(appsync_client::EndpointType::GraphQL),
        Some("notes")
    );
    let client = Client::builder()
        .config(gen1)
        .token_provider(
            M::Oidc,
            appsync_client::StaticToken::new(local.oidc_token("o").mint()),
        )
        .build()
        .unwrap();
    client
        .graphql(GraphQLRequest::new("{ listNotes { nextToken } }"))
        .api_name("notes_OPENID_CONNECT")
        .send()
        .await
        .unwrap();
}

/// Multi-byte characters anywhere in a date or time (variables and literals) get AppSync's
/// validation error, never a dropped connection (a panicking handler).
#[tokio::test]
async fn multi_byte_dates_and_times_are_validation_errors() {
    let sdl = "input W { when: [AWSDate!] }
               type Query { echo(d: AWSDate, t: AWSTime, at: AWSDateTime, w: W): String }";
    let (_local, client) = echo_server(sdl).await;
    let doc = "query E($d: AWSDate, $t: AWSTime, $at: AWSDateTime) { echo(d: $d, t: $t, at: $at) }";
    let what: std::collections::HashMap<_, _> =
        [("d", "date"), ("t", "time"), ("at", "DateTime Object")].into();
    let ty: std::collections::HashMap<_, _> =
        [("d", "AWSDate"), ("t", "AWSTime"), ("at", "AWSDateTime")].into();
    for (var, value) in [
        ("d", "2020-01-0é"),
        ("d", "2020-01-01-0é:00"),
        ("d", "é"),
        ("d", "😀2020-01-01"),
        ("t", "１２:００"),
        ("t", "12:00:00.1😀"),
        ("at", "2020-01-01T12:00:00+0😀:00"),
        ("at", "2020-01-01T12:00:00é"),
    ] {
        let r = client
            .graphql(GraphQLRequest::new(doc).variables(json!({ var: value })))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{var}={value:?}: {e}"));
        assert_eq!(r.data, None, "{var}={value:?}");
        assert_eq!(r.errors.len(), 1, "{var}={value:?}: {:?}", r.errors);
        let m = &r.errors[0].message;
        assert!(
            m == &format!(
                "Variable '{var}' has an invalid value. Unable to parse `{value}` as a valid {}.",
                what[var]
            ),
            "{var}={value:?}: {m}"
        );
        let literal = format!("{{ echo({var}: {}) }}", json!(value));
        let r = client
            .graphql(GraphQLRequest::new(literal.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{literal}: {e}"));
        assert_eq!(r.errors.len(), 1, "{literal}: {:?}", r.errors);
        assert!(
            r.errors[0].message
                == format!(
                    "Validation error of type WrongType: argument '{var}' is not a valid '{}'",
                    ty[var]
                ),
            "{literal}: {:?}",
            r.errors
        );
    }
    // Inside an input object and a list, AppSync names the innermost field.
    let r = client
        .graphql(
            GraphQLRequest::new("query E($w: W) { echo(w: $w) }")
                .variables(json!({"w": {"when": ["2020-01-01", "2020-0😀-01"]}})),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.errors[0].message,
        "Variable 'when' has an invalid value. Unable to parse `2020-0😀-01` as a valid date."
    );
    assert_eq!(
        r.errors[0]
            .locations
            .as_ref()
            .map(|l| (l[0].line, l[0].column)),
        Some((1, 9))
    );
}

/// Auth directives on a union and an interface are accepted (AppSync deploys them) and grant
/// nothing by themselves: each field is checked on the object type the value has.
#[tokio::test]
async fn union_and_interface_members_are_checked_by_their_own_rules() {
    let sdl = r#"
        type Query {
          feed: [Item!]! @aws_api_key @aws_iam
          node(id: ID!): Node @aws_api_key @aws_iam
        }
        union Item @aws_api_key @aws_iam = Liked | Retweeted
        interface Node @aws_api_key @aws_iam { id: ID! }
        type Liked implements Node @aws_api_key @aws_iam { id: ID! by: String }
        type Retweeted implements Node @aws_iam { id: ID! retweetId: String }
    "#;
    let local = local::start_with(|b| {
        b.schema(sdl)
            .resolver("Query", "feed", |_| async {
                Ok(json!([
                    {"__typename": "Liked", "id": "l1", "by": "u1"},
                    {"__typename": "Retweeted", "id": "r1", "retweetId": "t1"}
                ]))
            })
            .resolver("Query", "node", |r| async move {
                Ok(match r.arguments["id"].as_str() {
                    Some("l1") => json!({"__typename": "Liked", "id": "l1"}),
                    _ => json!({"__typename": "Retweeted", "id": "r1"}),
                })
            })
    })
    .await;
    let client = local::client(&local);
    let feed = GraphQLRequest::new(
        "{ feed { __typename ... on Liked { by } ... on Retweeted { retweetId } } }",
    );
    let r = client
        .graphql(feed.clone())
        .auth_mode(M::Iam)
        .send()
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    // The union allows API keys, `Retweeted` does not: its field is denied.
    let r = client
        .graphql(feed)
        .auth_mode(M::ApiKey)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.data,
        Some(json!({"feed": [
            {"__typename": "Liked", "by": "u1"},
            {"__typename": "Retweeted", "retweetId": null}
        ]}))
    );
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(
        r.errors[0].message,
        "Not Authorized to access retweetId on type Retweeted"
    );
    assert_eq!(r.errors[0].error_type.as_deref(), Some("Unauthorized"));
    // Through the interface the same: `id` is read on the object type.
    let node = |id: &str| {
        client
            .graphql(
                GraphQLRequest::new("query N($id: ID!) { node(id: $id) { id } }")
                    .variables(json!({"id": id})),
            )
            .auth_mode(M::ApiKey)
    };
    let r = node("l1").send().await.unwrap();
    assert_eq!(
        r.data,
        Some(json!({"node": {"id": "l1"}})),
        "{:?}",
        r.errors
    );
    let r = node("r1").send().await.unwrap();
    assert_eq!(r.data, Some(json!({"node": null})));
    assert!(r.has_error_type("Unauthorized"), "{:?}", r.errors);
}

/// The AppSync Masterclass schema (directives on a union and an interface) is served.
#[tokio::test]
async fn a_deployed_schema_with_directives_on_unions_and_interfaces_starts() {
    let sdl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../codegen/tests/corpus/appsyncmasterclass/schema.graphql"
    ))
    .unwrap();
    LocalAppSync::builder()
        .schema(sdl)
        .default_auth_mode(AuthMode::UserPools)
        .additional_auth_modes([AuthMode::Iam])
        .user_pool("us-east-1_mc", "client")
        .iam_credentials("AKID", "secret", None)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}
