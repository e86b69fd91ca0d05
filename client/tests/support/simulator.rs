//! Starts the AppSync simulator from npm (interop/simulator) on 127.0.0.1 for interop tests.
#![allow(dead_code)]
//!
//! [`Simulator::start`] installs the simulator with `npm ci` when `interop/simulator/node_modules`
//! is missing or older than `package-lock.json` (once at a time, under a file lock, so parallel
//! tests and test processes do not install over each other), then spawns `node server.js` and
//! reads its `LISTENING <port>` line. Nothing is skipped: without `node` or `npm` on `PATH`, or
//! when the install or the start fails, it panics and says why.
//!
//! Each `Simulator` is one `node` process with its own port and its own in-memory notes. Its
//! stdin is a pipe held by the struct: the server exits when the pipe closes, so even a test
//! process killed outright leaves no server behind. `Drop` kills the process by its id and waits
//! for it. Prefer one `Simulator` per test (a value in a `static` is never dropped).

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The API key the harness configures (default auth mode `API_KEY`).
pub const API_KEY: &str = "da2-interoptestkey000000000000";
/// The Cognito user pool id the harness trusts (`iss` must end with it).
pub const USER_POOL_ID: &str = "us-east-1_interop";
/// The `iss` of user-pool tokens the harness accepts.
pub const USER_POOL_ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_interop";
/// The OIDC issuer the harness accepts (exact match).
pub const OIDC_ISSUER: &str = "https://oidc.interop.test";
/// The OIDC client id the harness is configured with.
pub const OIDC_CLIENT_ID: &str = "interop-client";

/// How long the server may take to print `LISTENING` (a cold start takes about one second).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `node interop/simulator/server.js`.
pub struct Simulator {
    /// The HTTP (and realtime websocket) port on 127.0.0.1.
    pub port: u16,
    child: Child,
    /// Held open: the server exits when its stdin closes.
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Installs the simulator if needed, starts it, and waits for its port. Panics with the
    /// reason (and the server's stderr) when anything fails.
    pub fn start() -> Simulator {
        let dir = harness_dir();
        ensure_installed(&dir);

        let mut child = Command::new("node")
            .arg("server.js")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `node` ({e}): the interop tests need Node.js 20 or newer on PATH \
                     (they are never skipped)"
                )
            });
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr_pipe = child.stderr.take().expect("piped stderr");

        // stderr: kept in memory for failure messages; drained until the process ends.
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_reader = {
            let stderr = stderr.clone();
            thread::spawn(move || {
                let mut reader = BufReader::new(stderr_pipe);
                let mut buf = [0u8; 4096];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => stderr
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push_str(&String::from_utf8_lossy(&buf[..n])),
                    }
                }
            })
        };

        // stdout: the first line is `LISTENING <port>`; anything after it is drained.
        let (tx, rx) = mpsc::channel::<String>();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            drop(tx);
            for _ in lines.by_ref() {}
        });

        let mut sim = Simulator {
            port: 0,
            child,
            stdin,
            stderr,
            stderr_reader: Some(stderr_reader),
        };
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "the AppSync simulator printed no `LISTENING <port>` line within {START_TIMEOUT:?}\n\
                 --- its stderr ---\n{}",
                sim.stderr()
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // stdout closed without a line: the server died. Reap it for its exit status.
                let status = sim.child.wait();
                if let Some(reader) = sim.stderr_reader.take() {
                    let _ = reader.join(); // the pipe is at EOF once the process is gone
                }
                let stderr = sim.stderr();
                panic!(
                    "the AppSync simulator exited before listening ({status:?})\n\
                     --- its stderr ---\n{stderr}"
                )
            }
        };
        sim.port = line
            .strip_prefix("LISTENING ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "the AppSync simulator's first stdout line is {line:?}, expected `LISTENING <port>`\n\
                     --- its stderr ---\n{}",
                    sim.stderr()
                )
            });
        sim
    }

    /// `http://127.0.0.1:PORT/graphql`.
    pub fn graphql_url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }

    /// `ws://127.0.0.1:PORT/graphql/realtime` (the simulator's only realtime path).
    pub fn realtime_url(&self) -> String {
        format!("ws://127.0.0.1:{}/graphql/realtime", self.port)
    }

    /// The process id of the `node` server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to stderr so far (the simulator's own logging goes there).
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        // Closing stdin alone would make the server exit on its own; killing by pid makes the
        // end certain and immediate, and `wait` reaps it so no zombie stays.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("port", &self.port)
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

/// `<workspace>/interop/simulator`.
pub fn harness_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("interop")
        .join("simulator");
    assert!(
        dir.join("server.js").is_file() && dir.join("package-lock.json").is_file(),
        "the simulator harness is missing: expected server.js and package-lock.json in {}",
        dir.display()
    );
    dir
}

/// Whether `node_modules` holds a finished install of the current lock file. npm writes
/// `node_modules/.package-lock.json` when an install completes.
fn installed(dir: &Path) -> bool {
    let hidden = dir.join("node_modules").join(".package-lock.json");
    let simulator = dir
        .join("node_modules")
        .join("@aws-amplify")
        .join("amplify-appsync-simulator")
        .join("package.json");
    let graphql = dir
        .join("node_modules")
        .join("graphql")
        .join("package.json");
    if !(hidden.is_file() && simulator.is_file() && graphql.is_file()) {
        return false;
    }
    let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    match (mtime(&dir.join("package-lock.json")), mtime(&hidden)) {
        (Some(lock), Some(done)) => done >= lock,
        _ => true,
    }
}

/// Runs `npm ci` in the harness when it is not installed. Serialized across threads and
/// processes by an exclusive lock on a file in Cargo's per-target temporary directory.
fn ensure_installed(dir: &Path) {
    if installed(dir) {
        return;
    }
    let lock_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("appsync-simulator-npm-ci.lock");
    let lock = File::create(&lock_path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));
    // Another test may have installed it while this one waited for the lock.
    if installed(dir) {
        return;
    }
    eprintln!(
        "installing the AppSync simulator: npm ci in {} (first run only)",
        dir.display()
    );
    let started = Instant::now();
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--no-update-notifier"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `npm` ({e}): the interop tests install the AppSync simulator with \
                 `npm ci` and need Node.js 20 or newer with npm on PATH (they are never skipped)"
            )
        });
    assert!(
        out.status.success(),
        "`npm ci` in {} failed ({}); the registry must be reachable on the first run\n\
         --- stdout ---\n{}\n--- stderr ---\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        installed(dir),
        "`npm ci` in {} succeeded but the simulator is not in node_modules",
        dir.display()
    );
    eprintln!("npm ci done in {:?}", started.elapsed());
    // The lock is released when `lock` is dropped.
}
