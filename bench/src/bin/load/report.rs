//! The load bench's figures: per-sample metrics, medians and ranges over rounds, ratios to the
//! raw baseline and to Amplify JS, the Markdown tables, and the files and doc blocks written.

use std::fmt::Write as _;
use std::path::Path;

use crate::{Kind, Phase, Results, Sample};

/// Metrics of one sample.
#[derive(Clone, Copy, Default)]
pub struct Metrics {
    /// CPU per request or per delivered event, µs.
    pub cpu_us: Option<f64>,
    /// Requests or delivered events per second of wall time.
    pub rate: Option<f64>,
    /// Latency percentiles, µs.
    pub p50_us: Option<f64>,
    /// 99th percentile, µs.
    pub p99_us: Option<f64>,
    /// Peak RSS, MiB.
    pub rss_mib: Option<f64>,
    /// Events sent but not delivered.
    pub lost: Option<f64>,
    /// Events the client reported dropped.
    pub lagged: Option<f64>,
    /// Resident bytes per idle subscription.
    pub rss_per_sub: Option<f64>,
}

/// The metrics of a sample (none when it failed).
pub fn metrics(s: &Sample, phase: &Phase) -> Metrics {
    let Some(r) = &s.report else {
        return Metrics::default();
    };
    if s.error.is_some() {
        return Metrics::default();
    }
    let wall_s = r.wall_ns as f64 / 1e9;
    let mut m = Metrics {
        rss_mib: Some(r.max_rss_bytes as f64 / (1u64 << 20) as f64),
        ..Metrics::default()
    };
    match phase.kind {
        Kind::Query => {
            m.cpu_us = Some(r.cpu_ns as f64 / 1e3 / r.ops.max(1) as f64);
            m.rate = (wall_s > 0.0).then(|| r.ops as f64 / wall_s);
            m.p50_us = r.p50_ns.map(|v| v as f64 / 1e3);
            m.p99_us = r.p99_ns.map(|v| v as f64 / 1e3);
        }
        Kind::Subscribe => {
            let got = r.received.unwrap_or(0);
            m.cpu_us = (got > 0).then(|| r.cpu_ns as f64 / 1e3 / got as f64);
            m.rate = (wall_s > 0.0 && got > 1).then(|| (got - 1) as f64 / wall_s);
            m.lost = Some(s.sent.saturating_sub(got) as f64);
            m.lagged = Some(r.lagged.unwrap_or(0) as f64);
        }
        Kind::Idle => {
            let got = r.received.unwrap_or(0);
            m.rss_per_sub = r
                .rss_delta_bytes
                .filter(|_| got > 0)
                .map(|d| d as f64 / got as f64);
        }
    }
    m
}

/// A progress line for one sample.
pub fn sample_line(s: &Sample, phase: &Phase) -> String {
    let m = metrics(s, phase);
    let mut line = format!("{:<15} {:<16}", s.phase, s.client);
    if let Some(e) = &s.error {
        let _ = write!(line, "FAILED: {e}");
        return line;
    }
    let opt = |v: Option<f64>| v.map_or("-".to_owned(), num);
    match phase.kind {
        Kind::Query => {
            let _ = write!(
                line,
                "cpu {} µs/req, {} req/s, p50 {} µs, p99 {} µs",
                opt(m.cpu_us),
                opt(m.rate),
                opt(m.p50_us),
                opt(m.p99_us)
            );
        }
        Kind::Subscribe => {
            let _ = write!(
                line,
                "cpu {} µs/event, {} events/s, lost {} (lagged {})",
                opt(m.cpu_us),
                opt(m.rate),
                opt(m.lost),
                opt(m.lagged)
            );
        }
        Kind::Idle => {
            let _ = write!(line, "{} B RSS per subscription", opt(m.rss_per_sub));
        }
    }
    let _ = write!(
        line,
        ", peak RSS {} MiB, others {:.2} cores",
        opt(m.rss_mib),
        s.others
    );
    line
}

/// Checks what the harness can check after the run: the raw baseline (no buffer) and the
/// idle phase must account for every event and subscription.
pub fn check(results: &mut Results) {
    for s in &results.samples {
        let Some(phase) = results.phases.iter().find(|p| p.name == s.phase) else {
            continue;
        };
        let Some(r) = &s.report else { continue };
        if s.error.is_some() {
            continue;
        }
        match phase.kind {
            Kind::Subscribe if s.client == "raw" && r.received != Some(s.sent) => {
                results.failures.push(format!(
                    "round {} {} raw: received {:?} of {} (a stub or harness problem)",
                    s.round, s.phase, r.received, s.sent
                ));
            }
            Kind::Subscribe if s.sent != phase.count => results.failures.push(format!(
                "round {} {} {}: the stub sent {} events, not {}",
                s.round, s.phase, s.client, s.sent, phase.count
            )),
            Kind::Idle if r.received != Some(phase.count) => results.failures.push(format!(
                "round {} {} {}: {:?} of {} subscriptions started",
                s.round, s.phase, s.client, r.received, phase.count
            )),
            _ => {}
        }
    }
}

