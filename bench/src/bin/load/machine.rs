//! How busy the machine is with work that is not the bench's: /proc/stat minus the CPU of the
//! processes the harness runs, so a round can wait for a quiet machine and be labelled noisy.

use std::time::{Duration, Instant};

/// Linux's `USER_HZ` (the unit of /proc/stat and /proc/PID/stat), 100 on every platform Rust
/// targets.
const TICKS_PER_SECOND: f64 = 100.0;

/// Busy CPU seconds of the whole machine so far (every core: user, nice, system, irq, softirq,
/// steal; steal counts because a hypervisor's other guests slow the run too).
pub fn machine_busy_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    let busy = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| v.get(i))
        .sum::<f64>();
    busy / TICKS_PER_SECOND
}

/// CPU seconds used so far by process `pid` (0 if it is gone).
pub fn process_cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / TICKS_PER_SECOND
}

/// This harness's own CPU seconds so far.
pub fn self_cpu_s() -> f64 {
    appsync_bench::load::usage().cpu_ns as f64 / 1e9
}

/// The 1-minute load average.
pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The number of online cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Others' average busy cores over `window`, while the bench itself is idle (the stub with
/// its pid `stub` is counted out).
pub fn others_now(window: Duration, stub: u32) -> f64 {
    let (m0, s0, h0) = (machine_busy_s(), process_cpu_s(stub), self_cpu_s());
    let t0 = Instant::now();
    std::thread::sleep(window);
    let ours = process_cpu_s(stub) - s0 + self_cpu_s() - h0;
    ((machine_busy_s() - m0 - ours) / t0.elapsed().as_secs_f64()).max(0.0)
}

/// Waits until others use less than `threshold` cores (sampled over 2 s), for at most
/// `max_wait`. Returns the last sample and whether the machine was quiet.
pub fn wait_quiet(threshold: f64, max_wait: Duration, stub: u32) -> (f64, bool) {
    let start = Instant::now();
    loop {
        let others = others_now(Duration::from_secs(2), stub);
        if others < threshold {
            return (others, true);
        }
        if start.elapsed() >= max_wait {
            return (others, false);
        }
        eprintln!(
            "  machine busy: others use {others:.2} cores (load average {:.2}); waiting",
            loadavg()
        );
        std::thread::sleep(Duration::from_secs(3));
    }
}

/// A description of the machine for the results.
pub fn describe() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{} × {model}, Linux {}", cores(), kernel.trim())
}
