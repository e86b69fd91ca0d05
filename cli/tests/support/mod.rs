//! Shared helpers of the CLI tests: `appsync` run as a process in a clean environment, a guard
//! that kills what a test started (also when it fails), waiting for output lines with
//! timeouts (never sleeping to synchronize), `appsync serve` on port 0, and a tiny HTTP server.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_appsync");

/// How long anything may take on a loaded 2-core machine before the test fails.
pub const LONG: Duration = Duration::from_secs(60);

/// A fresh, empty folder for one test under Cargo's temporary target folder.
pub fn tmp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "appsync-cli-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("cannot create a test folder");
    dir
}

/// `appsync ARGS` in `dir`, with no AWS or APPSYNC variables, no ~/.aws files and no IMDS
/// from the machine running the tests.
pub fn appsync(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).args(args);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("AWS_") || k.starts_with("APPSYNC_") || k == "NO_COLOR" {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", dir)
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

/// What a finished run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout as JSON (one value).
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {self:#?}"))
    }

    /// Asserts the exit code, showing everything when it differs.
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        self
    }

    /// Asserts that stderr is exactly one line, an error, and returns it (status lines of
    /// retries, which may come before it, aside).
    pub fn one_error_line(&self) -> &str {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.starts_with("retrying (retry "))
            .collect();
        assert_eq!(lines.len(), 1, "stderr is not one line: {self:#?}");
        assert!(
            lines[0].starts_with("error: "),
            "not an error line: {self:#?}"
        );
        lines[0]
    }
}

/// Runs `cmd` to the end with stdin `input` (or none), killing it if it takes too long.
pub fn run_with_input(cmd: &mut Command, input: Option<&str>) -> Run {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("cannot start appsync");
    let pid = child.id();
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        let text = text.to_owned();
        thread::spawn(move || {
            let _ = stdin.write_all(text.as_bytes());
        });
    }
    let (tx, rx) = channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(LONG) {
        Ok(Ok(out)) => Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        Ok(Err(e)) => panic!("waiting for appsync failed: {e}"),
        Err(_) => {
            kill(pid, "KILL");
            panic!(
                "appsync {:?} did not finish within {LONG:?}",
                cmd.get_args().collect::<Vec<_>>()
            )
        }
    }
}

/// Runs `cmd` to the end with no stdin.
pub fn run(cmd: &mut Command) -> Run {
    run_with_input(cmd, None)
}

/// Sends a signal (`INT`, `TERM`, `KILL`) to a process by id.
pub fn kill(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// Which stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

/// A running process whose output lines are collected as they come; killed by its pid when
/// dropped (also when the test fails).
pub struct Proc {
    pub name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<(Stream, String)>,
    /// Every line seen so far, in order.
    pub seen: Vec<(Stream, String)>,
}

impl Proc {
    /// Starts `cmd` with piped stdin, stdout and stderr.
    pub fn spawn(name: &str, cmd: &mut Command) -> Proc {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("cannot start appsync");
        let (tx, rx) = channel();
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        reader(out, Stream::Out, tx.clone());
        reader(err, Stream::Err, tx);
        Proc {
            name: name.to_owned(),
            stdin: child.stdin.take(),
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a line of `stream` matching `pred`, after those already returned; fails the
    /// test with everything seen when none comes within `LONG`.
    pub fn wait_line(&mut self, stream: Stream, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + LONG;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((s, line)) => {
                    self.seen.push((s, line.clone()));
                    if s == stream && pred(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "{}: no such {stream:?} line within {LONG:?}; seen: {:#?}",
                        self.name, self.seen
                    )
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{}: the process closed its output; seen: {:#?}",
                    self.name, self.seen
                ),
            }
        }
    }

    /// Like [`Proc::wait_line`], but a matching line seen before counts too (lines of two
    /// streams may be read in another order than they were written).
    pub fn find_line(&mut self, stream: Stream, pred: impl Fn(&str) -> bool) -> String {
        if let Some((_, l)) = self.seen.iter().find(|(s, l)| *s == stream && pred(l)) {
            return l.clone();
        }
        self.wait_line(stream, pred)
    }

    /// Writes a line to its stdin.
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is piped");
        writeln!(stdin, "{line}").expect("cannot write to stdin");
        stdin.flush().expect("cannot flush stdin");
    }

    /// Waits for the process to end; its exit code and every line it printed.
    pub fn wait_exit(&mut self) -> (i32, Vec<(Stream, String)>) {
        let deadline = Instant::now() + LONG;
        // Its output ends when it exits: read to the end first.
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "{}: did not exit within {LONG:?}; seen: {:#?}",
                        self.name, self.seen
                    )
                }
            }
        }
        let status = self.child.wait().expect("cannot wait for the process");
        (status.code().unwrap_or(-1), self.seen.clone())
    }

    /// Lines of one stream seen so far.
    pub fn lines_of(&self, stream: Stream) -> Vec<String> {
        self.seen
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, l)| l.clone())
            .collect()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            kill(self.child.id(), "KILL");
            let _ = self.child.wait();
        }
    }
}

