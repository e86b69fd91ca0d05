//! `appsync events publish|subscribe` end to end: against an appsync-local Event API started in
//! the test process (its Gen2 `amplify_outputs.json`, `custom.events`, is the config):
//! publishes over HTTP and the socket in API key, IAM and token modes with the answer printed,
//! events from files and stdin, the limits and bad input refused before anything is sent,
//! namespaces the server refuses (with hints), subscriptions with `--count` in every kind of
//! mode (events published by the library client and by the CLI), wildcards, `--timeout` with
//! too few events, and `--multi-auth` refused; and against `appsync serve`'s Event API
//! (`--events-namespace`, the default namespace over TLS, `--no-events`, bad flags).

mod support;

use std::path::{Path, PathBuf};

use appsync_client::{ChannelEvent, ChannelSubscription, Client, Config};
use appsync_local::{AuthMode, ChannelNamespace, EventApi, LambdaAuthResponse, LocalAppSync};
use futures_util::StreamExt;
use serde_json::{json, Value};
use support::{
    appsync, run, run_with_input, tmp_dir, HttpServer, Proc, Received, Run, Serve, Stream,
};
use tokio::runtime::Runtime;

const API_KEY: &str = "da2-clieventstestkey000000000";
const AKID: &str = "AKIDCLIEVENTS";
const SECRET: &str = "cli-events-secret-access-key";
const POOL: &str = "us-east-1_clievents";
const CLIENT_ID: &str = "cli-events-client";
const LAMBDA_TOKEN: &str = "cli-events-lambda-token";

/// An appsync-local Event API (no GraphQL schema) on 127.0.0.1:0, on a runtime of its own so
/// that the tests can block on the `appsync` processes, and a folder holding its
/// `amplify_outputs.json`. Namespaces:
/// - `default`, `other` and `defaults`: API key, IAM, user pools and Lambda connect, publish and subscribe;
/// - `locked`: IAM only, both ways.
struct Local {
    // Declared first: dropped (its sockets closed) before the runtime that serves it.
    local: LocalAppSync,
    rt: Runtime,
    dir: PathBuf,
}

impl Local {
    fn start(name: &str) -> Local {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let all = [
            AuthMode::ApiKey,
            AuthMode::Iam,
            AuthMode::UserPools,
            AuthMode::Lambda,
        ];
        let local = rt
            .block_on(
                LocalAppSync::builder()
                    .default_auth_mode(AuthMode::ApiKey)
                    .api_key(API_KEY)
                    .iam_credentials(AKID, SECRET, None)
                    .user_pool(POOL, CLIENT_ID)
                    .lambda_authorizer(|req| async move {
                        if req.authorization_token == LAMBDA_TOKEN {
                            LambdaAuthResponse::allow()
                        } else {
                            LambdaAuthResponse::deny()
                        }
                    })
                    .events(
                        EventApi::new()
                            .connection_auth_modes(all)
                            .default_publish_auth_modes(all)
                            .default_subscribe_auth_modes(all)
                            .namespace("default")
                            .namespace("other")
                            .namespace("defaults")
                            .namespace(
                                ChannelNamespace::new("locked")
                                    .publish_auth_modes([AuthMode::Iam])
                                    .subscribe_auth_modes([AuthMode::Iam]),
                            ),
                    )
                    .start(),
            )
            .expect("appsync-local starts");
        let dir = tmp_dir(name);
        local
            .write_amplify_outputs(dir.join("amplify_outputs.json"))
            .expect("amplify_outputs.json is written");
        Local { local, rt, dir }
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        appsync(&self.dir, args)
    }

    fn run(&self, args: &[&str]) -> Run {
        run(&mut self.cmd(args))
    }

    /// A user-pool token for alice.
    fn user_pool_token(&self) -> String {
        self.local.user_pool_token("alice").mint()
    }

