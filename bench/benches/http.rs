//! Criterion benchmark of the client's per-call work (no network) next to hand-written baselines.
//!
//! Each pair is measured side by side: `<group>/client` runs the client's pipeline
//! (`into_http_request`: endpoint choice, headers, API key or SigV4, then
//! `reqwest::Request::try_from`, and/or `Response::from_slice`), `<group>/baseline` does the same
//! work by hand. Run with
//! `cargo bench -p appsync-bench --bench http -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use appsync_client::{AuthMode, Client, Config, EndpointConfig, GraphQLRequest, Response};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::runtime::Runtime;

const URL: &str = "https://abcdefghijklmnopqrstuvwxyz.appsync-api.us-east-1.amazonaws.com/graphql";
const HOST: &str = "abcdefghijklmnopqrstuvwxyz.appsync-api.us-east-1.amazonaws.com";
const REGION: &str = "us-east-1";
const API_KEY: &str = "da2-abcdefghijklmnopqrstuvwxyz";
const DOC: &str = "query ListNotes($owner: ID!, $limit: Int, $nextToken: String) {
  listNotes(filter: {owner: {eq: $owner}}, limit: $limit, nextToken: $nextToken) {
    items { id content createdAt }
    nextToken
  }
}";

/// The variables of each call, built per call on both sides (a caller builds them anyway).
fn variables() -> Value {
    json!({"owner": "user-0123456789", "limit": 10, "nextToken": null})
}

/// A canned AppSync answer: ten notes and a `nextToken`, about 1 KB.
fn response_body() -> Bytes {
    let items: Vec<Value> = (0..10)
        .map(|i| {
            json!({
                "id": format!("3f1c2a9e-5b7d-4e8a-9c0f-6d2b8a4e1c{i:02}"),
                "content": format!("Note {i}: buy milk and eggs"),
                "createdAt": format!("2024-05-{:02}T12:34:56.789Z", i + 1),
            })
        })
        .collect();
    let body =
        json!({"data": {"listNotes": {"items": items, "nextToken": "eyJ2ZXJzaW9uIjoyfQ=="}}});
    serde_json::to_vec(&body).unwrap().into()
}

/// The typed data of `ListNotes`.
#[derive(Debug, Deserialize)]
struct ListNotesData {
    #[serde(rename = "listNotes")]
    list_notes: NoteConnection,
}

#[derive(Debug, Deserialize)]
struct NoteConnection {
    items: Vec<Note>,
    #[serde(rename = "nextToken")]
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Note {
    id: String,
    content: String,
    #[serde(rename = "createdAt")]
    created_at: String,
}

/// The baseline's GraphQL envelope for typed data.
#[derive(Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Option<Vec<Value>>,
}

/// The baseline's request body, borrowing its parts.
#[derive(Serialize)]
struct Body<'a> {
    query: &'a str,
    variables: &'a Value,
}

fn credentials() -> Credentials {
    Credentials::new(
        "ASIAEXAMPLEEXAMPLE00",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".to_owned()),
        Some(SystemTime::now() + Duration::from_secs(12 * 3600)),
        "bench",
    )
}

fn client(rt: &Runtime) -> Client {
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("notes", URL)
                .region(REGION)
                .authorization_type(AuthMode::ApiKey)
                .api_key(API_KEY)
                .additional_auth_modes([AuthMode::Iam]),
        )
        .build()
        .unwrap();
    let _guard = rt.enter();
    Client::builder()
        .config(config)
        .credentials_provider(credentials())
        .build()
        .unwrap()
}

// ---- client side ----

async fn client_request(client: &Client, mode: AuthMode) -> reqwest::Request {
    let req = client
        .graphql(GraphQLRequest::new(DOC).variables(variables()))
        .auth_mode(mode)
        .into_http_request()
        .await
        .unwrap();
    reqwest::Request::try_from(req).unwrap()
}

fn client_decode_value(body: &[u8]) -> Response<Value> {
    Response::<Value>::from_slice(body).unwrap()
}

fn client_decode_typed(body: &[u8]) -> Response<ListNotesData> {
    Response::<ListNotesData>::from_slice(body).unwrap()
}

// ---- baseline ----

fn baseline_http(extra: Option<(&'static str, &'static str)>) -> http::Request<Bytes> {
    let vars = variables();
    let body = serde_json::to_vec(&Body {
        query: DOC,
        variables: &vars,
    })
    .unwrap();
    let mut builder = http::Request::builder()
        .method(http::Method::POST)
        .uri(URL)
        .header(http::header::HOST, HOST)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json")
        // The client names itself (`appsync-rs/<version>`); the baseline sends as much.
        .header(http::header::USER_AGENT, "appsync-rs/0.1.0");
    if let Some((n, v)) = extra {
        builder = builder.header(n, v);
    }
    builder.body(Bytes::from(body)).unwrap()
}

