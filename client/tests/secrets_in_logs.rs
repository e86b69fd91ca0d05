//! Nothing secret reaches the logs: with a `tracing` subscriber at TRACE and the `log` bridge
//! on (so reqwest's, hyper's and rustls' own `log` output is captured too), every auth mode
//! over HTTP (GraphQL and REST), over realtime (both handshake carriers) and AppSync Events
//! (publish over HTTP and the socket, subscribe), on TLS, prints
//! none of the API key, tokens, secret key or session token, raw, in hex, or as a handshake.
//!
//! The servers run on a thread of their own whose default subscriber drops everything: what
//! they log is theirs (appsync-local's WebSocket layer traces frames, which hold the client's
//! credentials), and this test is about the client.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use appsync_client::{
    AuthMode, Client, Config, EndpointConfig, GraphQLRequest, HandshakeMethod, RealtimeOptions,
    StaticToken, SubscriptionEvent, TokenKind,
};
use appsync_local::{AuthMode as LocalMode, EventApi, LambdaAuthResponse, LocalAppSync};
use aws_credential_types::Credentials;
use futures_util::StreamExt;
use serde_json::json;

mod support;
use support::server::{Reply, TestServer};

const API_KEY: &str = "da2-secretscanapikey0000000000";
const AKID: &str = "AKIDSECRETSCAN";
const SECRET: &str = "secret/scan/Secret+Access+Key0123456789";
const SESSION: &str = "secret-scan-session-token-FQoGZXIvYXdzEJr";
const LAMBDA_TOKEN: &str = "lambda-token-7c3f9a1e5b2d4c6a8e0f";
const POOL: &str = "us-east-1_secretscan";
const CLIENT_ID: &str = "secretscanclient";
const ISSUER: &str = "https://oidc.secretscan.test";
const WAIT: Duration = Duration::from_secs(20);

const ON_CREATE: &str = "subscription OnCreate { onCreateNote { id content owner } }";
const CREATE: &str =
    "mutation Create($input: CreateNoteInput!) { createNote(input: $input) { id content owner } }";
const LIST: &str = "query { listNotes { items { id } } }";

/// Everything the test process writes through `tracing` (and `log`, bridged).
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// What the servers' thread hands over.
struct Servers {
    graphql_url: String,
    events_url: String,
    rest_url: String,
    cert_pem: String,
    access_token: String,
    id_token: String,
    oidc_token: String,
    stop: tokio::sync::oneshot::Sender<()>,
}

/// appsync-local (TLS, every mode) and a REST stand-in, on a thread whose logs go nowhere.
fn start_servers() -> Servers {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _quiet = tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let schema = std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../schema/notes/schema.graphql"
            ))
            .unwrap();
            let local = LocalAppSync::builder()
                .schema(schema)
                .default_auth_mode(LocalMode::ApiKey)
                .additional_auth_modes([
                    LocalMode::UserPools,
                    LocalMode::Iam,
                    LocalMode::Oidc,
                    LocalMode::Lambda,
                ])
                .api_key(API_KEY)
                .user_pool(POOL, CLIENT_ID)
                .oidc_issuer(ISSUER, Some(CLIENT_ID.to_owned()))
                .iam_credentials(AKID, SECRET, Some(SESSION.to_owned()))
                .lambda_authorizer(|req| async move {
                    if req.authorization_token == LAMBDA_TOKEN {
                        LambdaAuthResponse::allow()
                    } else {
                        LambdaAuthResponse::deny()
                    }
                })
                .events({
                    let all = [
                        LocalMode::ApiKey,
                        LocalMode::UserPools,
                        LocalMode::Iam,
                        LocalMode::Oidc,
                        LocalMode::Lambda,
                    ];
                    EventApi::new()
                        .connection_auth_modes(all)
                        .default_publish_auth_modes(all)
                        .default_subscribe_auth_modes(all)
                        .namespace("default")
                })
                .tls(true)
                .start()
                .await
                .unwrap();
            let rest = TestServer::start(|_, _| Reply::json(200, json!({"ok": true}))).await;
            let (stop, stopped) = tokio::sync::oneshot::channel();
            tx.send(Servers {
                graphql_url: local.graphql_url(),
                events_url: local.events_url(),
                rest_url: rest.url("/prod"),
                cert_pem: local.tls_certificate_pem().unwrap().to_owned(),
                access_token: local.user_pool_token("alice").mint(),
                id_token: local.user_pool_token("alice").id_token().mint(),
                oidc_token: local.oidc_token("bob").mint(),
                stop,
            })
            .unwrap();
            let _ = stopped.await;
            drop(rest);
            local.shutdown().await;
        });
    });
    rx.recv().unwrap()
}

