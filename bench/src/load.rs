//! Shared parts of the load bench (`bench/load/`): the phase spec every client process reads,
//! the report it prints, the operations' documents and typed data, and the measuring helpers.
//!
//! Each client (this client typed or untyped, the raw baseline, Amplify JS) runs as its own
//! process, given one [`Spec`] as a JSON argument; it prints `{"ready":true}` when a
//! subscription phase waits for the stub to fire, then one [`Report`] line, and exits. The
//! harness (`src/bin/load/`) runs them; `amplify.mjs` follows the same shapes.

use std::future::Future;
use std::io::Write;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

/// The query every query phase sends (the stub answers any query with the same small data).
pub const GET_EVENT: &str = "query GetEvent($id: ID!) { getEvent(id: $id) { id n } }";
/// The subscription of the subscription phases; the stub routes `fire` by `tag`.
pub const ON_EVENT: &str = "subscription OnEvent($tag: String!) { onEvent(tag: $tag) { id n } }";

/// What a client process does: one phase, described by the harness.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Spec {
    /// The GraphQL endpoint, `http://127.0.0.1:PORT/graphql`.
    pub url: String,
    /// The stub's API key.
    pub api_key: String,
    /// The SigV4 region.
    pub region: String,
    /// IAM credentials the stub knows.
    pub access_key_id: String,
    /// IAM secret key.
    pub secret_access_key: String,
    /// IAM session token (signed as `x-amz-security-token`).
    pub session_token: Option<String>,
    /// `query`, `subscribe` or `idle`.
    pub phase: String,
    /// `api_key` or `iam`.
    pub auth: String,
    /// Requests, events expected, or idle subscriptions.
    pub count: u64,
    /// Requests in flight (queries).
    pub concurrency: usize,
    /// Requests before the measured ones (connections, credentials and caches warm).
    pub warmup: u64,
    /// The subscription's tag (`variables.tag`); idle subscriptions append `-<i>`.
    pub tag: String,
    /// A subscription phase ends this long after the last event if not all came.
    pub idle_timeout_ms: u64,
    /// The whole phase's limit.
    pub timeout_ms: u64,
    /// This client: typed operations (`graphql_client::GraphQLQuery`) or `serde_json::Value`.
    #[serde(default)]
    pub typed: bool,
    /// This client: `RealtimeOptions::max_buffered_bytes` raised to [`LARGE_BUFFER_BYTES`].
    #[serde(default)]
    pub large_buffer: bool,
    /// `current` (default: one thread, like Node's event loop) or `multi` (`#[tokio::main]`).
    #[serde(default)]
    pub runtime: String,
}

/// The large buffer of the `large` subscription phases: far more than 200,000 events need.
pub const LARGE_BUFFER_BYTES: usize = 1 << 30;

impl Spec {
    /// The spec given as the process's first argument.
    pub fn from_args() -> Spec {
        let arg = std::env::args()
            .nth(1)
            .expect("usage: <client> '<json spec>' (see bench/src/load.rs)");
        serde_json::from_str(&arg).expect("a valid JSON spec")
    }

    /// Whether IAM signs the requests (else the API key).
    pub fn iam(&self) -> bool {
        self.auth == "iam"
    }

    /// The Tokio runtime the spec asks for.
    pub fn runtime(&self) -> tokio::runtime::Runtime {
        match self.runtime.as_str() {
            "multi" => tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build(),
            _ => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
        }
        .expect("a Tokio runtime")
    }
}

/// What a client process measured, printed as one JSON line. Absent figures are `None`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// Requests sent, or events expected, or idle subscriptions asked for.
    pub ops: u64,
    /// Process CPU (user + system, every thread) over the measured part, in ns.
    #[serde(default)]
    pub cpu_ns: u64,
    /// Wall time of the measured part (queries: all requests; events: first to last), in ns.
    #[serde(default)]
    pub wall_ns: u64,
    /// Median request latency, in ns.
    #[serde(default)]
    pub p50_ns: Option<u64>,
    /// 99th percentile request latency, in ns.
    #[serde(default)]
    pub p99_ns: Option<u64>,
    /// Events (or `start_ack`s) received.
    #[serde(default)]
    pub received: Option<u64>,
    /// Events reported lost by the client (`SubscriptionEvent::Lagged`).
    #[serde(default)]
    pub lagged: Option<u64>,
    /// Failed requests, or unexpected events.
    #[serde(default)]
    pub errors: u64,
    /// The first failure, for the log.
    #[serde(default)]
    pub first_error: Option<String>,
    /// Resident memory added by the idle subscriptions, in bytes.
    #[serde(default)]
    pub rss_delta_bytes: Option<i64>,
    /// Peak resident memory of the process (`ru_maxrss`), in bytes.
    #[serde(default)]
    pub max_rss_bytes: u64,
    /// The process's CPU since it started, in ns (the harness's "others" bookkeeping).
    #[serde(default)]
    pub cpu_total_ns: u64,
}

impl Report {
    /// Adds the process-wide figures and prints the report as the process's last line.
    pub fn print(mut self) {
        let usage = usage();
        self.max_rss_bytes = usage.max_rss_bytes;
        self.cpu_total_ns = usage.cpu_ns;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string(&self).expect("a report serializes")
        );
        let _ = out.flush();
    }
}

