//! A real client no one here wrote: Amplify JS v6 (`aws-amplify` from npm, run by Node) queries
//! appsync-local with an API key, subscribes, sends an IAM-signed mutation (its own SigV4), and
//! receives the subscription event, over HTTPS and WSS as Amplify always dials.

use std::path::PathBuf;
use std::process::Command;

use appsync_local::{AuthMode, LocalAppSync};
use serde_json::{json, Value};

const SDL: &str = r#"
type Note @aws_api_key @aws_iam { id: ID! content: String! }
type Query { getNote(id: ID!): Note @aws_api_key @aws_iam }
type Mutation { createNote(id: ID!, content: String!): Note @aws_api_key @aws_iam }
type Subscription { onCreateNote: Note @aws_subscribe(mutations: ["createNote"]) @aws_api_key @aws_iam }
"#;

const KEY: &str = "da2-amplifyjsinteropkey000000";
const AKID: &str = "AKIDAMPLIFYJS";
const SECRET: &str = "amplify/js/secret";
const TOKEN: &str = "amplify-js-session-token";

fn harness() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop/amplify-js")
}

/// Installs the pinned npm packages from the lock file when they are missing.
fn ensure_installed() {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amplify_js_queries_subscribes_and_mutates_with_iam() {
    ensure_installed();
    let local = LocalAppSync::builder()
        .schema(SDL)
        .default_auth_mode(AuthMode::ApiKey)
        .additional_auth_modes([AuthMode::Iam])
        .api_key(KEY)
        .iam_credentials(AKID, SECRET, Some(TOKEN.to_owned()))
        .tls(true)
        .start()
        .await
        .unwrap();
    local
        .store()
        .put("Note", json!({"id": "seed", "content": "hello"}))
        .unwrap();
    let cert = std::env::temp_dir().join(format!("appsync-local-cert-{}.pem", std::process::id()));
    std::fs::write(&cert, local.tls_certificate_pem().unwrap()).unwrap();

    let (url, cert_path) = (local.graphql_url(), cert.clone());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("client.mjs")
            .current_dir(harness())
            .env("GRAPHQL_URL", url)
            .env("REGION", "us-east-1")
            .env("API_KEY", KEY)
            .env("AWS_ACCESS_KEY_ID", AKID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_SESSION_TOKEN", TOKEN)
            .env("NODE_EXTRA_CA_CERTS", cert_path)
            .env("SEED_ID", "seed")
            .env("NOTE_ID", "from-amplify")
            .env("TIMEOUT_MS", "30000")
            .output()
            .expect("node is needed for the Amplify JS interop test")
    })
    .await
    .unwrap();
    let _ = std::fs::remove_file(&cert);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Amplify JS failed:\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let steps: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("no {name} step in:\n{stdout}"))
            .clone()
    };
    assert_eq!(
        step("query_api_key")["data"],
        json!({"getNote": {"id": "seed", "content": "hello"}})
    );
    assert_eq!(step("subscribe")["ok"], true);
    assert_eq!(
        step("mutation_iam")["data"]["createNote"]["id"],
        "from-amplify"
    );
    assert_eq!(
        step("subscription_event")["data"]["onCreateNote"]["id"],
        "from-amplify"
    );
    // The IAM mutation really went through the server's signature check.
    assert_eq!(
        local.store().get("Note", "from-amplify").unwrap()["content"],
        step("mutation_iam")["data"]["createNote"]["content"]
    );
}
