//! Realtime subscriptions against appsync-local over real sockets: every auth mode end to end
//! (subscribe, mutate over HTTP with the same client, receive), both handshake methods, the
//! subscription cap (two sockets), the idle close, every fault hook of `local.faults()` ending
//! in recovery (a `Resumed` event, then events again) or in a clear terminal error, a token
//! that expires between connections, and a slow reader.
//!
//! Waiting is on events, with a timeout so that a failure cannot hang; the only sleep lets a
//! token expire.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use appsync_client::graphql_client::{GraphQLQuery, QueryBody};
use appsync_client::{
    token_fn, AuthMode, Client, ClientBuilder, ConnectionState, ConnectionStates, GraphQLRequest,
    HandshakeMethod, Operation, OperationKind, RealtimeOptions, ReconnectPolicy, Subscription,
    SubscriptionEvent, Token,
};
use appsync_local::LocalAppSync;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

mod support;
use support::local::{local, local_with, API_KEY};

/// How long any single expected thing may take.
const WAIT: Duration = Duration::from_secs(15);

const ON_CREATE: &str =
    "subscription OnCreate($owner: String) { onCreateNote(owner: $owner) { id content owner } }";
const CREATE: &str =
    "mutation Create($input: CreateNoteInput!) { createNote(input: $input) { id content owner } }";

const MODES: [AuthMode; 5] = [
    AuthMode::ApiKey,
    AuthMode::Iam,
    AuthMode::UserPools,
    AuthMode::Oidc,
    AuthMode::Lambda,
];

// ---------------------------------------------------------------------------------------------
// Setup

/// Short timers, so that recoveries take milliseconds.
fn options() -> RealtimeOptions {
    RealtimeOptions::new()
        .connect_timeout(Duration::from_secs(5))
        .ack_timeout(Duration::from_secs(5))
        .start_ack_timeout(Duration::from_secs(5))
        .idle_close_delay(Duration::from_millis(200))
        .reconnect(
            ReconnectPolicy::default()
                .base_delay(Duration::from_millis(50))
                .max_delay(Duration::from_millis(400)),
        )
}

/// The support client, with the short realtime timers.
fn builder(local: &LocalAppSync) -> ClientBuilder {
    support::local::builder(local).realtime(options())
}

/// The support client without token providers, with the short realtime timers.
fn bare(local: &LocalAppSync) -> ClientBuilder {
    support::local::bare(local).realtime(options())
}

fn client(local: &LocalAppSync) -> Client {
    builder(local).build().expect("valid client")
}

// ---------------------------------------------------------------------------------------------
// Helpers

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

async fn subscribe(client: &Client, mode: AuthMode) -> Subscription<Value> {
    within(
        "start_ack",
        client
            .subscribe_graphql(GraphQLRequest::new(ON_CREATE))
            .auth_mode(mode)
            .start(),
    )
    .await
    .unwrap_or_else(|e| panic!("{mode}: subscribe failed: {e:?}"))
}

/// Creates a note over HTTP (IAM may create notes).
async fn create(client: &Client, id: &str) {
    create_owned(client, id, None).await
}

async fn create_owned(client: &Client, id: &str, owner: Option<&str>) {
    let mut input = json!({"id": id, "content": format!("content of {id}")});
    if let Some(o) = owner {
        input["owner"] = json!(o);
    }
    let r = within(
        "the mutation",
        client
            .graphql(GraphQLRequest::new(CREATE).variables(json!({ "input": input })))
            .auth_mode(AuthMode::Iam)
            .send(),
    )
    .await
    .expect("createNote is sent");
    assert!(r.errors.is_empty(), "createNote failed: {:?}", r.errors);
}

/// The note id of a data event.
fn note_id(ev: &SubscriptionEvent<Value>) -> Option<String> {
    match ev {
        SubscriptionEvent::Data(r) => r
            .data
            .as_ref()
            .and_then(|d| d["onCreateNote"]["id"].as_str())
            .map(str::to_owned),
        _ => None,
    }
}

