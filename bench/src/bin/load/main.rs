//! The load bench's harness: starts the Node stub, runs this client (typed and untyped), the raw
//! baseline and Amplify JS side by side in interleaved rounds, counts instructions with
//! callgrind, and writes the figures, the ratios and their chart. (Past 700 lines on purpose:
//! the rounds and the callgrind runs follow one plan of phases; the table, the chart, the
//! machine's load and the processes are the modules beside it.)
//!
//! Run through `bench/load/run.sh` (which installs what this needs); the options are listed in
//! [`USAGE`]. Every client runs as its own process, given one `appsync_bench::load::Spec`, so
//! its CPU (getrusage) and peak RSS are its own; the stub is another process. Between rounds
//! the harness waits (bounded) for the machine to be quiet, and labels a round noisy when
//! others used more than the threshold during it.

mod chart;
mod machine;
mod procs;
mod report;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use appsync_bench::load::{Report, Spec};
use serde::{Deserialize, Serialize};

use crate::procs::{run_client, Launch, Stub};

const USAGE: &str = "\
usage: load [options]
  --smoke             tiny counts, one round, no callgrind, results in a temporary directory
  --rounds N          rounds of every phase (default 5)
  --out DIR           where results go (default bench/load/results)
  --root DIR          the repository (default: found from the current directory)
  --no-callgrind      skip the instruction counts
  --write-docs        put the table and ratios into bench/README.md and README.md
  --from FILE         render a results.json again (no run)
  --phases a,b        only these phases (names as in the table)
  --quiet CORES       others' CPU (cores) a quiet machine stays under (default 0.3)
  --quiet-wait SECS   longest wait for a quiet machine before a round (default 180)
  --runtime multi     the Rust clients on a multi-thread Tokio runtime (default: one thread)";

/// The first key of `results.json`.
const ABOUT: &str = "Load bench results (every sample, round and callgrind count), written by \
                     bench/load/run.sh (bench/src/bin/load); re-render with `load --from`.";

/// The stub's credentials and key (fake ones; the stub knows only these).
const API_KEY: &str = "da2-loadbenchloadbenchloadbench";
const REGION: &str = "us-east-1";
const AKID: &str = "ASIALOADBENCHEXAMPLE";
const SECRET: &str = "loadbench/secret/key/EXAMPLEKEYEXAMPLEKEY";
const TOKEN: &str = "loadbench-session-token";

/// What a phase does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Queries.
    Query,
    /// One subscription receiving a burst.
    Subscribe,
    /// Idle subscriptions (resident memory per subscription).
    Idle,
}

/// One phase of a round.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Phase {
    /// Short name (the table's).
    pub name: String,
    /// What it is, for people.
    pub label: String,
    /// Queries, a burst, or idle subscriptions.
    pub kind: Kind,
    /// `api_key` or `iam`.
    pub auth: String,
    /// Requests, events or subscriptions.
    pub count: u64,
    /// Requests in flight.
    pub concurrency: usize,
    /// Requests before the measured ones.
    pub warmup: u64,
    /// This client with `max_buffered_bytes` = 1 GiB (the others have no such setting).
    pub large: bool,
}