fn baseline_api_key() -> reqwest::Request {
    let req = baseline_http(Some(("x-api-key", API_KEY)));
    reqwest::Request::try_from(req).unwrap()
}

fn baseline_iam(creds: &Credentials) -> reqwest::Request {
    let mut req = baseline_http(None);
    let identity: Identity = creds.clone().into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("appsync")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().unwrap()));
    let signable =
        SignableRequest::new("POST", URL, headers, SignableBody::Bytes(req.body())).unwrap();
    let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut req);
    reqwest::Request::try_from(req).unwrap()
}

fn baseline_decode_value(body: &[u8]) -> Value {
    serde_json::from_slice::<Value>(body).unwrap()
}

fn baseline_decode_typed(body: &[u8]) -> Envelope<ListNotesData> {
    serde_json::from_slice::<Envelope<ListNotesData>>(body).unwrap()
}

// ---- checks that both sides do the same work ----

fn header_names(req: &reqwest::Request) -> Vec<String> {
    let mut names: Vec<String> = req.headers().keys().map(|n| n.to_string()).collect();
    names.sort();
    names
}

fn check_equivalent(rt: &Runtime, client: &Client, creds: &Credentials, body: &[u8]) {
    assert!(
        (900..1400).contains(&body.len()),
        "body is {} bytes",
        body.len()
    );
    for mode in [AuthMode::ApiKey, AuthMode::Iam] {
        let ours = rt.block_on(client_request(client, mode));
        let theirs = match mode {
            AuthMode::ApiKey => baseline_api_key(),
            _ => baseline_iam(creds),
        };
        assert_eq!(ours.method(), theirs.method());
        assert_eq!(ours.url(), theirs.url());
        assert_eq!(header_names(&ours), header_names(&theirs), "{mode}");
        let bytes = |r: &reqwest::Request| r.body().and_then(|b| b.as_bytes()).map(<[u8]>::to_vec);
        assert_eq!(bytes(&ours), bytes(&theirs), "{mode}");
    }
    let ours = client_decode_value(body);
    let theirs = baseline_decode_value(body);
    assert!(ours.errors.is_empty());
    assert_eq!(ours.data.as_ref(), theirs.get("data"));
    let ours = client_decode_typed(body).data.unwrap().list_notes;
    let theirs = baseline_decode_typed(body);
    assert!(theirs.errors.is_none());
    let theirs = theirs.data.unwrap().list_notes;
    assert_eq!(ours.items.len(), 10);
    assert_eq!(ours.next_token, theirs.next_token);
    for (a, b) in ours.items.iter().zip(&theirs.items) {
        assert_eq!(
            (&a.id, &a.content, &a.created_at),
            (&b.id, &b.content, &b.created_at)
        );
    }
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = client(&rt);
    let creds = credentials();
    let body = response_body();
    check_equivalent(&rt, &client, &creds, &body);
    let (client, creds, body) = (&client, &creds, &body[..]);

    let mut g = c.benchmark_group("api_key");
    g.bench_function("client", |b| {
        b.to_async(&rt)
            .iter(|| async move { client_request(client, AuthMode::ApiKey).await })
    });
    g.bench_function("baseline", |b| {
        b.to_async(&rt).iter(|| async move { baseline_api_key() })
    });
    g.finish();

    let mut g = c.benchmark_group("iam");
    g.bench_function("client", |b| {
        b.to_async(&rt)
            .iter(|| async move { client_request(client, AuthMode::Iam).await })
    });
    g.bench_function("baseline", |b| {
        b.to_async(&rt).iter(|| async move { baseline_iam(creds) })
    });
    g.finish();

    let mut g = c.benchmark_group("decode_value");
    g.bench_function("client", |b| {
        b.iter(|| client_decode_value(black_box(body)))
    });
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_decode_value(black_box(body)))
    });
    g.finish();

    let mut g = c.benchmark_group("decode_typed");
    g.bench_function("client", |b| {
        b.iter(|| client_decode_typed(black_box(body)))
    });
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_decode_typed(black_box(body)))
    });
    g.finish();

    let mut g = c.benchmark_group("api_key_full");
    g.bench_function("client", |b| {
        b.to_async(&rt).iter(|| async move {
            let req = client_request(client, AuthMode::ApiKey).await;
            (req, client_decode_value(black_box(body)))
        })
    });
    g.bench_function("baseline", |b| {
        b.to_async(&rt).iter(|| async move {
            let req = baseline_api_key();
            (req, baseline_decode_value(black_box(body)))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("iam_full");
    g.bench_function("client", |b| {
        b.to_async(&rt).iter(|| async move {
            let req = client_request(client, AuthMode::Iam).await;
            (req, client_decode_value(black_box(body)))
        })
    });
    g.bench_function("baseline", |b| {
        b.to_async(&rt).iter(|| async move {
            let req = baseline_iam(creds);
            (req, baseline_decode_value(black_box(body)))
        })
    });
    g.finish();
}

criterion_group!(http_benches, benches);
criterion_main!(http_benches);
