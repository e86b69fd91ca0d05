//! Load-bench client process for appsync-rs: one phase (queries, a subscription burst, or idle
//! subscriptions) through the client's public API, typed or untyped, reporting as JSON.
//!
//! Run by the harness (`src/bin/load/`) as `load_appsync '<json spec>'` (see
//! `appsync_bench::load::Spec`). Typed calls use a hand-written `graphql_client::GraphQLQuery`
//! (what codegen output implements too); untyped ones `GraphQLRequest` and `serde_json::Value`.
//! Subscriptions use `RealtimeOptions::new()` (the defaults) unless the spec asks for the large
//! buffer (`max_buffered_bytes` = 1 GiB).

use std::time::{Duration, SystemTime};

use appsync_bench::load::{
    self, drive_queries, EventCounts, GetEventData, GetEventVariables, OnEventData,
    OnEventVariables, Report, Spec, GET_EVENT, LARGE_BUFFER_BYTES, ON_EVENT,
};
use appsync_client::graphql_client::{GraphQLQuery, QueryBody};
use appsync_client::{
    AuthMode, Client, Config, EndpointConfig, GraphQLRequest, RealtimeOptions, Response,
    Subscription, SubscriptionEvent,
};
use aws_credential_types::Credentials;
use futures_util::StreamExt;
use serde_json::{json, Value};

/// `GetEvent`, typed by hand as codegen would.
struct GetEvent;

impl GraphQLQuery for GetEvent {
    type Variables = GetEventVariables;
    type ResponseData = GetEventData;

    fn build_query(variables: GetEventVariables) -> QueryBody<GetEventVariables> {
        QueryBody {
            variables,
            query: GET_EVENT,
            operation_name: "GetEvent",
        }
    }
}

/// `OnEvent`, typed by hand.
struct OnEvent;

impl GraphQLQuery for OnEvent {
    type Variables = OnEventVariables;
    type ResponseData = OnEventData;

    fn build_query(variables: OnEventVariables) -> QueryBody<OnEventVariables> {
        QueryBody {
            variables,
            query: ON_EVENT,
            operation_name: "OnEvent",
        }
    }
}

fn client(spec: &Spec) -> Client {
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("bench", &spec.url)
                .region(&spec.region)
                .authorization_type(AuthMode::ApiKey)
                .api_key(spec.api_key.as_str())
                .additional_auth_modes([AuthMode::Iam]),
        )
        .build()
        .expect("a valid config");
    let mut realtime = RealtimeOptions::new();
    if spec.large_buffer {
        realtime = realtime.max_buffered_bytes(LARGE_BUFFER_BYTES);
    }
    Client::builder()
        .config(config)
        .credentials_provider(Credentials::new(
            &spec.access_key_id,
            &spec.secret_access_key,
            spec.session_token.clone(),
            Some(SystemTime::now() + Duration::from_secs(12 * 3600)),
            "load-bench",
        ))
        .realtime(realtime)
        .build()
        .expect("a valid client")
}

fn mode(spec: &Spec) -> AuthMode {
    if spec.iam() {
        AuthMode::Iam
    } else {
        AuthMode::ApiKey
    }
}

async fn queries(spec: &Spec, client: &Client) -> Report {
    let mode = mode(spec);
    if spec.typed {
        drive_queries(spec, |i| async move {
            let r = client
                .query::<GetEvent>(GetEventVariables {
                    id: format!("e{i}"),
                })
                .auth_mode(mode)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            match r.data.and_then(|d| d.get_event) {
                Some(e) if e.id == "e1" => Ok(()),
                other => Err(format!("unexpected data {other:?}, errors {:?}", r.errors)),
            }
        })
        .await
    } else {
        drive_queries(spec, |i| async move {
            let r = client
                .graphql(GraphQLRequest::new(GET_EVENT).variables(json!({ "id": format!("e{i}") })))
                .auth_mode(mode)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            match r.data.as_ref().and_then(|d| d["getEvent"]["id"].as_str()) {
                Some("e1") => Ok(()),
                _ => Err(format!(
                    "unexpected data {:?}, errors {:?}",
                    r.data, r.errors
                )),
            }
        })
        .await
    }
}

