//! Drives `events.mjs` (Amplify JS v6's Events client) from Rust tests: a child process that
//! reads JSON commands on stdin and prints JSON lines; shared by appsync-local's and
//! appsync-client's interop tests (each includes this file with `#[path]`).

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;

/// How long any one expected line may take (Node starts, Amplify connects: seconds).
pub const PATIENCE: Duration = Duration::from_secs(30);

pub fn harness() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop/amplify-js")
}

/// Installs the pinned npm packages from the lock file when they are missing.
pub fn ensure_installed() {
    let dir = harness();
    if dir.join("node_modules/aws-amplify/package.json").exists() {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .output()
        .expect("npm is needed for the Amplify JS interop test (apt-get install nodejs npm)");
    assert!(
        out.status.success(),
        "npm ci failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `events.mjs` as a child process: JSON commands in, JSON lines out.
pub struct Node {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<Value>,
    /// Lines read but not asked for yet.
    seen: VecDeque<Value>,
    pub stderr: Arc<Mutex<String>>,
}

impl Node {
    pub fn start(envs: &[(&str, String)]) -> Node {
        let mut cmd = Command::new("node");
        cmd.arg("events.mjs")
            .current_dir(harness())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .expect("node is needed for the Amplify JS interop test");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr_pipe = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let v = serde_json::from_str(&line).unwrap_or_else(|_| json!({"raw": line}));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Node {
            child,
            stdin,
            lines,
            seen: VecDeque::new(),
            stderr,
        }
    }

    pub fn send(&mut self, cmd: Value) {
        writeln!(self.stdin, "{cmd}").expect("node reads its stdin");
        self.stdin.flush().unwrap();
    }

    /// The next line that satisfies `want` (earlier lines that do not are kept).
    pub async fn wait(&mut self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&want) {
            return self.seen.remove(i).unwrap();
        }
        loop {
            match tokio::time::timeout(PATIENCE, self.lines.recv()).await {
                Ok(Some(v)) if want(&v) => return v,
                Ok(Some(v)) => self.seen.push_back(v),
                Ok(None) | Err(_) => panic!(
                    "no {what} from Amplify JS; lines: {:?}\nstderr:\n{}",
                    self.seen,
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    /// The next line of this step.
    pub async fn step(&mut self, step: &str) -> Value {
        self.wait(step, |v| v["step"] == step).await
    }

    /// The next event a subscription to `channel` received.
    pub async fn event(&mut self, channel: &str) -> Value {
        let what = format!("event on {channel}");
        let v = self
            .wait(&what, |v| v["step"] == "event" && v["channel"] == channel)
            .await;
        v["event"].clone()
    }

    /// Runs a command and returns its answer line.
    pub async fn run(&mut self, cmd: Value) -> Value {
        let step = cmd["cmd"].as_str().unwrap().to_owned();
        self.send(cmd);
        self.step(&step).await
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // By pid: SIGKILL to this child only.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Files the test writes for Node, removed when dropped.
pub struct TempFiles(pub Vec<PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        for f in &self.0 {
            let _ = std::fs::remove_file(f);
        }
    }
}
