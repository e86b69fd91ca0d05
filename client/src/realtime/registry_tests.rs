//! The registry with a real client and its authorizer, over in-memory sockets: the handshake
//! and start objects per mode (IAM checked by appsync-local's independent SigV4 verifier),
//! socket sharing and the subscription cap, refusals before connecting.

use std::time::Duration;

use aws_credential_types::Credentials;
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedReceiver;

use super::socket::memory::{MemConnector, ServerEnd};
use super::*;
use crate::{Client, Config, EndpointConfig, GraphQLRequest, StaticToken};

const AKID: &str = "AKIDREALTIME";
const SECRET: &str = "realtime/secret/key";
const SESSION: &str = "realtime-session";
const DOC: &str = "subscription S($a: Int) { onX(a: $a) { n } }";

fn client() -> Client {
    client_with(RealtimeOptions::default())
}

fn client_with(options: RealtimeOptions) -> Client {
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("notes", "https://api.example.com:8443/graphql")
                .authorization_type(AuthMode::ApiKey)
                .api_key("da2-test")
                .region("us-east-1")
                .additional_auth_modes([AuthMode::Iam, AuthMode::Oidc]),
        )
        .build()
        .unwrap();
    Client::builder()
        .config(config)
        .credentials_provider(Credentials::new(
            AKID,
            SECRET,
            Some(SESSION.to_owned()),
            None,
            "test",
        ))
        .token_provider(AuthMode::Oidc, StaticToken::new("oidc-token"))
        .header("x-client", "c1")
        .realtime(options)
        .build()
        .unwrap()
}

fn in_memory(client: &Client) -> (Arc<MemConnector>, UnboundedReceiver<ServerEnd>) {
    let (c, rx) = MemConnector::new();
    assert!(client.realtime().connector.set(c.clone()).is_ok());
    (c, rx)
}

fn request() -> GraphQLRequest {
    GraphQLRequest::new(DOC).variables(json!({"a": 1}))
}

type Started = tokio::task::JoinHandle<crate::Result<Subscription<Value>>>;

fn start(client: &Client, mode: AuthMode, headers: &[(&str, &str)]) -> Started {
    let mut call = client.subscribe_graphql(request()).auth_mode(mode);
    for (k, v) in headers {
        call = call.header(*k, *v);
    }
    tokio::spawn(call.start())
}