/// Tells the harness that the subscription is started and the stub may fire.
pub fn ready() {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{{\"ready\":true}}");
    let _ = out.flush();
}

/// `getrusage(RUSAGE_SELF)`: CPU and peak resident memory of the whole process.
pub struct Usage {
    /// User + system CPU time, every thread, in ns.
    pub cpu_ns: u64,
    /// Peak resident memory, in bytes.
    pub max_rss_bytes: u64,
}

/// This process's resource usage now.
pub fn usage() -> Usage {
    use nix::sys::resource::{getrusage, UsageWho};
    let u = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let ns =
        |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000_000 + t.tv_usec() as u64 * 1000;
    Usage {
        cpu_ns: ns(u.user_time()) + ns(u.system_time()),
        // Linux reports kilobytes.
        max_rss_bytes: u.max_rss() as u64 * 1024,
    }
}

/// Resident memory now (`/proc/self/statm`), in bytes.
pub fn rss_now() -> i64 {
    let page = 4096;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<i64>().ok())
        .map_or(0, |pages| pages * page)
}

/// The value at quantile `q` of sorted samples.
pub fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((q * sorted.len() as f64) as usize).min(sorted.len() - 1)]
}

/// Runs `spec.warmup` then `spec.count` calls of `op` with `spec.concurrency` in flight (in
/// this one task, like Node's promises), and reports CPU, wall time and latencies of the
/// measured ones. The same driver serves this client and the raw baseline.
pub async fn drive_queries<F, Fut>(spec: &Spec, op: F) -> Report
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let run = |n: u64, offset: u64| {
        let op = &op;
        futures_util::stream::iter(offset..offset + n)
            .map(move |i| async move {
                let t0 = Instant::now();
                let r = op(i).await;
                (t0.elapsed(), r)
            })
            .buffer_unordered(spec.concurrency.max(1))
            .collect::<Vec<_>>()
    };
    for (_, r) in run(spec.warmup, 0).await {
        if let Err(e) = r {
            return Report {
                ops: spec.count,
                errors: 1,
                first_error: Some(format!("warm-up: {e}")),
                ..Report::default()
            };
        }
    }
    let c0 = usage().cpu_ns;
    let w0 = Instant::now();
    let results = run(spec.count, spec.warmup).await;
    let wall = w0.elapsed();
    let cpu = usage().cpu_ns - c0;
    let mut lat: Vec<u64> = results.iter().map(|(d, _)| d.as_nanos() as u64).collect();
    lat.sort_unstable();
    let errors: Vec<&String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err())
        .collect();
    Report {
        ops: spec.count,
        cpu_ns: cpu,
        wall_ns: wall.as_nanos() as u64,
        p50_ns: Some(percentile(&lat, 0.5)),
        p99_ns: Some(percentile(&lat, 0.99)),
        errors: errors.len() as u64,
        first_error: errors.first().map(|e| (*e).clone()),
        ..Report::default()
    }
}

/// Counts of a subscription phase, kept by the receiving loop.
#[derive(Default)]
pub struct EventCounts {
    /// Data events received.
    pub received: u64,
    /// Events the client said it dropped.
    pub lagged: u64,
    /// Unexpected events or errors.
    pub errors: u64,
    /// The first of them.
    pub first_error: Option<String>,
    /// When the first event came.
    pub first: Option<Instant>,
    /// When the last event came.
    pub last: Option<Instant>,
}

impl EventCounts {
    /// Records a data event; returns whether the idle timer should be pushed back (every
    /// 1,024 events, so that the hot loop does not touch a timer per event).
    pub fn data(&mut self, ok: bool) -> bool {
        let now = Instant::now();
        if self.first.is_none() {
            self.first = Some(now);
        }
        self.last = Some(now);
        self.received += 1;
        if !ok {
            self.error("an event with unexpected data".to_owned());
        }
        self.received.is_multiple_of(1024)
    }

    /// Records a failure.
    pub fn error(&mut self, e: String) {
        self.errors += 1;
        self.first_error.get_or_insert(e);
    }

    /// Whether every expected event is accounted for (received or reported lost).
    pub fn complete(&self, expected: u64) -> bool {
        self.received + self.lagged >= expected
    }

    /// The report of a subscription phase measured from `cpu0` (process CPU at `ready`).
    pub fn report(self, spec: &Spec, cpu0: u64) -> Report {
        let wall = match (self.first, self.last) {
            (Some(a), Some(b)) => b.duration_since(a),
            _ => Duration::ZERO,
        };
        Report {
            ops: spec.count,
            cpu_ns: usage().cpu_ns - cpu0,
            wall_ns: wall.as_nanos() as u64,
            received: Some(self.received),
            lagged: Some(self.lagged),
            errors: self.errors,
            first_error: self.first_error,
            ..Report::default()
        }
    }
}

/// The typed data of [`GET_EVENT`] (what both Rust clients decode into).
#[derive(Debug, Deserialize)]
pub struct GetEventData {
    /// `getEvent`.
    #[serde(rename = "getEvent")]
    pub get_event: Option<Event>,
}

/// The typed data of [`ON_EVENT`].
#[derive(Debug, Deserialize)]
pub struct OnEventData {
    /// `onEvent`.
    #[serde(rename = "onEvent")]
    pub on_event: Option<Event>,
}

/// The `Event` object both operations select.
#[derive(Debug, Deserialize)]
pub struct Event {
    /// `id`.
    pub id: String,
    /// `n`.
    pub n: i64,
}

/// Variables of [`GET_EVENT`].
#[derive(Debug, Serialize)]
pub struct GetEventVariables {
    /// `$id`.
    pub id: String,
}

/// Variables of [`ON_EVENT`].
#[derive(Debug, Serialize)]
pub struct OnEventVariables {
    /// `$tag`.
    pub tag: String,
}