fn phases(smoke: bool) -> Vec<Phase> {
    let (seq, conc, small, big, idle, warm) = if smoke {
        (20, 64, 200, 2_000, 100, 5)
    } else {
        (2_000, 8_000, 20_000, 200_000, 10_000, 200)
    };
    let q = |name: &str, label: &str, auth: &str, count: u64, concurrency: usize| Phase {
        name: name.into(),
        label: label.into(),
        kind: Kind::Query,
        auth: auth.into(),
        count,
        concurrency,
        warmup: warm,
        large: false,
    };
    let s = |name: &str, label: &str, count: u64, large: bool| Phase {
        name: name.into(),
        label: label.into(),
        kind: Kind::Subscribe,
        // The socket and every start are IAM-signed (and verified): the realtime IAM path.
        auth: "iam".into(),
        count,
        concurrency: 1,
        warmup: 0,
        large,
    };
    let n = |x: u64| report::num(x as f64);
    vec![
        q("key-seq", "API-key query, sequential", "api_key", seq, 1),
        q(
            "key-c32",
            "API-key query, 32 concurrent",
            "api_key",
            conc,
            32,
        ),
        q("iam-seq", "IAM query, sequential", "iam", seq, 1),
        q("iam-c32", "IAM query, 32 concurrent", "iam", conc, 32),
        s(
            "sub-20k",
            &format!("{} events, default options", n(small)),
            small,
            false,
        ),
        s(
            "sub-200k",
            &format!("{} events, default options", n(big)),
            big,
            false,
        ),
        s(
            "sub-20k-large",
            &format!("{} events, large buffer", n(small)),
            small,
            true,
        ),
        s(
            "sub-200k-large",
            &format!("{} events, large buffer", n(big)),
            big,
            true,
        ),
        Phase {
            name: "idle-10k".into(),
            label: format!("{} idle subscriptions", n(idle)),
            kind: Kind::Idle,
            auth: "iam".into(),
            count: idle,
            concurrency: 1,
            warmup: 0,
            large: false,
        },
    ]
}

/// The clients, in the order of the first round (later rounds rotate it).
pub const CLIENTS: [&str; 4] = ["appsync-typed", "appsync-untyped", "raw", "amplify"];

/// One client process's figures in one round.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sample {
    /// 1-based round.
    pub round: usize,
    /// Phase name.
    pub phase: String,
    /// Client name.
    pub client: String,
    /// The report, if the process gave one.
    pub report: Option<Report>,
    /// Why it failed.
    pub error: Option<String>,
    /// Events the stub sent it.
    pub sent: u64,
    /// Others' average busy cores while it ran.
    pub others: f64,
}

/// A round's conditions.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Round {
    /// 1-based.
    pub round: usize,
    /// Others' busy cores just before it.
    pub others_before: f64,
    /// Whether the wait for a quiet machine succeeded.
    pub quiet_before: bool,
    /// Others' average busy cores during it.
    pub others_during: f64,
    /// Load average (1 min) at its start and end.
    pub loadavg: (f64, f64),
    /// Labelled noisy (others above the threshold before or during it).
    pub noisy: bool,
}

/// Instructions counted by callgrind for two run lengths of one client and phase.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Instructions {
    /// Phase name.
    pub phase: String,
    /// Client name.
    pub client: String,
    /// The two lengths (requests or events).
    pub lengths: (u64, u64),
    /// Instructions of each whole process.
    pub totals: (u64, u64),
    /// (I₂ − I₁) / (n₂ − n₁): per request or event, start-up removed.
    pub per_op: f64,
    /// Of those, SHA-256 block compression (portable code under valgrind; SHA-NI natively).
    #[serde(default)]
    pub sha256_per_op: f64,
}

/// Everything a run produced; `results.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    /// What the file is (its first key).
    #[serde(rename = "//", default)]
    pub about: String,
    /// Machine and versions.
    pub machine: String,
    /// Versions of the peers.
    pub versions: String,
    /// When (UTC, from `date`).
    pub date: String,
    /// Smoke run.
    pub smoke: bool,
    /// Tokio runtime of the Rust clients.
    pub runtime: String,
    /// The quiet threshold (others' cores).
    pub quiet_threshold: f64,
    /// The phases run.
    pub phases: Vec<Phase>,
    /// Round conditions.
    pub rounds: Vec<Round>,
    /// Every sample.
    pub samples: Vec<Sample>,
    /// Callgrind counts.
    pub instructions: Vec<Instructions>,
    /// Failures found by the checks (empty when all is well).
    pub failures: Vec<String>,
}

