//! The client's memory per idle subscription: 10,000 subscriptions open on one socket.
//!
//! A counting global allocator (`stats_alloc` around the system allocator) gives the bytes
//! live in this process. The raw sender (`src/bin/realtime_sender.rs`, which never refuses a
//! subscription, so all of them share one socket) runs as a child process, so every counted
//! byte is the client's (or this harness's, which allocates nothing while measuring but the
//! `Vec` of handles, counted on purpose: a subscription's handle is client memory too).
//!
//! Per round: bytes live with the client built and no subscription (`base`), after the first
//! subscription (with its socket and actor), and after all of them (`all`). It prints
//! `(all - base) / N` plus the handle's own size (the sockets' cost spread over the
//! subscriptions), the live allocations per subscription, and the change in resident memory;
//! then every subscription is dropped, the sockets close, and what is still live is compared
//! with `base`. Two rounds of each scenario: all subscriptions on one socket (the sender never
//! refuses one), then AppSync's cap of 100 per socket (`realtime_sender --cap 100`: the
//! client opens a socket per 100). Run with
//! `cargo bench -p appsync-bench --bench realtime_memory` (`REALTIME_SUBS=N` changes N).

use std::alloc::System;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use appsync_client::{
    AuthMode, Client, Config, EndpointConfig, GraphQLRequest, RealtimeOptions, Subscription,
};
use serde_json::{json, Value};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const API_KEY: &str = "da2-benchbenchbenchbenchbench";
const DOC: &str = "subscription OnEvent($tag: String) { onEvent(tag: $tag) { id n } }";
/// The target: at most this many bytes of client memory per idle subscription.
const TARGET: f64 = 2048.0;

/// Bytes and blocks live now.
fn live() -> (i64, i64) {
    let s = GLOBAL.stats();
    (
        s.bytes_allocated as i64 - s.bytes_deallocated as i64,
        s.allocations as i64 - s.deallocations as i64,
    )
}

/// Resident memory of this process, in bytes (`VmRSS`).
fn rss() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The raw sender, running as a child process.
struct Sender {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    port: u16,
}

impl Sender {
    /// The sender, with at most `cap` subscriptions per socket.
    fn start(cap: Option<usize>) -> Sender {
        let mut command = Command::new(env!("CARGO_BIN_EXE_realtime_sender"));
        if let Some(c) = cap {
            command.arg("--cap").arg(c.to_string());
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the realtime_sender binary starts");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("its stdout"));
        let mut s = Sender {
            child,
            stdin,
            stdout,
            port: 0,
        };
        let line = s.line();
        s.port = line
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected sender output {line:?}"));
        s
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("the sender answers");
        line.trim().to_owned()
    }

    /// `(sockets, subscriptions)` open on the sender.
    fn stats(&mut self) -> (usize, usize) {
        let stdin = self.stdin.as_mut().expect("the sender runs");
        writeln!(stdin, "stats")
            .and_then(|()| stdin.flush())
            .expect("the sender reads");
        let line = self.line();
        let n: Vec<usize> = line
            .strip_prefix("stats ")
            .map(|r| r.split(' ').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or_default();
        match n.as_slice() {
            [a, b] => (*a, *b),
            _ => panic!("unexpected sender output {line:?}"),
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        // Closing its stdin ends it.
        self.stdin = None;
        let _ = self.child.wait();
    }
}

async fn subscribe(client: &Client, i: usize) -> Subscription<Value> {
    client
        .subscribe_graphql(GraphQLRequest::new(DOC).variables(json!({ "n": i })))
        .start()
        .await
        .expect("the subscription starts")
}

/// Waits until the sender sees `subs` subscriptions on `sockets` sockets.
async fn settle(sender: &mut Sender, sockets: usize, subs: usize) {
    for _ in 0..1000 {
        if sender.stats() == (sockets, subs) {
            // Let the actors finish whatever the last frames started.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the sender has {:?}, not ({sockets}, {subs})",
        sender.stats()
    );
}

/// Two rounds of `n` subscriptions against a sender with this cap per socket; the worst
/// bytes per subscription.
fn scenario(name: &str, n: usize, cap: Option<usize>) -> f64 {
    let mut sender = Sender::start(cap);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("bench", format!("http://127.0.0.1:{}/graphql", sender.port))
                .authorization_type(AuthMode::ApiKey)
                .api_key(API_KEY),
        )
        .build()
        .expect("a valid config");
    let client = Client::builder()
        .config(config)
        .realtime(RealtimeOptions::new().idle_close_delay(Duration::from_millis(100)))
        .build()
        .expect("a valid client");
    let handle = std::mem::size_of::<Subscription<Value>>();
    let sockets = cap.map_or(1, |c| n.div_ceil(c));
    let mut worst: f64 = 0.0;
    for round in 1..=2 {
        rt.block_on(async {
            let mut subs = Vec::with_capacity(n);
            let (base, base_blocks) = live();
            let rss0 = rss();
            subs.push(subscribe(&client, 0).await);
            settle(&mut sender, 1, 1).await;
            let (one, _) = live();
            for i in 1..n {
                subs.push(subscribe(&client, i).await);
            }
            settle(&mut sender, sockets, n).await;
            let (all, all_blocks) = live();
            let rss1 = rss();
            // The handles sit in `subs`, allocated before `base`: added by hand.
            let per = (all - base) as f64 / n as f64 + handle as f64;
            worst = worst.max(per);
            println!(
                "[{name}] round {round}: {n} subscriptions on {sockets} socket(s): {per:.0} B \
                 per subscription ({:.1} allocations; the first with its socket: {} B); RSS \
                 +{:.0} B per subscription; target <= {TARGET:.0} B: {}",
                (all_blocks - base_blocks) as f64 / n as f64,
                one - base + handle as i64,
                (rss1 - rss0) as f64 / n as f64,
                if per <= TARGET { "met" } else { "MISSED" },
            );
            drop(subs);
            settle(&mut sender, 0, 0).await;
            // The idle close delay, then the actors' exit.
            tokio::time::sleep(Duration::from_millis(300)).await;
            // The registry forgets closed sockets' handles at the next subscribe: one more
            // (on a socket of its own, closed again), so that the next round starts clean.
            drop(subscribe(&client, n).await);
            settle(&mut sender, 0, 0).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            // The `Vec` of handles, allocated before `base`, is gone too.
            let (after, _) = live();
            println!(
                "[{name}] round {round}: after dropping them and the sockets closing: {:+} B \
                 against the start",
                after - base + (n * handle) as i64
            );
        });
    }
    worst
}

fn main() {
    let n: usize = std::env::var("REALTIME_SUBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    println!(
        "realtime memory: {n} idle subscriptions, current-thread runtime; bytes requested from \
         the allocator and still live, the {}-byte Subscription handle included",
        std::mem::size_of::<Subscription<Value>>()
    );
    let one = scenario("one socket", n, None);
    let capped = scenario("100 per socket", n, Some(100));
    println!(
        "realtime memory: {one:.0} B per idle subscription on one socket, {capped:.0} B with \
         AppSync's 100 per socket (worst rounds; target <= {TARGET:.0})"
    );
}