fn client(s: &Servers, handshake: HandshakeMethod) -> Client {
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("notes", &s.graphql_url)
                .authorization_type(AuthMode::ApiKey)
                .api_key(API_KEY)
                .region("us-east-1")
                .additional_auth_modes([
                    AuthMode::Iam,
                    AuthMode::UserPools,
                    AuthMode::Oidc,
                    AuthMode::Lambda,
                ]),
        )
        .endpoint(
            EndpointConfig::events("chat", &s.events_url)
                .authorization_type(AuthMode::ApiKey)
                .api_key(API_KEY)
                .region("us-east-1")
                .additional_auth_modes([
                    AuthMode::Iam,
                    AuthMode::UserPools,
                    AuthMode::Oidc,
                    AuthMode::Lambda,
                ]),
        )
        .endpoint(
            EndpointConfig::rest("items", &s.rest_url)
                .authorization_type(AuthMode::Iam)
                .api_key(API_KEY)
                .region("us-east-1"),
        )
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(s.cert_pem.as_bytes()).unwrap())
        .http1_only()
        .build()
        .unwrap();
    Client::builder()
        .config(config)
        .http_client(http)
        .credentials_provider(Credentials::new(
            AKID,
            SECRET,
            Some(SESSION.to_owned()),
            None,
            "test",
        ))
        .token_provider(
            AuthMode::UserPools,
            TwoTokens(s.access_token.clone(), s.id_token.clone()),
        )
        .token_provider(AuthMode::Oidc, StaticToken::new(s.oidc_token.clone()))
        .token_provider(AuthMode::Lambda, StaticToken::new(LAMBDA_TOKEN))
        .realtime(RealtimeOptions::new().handshake(handshake))
        .build()
        .unwrap()
}

/// The access token or the ID token, as asked.
struct TwoTokens(String, String);

impl appsync_client::TokenProvider for TwoTokens {
    fn token<'a>(
        &'a self,
        request: &'a appsync_client::TokenRequest,
    ) -> appsync_client::auth::token::BoxFuture<
        'a,
        Result<appsync_client::Token, appsync_client::BoxError>,
    > {
        let t = match request.kind {
            TokenKind::Id => self.1.clone(),
            _ => self.0.clone(),
        };
        Box::pin(async move { Ok(appsync_client::Token::new(t)) })
    }
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Every mode over HTTP: GraphQL queries and REST calls; NONE carries the key in a header.
async fn http_calls(client: &Client) {
    for mode in [
        AuthMode::ApiKey,
        AuthMode::Iam,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Lambda,
    ] {
        let r = within(
            "a query",
            client
                .graphql(GraphQLRequest::new(LIST))
                .auth_mode(mode)
                .send(),
        )
        .await
        .unwrap_or_else(|e| panic!("{mode}: {e:?}"));
        assert!(r.errors.is_empty(), "{mode}: {:?}", r.errors);
    }
    let r = within(
        "an ID-token query",
        client
            .graphql(GraphQLRequest::new(LIST))
            .auth_mode(AuthMode::UserPools)
            .token_kind(TokenKind::Id)
            .send(),
    )
    .await
    .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let r = within(
        "a NONE query",
        client
            .graphql(GraphQLRequest::new(LIST))
            .auth_mode(AuthMode::None)
            .header("x-api-key", API_KEY)
            .send(),
    )
    .await
    .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    for mode in [
        AuthMode::Iam,
        AuthMode::ApiKey,
        AuthMode::UserPools,
        AuthMode::Lambda,
    ] {
        let r = within(
            "a REST call",
            client
                .rest("items")
                .post("/items")
                .json(&json!({"a": 1}))
                .auth_mode(mode)
                .send(),
        )
        .await
        .unwrap_or_else(|e| panic!("REST {mode}: {e:?}"));
        assert_eq!(r.status(), 200);
    }
}

/// Every mode over realtime: subscribe, then receive the event of a mutation.
async fn realtime(client: &Client, tag: &str) {
    for (i, mode) in [
        AuthMode::ApiKey,
        AuthMode::Iam,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Lambda,
    ]
    .into_iter()
    .enumerate()
    {
        let mut sub = within(
            "start_ack",
            client
                .subscribe_graphql(GraphQLRequest::new(ON_CREATE))
                .auth_mode(mode)
                .start(),
        )
        .await
        .unwrap_or_else(|e| panic!("{mode}: {e:?}"));
        let id = format!("{tag}-{i}");
        let input = json!({"id": id, "content": "x"});
        let r = within(
            "the mutation",
            client
                .graphql(GraphQLRequest::new(CREATE).variables(json!({ "input": input })))
                .auth_mode(AuthMode::Iam)
                .send(),
        )
        .await
        .unwrap();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        within("the event", async {
            loop {
                match sub.next().await.unwrap().unwrap() {
                    SubscriptionEvent::Data(d)
                        if d.data.as_ref().unwrap()["onCreateNote"]["id"] == json!(id) =>
                    {
                        break
                    }
                    _ => {}
                }
            }
        })
        .await;
    }
}