struct Opts {
    smoke: bool,
    rounds: usize,
    out: Option<PathBuf>,
    root: PathBuf,
    callgrind: bool,
    write_docs: bool,
    from: Option<PathBuf>,
    phases: Option<Vec<String>>,
    quiet: f64,
    quiet_wait: u64,
    runtime: String,
}

fn find_root() -> PathBuf {
    let mut dir = std::env::current_dir().expect("a current directory");
    loop {
        if dir.join("bench/load/stub.mjs").exists() {
            return dir;
        }
        if !dir.pop() {
            panic!("run from inside the repository, or pass --root");
        }
    }
}

fn opts() -> Result<Opts, String> {
    let mut o = Opts {
        smoke: false,
        rounds: 5,
        out: None,
        root: PathBuf::new(),
        callgrind: true,
        write_docs: false,
        from: None,
        phases: None,
        quiet: 0.3,
        quiet_wait: 180,
        runtime: "current".into(),
    };
    let mut root = None;
    let mut rounds = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--smoke" => o.smoke = true,
            "--rounds" => rounds = Some(value()?.parse().map_err(|e| format!("--rounds: {e}"))?),
            "--out" => o.out = Some(value()?.into()),
            "--root" => root = Some(PathBuf::from(value()?)),
            "--no-callgrind" => o.callgrind = false,
            "--write-docs" => o.write_docs = true,
            "--from" => o.from = Some(value()?.into()),
            "--phases" => o.phases = Some(value()?.split(',').map(str::to_owned).collect()),
            "--quiet" => o.quiet = value()?.parse().map_err(|e| format!("--quiet: {e}"))?,
            "--quiet-wait" => {
                o.quiet_wait = value()?.parse().map_err(|e| format!("--quiet-wait: {e}"))?
            }
            "--runtime" => o.runtime = value()?,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    o.root = root.unwrap_or_else(find_root);
    if o.smoke {
        o.rounds = rounds.unwrap_or(1);
        o.callgrind = false;
        o.write_docs = false;
        o.quiet_wait = 0;
    } else {
        o.rounds = rounds.unwrap_or(5);
    }
    Ok(o)
}

/// The spec of one client process.
fn spec(phase: &Phase, client: &str, tag: &str, port: u16, runtime: &str) -> Spec {
    Spec {
        url: format!("http://127.0.0.1:{port}/graphql"),
        api_key: API_KEY.into(),
        region: REGION.into(),
        access_key_id: AKID.into(),
        secret_access_key: SECRET.into(),
        session_token: Some(TOKEN.into()),
        phase: match phase.kind {
            Kind::Query => "query",
            Kind::Subscribe => "subscribe",
            Kind::Idle => "idle",
        }
        .into(),
        auth: phase.auth.clone(),
        count: phase.count,
        concurrency: phase.concurrency,
        warmup: phase.warmup,
        tag: tag.into(),
        idle_timeout_ms: 10_000,
        timeout_ms: 600_000,
        typed: client != "appsync-untyped",
        large_buffer: phase.large,
        runtime: runtime.into(),
    }
}

/// How a client is started (the Rust binaries sit beside this one).
fn launch(client: &str, root: &Path) -> Launch {
    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .expect("the harness's directory");
    let dir = root.join("bench/load");
    match client {
        "amplify" => Launch {
            program: "node".into(),
            args: vec!["amplify.mjs".into()],
            dir,
        },
        "raw" => Launch {
            program: bin_dir.join("load_raw").display().to_string(),
            args: vec![],
            dir,
        },
        _ => Launch {
            program: bin_dir.join("load_appsync").display().to_string(),
            args: vec![],
            dir,
        },
    }
}

