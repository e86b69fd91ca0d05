//! Starts moto's server (PyPI `moto[server]`, Cognito user pools and identity pools) on
//! 127.0.0.1 for the `cognito` tests, and calls its admin APIs.
//!
//! [`Moto::start`] installs `interop/moto/requirements.txt` into `interop/moto/.venv` when the
//! venv is missing or older than the requirements (once per test process; `scripts/test.sh`
//! installs it first), then runs `moto_server -H 127.0.0.1 -p 0` and reads the port it prints.
//! Nothing is skipped: without `python3` (with `venv`), or when the install or the start fails,
//! it panics and says why. `Drop` kills the process by its id and waits for it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};

/// How long moto may take to print its address (a cold start takes a few seconds).
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// `interop/moto`.
pub fn harness_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop/moto")
}

/// The venv's `python`.
pub fn python() -> PathBuf {
    ensure_installed();
    harness_dir().join(".venv/bin/python")
}

fn ensure_installed() {
    static DONE: OnceLock<()> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    if DONE.get().is_some() {
        return;
    }
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if DONE.get().is_some() {
        return;
    }
    let dir = harness_dir();
    let req = dir.join("requirements.txt");
    let stamp = dir.join(".venv/.installed");
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (modified(&stamp), modified(&req)) {
        (Some(s), Some(r)) => s >= r,
        _ => false,
    };
    if !fresh {
        eprintln!("installing {} into interop/moto/.venv", req.display());
        let run = |cmd: &mut Command, what: &str| {
            let out = cmd.output().unwrap_or_else(|e| {
                panic!("cannot run {what} ({e}): the cognito tests need python3 with venv (never skipped)")
            });
            assert!(
                out.status.success(),
                "{what} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(
            Command::new("python3")
                .args(["-m", "venv", ".venv"])
                .current_dir(&dir),
            "python3 -m venv",
        );
        run(
            Command::new(dir.join(".venv/bin/pip"))
                .args(["install", "-q", "-r", "requirements.txt"])
                .current_dir(&dir),
            "pip install -r interop/moto/requirements.txt",
        );
        std::fs::write(&stamp, b"").expect("write the venv stamp");
    }
    let _ = DONE.set(());
}

/// A running `moto_server`.
pub struct Moto {
    pub port: u16,
    child: Child,
    http: reqwest::Client,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The region every test resource lives in (moto answers unsigned calls from `us-east-1`).
pub const REGION: &str = "us-east-1";

impl Moto {
    /// Installs moto if needed, starts it on a free port and waits for it.
    pub fn start() -> Moto {
        ensure_installed();
        let mut child = Command::new(harness_dir().join(".venv/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run moto_server ({e})"));
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
                        let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                        if let Ok(p) = port.parse::<u16>() {
                            let _ = tx.send(p);
                            sent = true;
                        }
                    }
                }
                // Keep draining so that moto never blocks on a full pipe.
            }
        });
        let port = match rx.recv_timeout(START_TIMEOUT) {
            Ok(p) => p,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("moto_server did not print its address within {START_TIMEOUT:?}");
            }
        };
        Moto {
            port,
            child,
            http: reqwest::Client::new(),
        }
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// One JSON-RPC call (`Service.Op`), unsigned; panics unless it succeeds.
    pub async fn call(&self, target: &str, body: Value) -> Value {
        let (status, v) = self.try_call(target, body).await;
        assert!(status < 300, "{target}: HTTP {status} {v}");
        v
    }

    /// One JSON-RPC call; the status and the JSON answer (null when not JSON).
    pub async fn try_call(&self, target: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url())
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .body(body.to_string())
            .send()
            .await
            .expect("moto answers");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap_or_default();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A user-pools admin call.
    pub async fn idp(&self, op: &str, body: Value) -> Value {
        self.call(&format!("AWSCognitoIdentityProviderService.{op}"), body)
            .await
    }

    /// A Cognito Identity call.
    pub async fn identity(&self, op: &str, body: Value) -> Value {
        self.call(&format!("AWSCognitoIdentityService.{op}"), body)
            .await
    }

    /// A user pool; its id.
    pub async fn user_pool(&self, name: &str) -> String {
        let v = self.idp("CreateUserPool", json!({"PoolName": name})).await;
        v["UserPool"]["Id"].as_str().expect("pool id").to_owned()
    }

    /// An app client; `(id, secret)`.
    pub async fn app_client(&self, pool: &str, secret: bool) -> (String, Option<String>) {
        let v = self
            .idp(
                "CreateUserPoolClient",
                json!({"UserPoolId": pool, "ClientName": "app", "GenerateSecret": secret,
                       "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
            )
            .await;
        let c = &v["UserPoolClient"];
        (
            c["ClientId"].as_str().expect("client id").to_owned(),
            c["ClientSecret"].as_str().map(str::to_owned),
        )
    }

    /// A confirmed user with a permanent password.
    pub async fn user(&self, pool: &str, name: &str, password: &str) {
        self.idp(
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS"}),
        )
        .await;
        self.idp(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool, "Username": name, "Password": password, "Permanent": true}),
        )
        .await;
    }

    /// A group with the user in it.
    pub async fn group_with(&self, pool: &str, group: &str, user: &str) {
        self.idp(
            "CreateGroup",
            json!({"UserPoolId": pool, "GroupName": group}),
        )
        .await;
        self.idp(
            "AdminAddUserToGroup",
            json!({"UserPoolId": pool, "Username": user, "GroupName": group}),
        )
        .await;
    }

    /// An identity pool trusting the user pool's app client; its id.
    pub async fn identity_pool(&self, user_pool: &str, client: &str, guests: bool) -> String {
        let v = self
            .identity(
                "CreateIdentityPool",
                json!({"IdentityPoolName": "ids", "AllowUnauthenticatedIdentities": guests,
                       "CognitoIdentityProviders": [{
                           "ProviderName": format!("cognito-idp.{REGION}.amazonaws.com/{user_pool}"),
                           "ClientId": client}]}),
            )
            .await;
        v["IdentityPoolId"]
            .as_str()
            .expect("identity pool id")
            .to_owned()
    }
}