/// A number with a few significant digits and thousands separators.
pub fn num(x: f64) -> String {
    let s = if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else if x.abs() >= 1.0 {
        format!("{x:.2}")
    } else if x == 0.0 {
        "0".to_owned()
    } else {
        format!("{x:.3}")
    };
    // Thousands separators in the integer part.
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Median, min and max.
#[derive(Clone, Copy)]
pub struct Spread {
    /// Median.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

/// The spread of some values (None if there are none).
pub fn spread(mut v: Vec<f64>) -> Option<Spread> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Spread {
        median,
        min: v[0],
        max: v[n - 1],
    })
}

fn fmt_spread(s: Option<Spread>) -> String {
    match s {
        None => "–".to_owned(),
        Some(s) if (s.max - s.min).abs() <= f64::EPSILON * s.max.abs() => num(s.median),
        Some(s) => format!("{} ({}–{})", num(s.median), num(s.min), num(s.max)),
    }
}

fn fmt_median(s: Option<Spread>) -> String {
    s.map_or("–".to_owned(), |s| num(s.median))
}

fn fmt_ratio(s: Option<Spread>) -> String {
    match s {
        None => "–".to_owned(),
        Some(s) if (s.max - s.min).abs() < 0.005 => format!("**{:.2}×**", s.median),
        Some(s) => format!("**{:.2}×** ({:.2}–{:.2})", s.median, s.min, s.max),
    }
}

/// The rounds the medians use: the quiet ones when there are at least three, else all.
pub fn used_rounds(results: &Results) -> (Vec<usize>, bool) {
    let quiet: Vec<usize> = results
        .rounds
        .iter()
        .filter(|r| !r.noisy)
        .map(|r| r.round)
        .collect();
    if quiet.len() >= 3 || quiet.len() == results.rounds.len() {
        (quiet, true)
    } else {
        (results.rounds.iter().map(|r| r.round).collect(), false)
    }
}

/// One metric of one client in one phase over the rounds used.
pub fn over_rounds(
    results: &Results,
    phase: &Phase,
    client: &str,
    f: impl Fn(&Metrics) -> Option<f64>,
) -> Option<Spread> {
    let (rounds, _) = used_rounds(results);
    spread(
        results
            .samples
            .iter()
            .filter(|s| s.phase == phase.name && s.client == client && rounds.contains(&s.round))
            .filter_map(|s| f(&metrics(s, phase)))
            .collect(),
    )
}

/// A ratio of CPU per op, client a over client b, per round (side by side), over the rounds.
pub fn cpu_ratio(results: &Results, phase: &Phase, a: &str, b: &str) -> Option<Spread> {
    let (rounds, _) = used_rounds(results);
    let cpu = |client: &str, round: usize| {
        results
            .samples
            .iter()
            .find(|s| s.phase == phase.name && s.client == client && s.round == round)
            .and_then(|s| metrics(s, phase).cpu_us)
    };
    spread(
        rounds
            .iter()
            .filter_map(|&r| Some(cpu(a, r)? / cpu(b, r)?))
            .collect(),
    )
}

/// Instructions per op of a client in a phase.
pub fn instructions(results: &Results, phase: &str, client: &str) -> Option<f64> {
    results
        .instructions
        .iter()
        .find(|i| i.phase == phase && i.client == client)
        .map(|i| i.per_op)
}

/// A ratio of instructions per op.
pub fn instr_ratio(results: &Results, phase: &str, a: &str, b: &str) -> Option<Spread> {
    let r = instructions(results, phase, a)? / instructions(results, phase, b)?;
    Some(Spread {
        median: r,
        min: r,
        max: r,
    })
}

/// Instructions per op without SHA-256 compression, when it is a noticeable part (IAM).
fn instructions_without_sha(results: &Results, phase: &str, client: &str) -> Option<f64> {
    results
        .instructions
        .iter()
        .find(|i| i.phase == phase && i.client == client && i.sha256_per_op > 0.05 * i.per_op)
        .map(|i| i.per_op - i.sha256_per_op)
}

/// The instruction ratio cell: the ratio, and without SHA-256 where that matters.
fn fmt_instr_ratio(results: &Results, phase: &str, a: &str, b: &str) -> String {
    let cell = fmt_ratio(instr_ratio(results, phase, a, b));
    match (
        instructions_without_sha(results, phase, a),
        instructions_without_sha(results, phase, b),
    ) {
        (Some(x), Some(y)) => format!("{cell}; {:.2}× without SHA-256¹", x / y),
        _ => cell,
    }
}