/// Runs one client for one phase and measures others' CPU meanwhile.
fn sample(
    phase: &Phase,
    client: &str,
    round: usize,
    stub: &mut Stub,
    root: &Path,
    runtime: &str,
) -> (Sample, f64, f64) {
    let tag = format!("r{round}-{}-{client}", phase.name);
    let spec = spec(phase, client, &tag, stub.port, runtime);
    let json = serde_json::to_string(&spec).expect("a spec serializes");
    let fire = (phase.kind == Kind::Subscribe).then_some((tag.as_str(), phase.count));
    let (m0, s0, h0) = (
        machine::machine_busy_s(),
        machine::process_cpu_s(stub.pid()),
        machine::self_cpu_s(),
    );
    let out = run_client(
        &launch(client, root),
        &json,
        stub,
        fire,
        Duration::from_millis(spec.timeout_ms + 30_000),
    );
    let busy = machine::machine_busy_s() - m0;
    let stub_cpu = machine::process_cpu_s(stub.pid()) - s0;
    let self_cpu = machine::self_cpu_s() - h0;
    let client_cpu = out
        .report
        .as_ref()
        .map_or(0.0, |r| r.cpu_total_ns as f64 / 1e9);
    let wall = out.wall.as_secs_f64();
    let others_cpu = (busy - stub_cpu - self_cpu - client_cpu).max(0.0);
    let (report, error) = match out.report {
        Ok(r) => {
            let e = (r.errors > 0).then(|| {
                format!(
                    "{} errors: {}",
                    r.errors,
                    r.first_error.clone().unwrap_or_default()
                )
            });
            (Some(r), e)
        }
        Err(e) => (None, Some(e)),
    };
    (
        Sample {
            round,
            phase: phase.name.clone(),
            client: client.into(),
            report,
            error,
            sent: out.sent,
            others: others_cpu / wall.max(1e-9),
        },
        others_cpu,
        wall,
    )
}

/// Instructions of one process under callgrind.
fn callgrind_total(
    phase: &Phase,
    client: &str,
    n: u64,
    stub: &mut Stub,
    root: &Path,
    out_dir: &Path,
) -> Result<(u64, u64), String> {
    let mut p = phase.clone();
    p.count = n;
    p.warmup = p.warmup.min(50);
    let tag = format!("cg-{}-{client}-{n}", phase.name);
    let mut spec = spec(&p, client, &tag, stub.port, "current");
    // Everything runs some 50 times slower under valgrind.
    spec.idle_timeout_ms = 60_000;
    spec.timeout_ms = 1_800_000;
    let file = out_dir.join(format!("callgrind.{}.{client}.{n}.out", phase.name));
    let base = launch(client, root);
    let l = Launch {
        program: "valgrind".into(),
        args: vec![
            "--tool=callgrind".into(),
            "--quiet".into(),
            format!("--callgrind-out-file={}", file.display()),
            base.program,
        ],
        dir: base.dir,
    };
    let json = serde_json::to_string(&spec).expect("a spec serializes");
    let fire = (p.kind == Kind::Subscribe).then_some((tag.as_str(), n));
    let out = run_client(
        &l,
        &json,
        stub,
        fire,
        Duration::from_millis(spec.timeout_ms + 60_000),
    );
    let r = out.report?;
    if r.errors > 0 {
        return Err(format!("{} errors: {:?}", r.errors, r.first_error));
    }
    if p.kind == Kind::Subscribe && r.received != Some(n) {
        return Err(format!(
            "received {:?} of {n} (lagged {:?})",
            r.received, r.lagged
        ));
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no totals in {}", file.display()))?;
    Ok((total, sha256_instructions(&file)))
}

/// Instructions spent in SHA-256 block compression (exclusive), from `callgrind_annotate`.
///
/// Valgrind does not offer the CPU's SHA extensions, so under callgrind the `sha2` crate that
/// aws-sigv4 uses takes its portable code, which costs far more instructions than the SHA-NI
/// path taken natively: the IAM ratios are also given without it.
fn sha256_instructions(file: &Path) -> u64 {
    let out = std::process::Command::new("callgrind_annotate")
        .args(["--threshold=100", "--auto=no", "--show-percs=no"])
        .arg(file)
        .output();
    let Ok(out) = out else { return 0 };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("sha2::sha256") || l.contains("sha256_block"))
        .filter_map(|l| {
            l.split_whitespace()
                .next()?
                .replace(',', "")
                .parse::<u64>()
                .ok()
        })
        .sum()
}