/// Reads until the event of note `id`; returns whether a `Resumed` came first.
async fn expect_note(sub: &mut Subscription<Value>, id: &str) -> bool {
    let mut resumed = false;
    within(&format!("note {id}"), async {
        loop {
            let ev = sub
                .next()
                .await
                .expect("the subscription goes on")
                .unwrap_or_else(|e| panic!("subscription error: {e:?}"));
            match ev {
                SubscriptionEvent::Resumed { .. } => resumed = true,
                ref d if note_id(d).as_deref() == Some(id) => return,
                _ => {}
            }
        }
    })
    .await;
    resumed
}

/// After a fault: notes are created until every subscription got one (events made while a
/// socket is being restarted are missed by design); every subscription must have seen a
/// `Resumed` on the way.
async fn recovers(client: &Client, subs: &mut [Subscription<Value>], tag: &str) {
    let mut resumed = vec![false; subs.len()];
    let mut done = vec![false; subs.len()];
    // Each subscription is told first; then the notes show that events flow again.
    for (i, sub) in subs.iter_mut().enumerate() {
        within("Resumed", async {
            loop {
                match sub.next().await {
                    Some(Ok(SubscriptionEvent::Resumed { .. })) => return,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => panic!("subscription {i} failed: {e:?}"),
                    None => panic!("subscription {i} ended"),
                }
            }
        })
        .await;
        resumed[i] = true;
    }
    for round in 0..40 {
        let id = format!("{tag}-{round}");
        create(client, &id).await;
        for (i, sub) in subs.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            let wait = tokio::time::timeout(Duration::from_millis(1500), async {
                loop {
                    match sub.next().await {
                        Some(Ok(SubscriptionEvent::Resumed { .. })) => resumed[i] = true,
                        Some(Ok(ev)) if note_id(&ev).as_deref() == Some(id.as_str()) => {
                            return true
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) => panic!("subscription {i} failed: {e:?}"),
                        None => panic!("subscription {i} ended"),
                    }
                }
            })
            .await;
            done[i] = wait.unwrap_or(false);
        }
        if done.iter().all(|d| *d) {
            assert!(
                resumed.iter().all(|r| *r),
                "every subscription is told it resumed: {resumed:?}"
            );
            return;
        }
    }
    panic!("not every subscription received events again: {done:?}");
}

/// Reads connection states until `want` (for this mode); returns what came before it.
async fn until_state(
    states: &mut ConnectionStates,
    mode: AuthMode,
    want: ConnectionState,
) -> Vec<ConnectionState> {
    let label = want.to_string();
    until(states, mode, &label, |s| *s == want).await
}

/// Reads states until one of `mode` matches; returns those seen before it.
async fn until(
    states: &mut ConnectionStates,
    mode: AuthMode,
    label: &str,
    matches: impl Fn(&ConnectionState) -> bool,
) -> Vec<ConnectionState> {
    let mut seen = Vec::new();
    within(&format!("state {label}"), async {
        loop {
            let (api, m, s) = states.next().await.expect("states go on");
            assert_eq!(api, "notes");
            if m != mode {
                continue;
            }
            if matches(&s) {
                return;
            }
            seen.push(s);
        }
    })
    .await;
    seen
}