fn unit(phase: &Phase) -> &'static str {
    match phase.kind {
        Kind::Query => "request",
        _ => "event",
    }
}

/// The conditions line: machine, versions, rounds and their noise.
fn conditions(results: &Results) -> String {
    let (used, quiet) = used_rounds(results);
    let rounds: Vec<String> = results
        .rounds
        .iter()
        .map(|r| {
            format!(
                "{}: others {:.2}/{:.2} cores, load {:.2}→{:.2}{}",
                r.round,
                r.others_before,
                r.others_during,
                r.loadavg.0,
                r.loadavg.1,
                if r.noisy { " **noisy**" } else { "" }
            )
        })
        .collect();
    format!(
        "{} · {} · Rust clients on a {} Tokio runtime · {} · {} rounds, interleaved; medians over {} \
         ({}; others = CPU used by other processes before/during the round, quiet < {:.2} cores): {}",
        results.machine,
        results.versions,
        if results.runtime == "multi" { "multi-thread" } else { "current-thread (one core, like Node's loop)" },
        results.date,
        results.rounds.len(),
        if quiet { format!("the {} quiet rounds", used.len()) } else { "all rounds (fewer than 3 quiet)".to_owned() },
        if quiet { "noisy rounds left out" } else { "noisy rounds included" },
        results.quiet_threshold,
        rounds.join("; "),
    )
}

/// The conditions in one sentence, for the project README.
fn conditions_short(results: &Results) -> String {
    let (used, quiet) = used_rounds(results);
    let noisy = results.rounds.iter().filter(|r| r.noisy).count();
    let others = spread(results.rounds.iter().map(|r| r.others_during).collect());
    let how = match (quiet, noisy) {
        (_, 0) => format!("Medians over all {} rounds, all quiet", used.len()),
        (true, n) => format!(
            "Medians over the {} quiet rounds ({n} noisy left out)",
            used.len()
        ),
        (false, n) => format!(
            "Medians over all {} rounds, {n} of them noisy (other processes used {} cores during them)",
            used.len(),
            others.map_or("?".to_owned(), |s| format!("{:.1}–{:.1}", s.min, s.max))
        ),
    };
    format!(
        "Measured {} on {}; {}; Rust clients on a {} runtime. {how}. All figures and the method: `bench/README.md`.",
        results.date,
        results.machine,
        results.versions,
        if results.runtime == "multi" { "multi-thread" } else { "current-thread" },
    )
}

/// The table of figures (every phase, every client) and the memory table.
pub fn figures_table(results: &Results) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "| phase | client | CPU µs per request/event | requests or events /s | p50 µs | p99 µs | peak RSS MiB | events lost (lagged) | instructions per request/event |"
    );
    let _ = writeln!(t, "|---|---|---|---|---|---|---|---|---|");
    for phase in results.phases.iter().filter(|p| p.kind != Kind::Idle) {
        for client in crate::CLIENTS {
            let g = |f: fn(&Metrics) -> Option<f64>| over_rounds(results, phase, client, f);
            let lost = match phase.kind {
                Kind::Subscribe => format!(
                    "{} ({})",
                    fmt_spread(g(|m| m.lost)),
                    fmt_spread(g(|m| m.lagged))
                ),
                _ => "–".to_owned(),
            };
            let instr = match results
                .instructions
                .iter()
                .find(|i| i.phase == phase.name && i.client == client)
            {
                Some(i) if i.sha256_per_op > 0.05 * i.per_op => format!(
                    "{} ({} of them SHA-256¹)",
                    num(i.per_op),
                    num(i.sha256_per_op)
                ),
                Some(i) => num(i.per_op),
                None => "–".to_owned(),
            };
            let _ = writeln!(
                t,
                "| {} | {client} | {} | {} | {} | {} | {} | {lost} | {instr} |",
                phase.label,
                fmt_spread(g(|m| m.cpu_us)),
                fmt_spread(g(|m| m.rate)),
                fmt_median(g(|m| m.p50_us)),
                fmt_median(g(|m| m.p99_us)),
                fmt_median(g(|m| m.rss_mib)),
            );
        }
    }
    if let Some(phase) = results.phases.iter().find(|p| p.kind == Kind::Idle) {
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "| {} (IAM, one socket) | resident bytes per subscription (RSS delta / count) | peak RSS MiB |",
            phase.label
        );
        let _ = writeln!(t, "|---|---|---|");
        for client in crate::CLIENTS {
            let _ = writeln!(
                t,
                "| {client} | {} | {} |",
                fmt_spread(over_rounds(results, phase, client, |m| m.rss_per_sub)),
                fmt_median(over_rounds(results, phase, client, |m| m.rss_mib)),
            );
        }
        let worst = ["appsync-typed", "appsync-untyped"]
            .iter()
            .filter_map(|c| over_rounds(results, phase, c, |m| m.rss_per_sub))
            .map(|s| s.max)
            .fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))));
        if let Some(w) = worst {
            let _ = writeln!(
                t,
                "\nTarget for this client, at most 2,048 resident bytes per idle subscription: {} \
                 (worst round {} B).",
                if w <= 2048.0 { "met" } else { "**not met**" },
                num(w)
            );
        }
    }
    t
}