/// Receives until every expected event is received or reported lost, or the stub went quiet.
async fn drain<T: std::fmt::Debug + serde::de::DeserializeOwned>(
    spec: &Spec,
    mut sub: Subscription<T>,
    ok: fn(&Response<T>) -> bool,
) -> Report {
    let idle = Duration::from_millis(spec.idle_timeout_ms);
    let timer = tokio::time::sleep(idle);
    tokio::pin!(timer);
    let mut counts = EventCounts::default();
    let cpu0 = load::usage().cpu_ns;
    load::ready();
    while !counts.complete(spec.count) {
        // Biased: while events are ready the timer is not even polled.
        tokio::select! {
            biased;
            ev = sub.next() => match ev {
                Some(Ok(SubscriptionEvent::Data(r))) => {
                    if counts.data(ok(&r)) {
                        timer.as_mut().reset(tokio::time::Instant::now() + idle);
                    }
                    std::hint::black_box(r);
                }
                Some(Ok(SubscriptionEvent::Lagged { missed })) => counts.lagged += missed,
                Some(Ok(other)) => counts.error(format!("unexpected {other:?}")),
                Some(Err(e)) => {
                    counts.error(e.to_string());
                    break;
                }
                None => {
                    counts.error("the subscription ended".to_owned());
                    break;
                }
            },
            () = &mut timer => {
                if counts.received == 0 && counts.lagged == 0 {
                    // Nothing yet: the stub has not fired (or is slow to); wait once more.
                    counts.error("no event within the idle timeout".to_owned());
                }
                break;
            }
        }
    }
    counts.report(spec, cpu0)
}

async fn subscription(spec: &Spec, client: &Client) -> Report {
    let mode = mode(spec);
    if spec.typed {
        let sub = client
            .subscribe::<OnEvent>(OnEventVariables {
                tag: spec.tag.clone(),
            })
            .auth_mode(mode)
            .start()
            .await;
        match sub {
            Ok(sub) => {
                drain(spec, sub, |r| {
                    r.data.as_ref().and_then(|d| d.on_event.as_ref()).is_some()
                })
                .await
            }
            Err(e) => failed(spec, e),
        }
    } else {
        let sub = client
            .subscribe_graphql(
                GraphQLRequest::new(ON_EVENT).variables(json!({ "tag": spec.tag.as_str() })),
            )
            .auth_mode(mode)
            .start()
            .await;
        match sub {
            Ok(sub) => {
                drain(spec, sub, |r: &Response<Value>| {
                    r.data
                        .as_ref()
                        .is_some_and(|d| d["onEvent"]["id"].is_string())
                })
                .await
            }
            Err(e) => failed(spec, e),
        }
    }
}

/// `spec.count` subscriptions opened one after another and left idle: resident memory added.
async fn idle(spec: &Spec, client: &Client) -> Report {
    let mode = mode(spec);
    let before = load::rss_now();
    let mut subs = Vec::with_capacity(spec.count as usize);
    let mut errors = 0;
    let mut first_error = None;
    for i in 0..spec.count {
        let tag = format!("{}-{i}", spec.tag);
        let r = if spec.typed {
            client
                .subscribe::<OnEvent>(OnEventVariables { tag })
                .auth_mode(mode)
                .start()
                .await
                .map(|s| subs.push(Box::new(s) as Box<dyn std::any::Any>))
        } else {
            client
                .subscribe_graphql(GraphQLRequest::new(ON_EVENT).variables(json!({ "tag": tag })))
                .auth_mode(mode)
                .start()
                .await
                .map(|s| subs.push(Box::new(s) as Box<dyn std::any::Any>))
        };
        if let Err(e) = r {
            errors += 1;
            first_error.get_or_insert(e.to_string());
        }
    }
    let after = load::rss_now();
    let report = Report {
        ops: spec.count,
        received: Some(subs.len() as u64),
        rss_delta_bytes: Some(after - before),
        errors,
        first_error,
        ..Report::default()
    };
    drop(subs);
    report
}

fn failed(spec: &Spec, e: appsync_client::Error) -> Report {
    Report {
        ops: spec.count,
        errors: 1,
        first_error: Some(format!("subscribe: {e}")),
        ..Report::default()
    }
}

fn main() {
    let spec = Spec::from_args();
    let rt = spec.runtime();
    let report = rt.block_on(async {
        let client = client(&spec);
        let phase = async {
            match spec.phase.as_str() {
                "query" => queries(&spec, &client).await,
                "subscribe" => subscription(&spec, &client).await,
                "idle" => idle(&spec, &client).await,
                other => panic!("unknown phase {other}"),
            }
        };
        match tokio::time::timeout(Duration::from_millis(spec.timeout_ms), phase).await {
            Ok(r) => r,
            Err(_) => Report {
                ops: spec.count,
                errors: 1,
                first_error: Some("the phase timed out".to_owned()),
                ..Report::default()
            },
        }
    });
    report.print();
    // The client's sockets and tasks are not waited for: the process ends here.
    std::process::exit(0);
}