/// The terminal error of a subscription (data events before it are skipped).
async fn terminal_error(sub: &mut Subscription<Value>) -> appsync_client::Error {
    within("the terminal error", async {
        loop {
            match sub.next().await {
                Some(Err(e)) => return e,
                Some(Ok(_)) => {}
                None => panic!("the stream ended without an error"),
            }
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Every mode, both handshakes

#[tokio::test]
async fn every_mode_receives_the_event_of_a_mutation_over_both_handshakes() {
    let local = local().await;
    for method in [HandshakeMethod::Subprotocol, HandshakeMethod::Query] {
        let client = builder(&local)
            .realtime(options().handshake(method))
            .build()
            .unwrap();
        let mut subs = Vec::new();
        for mode in MODES {
            subs.push((mode, subscribe(&client, mode).await));
        }
        let id = format!("every-mode-{method:?}");
        create(&client, &id).await;
        for (mode, sub) in &mut subs {
            assert!(!expect_note(sub, &id).await, "{mode}: no Resumed");
            assert_eq!(sub.auth_mode(), *mode);
        }
    }
}

#[tokio::test]
async fn none_mode_authenticates_with_the_users_headers() {
    let local = local().await;
    let client = bare(&local).header("x-api-key", API_KEY).build().unwrap();
    let mut sub = subscribe(&client, AuthMode::None).await;
    // That client's header would make its IAM mutation an API_KEY one: mutate with another.
    create(&self::client(&local), "none-1").await;
    expect_note(&mut sub, "none-1").await;
    // Without them, NONE has nothing to show.
    let plain = bare(&local).build().unwrap();
    let e = plain
        .subscribe_graphql(GraphQLRequest::new(ON_CREATE))
        .auth_mode(AuthMode::None)
        .start()
        .await
        .unwrap_err();
    assert!(e.is_realtime(), "{e:?}");
}

#[tokio::test]
async fn arguments_filter_and_a_field_the_mode_cannot_read_fails_only_that_start() {
    let local = local().await;
    let client = client(&local);
    let mut mine = within(
        "start_ack",
        client
            .subscribe_graphql(GraphQLRequest::new(ON_CREATE).variables(json!({"owner": "me"})))
            .start(),
    )
    .await
    .unwrap();
    let mut all = subscribe(&client, AuthMode::ApiKey).await;
    // API_KEY cannot reach onDeleteNote: refused at start, for that subscription only.
    let e = client
        .subscribe_graphql(GraphQLRequest::new("subscription { onDeleteNote { id } }"))
        .start()
        .await
        .unwrap_err();
    assert!(e.is_realtime(), "{e:?}");
    assert_eq!(e.error_type(), Some("Unauthorized"), "{e:?}");
    create_owned(&client, "owned", Some("me")).await;
    create(&client, "unowned").await;
    create_owned(&client, "owned-2", Some("me")).await;
    expect_note(&mut all, "owned").await;
    expect_note(&mut all, "unowned").await;
    for id in ["owned", "owned-2"] {
        let ev = within("an event", mine.next()).await.unwrap().unwrap();
        assert_eq!(
            note_id(&ev).as_deref(),
            Some(id),
            "the filter keeps only mine"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Typed subscriptions

#[derive(Serialize)]
struct OnCreateVars {
    owner: Option<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
struct Note {
    id: String,
    content: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct OnCreateData {
    on_create_note: Option<Note>,
}

struct OnCreate;

impl GraphQLQuery for OnCreate {
    type Variables = OnCreateVars;
    type ResponseData = OnCreateData;
    fn build_query(variables: OnCreateVars) -> QueryBody<OnCreateVars> {
        QueryBody {
            variables,
            query: "subscription OnCreate($owner: String) { onCreateNote(owner: $owner) { id content } }",
            operation_name: "OnCreate",
        }
    }
}

impl Operation for OnCreate {
    const KIND: OperationKind = OperationKind::Subscription;
    const ALLOWED_AUTH_MODES: &'static [AuthMode] = &[AuthMode::ApiKey, AuthMode::Iam];
}

#[tokio::test]
async fn typed_subscriptions_decode_and_operations_check_their_modes() {
    let local = local().await;
    let client = client(&local);
    let mut typed = within(
        "start_ack",
        client
            .subscribe::<OnCreate>(OnCreateVars { owner: None })
            .start(),
    )
    .await
    .unwrap();
    let mut op = within(
        "start_ack",
        client
            .subscribe_operation::<OnCreate>(OnCreateVars { owner: None })
            .auth_mode(AuthMode::Iam)
            .start(),
    )
    .await
    .unwrap();
    let e = client
        .subscribe_operation::<OnCreate>(OnCreateVars { owner: None })
        .auth_mode(AuthMode::Oidc)
        .start()
        .await
        .unwrap_err();
    assert!(e.is_selection(), "{e:?}");
    create(&client, "typed").await;
    for s in [&mut typed, &mut op] {
        match within("an event", s.next()).await.unwrap().unwrap() {
            SubscriptionEvent::Data(r) => assert_eq!(
                r.data.unwrap().on_create_note.unwrap(),
                Note {
                    id: "typed".into(),
                    content: "content of typed".into()
                }
            ),
            other => panic!("{other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sockets: the cap, the idle close

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hundred_fifty_subscriptions_use_two_sockets() {
    let local = local().await;
    let client = client(&local);
    let mut states = client.connection_states();
    let starts = (0..150).map(|_| {
        client
            .subscribe_graphql(GraphQLRequest::new(ON_CREATE))
            .auth_mode(AuthMode::ApiKey)
            .start()
    });
    let mut subs: Vec<Subscription<Value>> =
        within("150 start_acks", futures_util::future::join_all(starts))
            .await
            .into_iter()
            .collect::<Result<_, _>>()
            .expect("every subscription starts");
    create(&client, "many").await;
    for sub in &mut subs {
        expect_note(sub, "many").await;
    }
    let mut connecting = 0;
    let mut connected = 0;
    while let Ok(Some((_, mode, s))) =
        tokio::time::timeout(Duration::from_millis(200), states.next()).await
    {
        assert_eq!(mode, AuthMode::ApiKey);
        match s {
            ConnectionState::Connecting => connecting += 1,
            ConnectionState::Connected => connected += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        (connecting, connected),
        (2, 2),
        "two sockets for 150 (cap 100)"
    );
}

#[tokio::test]
async fn the_socket_closes_after_its_last_subscription_and_reopens_on_demand() {
    let local = local().await;
    let client = client(&local);
    let mut states = client.connection_states();
    let a = subscribe(&client, AuthMode::ApiKey).await;
    let b = subscribe(&client, AuthMode::ApiKey).await;
    until_state(&mut states, AuthMode::ApiKey, ConnectionState::Connected).await;
    drop(a);
    drop(b);
    let before = until_state(&mut states, AuthMode::ApiKey, ConnectionState::Disconnected).await;
    assert!(before.is_empty(), "{before:?}");
    let mut c = subscribe(&client, AuthMode::ApiKey).await;
    until_state(&mut states, AuthMode::ApiKey, ConnectionState::Connecting).await;
    create(&client, "after-idle").await;
    expect_note(&mut c, "after-idle").await;
}

// ---------------------------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn dropped_sockets_are_reconnected_and_every_subscription_resumes() {
    let local = local().await;
    let client = client(&local);
    let mut states = client.connection_states();
    let mut subs = Vec::new();
    for mode in MODES {
        subs.push(subscribe(&client, mode).await);
    }
    local.faults().drop_all_sockets();
    until(&mut states, AuthMode::ApiKey, "disrupted", |s| {
        matches!(s, ConnectionState::Disrupted { .. })
    })
    .await;
    recovers(&client, &mut subs, "dropped").await;
}

#[tokio::test]
async fn closed_sockets_are_reconnected_too() {
    let local = local().await;
    let client = client(&local);
    let mut subs = vec![subscribe(&client, AuthMode::UserPools).await];
    local.faults().close_all_sockets(1011, "going away");
    recovers(&client, &mut subs, "closed").await;
}

#[tokio::test]
async fn missing_keep_alives_are_noticed_and_the_socket_replaced() {
    let local = local_with(|b| b.connection_timeout(Duration::from_millis(800))).await;
    // A server's timeout under a minute is not taken (AppSync's clients do the same): the
    // client says its own.
    let client = builder(&local)
        .realtime(options().keep_alive_timeout(Duration::from_millis(800)))
        .build()
        .unwrap();
    let mut states = client.connection_states();
    let mut subs = vec![
        subscribe(&client, AuthMode::ApiKey).await,
        subscribe(&client, AuthMode::Iam).await,
    ];
    local.faults().pause_keep_alives(true);
    // Both sockets notice (each on its own clock) before the keep-alives come back.
    let mut missed = HashSet::new();
    let mut disrupted = HashSet::new();
    within("both sockets disrupted", async {
        while disrupted.len() < 2 {
            let (_, mode, s) = states.next().await.unwrap();
            match s {
                ConnectionState::KeepAliveMissed => {
                    missed.insert(mode);
                }
                ConnectionState::Disrupted { .. } => {
                    disrupted.insert(mode);
                }
                _ => {}
            }
        }
    })
    .await;
    assert_eq!(missed.len(), 2, "KeepAliveMissed comes first");
    local.faults().pause_keep_alives(false);
    recovers(&client, &mut subs, "ka").await;
}

#[tokio::test]
async fn unanswered_handshakes_time_out_and_are_retried() {
    let local = local().await;
    let client = builder(&local)
        .realtime(options().ack_timeout(Duration::from_millis(300)))
        .build()
        .unwrap();
    let mut states = client.connection_states();
    let mut subs = vec![subscribe(&client, AuthMode::Oidc).await];
    local.faults().refuse_acks(true);
    local.faults().drop_all_sockets();
    // One attempt went unanswered when the second begins.
    until_state(
        &mut states,
        AuthMode::Oidc,
        ConnectionState::Reconnecting { attempt: 2 },
    )
    .await;
    local.faults().refuse_acks(false);
    recovers(&client, &mut subs, "acks").await;
}

#[tokio::test]
async fn error_frames_without_id_reconnect_in_both_shapes() {
    let local = local().await;
    let client = client(&local);
    let mut subs = vec![
        subscribe(&client, AuthMode::ApiKey).await,
        subscribe(&client, AuthMode::Lambda).await,
    ];
    local
        .faults()
        .send_frame(json!({"type": "error", "payload": {"errors": [
        {"errorType": "InternalFailure", "message": "boom"}]}}));
    recovers(&client, &mut subs, "err-array").await;
    local
        .faults()
        .send_frame(json!({"type": "error", "payload": {"errors":
        {"errorType": "InternalFailure", "message": "boom"}}}));
    recovers(&client, &mut subs, "err-object").await;
}

#[tokio::test]
async fn throttling_and_unknown_ids_leave_the_socket_alone() {
    let local = local().await;
    let client = client(&local);
    let mut states = client.connection_states();
    let mut sub = subscribe(&client, AuthMode::ApiKey).await;
    until_state(&mut states, AuthMode::ApiKey, ConnectionState::Connected).await;
    local
        .faults()
        .send_frame(json!({"type": "error", "payload": {"errors":
        {"errorType": "LimitExceededError", "message": "Rate limit exceeded"}}}));
    local.faults().send_frame(
        json!({"type": "error", "id": "nobody", "payload": {"errors": [
        {"errorType": "Unauthorized", "message": "x"}]}}),
    );
    local
        .faults()
        .send_frame(json!({"type": "data", "id": "nobody", "payload": {"data": {}}}));
    create(&client, "calm").await;
    assert!(
        !expect_note(&mut sub, "calm").await,
        "no Resumed: never lost"
    );
    // The states say the socket was throttled, and nothing else: no disruption.
    let (_, _, throttled) = within("throttled", states.next()).await.unwrap();
    assert!(
        matches!(&throttled, ConnectionState::Throttled { cause }
            if cause.error_type() == Some("LimitExceededError")),
        "{throttled:?}"
    );
    let quiet = tokio::time::timeout(Duration::from_millis(300), states.next()).await;
    assert!(quiet.is_err(), "no other state change: {quiet:?}");
}

#[tokio::test]
async fn subscription_complete_from_the_server_ends_the_streams_cleanly() {
    let local = local().await;
    let client = client(&local);
    let mut a = subscribe(&client, AuthMode::ApiKey).await;
    let mut b = subscribe(&client, AuthMode::ApiKey).await;
    local
        .faults()
        .send_frame(json!({"message": "Subscription complete."}));
    for sub in [&mut a, &mut b] {
        assert!(
            within("the end", sub.next()).await.is_none(),
            "the stream ends without an error"
        );
    }
}

#[tokio::test]
async fn refused_reconnections_with_503_are_retried() {
    let local = local().await;
    let client = client(&local);
    let mut subs = vec![subscribe(&client, AuthMode::ApiKey).await];
    local.faults().refuse_next_connections(3, 503);
    local.faults().drop_all_sockets();
    recovers(&client, &mut subs, "503").await;
}

#[tokio::test]
async fn one_refusal_with_401_is_survived_with_a_fresh_token() {
    let local = local().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let token = local.user_pool_token("alice").mint();
    let client = bare(&local)
        .token_provider(
            AuthMode::UserPools,
            token_fn(move |_req| {
                c.fetch_add(1, Ordering::SeqCst);
                let t = token.clone();
                async move { Ok(Token::new(t)) }
            }),
        )
        .build()
        .unwrap();
    let mut subs = vec![subscribe(&client, AuthMode::UserPools).await];
    local.faults().refuse_next_connections(1, 401);
    local.faults().drop_all_sockets();
    recovers(&client, &mut subs, "401-once").await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one fresh token after the refusal"
    );
}

#[tokio::test]
async fn repeated_refusals_are_reported_and_survived_under_the_default_policy() {
    let local = local().await;
    let client = builder(&local)
        .realtime(
            options().reconnect(
                ReconnectPolicy::default()
                    .base_delay(Duration::from_millis(50))
                    .max_delay(Duration::from_millis(400))
                    .report_after(2),
            ),
        )
        .build()
        .unwrap();
    let mut states = client.connection_states();
    let mut subs = vec![
        subscribe(&client, AuthMode::UserPools).await,
        subscribe(&client, AuthMode::UserPools).await,
    ];
    local.faults().refuse_next_connections(4, 401);
    local.faults().drop_all_sockets();
    // The app sees why it waits: the refusal, with its status and type.
    until(&mut states, AuthMode::UserPools, "failing with 401", |s| {
        matches!(s, ConnectionState::Failing { cause, .. }
            if cause.status().map(|s| s.as_u16()) == Some(401)
                && cause.error_type() == Some("UnauthorizedException"))
    })
    .await;
    // And the subscriptions live through it.
    recovers(&client, &mut subs, "after-refusals").await;
}

#[tokio::test]
async fn repeated_refusals_end_every_subscription_when_the_policy_limits_attempts() {
    let local = local().await;
    let client = builder(&local)
        .realtime(
            options().reconnect(
                ReconnectPolicy::default()
                    .base_delay(Duration::from_millis(50))
                    .max_delay(Duration::from_millis(400))
                    .max_attempts(Some(3)),
            ),
        )
        .build()
        .unwrap();
    let mut a = subscribe(&client, AuthMode::UserPools).await;
    let mut b = subscribe(&client, AuthMode::UserPools).await;
    local.faults().refuse_next_connections(3, 401);
    local.faults().drop_all_sockets();
    for sub in [&mut a, &mut b] {
        let e = terminal_error(sub).await;
        assert!(e.is_realtime(), "{e:?}");
        assert_eq!(e.status_code().map(|s| s.as_u16()), Some(401), "{e:?}");
        assert_eq!(e.error_type(), Some("UnauthorizedException"));
        assert!(e.to_string().contains("refused"), "{e}");
        assert!(within("the end", sub.next()).await.is_none());
    }
    // A new subscription opens a new socket and works.
    let mut c = subscribe(&client, AuthMode::UserPools).await;
    create(&client, "after-refusal").await;
    expect_note(&mut c, "after-refusal").await;
}

#[tokio::test]
async fn bad_credentials_fail_the_start_at_the_upgrade_or_with_connection_error() {
    for at_upgrade in [true, false] {
        let local = local_with(|b| b.reject_bad_handshake_at_upgrade(at_upgrade)).await;
        let client = client(&local);
        let e = client
            .subscribe_graphql(GraphQLRequest::new(ON_CREATE))
            .api_key("da2-wrongwrongwrongwrongwrong00")
            .start()
            .await
            .unwrap_err();
        assert!(e.is_realtime(), "{e:?}");
        assert_eq!(e.error_type(), Some("UnauthorizedException"), "{e:?}");
        assert_eq!(
            e.status_code().map(|s| s.as_u16()),
            at_upgrade.then_some(401),
            "{e:?}"
        );
        assert!(
            !format!("{e:?}{e}").contains("da2-wrong"),
            "no secret in errors"
        );
        let e = client
            .subscribe_graphql(GraphQLRequest::new(ON_CREATE))
            .auth_mode(AuthMode::Lambda)
            .auth_token("deny-me")
            .start()
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), Some("UnauthorizedException"), "{e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[tokio::test]
async fn a_token_that_expires_between_connections_is_refreshed_before_the_reconnect() {
    let local = Arc::new(local().await);
    let calls = Arc::new(AtomicUsize::new(0));
    let (c, l) = (calls.clone(), local.clone());
    let client = bare(&local)
        .token_provider(
            AuthMode::Oidc,
            token_fn(move |_req| {
                c.fetch_add(1, Ordering::SeqCst);
                // Each token lives two seconds.
                let t = l.oidc_token("bob").expires_in(2).mint();
                async move { Ok(Token::new(t)) }
            }),
        )
        .build()
        .unwrap();
    let mut states = client.connection_states();
    let mut subs = vec![subscribe(&client, AuthMode::Oidc).await];
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Let the first token expire (the only sleep here: it is what is tested).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    local.faults().drop_all_sockets();
    until(&mut states, AuthMode::Oidc, "disrupted", |s| {
        matches!(s, ConnectionState::Disrupted { .. })
    })
    .await;
    let path = until_state(&mut states, AuthMode::Oidc, ConnectionState::Connected).await;
    assert!(
        matches!(&path[..], [ConnectionState::Reconnecting { .. }]),
        "the first attempt has a valid token: no refusal, no second attempt: {path:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    recovers(&client, &mut subs, "refreshed").await;
}

// ---------------------------------------------------------------------------------------------
// Slow readers

#[tokio::test]
async fn a_slow_reader_gets_lagged_and_memory_stays_bounded() {
    let local = local().await;
    let client = builder(&local)
        .realtime(options().buffer(8))
        .build()
        .unwrap();
    let mut slow = subscribe(&client, AuthMode::ApiKey).await;
    let mut fast = subscribe(&client, AuthMode::ApiKey).await;
    let total = 60;
    for n in 0..total {
        create(&client, &format!("lag-{n}")).await;
        // The fast reader keeps up; the slow one does not read at all.
        expect_note(&mut fast, &format!("lag-{n}")).await;
        assert!(slow.backlog() <= 8, "backlog {}", slow.backlog());
    }
    let mut missed = 0;
    let mut seen = HashSet::new();
    within("every event accounted for", async {
        while missed + seen.len() < total {
            match slow.next().await.unwrap().unwrap() {
                SubscriptionEvent::Lagged { missed: m } => {
                    assert!(seen.is_empty(), "the loss is reported first");
                    missed += m as usize;
                }
                ev => {
                    seen.insert(note_id(&ev).expect("a note"));
                }
            }
        }
    })
    .await;
    assert_eq!(missed, total - 8);
    assert!(
        seen.contains(&format!("lag-{}", total - 1)),
        "the newest are kept"
    );
}

#[tokio::test]
async fn slow_acks_are_waited_for_up_to_the_timeouts() {
    let local = local().await;
    let client = builder(&local)
        .realtime(options().start_ack_timeout(Duration::from_millis(600)))
        .build()
        .unwrap();
    local.faults().delay_acks(Duration::from_millis(150));
    let mut sub = subscribe(&client, AuthMode::ApiKey).await;
    local.faults().delay_acks(Duration::from_millis(1500));
    let e = client
        .subscribe_graphql(GraphQLRequest::new(ON_CREATE))
        .start()
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(e.to_string().contains("start_ack"), "{e}");
    local.faults().delay_acks(Duration::ZERO);
    create(&client, "slow-acks").await;
    expect_note(&mut sub, "slow-acks").await;
}