fn callgrind(
    phases: &[Phase],
    stub: &mut Stub,
    root: &Path,
    out_dir: &Path,
    failures: &mut Vec<String>,
) -> Vec<Instructions> {
    let mut found = Vec::new();
    // The sequential queries and the 200,000-event bursts (counted at 20k and 100k events).
    let plan: Vec<(&Phase, u64, u64)> = phases
        .iter()
        .filter_map(|p| match p.name.as_str() {
            "key-seq" | "iam-seq" => Some((p, 200, 1_000)),
            "sub-200k" | "sub-200k-large" => Some((p, 20_000, 100_000)),
            _ => None,
        })
        .collect();
    for (phase, n1, n2) in plan {
        for client in ["appsync-typed", "appsync-untyped", "raw"] {
            eprintln!("callgrind: {} {client} ({n1} and {n2})", phase.name);
            let a = callgrind_total(phase, client, n1, stub, root, out_dir);
            let b = callgrind_total(phase, client, n2, stub, root, out_dir);
            match (a, b) {
                (Ok((a, sha_a)), Ok((b, sha_b))) => found.push(Instructions {
                    phase: phase.name.clone(),
                    client: client.into(),
                    lengths: (n1, n2),
                    totals: (a, b),
                    per_op: (b as f64 - a as f64) / (n2 - n1) as f64,
                    sha256_per_op: (sha_b as f64 - sha_a as f64) / (n2 - n1) as f64,
                }),
                (Err(e), _) | (_, Err(e)) => {
                    failures.push(format!("callgrind {} {client}: {e}", phase.name))
                }
            }
        }
    }
    found
}

/// A request signed with a wrong secret must be refused: the stub really verifies.
fn check_refusal(stub: &mut Stub, root: &Path, failures: &mut Vec<String>) {
    let phase = Phase {
        name: "check".into(),
        label: "a wrongly signed request".into(),
        kind: Kind::Query,
        auth: "iam".into(),
        count: 1,
        concurrency: 1,
        warmup: 0,
        large: false,
    };
    let mut s = spec(&phase, "raw", "check", stub.port, "current");
    s.secret_access_key = "not/the/secret".into();
    let json = serde_json::to_string(&s).expect("a spec serializes");
    let out = run_client(
        &launch("raw", root),
        &json,
        stub,
        None,
        Duration::from_secs(60),
    );
    match out.report {
        Ok(r) if r.errors == 1 && r.first_error.as_deref().is_some_and(|e| e.contains("403")) => {}
        other => failures.push(format!(
            "a wrongly signed request was not refused with 403: {other:?}"
        )),
    }
}

