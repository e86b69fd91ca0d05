//! `appsync serve`: appsync-local for a schema on 127.0.0.1, with an Event API beside it (unless
//! `--no-events`), the credentials and test tokens printed, Gen2 and Gen1 config files
//! written, fault injection typed on stdin, and a clean shutdown on Ctrl-C.
//!
//! appsync-local always binds a free port of its own; to serve on the port asked for, this
//! command listens there and relays each connection to it byte for byte (TLS included), and
//! tells appsync-local the public `host:port` so that realtime auth objects naming it pass.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use appsync_local::{AuthMode, EventApi, LambdaAuthResponse, LocalAppSync};
use serde_json::{json, Map, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::args::{ServeArgs, ServeOutput};
use crate::commands::interrupted;
use crate::exit::{one_line, Failure, OK};
use crate::output::Ui;

/// The example schema (`schema/notes/schema.graphql`, copied so that the crate stands alone).
const NOTES_SCHEMA: &str = include_str!("../../schema/notes.graphql");
/// The Gen2 file the other commands look for first.
const GEN2_FILE: &str = "amplify_outputs.json";
/// The Gen1 file.
const GEN1_FILE: &str = "amplifyconfiguration.json";
/// The self-signed certificate, with `--tls`.
const CERT_FILE: &str = "appsync-local-cert.pem";
/// The user pool's app client id.
const CLIENT_ID: &str = "local-client";
/// The OIDC issuer appsync-local holds the key of.
const OIDC_ISSUER: &str = "https://oidc.appsync.local";
/// More than this many injected failures at once is a typo, and would only eat memory.
const MAX_INJECTED: usize = 10_000;
/// The Event API's namespace without `--events-namespace` (the one the AWS console creates).
const DEFAULT_NAMESPACE: &str = "default";

/// Serves until Ctrl-C (or `quit` on stdin).
pub(crate) async fn run(args: ServeArgs, ui: Ui) -> Result<u8, Failure> {
    let (sdl, schema_name) = match &args.schema {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| {
                Failure::usage(format!("cannot read --schema {}: {e}", p.display()))
            })?,
            p.display().to_string(),
        ),
        None => (
            NOTES_SCHEMA.to_owned(),
            "the notes example schema".to_owned(),
        ),
    };
    let mut modes: Vec<AuthMode> = Vec::new();
    for m in &args.auth {
        if !modes.contains(m) {
            modes.push(*m);
        }
    }
    let Some(&default) = modes.first() else {
        return Err(Failure::usage("--auth needs at least one mode"));
    };
    if args.name.is_empty()
        || !args
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Failure::usage("--name takes letters, digits, _ and - only"));
    }
    let namespaces = event_namespaces(&args)?;
    if !args.no_config_files {
        for f in [GEN2_FILE, GEN1_FILE] {
            check_overwrite(&args.out_dir.join(f), args.force)?;
        }
    }
    // The public port first: a port in use fails before anything starts.
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| {
            Failure::usage(format!(
                "cannot listen on 127.0.0.1:{}: {e}; pass --port 0 for a free port",
                args.port
            ))
        })?;
    let public = listener
        .local_addr()
        .map_err(|e| Failure::broken(format!("cannot read the listening address: {e}")))?;

    let mut b = LocalAppSync::builder()
        .schema(sdl)
        .default_auth_mode(default)
        .additional_auth_modes(modes.iter().copied().filter(|m| *m != default))
        .region(args.region.clone())
        .public_host(public.to_string())
        .tls(args.tls);
    if let Some(names) = &namespaces {
        // Every mode of the API connects, publishes and subscribes, in every namespace.
        let mut api = EventApi::new()
            .connection_auth_modes(modes.iter().copied())
            .default_publish_auth_modes(modes.iter().copied())
            .default_subscribe_auth_modes(modes.iter().copied());
        for n in names {
            api = api.namespace(n.as_str());
        }
        b = b.events(api);
    }
    for m in &modes {
        b = match m {
            AuthMode::ApiKey => b.api_key(args.api_key.clone()),
            AuthMode::Iam => b.iam_credentials(
                args.access_key_id.clone(),
                args.secret_access_key.clone(),
                None,
            ),
            AuthMode::UserPools => b.user_pool(pool_id(&args.region), CLIENT_ID),
            AuthMode::Oidc => b.oidc_issuer(OIDC_ISSUER, None),
            AuthMode::Lambda => {
                let accepted = args.lambda_token.clone();
                b.lambda_authorizer(move |req| {
                    let ok = req.authorization_token == accepted;
                    async move {
                        if ok {
                            LambdaAuthResponse::allow()
                        } else {
                            LambdaAuthResponse::deny()
                        }
                    }
                })
            }
            _ => b,
        };
    }
    let local = b
        .start()
        .await
        .map_err(|e| Failure::usage(one_line(&e.to_string())))?;
    let relay = tokio::spawn(relay(listener, local.addr()));

    let secure = local.tls_certificate_pem().is_some();
    let graphql_url = format!(
        "{}://{public}/graphql",
        if secure { "https" } else { "http" }
    );
    let realtime_url = format!(
        "{}://{public}/graphql/realtime",
        if secure { "wss" } else { "ws" }
    );
    let events = namespaces.map(|names| EventsInfo {
        url: format!("{}://{public}/event", if secure { "https" } else { "http" }),
        realtime_url: format!(
            "{}://{public}/event/realtime",
            if secure { "wss" } else { "ws" }
        ),
        namespaces: names,
    });
    let mut files = Map::new();
    if let Some(pem) = local.tls_certificate_pem() {
        let path = args.out_dir.join(CERT_FILE);
        write(&path, pem.as_bytes())?;
        files.insert("certificate".into(), json!(path));
    }
    if !args.no_config_files {
        let inner = local.graphql_url();
        let mut gen2 = replace_string(local.amplify_outputs(), &inner, &graphql_url);
        if let Some(e) = &events {
            gen2 = replace_string(gen2, &local.events_url(), &e.url);
        }
        let gen1 = replace_string(
            local.amplify_configuration(&args.name),
            &inner,
            &graphql_url,
        );
        for (key, name, doc) in [("gen2", GEN2_FILE, gen2), ("gen1", GEN1_FILE, gen1)] {
            let path = args.out_dir.join(name);
            let text = serde_json::to_vec_pretty(&doc).unwrap_or_default();
            write(&path, &text)?;
            files.insert(key.into(), json!(path));
        }
    }
    let info = Info {
        args: &args,
        local: &local,
        modes: &modes,
        graphql_url,
        realtime_url,
        events,
        public,
        files,
        schema_name,
    };
    info.print(ui)?;

    // Commands typed on stdin, read by a thread of its own (a blocking read would hold the
    // runtime at shutdown); a closed stdin (CI, a pipe) only stops the commands.
    let (tx, mut lines) = tokio::sync::mpsc::channel::<String>(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    let stop = interrupted();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(line) = lines.recv() => {
                if command(line.trim(), &info, ui)? == Flow::Quit {
                    break;
                }
            }
        }
    }
    ui.status("stopping…");
    relay.abort();
    let _ = relay.await;
    local.shutdown().await;
    ui.status("stopped");
    Ok(OK)
}