    /// The library client, reading the same config file (API key).
    fn client(&self) -> Client {
        let _in_runtime = self.rt.enter();
        let config = Config::from_path(self.dir.join("amplify_outputs.json")).expect("config");
        Client::builder().config(config).build().expect("a client")
    }

    /// A library subscription to `channel`, started (acknowledged).
    fn subscribe(&self, client: &Client, channel: &str) -> ChannelSubscription<Value> {
        self.rt
            .block_on(client.events_default().subscribe::<Value>(channel).start())
            .unwrap_or_else(|e| panic!("subscribing to {channel}: {e}"))
    }

    /// The next event of a library subscription, within [`support::LONG`].
    fn next_event(&self, sub: &mut ChannelSubscription<Value>) -> Value {
        let item = self
            .rt
            .block_on(async { tokio::time::timeout(support::LONG, sub.next()).await })
            .expect("an event in time")
            .expect("the subscription goes on")
            .unwrap_or_else(|e| panic!("{e}"));
        match item {
            ChannelEvent::Event(e) => e,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// Publishes with the library client over HTTP (API key); every event accepted.
    fn publish(&self, client: &Client, channel: &str, events: &[Value]) {
        let r = self
            .rt
            .block_on(client.events_default().publish(channel, events).send())
            .unwrap_or_else(|e| panic!("publishing to {channel}: {e}"));
        assert!(r.all_accepted(), "{r:?}");
    }
}

/// The flags of each kind of mode: the config's API key, IAM credentials, a user-pool token
/// and a Lambda token.
fn modes(local: &Local) -> Vec<(&'static str, Vec<String>)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        ("API_KEY", vec![]),
        (
            "AWS_IAM",
            s(&[
                "--auth-mode",
                "AWS_IAM",
                "--access-key",
                AKID,
                "--secret-key",
                SECRET,
            ]),
        ),
        (
            "AMAZON_COGNITO_USER_POOLS",
            s(&[
                "-a",
                "AMAZON_COGNITO_USER_POOLS",
                "--token",
                &local.user_pool_token(),
            ]),
        ),
        (
            "AWS_LAMBDA",
            s(&["-a", "AWS_LAMBDA", "--token", LAMBDA_TOKEN]),
        ),
    ]
}

/// `base` then `extra`, as the `&str`s a command takes.
fn args<'a>(base: &[&'a str], extra: &'a [String]) -> Vec<&'a str> {
    let mut v = base.to_vec();
    v.extend(extra.iter().map(String::as_str));
    v
}

/// No secret of any mode in what a run printed.
fn assert_no_secrets(r: &Run, token: &str) {
    for secret in [API_KEY, SECRET, LAMBDA_TOKEN, token] {
        assert!(
            !r.stdout.contains(secret) && !r.stderr.contains(secret),
            "a secret was printed: {r:#?}"
        );
    }
}

/// The error line of a run that printed status lines before it: the last line, and the only
/// one starting with `error: `.
fn error_line(r: &Run) -> &str {
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "not one error line: {r:#?}");
    assert_eq!(r.stderr.lines().last(), Some(errors[0]), "{r:#?}");
    errors[0]
}