fn command_output(program: &str, args: &[&str], dir: &Path) -> String {
    std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn versions(root: &Path) -> String {
    let amplify =
        std::fs::read_to_string(root.join("bench/load/node_modules/aws-amplify/package.json"))
            .ok()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .and_then(|v| v["version"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "?".into());
    format!(
        "Node {}, aws-amplify {amplify}, {}",
        command_output("node", &["--version"], root),
        std::env::var("LOAD_RUSTC").unwrap_or_else(|_| command_output(
            "rustc",
            &["--version"],
            root
        )),
    )
}

fn run(o: &Opts) -> Result<Results, String> {
    let mut phases = phases(o.smoke);
    if let Some(only) = &o.phases {
        phases.retain(|p| only.contains(&p.name));
    }
    let out_dir = output_dir(o);
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let mut stub = Stub::start(&o.root.join("bench/load"), &[])?;
    eprintln!(
        "stub on 127.0.0.1:{} (pid {}); {} rounds of {} phases × {} clients",
        stub.port,
        stub.pid(),
        o.rounds,
        phases.len(),
        CLIENTS.len()
    );
    let mut failures = Vec::new();
    check_refusal(&mut stub, &o.root, &mut failures);
    let mut rounds = Vec::new();
    let mut samples = Vec::new();
    for round in 1..=o.rounds {
        let (others_before, quiet_before) = if o.quiet_wait > 0 {
            machine::wait_quiet(o.quiet, Duration::from_secs(o.quiet_wait), stub.pid())
        } else {
            (
                machine::others_now(Duration::from_millis(500), stub.pid()),
                true,
            )
        };
        let load0 = machine::loadavg();
        eprintln!(
            "round {round}: others {others_before:.2} cores, load average {load0:.2}{}",
            if quiet_before {
                ""
            } else {
                " (not quiet: waited long enough)"
            }
        );
        let (mut others_cpu, mut wall) = (0.0, 0.0);
        for (p, phase) in phases.iter().enumerate() {
            let k = CLIENTS.len();
            for i in 0..k {
                // Interleaved, and the order rotates per round and phase (A B C D, B C D A, …).
                let client = CLIENTS[(i + round - 1 + p) % k];
                let (s, oc, w) = sample(phase, client, round, &mut stub, &o.root, &o.runtime);
                others_cpu += oc;
                wall += w;
                eprintln!("  {}", report::sample_line(&s, phase));
                if let Some(e) = &s.error {
                    failures.push(format!("round {round} {} {client}: {e}", phase.name));
                }
                samples.push(s);
            }
        }
        let others_during = others_cpu / wall.max(1e-9);
        let noisy = !quiet_before || others_during > o.quiet;
        rounds.push(Round {
            round,
            others_before,
            quiet_before,
            others_during,
            loadavg: (load0, machine::loadavg()),
            noisy,
        });
        eprintln!(
            "round {round} done: others used {others_during:.2} cores{}",
            if noisy { ", NOISY" } else { "" }
        );
    }
    let instructions = if o.callgrind {
        callgrind(&phases, &mut stub, &o.root, &out_dir, &mut failures)
    } else {
        Vec::new()
    };
    let stats = stub.stats()?;
    // One refusal is expected: the wrongly signed request.
    for (key, expected) in [
        ("httpRejected", 1),
        ("socketsRejected", 0),
        ("startsRejected", 0),
    ] {
        if stats[key].as_u64() != Some(expected) {
            failures.push(format!(
                "stub counted {key} = {}, expected {expected}",
                stats[key]
            ));
        }
    }
    drop(stub);
    let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"], &o.root);
    let results = Results {
        about: ABOUT.to_owned(),
        machine: machine::describe(),
        versions: versions(&o.root),
        date,
        smoke: o.smoke,
        runtime: o.runtime.clone(),
        quiet_threshold: o.quiet,
        phases,
        rounds,
        samples,
        instructions,
        failures: Vec::new(),
    };
    let mut results = results;
    results.failures = failures;
    report::check(&mut results);
    Ok(results)
}

fn output_dir(o: &Opts) -> PathBuf {
    match &o.out {
        Some(d) => d.clone(),
        None if o.smoke => {
            std::env::temp_dir().join(format!("appsync-load-smoke-{}", std::process::id()))
        }
        None => o.root.join("bench/load/results"),
    }
}

fn main() -> ExitCode {
    let o = match opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let results = match &o.from {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::from_str::<Results>(&s).map_err(|e| e.to_string())),
        None => run(&o),
    };
    let results = match results {
        Ok(mut r) => {
            r.about = ABOUT.to_owned();
            r
        }
        Err(e) => {
            eprintln!("load bench failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out_dir = output_dir(&o);
    if let Err(e) = report::write(&results, &out_dir, &o.root, o.write_docs) {
        eprintln!("cannot write the results: {e}");
        return ExitCode::FAILURE;
    }
    println!("{}", report::summary_text(&results));
    println!("results in {}", out_dir.display());
    if results.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("FAILED:");
        for f in &results.failures {
            eprintln!("  {f}");
        }
        ExitCode::FAILURE
    }
}