/// The Event API's namespaces (each once, in the order given), or `None` for `--no-events`;
/// a name AppSync would refuse is a usage error naming the flag.
fn event_namespaces(args: &ServeArgs) -> Result<Option<Vec<String>>, Failure> {
    if args.no_events {
        return Ok(None);
    }
    if args.events_namespaces.is_empty() {
        return Ok(Some(vec![DEFAULT_NAMESPACE.to_owned()]));
    }
    let mut names: Vec<String> = Vec::new();
    for n in &args.events_namespaces {
        let b = n.as_bytes();
        let valid = (1..=50).contains(&b.len())
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-';
        if !valid {
            return Err(Failure::usage(format!(
                "--events-namespace {n:?}: a namespace is 1 to 50 letters, digits and dashes, \
                 beginning and ending with a letter or digit"
            )));
        }
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    Ok(Some(names))
}

/// `<region>_local`, a pool id of the form Cognito uses.
fn pool_id(region: &str) -> String {
    format!("{region}_local")
}

/// Relays each connection on the public port to appsync-local's own, until aborted (which
/// drops every relayed connection with it).
async fn relay(listener: TcpListener, inner: SocketAddr) {
    let mut connections = JoinSet::new();
    loop {
        let (mut client, _) = match listener.accept().await {
            Ok(c) => c,
            // Out of file descriptors and the like: pause rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Finished relays are reaped as new ones come.
        while connections.try_join_next().is_some() {}
        connections.spawn(async move {
            let Ok(mut upstream) = TcpStream::connect(inner).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = upstream.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        });
    }
}

/// Refuses to overwrite a config file that is not a local one (a real project's), unless
/// `--force`.
fn check_overwrite(path: &Path, force: bool) -> Result<(), Failure> {
    if force || !path.exists() {
        return Ok(());
    }
    let refuse = |why: String| {
        Failure::usage(format!(
            "{} {why}; pass --out-dir DIR to write elsewhere, or --force to overwrite it",
            path.display()
        ))
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| refuse(format!("exists and cannot be read ({e})")))?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|_| refuse("exists and is not JSON this command wrote".to_owned()))?;
    let mut urls = Vec::new();
    collect_urls(&doc, &mut urls);
    if let Some(host) = urls.iter().find_map(|u| {
        let parsed = reqwest::Url::parse(u).ok()?;
        let host = parsed.host_str()?.to_owned();
        (!matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]")).then_some(host)
    }) {
        return Err(refuse(format!("names an API that is not local ({host})")));
    }
    Ok(())
}

fn collect_urls<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| collect_urls(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_urls(x, out)),
        _ => {}
    }
}