/// The stdout lines of a finished `appsync events subscribe`, as JSON.
fn out_lines(lines: &[(Stream, String)]) -> Vec<Value> {
    lines
        .iter()
        .filter(|(s, _)| *s == Stream::Out)
        .map(|(_, l)| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `{"type":"event","event":e}` for each event.
fn event_lines(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .map(|e| json!({"type": "event", "event": e}))
        .collect()
}

/// `appsync events subscribe ARGS` started, and waited for until it says it subscribed to
/// `channel`.
fn subscribed(local: &Local, name: &str, channel: &str, args: &[&str]) -> Proc {
    let mut p = Proc::spawn(name, &mut local.cmd(args));
    let prefix = format!("subscribed to {channel} ");
    p.wait_line(Stream::Err, |l| l.starts_with(&prefix));
    p
}

#[test]
fn publish_over_http_and_the_socket_in_api_key_iam_and_token_modes() {
    let local = Local::start("events-publish");
    let client = local.client();
    let mut all = local.subscribe(&client, "/default/*");
    let token = local.user_pool_token();
    for (mode, flags) in modes(&local) {
        for socket in [false, true] {
            let how = if socket { "socket" } else { "http" };
            let channel = format!(
                "/default/{}-{how}",
                mode.to_ascii_lowercase().replace('_', "-")
            );
            let first = json!({"mode": mode, "over": how, "text": "caf\u{e9} \"quoted\""});
            let second = json!([1, mode]);
            let (first_text, second_text) = (first.to_string(), second.to_string());
            let mut a = args(
                &[
                    "-vv",
                    "events",
                    "publish",
                    &channel,
                    &first_text,
                    &second_text,
                ],
                &flags,
            );
            if socket {
                a.push("--socket");
            }
            let r = local.run(&a);
            r.code(0);
            assert_no_secrets(&r, &token);
            // Piped: one compact line.
            assert_eq!(r.stdout.lines().count(), 1, "{mode} {how}: {r:#?}");
            let answer = r.json();
            assert_eq!(answer["failed"], json!([]), "{mode} {how}: {answer}");
            let ok = answer["successful"].as_array().expect("a list");
            assert_eq!(ok.len(), 2, "{mode} {how}: {answer}");
            for (i, e) in ok.iter().enumerate() {
                assert_eq!(e["index"], i, "{mode} {how}: {answer}");
                assert!(
                    e["identifier"].as_str().is_some_and(|s| !s.is_empty()),
                    "{mode} {how}: {answer}"
                );
            }
            assert_ne!(ok[0]["identifier"], ok[1]["identifier"]);
            // Delivered as published, in order.
            assert_eq!(local.next_event(&mut all), first, "{mode} {how}");
            assert_eq!(local.next_event(&mut all), second, "{mode} {how}");
        }
    }
    // Indented with -o pretty.
    let r = local.run(&["events", "publish", "/default/pretty", "1", "-o", "pretty"]);
    r.code(0);
    assert!(r.stdout.lines().count() > 1, "{r:#?}");
    assert_eq!(r.json()["successful"][0]["index"], 0);
    assert_eq!(local.next_event(&mut all), json!(1));
}

#[test]
fn events_come_from_files_and_standard_input() {
    let local = Local::start("events-files");
    let client = local.client();
    let mut all = local.subscribe(&client, "/default/*");
    std::fs::write(local.dir.join("event.json"), r#"{"from": "a file"}"#).unwrap();
    let r = run_with_input(
        &mut local.cmd(&["events", "publish", "/default/f", "@event.json", "@-"]),
        Some(r#"{"from": "stdin"}"#),
    );
    r.code(0);
    assert_eq!(r.json()["successful"].as_array().map(Vec::len), Some(2));
    assert_eq!(local.next_event(&mut all), json!({"from": "a file"}));
    assert_eq!(local.next_event(&mut all), json!({"from": "stdin"}));
    // A file that is not there, and text that is not JSON: nothing is sent.
    let r = local.run(&["events", "publish", "/default/f", "@missing.json"]);
    r.code(2);
    assert!(r.one_error_line().contains("missing.json"), "{r:#?}");
    let r = local.run(&["events", "publish", "/default/f", "{not json"]);
    r.code(2);
    r.one_error_line();
}

/// A Gen2 config whose Event API is the test HTTP server, which records what it receives.
fn recording_config(dir: &Path, port: u16) {
    let doc = json!({"version": "1.4", "custom": {"events": {
        "url": format!("http://127.0.0.1:{port}/event"),
        "aws_region": "us-east-1",
        "default_authorization_type": "API_KEY",
        "api_key": API_KEY,
    }}});
    std::fs::write(dir.join("amplify_outputs.json"), doc.to_string()).unwrap();
}

fn accept_all(_: &Received) -> (u16, String) {
    (
        200,
        json!({"successful": [{"identifier": "id-0", "index": 0}], "failed": []}).to_string(),
    )
}

#[test]
fn limits_bad_channels_and_multi_auth_are_refused_before_anything_is_sent() {
    let server = HttpServer::start(accept_all);
    let dir = tmp_dir("events-limits");
    recording_config(&dir, server.port);
    let six = ["1", "2", "3", "4", "5", "6"];
    let refused: Vec<(Vec<&str>, &str)> = vec![
        (
            [&["events", "publish", "/default/x"][..], &six].concat(),
            "1 to 5 events, not 6",
        ),
        (
            [&["events", "publish", "/default/x", "--socket"][..], &six].concat(),
            "1 to 5 events, not 6",
        ),
        (
            vec!["events", "publish", "/default/bad channel", "1"],
            "channel",
        ),
        // (`default/x`, Amplify's spelling without the leading slash, is taken as `/default/x`.)
        (vec!["events", "publish", "/default//x", "1"], "channel"),
        (vec!["events", "publish", "/default/*", "1"], "channel"),
        (
            vec!["events", "publish", "/default/a/b/c/d/e", "1", "--socket"],
            "channel",
        ),
        (vec!["events", "subscribe", "/default/a*"], "channel"),
        (vec!["events", "subscribe", "/default/*/x"], "channel"),
        (vec!["events", "subscribe", ""], "channel"),
        (
            vec!["events", "publish", "/default/x", "1", "--multi-auth"],
            "--multi-auth is for GraphQL calls",
        ),
        (
            vec!["events", "subscribe", "/default/x", "--multi-auth"],
            "--multi-auth is for GraphQL calls",
        ),
    ];
    for (a, says) in &refused {
        let r = run(&mut appsync(&dir, a));
        r.code(2);
        let line = r.one_error_line();
        assert!(line.contains(says), "{a:?}: {r:#?}");
        assert_eq!(r.stdout, "", "{a:?}");
    }
    // Each run has ended, so any request it made has been received: none was.
    assert!(
        server.received.try_recv().is_err(),
        "a refused command sent something"
    );
    // The server is reachable: a valid publish gets there, once.
    let r = run(&mut appsync(
        &dir,
        &["events", "publish", "/default/x", "1"],
    ));
    r.code(0);
    let got = server.next();
    assert_eq!(
        (got.method.as_str(), got.target.as_str()),
        ("POST", "/event")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&got.body).unwrap(),
        json!({"channel": "/default/x", "events": ["1"]})
    );
    assert_eq!(got.header("x-api-key"), Some(API_KEY));
    assert!(server.received.try_recv().is_err());
}

#[test]
fn a_namespace_the_server_refuses_is_a_failure_with_a_hint() {
    let local = Local::start("events-refused");
    let iam = modes(&local)[1].1.clone();
    for socket in [&[][..], &["--socket"][..]] {
        // No such namespace.
        let r = local.run(&[&["events", "publish", "/nowhere/x", "1"][..], socket].concat());
        r.code(3);
        let line = r.one_error_line();
        assert!(line.contains("nowhere"), "{r:#?}");
        assert!(line.contains("namespace"), "{r:#?}");
        assert_eq!(r.stdout, "");
        // A namespace that does not let this mode publish.
        let r = local.run(&[&["events", "publish", "/locked/x", "1"][..], socket].concat());
        r.code(3);
        let line = r.one_error_line();
        assert!(line.contains("locked"), "{r:#?}");
        assert!(line.contains("--auth-mode"), "{r:#?}");
        // The mode it allows.
        let a = args(
            &[&["events", "publish", "/locked/x", "1"][..], socket].concat(),
            &iam,
        );
        local.run(&a).code(0);
    }
    // Subscribing there.
    let r = local.run(&["events", "subscribe", "/nowhere/*", "--timeout", "30s"]);
    r.code(3);
    let line = error_line(&r);
    assert!(
        line.contains("nowhere") && line.contains("namespace"),
        "{r:#?}"
    );
    let r = local.run(&["events", "subscribe", "/locked/x", "--timeout", "30s"]);
    r.code(3);
    let line = error_line(&r);
    assert!(
        line.contains("locked") && line.contains("--auth-mode"),
        "{r:#?}"
    );
    // A key the server does not know.
    let r = local.run(&[
        "events",
        "publish",
        "/default/x",
        "1",
        "--api-key",
        "da2-wrong",
    ]);
    r.code(3);
    let line = r.one_error_line();
    assert!(line.contains("check the API key"), "{r:#?}");
    assert!(!line.contains("da2-wrong"), "{r:#?}");
}

#[test]
fn subscribe_count_prints_each_event_as_a_json_line_in_every_kind_of_mode() {
    let local = Local::start("events-subscribe");
    let token = local.user_pool_token();
    let cases = modes(&local);
    let mut subs: Vec<Proc> = cases
        .iter()
        .map(|(mode, flags)| {
            let a = args(
                &["events", "subscribe", "/default/room", "--count", "3"],
                flags,
            );
            subscribed(&local, mode, "/default/room", &a)
        })
        .collect();
    // Two from the library, one from the CLI over the socket.
    let events = [
        json!({"text": "hi", "n": 1}),
        json!("plain"),
        json!([true, null]),
    ];
    local.publish(&local.client(), "/default/room", &events[..2]);
    let third = events[2].to_string();
    local
        .run(&["events", "publish", "/default/room", &third, "--socket"])
        .code(0);
    for (p, (mode, _)) in subs.iter_mut().zip(&cases) {
        let (code, lines) = p.wait_exit();
        assert_eq!(code, 0, "{mode}: {lines:#?}");
        assert_eq!(out_lines(&lines), event_lines(&events), "{mode}");
        let status = lines
            .iter()
            .find(|(s, l)| *s == Stream::Err && l.starts_with("subscribed to"))
            .map(|(_, l)| l.clone())
            .unwrap_or_default();
        assert!(status.contains(mode), "{mode}: {status}");
        for (_, l) in &lines {
            for secret in [API_KEY, SECRET, LAMBDA_TOKEN, &token] {
                assert!(!l.contains(secret), "{mode}: a secret was printed: {l}");
            }
        }
    }
}

#[test]
fn a_wildcard_gets_every_channel_below_its_prefix_and_nothing_else() {
    let local = Local::start("events-wildcard");
    let mut p = subscribed(
        &local,
        "wildcard",
        "/default/*",
        &["events", "subscribe", "/default/*", "-n", "3"],
    );
    let client = local.client();
    // Published first: had it matched, it would be the first line.
    local.publish(&client, "/other/a", &[json!("other")]);
    local.publish(&client, "/defaults/a", &[json!("not a prefix")]);
    local.publish(&client, "/default/a", &[json!(1)]);
    local.publish(&client, "/default/a/b/c/d", &[json!(2)]);
    local.publish(&client, "/default/b", &[json!(3)]);
    let (code, lines) = p.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
    assert_eq!(
        out_lines(&lines),
        event_lines(&[json!(1), json!(2), json!(3)])
    );
}

#[test]
fn a_timeout_with_too_few_events_is_a_failure() {
    let local = Local::start("events-timeout");
    // One of two comes in time.
    let mut p = subscribed(
        &local,
        "one of two",
        "/default/t",
        &[
            "events",
            "subscribe",
            "/default/t",
            "-n",
            "2",
            "--timeout",
            "8s",
        ],
    );
    local.publish(&local.client(), "/default/t", &[json!("only")]);
    p.wait_line(Stream::Out, |l| l.contains("only"));
    let (code, lines) = p.wait_exit();
    assert_eq!(code, 3, "{lines:#?}");
    assert_eq!(out_lines(&lines), event_lines(&[json!("only")]));
    let last = p.lines_of(Stream::Err).last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains("--timeout 8s passed with 1 of 2 events"),
        "{lines:#?}"
    );
    // None comes.
    let r = local.run(&[
        "events",
        "subscribe",
        "/default/t",
        "-n",
        "1",
        "--timeout",
        "300ms",
    ]);
    r.code(3);
    assert!(
        r.stderr
            .lines()
            .last()
            .unwrap_or_default()
            .contains("passed with 0 of 1 events"),
        "{r:#?}"
    );
    assert_eq!(r.stdout, "");
    // Without --count, listening for a while is a normal end.
    let r = local.run(&["events", "subscribe", "/default/t", "--timeout", "300ms"]);
    r.code(0);
    assert_eq!(r.stdout, "");
}

/// `appsync events subscribe ARGS` in an `appsync serve` folder, waited for until it says it
/// subscribed to `channel`.
fn subscribed_to_serve(s: &Serve, name: &str, channel: &str, args: &[&str]) -> Proc {
    let mut p = Proc::spawn(name, &mut s.cmd(args));
    let prefix = format!("subscribed to {channel} ");
    p.wait_line(Stream::Err, |l| l.starts_with(&prefix));
    p
}

#[test]
fn serve_with_events_namespaces_serves_an_event_api_the_events_commands_use() {
    let s = Serve::start(
        "serve-events",
        &[
            "--events-namespace",
            "chat",
            "--events-namespace",
            "ops",
            "--events-namespace",
            "chat",
        ],
    );
    // Its JSON line: the public endpoints (the relayed port) and each namespace once.
    let port = s.info["port"].as_u64().expect("a port");
    assert_eq!(
        s.get("/events_url"),
        format!("http://127.0.0.1:{port}/event")
    );
    assert_eq!(
        s.get("/events_realtime_url"),
        format!("ws://127.0.0.1:{port}/event/realtime")
    );
    assert_eq!(s.info["events_namespaces"], json!(["chat", "ops"]));
    // amplify_outputs.json names the public endpoint in custom.events, and is valid.
    let gen2: Value =
        serde_json::from_slice(&std::fs::read(s.dir.join("amplify_outputs.json")).unwrap())
            .unwrap();
    assert_eq!(
        gen2["custom"]["events"]["url"].as_str(),
        Some(s.get("/events_url").as_str())
    );
    let r = s.run(&["config", "--check"]);
    r.code(0);
    assert!(
        r.stdout.contains("1 GraphQL, 1 Events and 0 REST"),
        "{r:#?}"
    );

    // Subscribers: the config's API key on a wildcard, IAM (signed for the relayed host) on
    // one channel.
    let iam = s.iam_flags();
    let mut chat = subscribed_to_serve(
        &s,
        "chat",
        "/chat/*",
        &["events", "subscribe", "/chat/*", "-n", "3"],
    );
    let mut ops = subscribed_to_serve(
        &s,
        "ops",
        "/ops/alerts",
        &args(
            &[
                "events",
                "subscribe",
                "/ops/alerts",
                "-n",
                "1",
                "-a",
                "AWS_IAM",
            ],
            &iam,
        ),
    );
    // Published by the CLI: over HTTP and over the socket, with the API key, IAM and Lambda.
    let lambda = s.get("/tokens/lambda");
    s.run(&["events", "publish", "/chat/a", r#"{"n": 1}"#])
        .code(0);
    s.run(&["events", "publish", "/chat/b", r#"{"n": 2}"#, "--socket"])
        .code(0);
    s.run(&args(
        &[
            "events",
            "publish",
            "/chat/c",
            r#"{"n": 3}"#,
            "-a",
            "AWS_IAM",
            "--socket",
        ],
        &iam,
    ))
    .code(0);
    s.run(&[
        "events",
        "publish",
        "/ops/alerts",
        r#""disk full""#,
        "-a",
        "AWS_LAMBDA",
        "--token",
        &lambda,
    ])
    .code(0);
    let (code, lines) = chat.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
    assert_eq!(
        out_lines(&lines),
        event_lines(&[json!({"n": 1}), json!({"n": 2}), json!({"n": 3})])
    );
    let (code, lines) = ops.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
    assert_eq!(out_lines(&lines), event_lines(&[json!("disk full")]));

    // `default` is not one of its namespaces now.
    for socket in [&[][..], &["--socket"][..]] {
        let r = s.run(&[&["events", "publish", "/default/x", "1"][..], socket].concat());
        r.code(3);
        let line = r.one_error_line();
        assert!(
            line.contains("\"default\"") && line.contains("namespace"),
            "{r:#?}"
        );
    }
}

#[test]
fn serve_serves_the_default_namespace_over_tls_and_none_with_no_events() {
    // By default: the namespace `default`, here over HTTPS and WSS.
    let s = Serve::start("serve-events-tls", &["--tls"]);
    assert_eq!(s.info["events_namespaces"], json!(["default"]));
    assert!(s.get("/events_realtime_url").starts_with("wss://"));
    let cert = s.get("/files/certificate");
    let mut p = subscribed_to_serve(
        &s,
        "tls",
        "/default/room",
        &[
            "events",
            "subscribe",
            "/default/room",
            "-n",
            "1",
            "--ca-cert",
            &cert,
        ],
    );
    s.run(&[
        "events",
        "publish",
        "/default/room",
        "42",
        "--ca-cert",
        &cert,
    ])
    .code(0);
    let (code, lines) = p.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
    assert_eq!(out_lines(&lines), event_lines(&[json!(42)]));

    // --no-events: no Event API, nothing in the config for it, and the commands say so.
    let s = Serve::start("serve-no-events", &["--no-events"]);
    for key in ["events_url", "events_realtime_url", "events_namespaces"] {
        assert_eq!(s.info[key], Value::Null, "{key}: {}", s.info);
    }
    let gen2: Value =
        serde_json::from_slice(&std::fs::read(s.dir.join("amplify_outputs.json")).unwrap())
            .unwrap();
    assert_eq!(gen2.get("custom"), None, "{gen2}");
    for a in [
        &["events", "publish", "/default/x", "1"][..],
        &["events", "subscribe", "/default/x"][..],
    ] {
        let r = s.run(a);
        r.code(2);
        assert!(
            r.one_error_line()
                .contains("no Events endpoint is configured"),
            "{r:#?}"
        );
    }
}

#[test]
fn serve_refuses_bad_events_flags_before_serving() {
    let dir = tmp_dir("serve-events-flags");
    for (flags, says) in [
        (
            &["--events-namespace", "a b"][..],
            "--events-namespace \"a b\": a namespace is 1 to 50 letters, digits and dashes",
        ),
        (
            &["--events-namespace", "x-"][..],
            "--events-namespace \"x-\"",
        ),
        (&["--events-namespace", ""][..], "--events-namespace \"\""),
        (
            &["--events-namespace", "chat", "--no-events"][..],
            "cannot be used with",
        ),
    ] {
        let a = [&["serve", "--port", "0"][..], flags].concat();
        let r = run(&mut appsync(&dir, &a));
        r.code(2);
        assert!(r.one_error_line().contains(says), "{flags:?}: {r:#?}");
        assert_eq!(r.stdout, "", "{flags:?}");
        assert!(
            !dir.join("amplify_outputs.json").exists(),
            "{flags:?}: a config file was written"
        );
    }
    // Its help documents the flags.
    let r = run(&mut appsync(&dir, &["serve", "--help"]));
    r.code(0);
    for text in ["--events-namespace <NAME>", "--no-events", "custom.events"] {
        assert!(r.stdout.contains(text), "{text}: {}", r.stdout);
    }
}