/// AppSync Events in every mode: a subscription, a publish over HTTP and one over the socket.
async fn events(client: &Client, tag: &str) {
    let chat = client.events("chat");
    for mode in [
        AuthMode::ApiKey,
        AuthMode::Iam,
        AuthMode::UserPools,
        AuthMode::Oidc,
        AuthMode::Lambda,
    ] {
        let channel = format!("/default/{tag}-{}", mode.as_str().replace('_', "-"));
        let mut sub = within(
            "subscribe_success",
            chat.subscribe::<serde_json::Value>(channel.clone())
                .auth_mode(mode)
                .start(),
        )
        .await
        .unwrap_or_else(|e| panic!("{mode}: {e:?}"));
        within(
            "the HTTP publish",
            chat.publish(channel.clone(), [1]).auth_mode(mode).send(),
        )
        .await
        .unwrap_or_else(|e| panic!("{mode}: {e:?}"));
        within(
            "the socket publish",
            chat.publish(channel.clone(), [2])
                .auth_mode(mode)
                .over_socket()
                .send(),
        )
        .await
        .unwrap_or_else(|e| panic!("{mode}: {e:?}"));
        for want in [1, 2] {
            match within("an event", sub.next()).await.unwrap().unwrap() {
                appsync_client::ChannelEvent::Event(v) => assert_eq!(v, json!(want)),
                other => panic!("{other:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_logged_at_trace_by_the_client_or_the_libraries_under_it() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .try_init()
        .expect("the only subscriber of this test binary");
    let servers = start_servers();
    for (n, handshake) in [HandshakeMethod::Subprotocol, HandshakeMethod::Query]
        .into_iter()
        .enumerate()
    {
        let client = client(&servers, handshake);
        http_calls(&client).await;
        realtime(&client, &format!("scan{n}")).await;
        events(&client, &format!("scan{n}")).await;
        // Errors are printed too, in logs and by applications: a refused call and a refused
        // subscription, with the secrets in play.
        let e = client
            .graphql(GraphQLRequest::new(LIST))
            .auth_mode(AuthMode::ApiKey)
            .api_key("da2-wrongkeywrongkeywrongkey00")
            .send()
            .await
            .unwrap_err();
        tracing::error!(error = ?e, "the refused call");
        let e = client
            .subscribe_graphql(GraphQLRequest::new(ON_CREATE))
            .auth_mode(AuthMode::Oidc)
            .auth_token(format!("{}x", servers.oidc_token))
            .start()
            .await
            .unwrap_err();
        tracing::error!(error = ?e, "the refused subscription");
        tracing::error!(client = ?client, "the client");
    }
    let _ = servers.stop.send(());
    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();

    // The capture works, for the client and for the `log` output of the libraries below it.
    if std::env::var_os("SECRET_SCAN_DUMP").is_some() {
        std::fs::write("/tmp/secret-scan.log", &logs).unwrap();
    }
    // Realtime spans name the socket's endpoint, mode and connection.
    for expected in [
        "appsync.realtime",
        "api=\"notes\"",
        "mode=AWS_IAM",
        "api=\"chat\"",
        "connection=1",
        "starting new connection",
        "the refused call",
    ] {
        assert!(
            logs.contains(expected),
            "{expected:?} is not in the logs:\n{}",
            tail(&logs)
        );
    }
    let mut secrets: Vec<String> = [API_KEY, SECRET, SESSION, LAMBDA_TOKEN]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for jwt in [
        &servers.access_token,
        &servers.id_token,
        &servers.oidc_token,
    ] {
        secrets.push(jwt.clone());
        // The signature alone (a log that cuts a token short still must not show it).
        secrets.push(jwt.rsplit('.').next().unwrap().to_owned());
    }
    let mut leaks = Vec::new();
    for s in &secrets {
        for form in [s.clone(), hex::encode(s)] {
            if logs.contains(&form) {
                leaks.push(form);
            }
        }
    }
    // A handshake object (base64 of `{"`), a query carrier, a signature.
    for marker in ["header-ey", "header=ey", "Signature="] {
        if logs.contains(marker) {
            leaks.push(marker.to_owned());
        }
    }
    assert!(leaks.is_empty(), "secrets in the logs: {leaks:?}");
    if std::env::var_os("SECRET_SCAN_DUMP").is_some() {
        std::fs::write("/tmp/secret-scan.log", &logs).unwrap();
    }
}

fn tail(logs: &str) -> &str {
    let mut start = logs.len().saturating_sub(4000);
    while !logs.is_char_boundary(start) {
        start += 1;
    }
    &logs[start..]
}