/// `v` with every string equal to `from` replaced by `to`.
fn replace_string(v: Value, from: &str, to: &str) -> Value {
    match v {
        Value::String(s) if s == from => Value::String(to.to_owned()),
        Value::Array(a) => {
            Value::Array(a.into_iter().map(|x| replace_string(x, from, to)).collect())
        }
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, replace_string(x, from, to)))
                .collect(),
        ),
        other => other,
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::usage(format!("cannot create the folder {}: {e}", dir.display()))
        })?;
    }
    std::fs::write(path, bytes)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))
}

/// Everything a client needs to call the running server.
struct Info<'a> {
    args: &'a ServeArgs,
    local: &'a LocalAppSync,
    modes: &'a [AuthMode],
    graphql_url: String,
    realtime_url: String,
    events: Option<EventsInfo>,
    public: SocketAddr,
    files: Map<String, Value>,
    schema_name: String,
}

/// Where the Event API is served, and its namespaces.
struct EventsInfo {
    url: String,
    realtime_url: String,
    namespaces: Vec<String>,
}

impl Info<'_> {
    /// Freshly minted test tokens, by mode.
    fn tokens(&self) -> Value {
        let life = i64::try_from(self.args.token_lifetime.as_secs()).unwrap_or(i64::MAX);
        let mut t = Map::new();
        if self.modes.contains(&AuthMode::UserPools) {
            let l = self.local;
            t.insert(
                "user_pool".into(),
                json!({
                    "alice": l.user_pool_token("alice").groups(["admins"]).expires_in(life).mint(),
                    "alice_id": l.user_pool_token("alice").groups(["admins"]).id_token().expires_in(life).mint(),
                    "bob": l.user_pool_token("bob").expires_in(life).mint(),
                }),
            );
        }
        if self.modes.contains(&AuthMode::Oidc) {
            t.insert(
                "oidc".into(),
                json!(self.local.oidc_token("oidc-user").expires_in(life).mint()),
            );
        }
        if self.modes.contains(&AuthMode::Lambda) {
            t.insert("lambda".into(), json!(self.args.lambda_token));
        }
        Value::Object(t)
    }

    fn print(&self, ui: Ui) -> Result<(), Failure> {
        let a = self.args;
        let tokens = self.tokens();
        let has = |m: AuthMode| self.modes.contains(&m);
        if a.output == ServeOutput::Json {
            let line = json!({
                "graphql_url": self.graphql_url,
                "realtime_url": self.realtime_url,
                "events_url": self.events.as_ref().map(|e| &e.url),
                "events_realtime_url": self.events.as_ref().map(|e| &e.realtime_url),
                "events_namespaces": self.events.as_ref().map(|e| &e.namespaces),
                "port": self.public.port(),
                "region": a.region,
                "default_auth_mode": self.modes[0].as_str(),
                "auth_modes": self.modes.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
                "api_name": a.name,
                "api_key": has(AuthMode::ApiKey).then_some(&a.api_key),
                "iam": has(AuthMode::Iam).then(|| json!({
                    "access_key_id": a.access_key_id,
                    "secret_access_key": a.secret_access_key,
                })),
                "user_pool": has(AuthMode::UserPools).then(|| json!({
                    "pool_id": pool_id(&a.region), "client_id": CLIENT_ID,
                })),
                "oidc_issuer": has(AuthMode::Oidc).then_some(OIDC_ISSUER),
                "tokens": tokens,
                "files": self.files,
            });
            return ui.json(&line, false);
        }
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        line(format!(
            "appsync-local is serving {} on 127.0.0.1 (Ctrl-C to stop)",
            self.schema_name
        ));
        line(format!("  GraphQL:      {}", self.graphql_url));
        line(format!("  realtime:     {}", self.realtime_url));
        if let Some(e) = &self.events {
            line(format!(
                "  Events:       {} (namespaces: {})",
                e.url,
                e.namespaces.join(", ")
            ));
            line(format!("  Events ws:    {}", e.realtime_url));
        }
        line(format!("  region:       {}", a.region));
        let names: Vec<String> = self
            .modes
            .iter()
            .enumerate()
            .map(|(i, m)| {
                if i == 0 {
                    format!("{m} (default)")
                } else {
                    m.to_string()
                }
            })
            .collect();
        line(format!("  auth modes:   {}", names.join(", ")));
        if has(AuthMode::ApiKey) {
            line(format!("  API key:      {}", a.api_key));
        }
        if has(AuthMode::Iam) {
            line(format!(
                "  AWS_IAM:      AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}",
                a.access_key_id, a.secret_access_key
            ));
        }
        if tokens.as_object().is_some_and(|t| !t.is_empty()) {
            line(self.token_lines(&tokens));
        }
        for (key, what) in [
            ("gen2", "Gen2"),
            ("gen1", "Gen1"),
            ("certificate", "TLS certificate (--ca-cert)"),
        ] {
            if let Some(p) = self.files.get(key).and_then(Value::as_str) {
                let extra = if key == "gen1" {
                    let mut n = vec![a.name.clone()];
                    n.extend(self.modes[1..].iter().map(|m| format!("{}_{m}", a.name)));
                    format!(", names {}", n.join(", "))
                } else if key == "gen2" && self.events.is_some() {
                    ", Event API in custom.events (endpoint \"events\")".to_owned()
                } else {
                    String::new()
                };
                line(format!(
                    "  {what}:{}{p}{extra}",
                    " ".repeat(13usize.saturating_sub(what.len()).max(1))
                ));
            }
        }
        if a.schema.is_none() && self.modes[0] == AuthMode::ApiKey {
            line("Try: appsync query '{ listNotes { items { id content } } }'".to_owned());
        }
        if let Some(ns) = self.events.as_ref().and_then(|e| e.namespaces.first()) {
            if self.modes[0] == AuthMode::ApiKey {
                line(format!(
                    "Try: appsync events subscribe '/{ns}/*'   and   appsync events publish \
                     /{ns}/hello '{{\"text\": \"hi\"}}'"
                ));
            }
        }
        line(
            "Type help and Enter for fault injection (drop sockets, fail requests, …).".to_owned(),
        );
        ui.bytes(out.as_bytes())
    }

    fn token_lines(&self, tokens: &Value) -> String {
        let mut out = format!(
            "  test tokens (valid {}; pass with --token or APPSYNC_TOKEN):",
            crate::commands::human(self.args.token_lifetime)
        );
        let mut add = |label: &str, v: Option<&Value>| {
            if let Some(t) = v.and_then(Value::as_str) {
                out.push_str(&format!("\n    {label:<34} {t}"));
            }
        };
        add(
            "user pool, alice (group admins):",
            tokens.pointer("/user_pool/alice"),
        );
        add(
            "user pool, alice, ID token:",
            tokens.pointer("/user_pool/alice_id"),
        );
        add(
            "user pool, bob (no group):",
            tokens.pointer("/user_pool/bob"),
        );
        add("OIDC, subject oidc-user:", tokens.get("oidc"));
        add("AWS_LAMBDA:", tokens.get("lambda"));
        out
    }
}