fn reader(r: impl Read + Send + 'static, stream: Stream, tx: Sender<(Stream, String)>) {
    thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send((stream, line)).is_err() {
                break;
            }
        }
    });
}

/// `appsync serve --port 0 --output json` writing its files into a fresh folder.
pub struct Serve {
    pub proc: Proc,
    /// The JSON line it printed.
    pub info: Value,
    /// Where its config files are (and where the client commands run).
    pub dir: PathBuf,
}

impl Serve {
    /// Starts it with extra flags and waits for its JSON line.
    pub fn start(name: &str, extra: &[&str]) -> Serve {
        let dir = tmp_dir(name);
        let mut args = vec!["serve", "--port", "0", "--output", "json", "--out-dir", "."];
        args.extend_from_slice(extra);
        let mut proc = Proc::spawn(&format!("serve {name}"), &mut appsync(&dir, &args));
        let line = proc.wait_line(Stream::Out, |l| l.starts_with('{'));
        let info: Value = serde_json::from_str(&line).expect("serve printed JSON");
        Serve { proc, info, dir }
    }

    /// A string of its JSON line by pointer, e.g. `/tokens/user_pool/alice`.
    pub fn get(&self, pointer: &str) -> String {
        self.info
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("serve printed no {pointer}: {}", self.info))
            .to_owned()
    }

    /// `appsync ARGS` in its folder.
    pub fn cmd(&self, args: &[&str]) -> Command {
        appsync(&self.dir, args)
    }

    /// Runs `appsync ARGS` in its folder to the end.
    pub fn run(&self, args: &[&str]) -> Run {
        run(&mut self.cmd(args))
    }

    /// The flags of IAM with the credentials it accepts.
    pub fn iam_flags(&self) -> Vec<String> {
        vec![
            "--access-key".into(),
            self.get("/iam/access_key_id"),
            "--secret-key".into(),
            self.get("/iam/secret_access_key"),
        ]
    }

    /// Creates a note signed with its Lambda token; returns its id.
    pub fn create_note(&self, content: &str) -> String {
        let token = self.get("/tokens/lambda");
        let r = self.run(&[
            "mutate",
            "--auth-mode",
            "AWS_LAMBDA",
            "--token",
            &token,
            "mutation($c: String!) { createNote(input: {content: $c}) { id content } }",
            "--var",
            &format!("c={content}"),
        ]);
        r.code(0);
        r.json()["data"]["createNote"]["id"]
            .as_str()
            .expect("an id")
            .to_owned()
    }
}

/// One request the test HTTP server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1:0 answering each request with `answer(request)` =
/// (status, JSON body), and reporting what it received. It stops when dropped... its thread
/// ends with the test process; it only ever listens on loopback.
pub struct HttpServer {
    pub port: u16,
    pub received: Receiver<Received>,
}

impl HttpServer {
    pub fn start(answer: fn(&Received) -> (u16, String)) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("address").port();
        let (tx, rx) = channel();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let tx = tx.clone();
                thread::spawn(move || serve_one(conn, answer, tx));
            }
        });
        HttpServer { port, received: rx }
    }

    /// The next request it received.
    pub fn next(&self) -> Received {
        self.received
            .recv_timeout(LONG)
            .expect("the HTTP server received no request")
    }
}

fn serve_one(conn: TcpStream, answer: fn(&Received) -> (u16, String), tx: Sender<Received>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or_default().to_owned(),
            parts.next().unwrap_or_default().to_owned(),
        );
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let req = Received {
            method,
            target,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let (status, out) = answer(&req);
        let _ = tx.send(req);
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            out.len()
        );
        if conn.write_all(head.as_bytes()).is_err() || conn.write_all(out.as_bytes()).is_err() {
            return;
        }
    }
}