async fn ack(server: &mut ServerEnd) {
    server.recv_type("connection_init").await.unwrap();
    server.send(json!({"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}}));
}

async fn next_start(server: &mut ServerEnd) -> (String, Value) {
    let f = server.recv_type("start").await.unwrap();
    (f["id"].as_str().unwrap().to_owned(), f)
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn api_key_objects_name_the_api_host_and_starts_carry_the_call_headers() {
    let client = client();
    let (_c, mut accepted) = in_memory(&client);
    let task = start(&client, AuthMode::ApiKey, &[("x-call", "k1")]);
    let mut server = accepted.recv().await.unwrap();
    assert_eq!(server.auth.get("host"), Some("api.example.com:8443"));
    assert_eq!(server.auth.get("x-api-key"), Some("da2-test"));
    assert_eq!(server.auth.get("x-call"), None);
    ack(&mut server).await;
    let (id, f) = next_start(&mut server).await;
    let data: Value = serde_json::from_str(f["payload"]["data"].as_str().unwrap()).unwrap();
    assert_eq!(data, json!({"query": DOC, "variables": {"a": 1}}));
    let auth = &f["payload"]["extensions"]["authorization"];
    assert_eq!(auth["host"], "api.example.com:8443");
    assert_eq!(auth["x-api-key"], "da2-test");
    assert_eq!(auth["x-call"], "k1");
    assert_eq!(auth["x-client"], "c1");
    server.send(json!({"type": "start_ack", "id": id}));
    let sub = task.await.unwrap().unwrap();
    assert_eq!(sub.api_name(), "notes");
    assert_eq!(sub.auth_mode(), AuthMode::ApiKey);
    assert!(!format!("{sub:?}").contains("da2-test"));
}

#[tokio::test]
async fn iam_signs_the_connect_and_each_start_over_their_exact_bodies() {
    use appsync_local::sigv4::{verify, SignedRequestParts};
    let client = client();
    let (_c, mut accepted) = in_memory(&client);
    let task = start(&client, AuthMode::Iam, &[]);
    let mut server = accepted.recv().await.unwrap();
    let object = pairs(&Value::Object(server.auth.0.clone()));
    let secret = |k: &str| (k == AKID).then(|| SECRET.to_owned());
    let connect = SignedRequestParts {
        method: "POST",
        path: "/graphql/connect",
        query: "",
        headers: object.clone(),
        body: b"{}",
    };
    let v = verify(&connect, secret, "appsync", "us-east-1")
        .unwrap_or_else(|e| panic!("connect signature refused: {e}"));
    assert_eq!(
        v.signed_headers,
        [
            "accept",
            "content-encoding",
            "content-type",
            "host",
            "x-amz-date",
            "x-amz-security-token"
        ]
    );
    assert_eq!(v.session_token.as_deref(), Some(SESSION));
    assert_eq!(server.auth.get("host"), Some("api.example.com:8443"));
    assert_eq!(server.auth.get("content-encoding"), Some("amz-1.0"));
    assert_eq!(
        server.auth.get("accept"),
        Some("application/json, text/javascript")
    );
    ack(&mut server).await;
    let (id, f) = next_start(&mut server).await;
    let data = f["payload"]["data"].as_str().unwrap();
    let start = SignedRequestParts {
        method: "POST",
        path: "/graphql",
        query: "",
        headers: pairs(&f["payload"]["extensions"]["authorization"]),
        body: data.as_bytes(),
    };
    verify(&start, secret, "appsync", "us-east-1")
        .unwrap_or_else(|e| panic!("start signature refused: {e}"));
    // The connect signature does not verify as a start: the bodies differ.
    let mut wrong = connect;
    wrong.path = "/graphql";
    assert!(verify(&wrong, secret, "appsync", "us-east-1").is_err());
    server.send(json!({"type": "start_ack", "id": id}));
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn token_modes_send_the_providers_token() {
    let client = client();
    let (_c, mut accepted) = in_memory(&client);
    let task = start(&client, AuthMode::Oidc, &[]);
    let mut server = accepted.recv().await.unwrap();
    assert_eq!(server.auth.get("Authorization"), Some("oidc-token"));
    ack(&mut server).await;
    let (id, f) = next_start(&mut server).await;
    assert_eq!(
        f["payload"]["extensions"]["authorization"]["Authorization"],
        "oidc-token"
    );
    server.send(json!({"type": "start_ack", "id": id}));
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_cap_opens_a_second_socket_and_a_freed_slot_is_used_again() {
    let client = client();
    let (c, mut accepted) = in_memory(&client);
    let mut s1 = {
        let task = start(&client, AuthMode::ApiKey, &[]);
        let mut server = accepted.recv().await.unwrap();
        ack(&mut server).await;
        let (id, _) = next_start(&mut server).await;
        server.send(json!({"type": "start_ack", "id": id}));
        (server, task.await.unwrap().unwrap())
    };
    // The second is refused for the cap on the first socket and lands on a new one.
    let task = start(&client, AuthMode::ApiKey, &[]);
    let (id, _) = next_start(&mut s1.0).await;
    s1.0.send(json!({"type": "error", "id": id, "payload": {"errors":
        {"errorType": "MaxSubscriptionsReachedError", "message": "Max number of 1 subscriptions reached"}}}));
    let mut server2 = accepted.recv().await.unwrap();
    ack(&mut server2).await;
    let (id, _) = next_start(&mut server2).await;
    server2.send(json!({"type": "start_ack", "id": id}));
    let _s2 = task.await.unwrap().unwrap();
    assert_eq!(client.realtime().open_sockets(), 2);
    assert_eq!(c.count(), 2);
    // While the first is full, the next goes straight to the second.
    let task = start(&client, AuthMode::ApiKey, &[]);
    let (id, _) = next_start(&mut server2).await;
    server2.send(json!({"type": "start_ack", "id": id}));
    let _s3 = task.await.unwrap().unwrap();
    // Ending a subscription of the first makes room there again.
    drop(s1.1);
    s1.0.recv_type("stop").await.unwrap();
    let task = start(&client, AuthMode::ApiKey, &[]);
    let (id, _) = next_start(&mut s1.0).await;
    s1.0.send(json!({"type": "start_ack", "id": id}));
    task.await.unwrap().unwrap();
    assert_eq!(c.count(), 2);
}

#[tokio::test]
async fn per_call_credentials_get_a_socket_of_their_own() {
    let client = client();
    let (c, mut accepted) = in_memory(&client);
    let a = tokio::spawn(
        client
            .subscribe_graphql(request())
            .auth_mode(AuthMode::Oidc)
            .start(),
    );
    let b = tokio::spawn(
        client
            .subscribe_graphql(request())
            .auth_mode(AuthMode::Oidc)
            .auth_token("other-token")
            .start(),
    );
    let mut tokens = Vec::new();
    let mut servers = Vec::new();
    for _ in 0..2 {
        let mut server = accepted.recv().await.unwrap();
        tokens.push(server.auth.get("Authorization").unwrap().to_owned());
        ack(&mut server).await;
        let (id, _) = next_start(&mut server).await;
        server.send(json!({"type": "start_ack", "id": id}));
        servers.push(server);
    }
    tokens.sort();
    assert_eq!(tokens, ["oidc-token", "other-token"]);
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    assert_eq!(c.count(), 2);
}

#[tokio::test]
async fn queries_and_disallowed_modes_are_refused_before_connecting() {
    let client = client();
    let (c, _accepted) = in_memory(&client);
    let e = client
        .subscribe_graphql(GraphQLRequest::new("query { a }"))
        .start()
        .await
        .unwrap_err();
    assert!(e.is_request(), "{e:?}");
    assert!(e.to_string().contains("not a subscription"), "{e}");
    let e = client
        .subscribe_graphql(request())
        .auth_mode(AuthMode::Lambda)
        .start()
        .await
        .unwrap_err();
    assert!(e.is_selection(), "{e:?}");
    let e = client
        .subscribe_graphql(request())
        .header("bad header", "x")
        .start()
        .await
        .unwrap_err();
    assert!(e.is_request(), "{e:?}");
    assert_eq!(c.count(), 0);
}

#[tokio::test(start_paused = true)]
async fn connection_states_are_observable() {
    use futures_util::StreamExt;
    let client = client();
    let (_c, mut accepted) = in_memory(&client);
    let mut states = client.connection_states();
    let task = start(&client, AuthMode::ApiKey, &[]);
    let mut server = accepted.recv().await.unwrap();
    ack(&mut server).await;
    let (id, _) = next_start(&mut server).await;
    server.send(json!({"type": "start_ack", "id": id}));
    let sub = task.await.unwrap().unwrap();
    let first = states.next().await.unwrap();
    assert_eq!(
        first,
        (
            "notes".to_owned(),
            AuthMode::ApiKey,
            ConnectionState::Connecting
        )
    );
    assert_eq!(states.next().await.unwrap().2, ConnectionState::Connected);
    drop(sub);
    let last = tokio::time::timeout(Duration::from_secs(10), states.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.2, ConnectionState::Disconnected);
}

#[tokio::test]
async fn a_start_given_up_by_its_caller_is_stopped() {
    let client = client();
    let (_c, mut accepted) = in_memory(&client);
    let task = start(&client, AuthMode::ApiKey, &[]);
    let mut server = accepted.recv().await.unwrap();
    ack(&mut server).await;
    let (id, _) = next_start(&mut server).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let stop = server.recv_type("stop").await.unwrap();
    assert_eq!(stop["id"], id.as_str());
    // The socket, now without subscriptions, closes.
    assert_eq!(server.recv().await, Some(json!({"close": 1000})));
}

/// Collects every span field and event of the current thread as text.
#[derive(Clone, Default)]
struct Capture(Arc<std::sync::Mutex<String>>);

struct Visitor<'a>(&'a mut String);

impl tracing::field::Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut out = self.0.lock().unwrap();
        out.push_str(&format!("\nspan {}", span.metadata().name()));
        span.record(&mut Visitor(&mut out));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Visitor(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut out = self.0.lock().unwrap();
        out.push_str("\nevent");
        event.record(&mut Visitor(&mut out));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(start_paused = true)]
async fn no_secret_reaches_the_logs_or_the_errors() {
    use super::socket::memory::Outcome;
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    // Two failures in a row end the subscriptions (the loss, then a refusal).
    let client = client_with(
        RealtimeOptions::default().reconnect(ReconnectPolicy::default().max_attempts(Some(2))),
    );
    let (c, mut accepted) = in_memory(&client);
    let mut errors = String::new();
    for mode in [AuthMode::ApiKey, AuthMode::Iam, AuthMode::Oidc] {
        let task = start(&client, mode, &[]);
        let mut server = accepted.recv().await.unwrap();
        ack(&mut server).await;
        let (id, _) = next_start(&mut server).await;
        server.send(json!({"type": "start_ack", "id": id}));
        let mut sub = task.await.unwrap().unwrap();
        // Lost, then refused (twice when a fresh token or fresh credentials can be had; an
        // API key cannot be refreshed): a terminal error.
        let refusals = if mode == AuthMode::ApiKey { 1 } else { 2 };
        c.script(vec![
            Outcome::Refuse(401, "UnauthorizedException");
            refusals
        ]);
        server.drop_connection();
        use futures_util::StreamExt;
        let e = sub.next().await.unwrap().unwrap_err();
        errors.push_str(&format!("{e:?} {e}\n"));
    }
    errors.push_str(&format!("{client:?}"));
    let logs = capture.0.lock().unwrap().clone();
    assert!(logs.contains("appsync.realtime"), "{logs}");
    assert!(logs.contains("realtime connection given up"), "{logs}");
    assert_eq!(
        c.count(),
        3 + 1 + 2 + 2,
        "every refusal was consumed as planned"
    );
    for secret in ["da2-test", SECRET, SESSION, "oidc-token", "Signature="] {
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
        assert!(!errors.contains(secret), "{secret} in an error:\n{errors}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_subscribe_timeout_bounds_start_as_a_whole_and_withdraws_it() {
    let client = client();
    let (_c, mut accepted) = in_memory(&client);
    let t0 = tokio::time::Instant::now();
    let task = tokio::spawn(
        client
            .subscribe_graphql(request())
            .auth_mode(AuthMode::ApiKey)
            .timeout(Duration::from_secs(3))
            .start(),
    );
    let mut server = accepted.recv().await.unwrap();
    ack(&mut server).await;
    // The start is never acknowledged (the default start_ack timeout would be 15 s).
    let (id, _) = next_start(&mut server).await;
    let e = task.await.unwrap().unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(t0.elapsed(), Duration::from_secs(3));
    // Given up, it is stopped on the socket.
    let stop = server.recv_type("stop").await.unwrap();
    assert_eq!(stop["id"], json!(id));
}