/// What to do after a typed command.
#[derive(PartialEq, Eq)]
enum Flow {
    Go,
    Quit,
}

/// A fault-injection or other command typed on stdin; its answer goes to stderr.
fn command(line: &str, info: &Info<'_>, ui: Ui) -> Result<Flow, Failure> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let faults = info.local.faults();
    let number = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok());
    let say = |s: &str| {
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "{s}");
    };
    match words.as_slice() {
        [] => {}
        ["drop"] => {
            faults.drop_all_sockets();
            say("dropped every realtime socket (clients should reconnect)");
        }
        ["close", code, reason @ ..] => match code.parse::<u16>() {
            Ok(c @ 1000..=4999) => {
                // A close frame's reason is at most 123 bytes (of UTF-8).
                let mut reason = reason.join(" ");
                while reason.len() > 123 {
                    reason.pop();
                }
                faults.close_all_sockets(c, &reason);
                say(&format!("closed every realtime socket with code {c}"));
            }
            _ => say("close CODE [REASON]: CODE is 1000 to 4999"),
        },
        ["fail", ..] | ["refuse", ..] => match (number(1), number(2)) {
            (Some(n), Some(status @ 100..=599)) if n as usize <= MAX_INJECTED => {
                let (n, status) = (n as usize, status as u16);
                if words[0] == "fail" {
                    faults.fail_next_requests(n, status);
                    say(&format!("the next {n} HTTP request(s) get {status}"));
                } else {
                    faults.refuse_next_connections(n, status);
                    say(&format!("the next {n} realtime connection(s) get {status}"));
                }
            }
            _ => say(&format!(
                "{} N STATUS: N up to {MAX_INJECTED}, STATUS 100 to 599",
                words[0]
            )),
        },
        ["ka", on @ ("on" | "off")] => {
            faults.pause_keep_alives(*on == "off");
            say(&format!("keep-alives {on}"));
        }
        ["tokens"] => {
            let tokens = info.tokens();
            if info.args.output == ServeOutput::Json {
                ui.json(&json!({"tokens": tokens}), false)?;
            } else {
                ui.bytes(format!("{}\n", info.token_lines(&tokens)).as_bytes())?;
            }
        }
        ["help" | "?"] => say(
            "commands: drop | close CODE [REASON] | fail N STATUS | refuse N STATUS | ka on|off \
             | tokens | quit",
        ),
        ["quit" | "exit" | "q"] => return Ok(Flow::Quit),
        _ => say("unknown command; type help"),
    }
    Ok(Flow::Go)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_replaced_everywhere() {
        let v = json!({"a": "u", "b": ["u", {"c": "u"}], "d": "uu"});
        assert_eq!(
            replace_string(v, "u", "v"),
            json!({"a": "v", "b": ["v", {"c": "v"}], "d": "uu"})
        );
    }

    #[test]
    fn real_configs_are_not_overwritten() {
        let dir = std::env::temp_dir().join(format!("appsync-cli-serve-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("amplify_outputs.json");
        std::fs::write(
            &f,
            r#"{"data": {"url": "https://x.appsync-api.us-east-1.amazonaws.com/graphql"}}"#,
        )
        .unwrap();
        let e = check_overwrite(&f, false).unwrap_err();
        assert!(
            e.message
                .contains("not local (x.appsync-api.us-east-1.amazonaws.com)"),
            "{}",
            e.message
        );
        assert!(check_overwrite(&f, true).is_ok());
        std::fs::write(&f, r#"{"data": {"url": "http://127.0.0.1:1/graphql"}}"#).unwrap();
        assert!(check_overwrite(&f, false).is_ok());
        std::fs::write(&f, "not json").unwrap();
        assert!(check_overwrite(&f, false).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
