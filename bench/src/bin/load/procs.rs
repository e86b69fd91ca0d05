//! The processes the load harness starts: the Node stub server and one client process per
//! phase, each stopped by its own pid (closing stdin first, then a kill of that pid only).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use appsync_bench::load::Report;

/// The lines a child prints on stdout, read by a thread so that waits can time out.
fn line_reader(child: &mut Child) -> Receiver<String> {
    let stdout = child.stdout.take().expect("a piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The stub server (`bench/load/stub.mjs`), a child process driven through its stdin.
pub struct Stub {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Stub {
    /// Starts `node stub.mjs` in `dir` with the environment `env` and waits for its port.
    pub fn start(dir: &Path, env: &[(&str, String)]) -> Result<Stub, String> {
        let mut cmd = Command::new("node");
        cmd.arg("stub.mjs")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| format!("cannot start node: {e}"))?;
        let stdin = child.stdin.take();
        let lines = line_reader(&mut child);
        let mut stub = Stub {
            child,
            stdin,
            lines,
            port: 0,
        };
        let line = stub.reply(Duration::from_secs(30))?;
        stub.port = line
            .strip_prefix("LISTENING ")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| format!("unexpected stub output {line:?}"))?;
        Ok(stub)
    }

    /// The stub's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn reply(&mut self, timeout: Duration) -> Result<String, String> {
        self.lines
            .recv_timeout(timeout)
            .map_err(|e| format!("no answer from the stub: {e}"))
    }

    /// Sends a command line and returns the stub's answer line.
    pub fn command(&mut self, line: &str) -> Result<String, String> {
        let stdin = self.stdin.as_mut().ok_or("the stub is stopped")?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("the stub is gone: {e}"))?;
        self.reply(Duration::from_secs(60))
    }

    /// Fires `count` events at the subscriptions tagged `tag`; returns how many it sent in all.
    pub fn fire(&mut self, tag: &str, count: u64) -> Result<u64, String> {
        let answer = self.command(&format!("fire {tag} {count}"))?;
        let subs: u64 = answer
            .split_whitespace()
            .nth(3)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("unexpected stub answer {answer:?}"))?;
        Ok(count * subs)
    }

    /// The stub's counters (`stats` command), as JSON.
    pub fn stats(&mut self) -> Result<serde_json::Value, String> {
        let answer = self.command("stats")?;
        let json = answer
            .strip_prefix("stats ")
            .ok_or_else(|| format!("unexpected stub answer {answer:?}"))?;
        serde_json::from_str(json).map_err(|e| e.to_string())
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        // Closing stdin ends it; if it does not end, it is killed by its pid.
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a client process is started.
#[derive(Clone)]
pub struct Launch {
    /// The program (a Rust client binary, `node`, or `valgrind`).
    pub program: String,
    /// Its arguments before the spec.
    pub args: Vec<String>,
    /// Its working directory.
    pub dir: std::path::PathBuf,
}

/// What one client process did.
pub struct Outcome {
    /// Its report, or why there is none.
    pub report: Result<Report, String>,
    /// Events the stub sent it.
    pub sent: u64,
    /// Wall time from spawn to exit.
    pub wall: Duration,
}

/// Runs one client process with `spec` (JSON), firing `fire` events through `stub` once it is
/// ready, and waits for its report (at most `timeout`).
pub fn run_client(
    launch: &Launch,
    spec: &str,
    stub: &mut Stub,
    fire: Option<(&str, u64)>,
    timeout: Duration,
) -> Outcome {
    let start = Instant::now();
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .arg(spec)
        .current_dir(&launch.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                report: Err(format!("cannot start {}: {e}", launch.program)),
                sent: 0,
                wall: start.elapsed(),
            }
        }
    };
    let lines = line_reader(&mut child);
    let deadline = start + timeout;
    let mut sent = 0;
    let mut report = Err("the client printed no report".to_owned());
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains("\"ready\":true") => {
                if let Some((tag, count)) = fire {
                    match stub.fire(tag, count) {
                        Ok(n) => sent = n,
                        Err(e) => {
                            report = Err(e);
                            break;
                        }
                    }
                }
            }
            Ok(line) => match serde_json::from_str::<Report>(&line) {
                Ok(r) => {
                    report = Ok(r);
                    break;
                }
                Err(_) => eprintln!("  client: {line}"),
            },
            Err(RecvTimeoutError::Timeout) => {
                report = Err(format!("no report within {timeout:?}"));
                break;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    // The client exits after its report; one that hangs is killed by its pid.
    let exit_by = Instant::now() + Duration::from_secs(10);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < exit_by => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
        }
    }
    Outcome {
        report,
        sent,
        wall: start.elapsed(),
    }
}