/// The ratios: this client to the raw baseline and to Amplify JS, per phase.
pub fn ratios_table(results: &Results) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "| phase | CPU typed / raw | CPU untyped / raw | instructions typed / raw | instructions untyped / raw | CPU typed / Amplify JS | CPU untyped / Amplify JS | events lost, this client |"
    );
    let _ = writeln!(t, "|---|---|---|---|---|---|---|---|");
    for phase in results.phases.iter().filter(|p| p.kind != Kind::Idle) {
        let lost = match phase.kind {
            Kind::Subscribe => {
                let l = |c| over_rounds(results, phase, c, |m| m.lost).map_or(0.0, |s| s.max);
                format!(
                    "{} typed, {} untyped (of {})",
                    num(l("appsync-typed")),
                    num(l("appsync-untyped")),
                    num(phase.count as f64)
                )
            }
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            t,
            "| {} (per {}) | {} | {} | {} | {} | {} | {} | {lost} |",
            phase.label,
            unit(phase),
            fmt_ratio(cpu_ratio(results, phase, "appsync-typed", "raw")),
            fmt_ratio(cpu_ratio(results, phase, "appsync-untyped", "raw")),
            fmt_instr_ratio(results, &phase.name, "appsync-typed", "raw"),
            fmt_instr_ratio(results, &phase.name, "appsync-untyped", "raw"),
            fmt_ratio(cpu_ratio(results, phase, "appsync-typed", "amplify")),
            fmt_ratio(cpu_ratio(results, phase, "appsync-untyped", "amplify")),
        );
    }
    if results
        .instructions
        .iter()
        .any(|i| i.sha256_per_op > 0.05 * i.per_op)
    {
        let _ = writeln!(
            t,
            "\n¹ Valgrind does not offer the CPU's SHA extensions, so under callgrind SigV4's \
             SHA-256 (the `sha2` crate, the same on both sides) runs its portable code, a large \
             shared cost that the CPU avoids natively (SHA-NI); the ratio without it is the one \
             to compare with the CPU ratios."
        );
    }
    t
}

/// Everything as Markdown: conditions, ratios, figures.
pub fn summary_text(results: &Results) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{}\n", conditions(results));
    let _ = writeln!(t, "{}", ratios_table(results));
    let _ = writeln!(t, "{}", figures_table(results));
    if !results.failures.is_empty() {
        let _ = writeln!(t, "Failures:\n");
        for f in &results.failures {
            let _ = writeln!(t, "- {f}");
        }
    }
    t
}

/// Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in `path`.
fn replace_block(path: &Path, name: &str, body: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (begin, end) = (
        format!("<!-- {name}:begin -->"),
        format!("<!-- {name}:end -->"),
    );
    let (Some(a), Some(b)) = (text.find(&begin), text.find(&end)) else {
        return Err(format!("{}: no {begin} … {end} block", path.display()));
    };
    let out = format!("{}{begin}\n{body}{}", &text[..a], &text[b..]);
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `results.json`, `table.md` and `ratios.svg` to `dir`, and with `docs` the blocks in
/// bench/README.md (figures) and README.md (ratios).
pub fn write(results: &Results, dir: &Path, root: &Path, docs: bool) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(results).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("results.json"), json + "\n").map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("table.md"),
        format!(
            "<!-- The load bench's figures, written by bench/load/run.sh (src/bin/load/report.rs). -->\n\n{}",
            summary_text(results)
        ),
    )
    .map_err(|e| e.to_string())?;
    crate::chart::draw(results, &dir.join("ratios.svg"))?;
    if docs {
        let body = format!(
            "{}\n\nRatios (this client / the other; below 1 means this client uses less):\n\n{}\nFigures:\n\n{}",
            conditions(results),
            ratios_table(results),
            figures_table(results)
        );
        replace_block(&root.join("bench/README.md"), "load-bench", &body)?;
        let short = format!(
            "{}\n![CPU and instructions of appsync-rs relative to the raw baseline and to Amplify JS](bench/load/results/ratios.svg)\n\n{}\n",
            ratios_table(results),
            conditions_short(results)
        );
        replace_block(&root.join("README.md"), "load-bench", &short)?;
    }
    Ok(())
}
