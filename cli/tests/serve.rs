//! `appsync serve` itself: the config files it writes, TLS with `--ca-cert`, a fixed port
//! (relayed to appsync-local, realtime IAM auth included), fault injection typed on stdin, a
//! clean stop on SIGINT, and a real project's config files left alone.

mod support;

use std::net::TcpListener;

use support::{appsync, kill, run, tmp_dir, Proc, Serve, Stream};

const LIST: &str = "{ listNotes { items { id } } }";

#[test]
fn the_config_files_it_writes_are_valid_for_the_other_commands() {
    let s = Serve::start("serve-files", &["--name", "notes"]);
    for file in ["amplify_outputs.json", "amplifyconfiguration.json"] {
        let r = s.run(&["config", "--check", "-c", file]);
        r.code(0);
        assert!(r.stdout.contains("valid"), "{r:#?}");
    }
    let r = s.run(&["config", "-c", "amplifyconfiguration.json"]);
    r.code(0);
    for name in [
        "notes",
        "notes_AWS_IAM",
        "notes_AMAZON_COGNITO_USER_POOLS",
        "notes_OPENID_CONNECT",
        "notes_AWS_LAMBDA",
    ] {
        assert!(
            r.stdout.contains(&format!("name \"{name}\"")),
            "{name}: {}",
            r.stdout
        );
    }
    assert!(
        r.stdout.contains(&s.get("/graphql_url")),
        "the files name the public endpoint"
    );
    assert!(
        !r.stdout.contains(&s.get("/api_key")),
        "config never shows the key"
    );
}

#[test]
fn tls_works_with_its_certificate() {
    let s = Serve::start("serve-tls", &["--tls"]);
    assert!(s.get("/graphql_url").starts_with("https://"));
    let cert = s.get("/files/certificate");
    let r = s.run(&["query", LIST]);
    r.code(3);
    assert!(r.one_error_line().contains("pass --ca-cert FILE"), "{r:#?}");
    s.run(&["query", LIST, "--ca-cert", &cert]).code(0);
    // Realtime over wss, signed with IAM through the relay.
    let iam = s.iam_flags();
    let mut args = vec![
        "subscribe",
        "subscription { onCreateNote { id content } }",
        "-n",
        "1",
        "-a",
        "AWS_IAM",
        "--ca-cert",
        &cert,
    ];
    args.extend(iam.iter().map(String::as_str));
    let mut sub = Proc::spawn("tls subscriber", &mut s.cmd(&args));
    sub.wait_line(Stream::Err, |l| l.contains("waiting for events"));
    let token = s.get("/tokens/lambda");
    s.run(&[
        "mutate",
        "mutation { createNote(input: {content: \"over tls\"}) { id content } }",
        "-a",
        "AWS_LAMBDA",
        "--token",
        &token,
        "--ca-cert",
        &cert,
    ])
    .code(0);
    let (code, lines) = sub.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
    assert!(lines
        .iter()
        .any(|(st, l)| *st == Stream::Out && l.contains("over tls")));
    // Not a certificate.
    let r = s.run(&["query", LIST, "--ca-cert", "amplify_outputs.json"]);
    r.code(2);
    assert!(r.one_error_line().contains("holds no PEM certificate"));
}

#[test]
fn a_fixed_port_serves_http_and_realtime() {
    // A port that was free a moment ago.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let dir = tmp_dir("serve-port");
    let mut serve = Proc::spawn(
        "serve on a port",
        &mut appsync(&dir, &["serve", "--port", &port]),
    );
    serve.wait_line(Stream::Out, |l| l.starts_with("Type help"));
    let out = serve.lines_of(Stream::Out).join("\n");
    assert!(
        out.contains(&format!("GraphQL:      http://127.0.0.1:{port}/graphql")),
        "{out}"
    );
    run(&mut appsync(&dir, &["query", LIST])).code(0);
    // The realtime auth object names 127.0.0.1:PORT, which the server must accept.
    let mut sub = Proc::spawn(
        "subscriber",
        appsync(
            &dir,
            &[
                "subscribe",
                "subscription { onCreateNote { id } }",
                "-n",
                "1",
                "-a",
                "AWS_IAM",
            ],
        )
        .env("AWS_ACCESS_KEY_ID", "AKIDAPPSYNCLOCAL")
        .env("AWS_SECRET_ACCESS_KEY", "appsync-local-secret-access-key"),
    );
    sub.wait_line(Stream::Err, |l| l.contains("waiting for events"));
    run(&mut appsync(
        &dir,
        &[
            "mutate",
            "mutation { createNote(input: {content: \"x\"}) { id } }",
            "-a",
            "AWS_LAMBDA",
            "--token",
            "local-lambda-token",
        ],
    ))
    .code(0);
    assert_eq!(sub.wait_exit().0, 0);
    // The port is taken now: a second server says so and what to do.
    let other = tmp_dir("serve-port-taken");
    let r = run(&mut appsync(&other, &["serve", "--port", &port]));
    r.code(2);
    assert!(
        r.one_error_line().contains("pass --port 0 for a free port"),
        "{r:#?}"
    );
}

#[test]
fn faults_are_injected_from_stdin() {
    let mut s = Serve::start("serve-faults", &[]);
    s.proc.send_line("help");
    s.proc
        .wait_line(Stream::Err, |l| l.starts_with("commands: drop"));
    // Queries are retried twice: three failures fail the call.
    s.proc.send_line("fail 3 503");
    s.proc
        .wait_line(Stream::Err, |l| l == "the next 3 HTTP request(s) get 503");
    let r = s.run(&["query", LIST]);
    r.code(3);
    let err: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        err[..2],
        [
            "retrying (retry 1) after a failed attempt…",
            "retrying (retry 2) after a failed attempt…"
        ],
        "{r:#?}"
    );
    assert!(
        err.len() == 3 && err[2].starts_with("error: HTTP 503"),
        "{r:#?}"
    );
    s.run(&["query", LIST]).code(0);
    // A close code reaches subscribers as the cause of the disruption.
    let mut sub = Proc::spawn(
        "subscriber",
        &mut s.cmd(&["subscribe", "subscription { onCreateNote { id } }"]),
    );
    sub.wait_line(Stream::Err, |l| l.contains("waiting for events"));
    s.proc.send_line("close 4000 going away");
    sub.wait_line(Stream::Err, |l| {
        l.starts_with("realtime data/API_KEY: disrupted") && l.contains("4000")
    });
    for bad in [
        "fail 99999999999 503",
        "fail 1 99",
        "close 5 x",
        "frobnicate",
    ] {
        s.proc.send_line(bad);
        s.proc.wait_line(Stream::Err, |l| {
            l.contains("N up to") || l.contains("CODE is") || l.contains("unknown command")
        });
    }
    // Fresh tokens on demand, as one JSON line.
    s.proc.send_line("tokens");
    let line = s
        .proc
        .wait_line(Stream::Out, |l| l.starts_with("{\"tokens\""));
    assert!(
        line.contains("\"alice\"") && line.contains("\"oidc\""),
        "{line}"
    );
    s.proc.send_line("quit");
    let (code, lines) = s.proc.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
}

#[test]
fn sigint_stops_it_cleanly() {
    let mut s = Serve::start("serve-sigint", &[]);
    // A subscriber is connected while it stops.
    let mut sub = Proc::spawn(
        "subscriber",
        &mut s.cmd(&["subscribe", "subscription { onCreateNote { id } }"]),
    );
    sub.wait_line(Stream::Err, |l| l.contains("waiting for events"));
    kill(s.proc.pid(), "INT");
    let (code, lines) = s.proc.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
    let err: Vec<&str> = lines
        .iter()
        .filter(|(st, _)| *st == Stream::Err)
        .map(|(_, l)| l.as_str())
        .collect();
    assert_eq!(err, ["stopping…", "stopped"], "{lines:#?}");
    // The subscriber notices.
    sub.wait_line(Stream::Err, |l| {
        l.starts_with("realtime data/API_KEY: disrupted")
    });
}

#[test]
fn a_real_projects_config_files_are_left_alone() {
    let dir = tmp_dir("serve-clobber");
    let real = r#"{"version": "1.4", "data": {"url": "https://abc.appsync-api.us-east-1.amazonaws.com/graphql",
        "aws_region": "us-east-1", "default_authorization_type": "AWS_IAM"}}"#;
    std::fs::write(dir.join("amplify_outputs.json"), real).unwrap();
    let r = run(&mut appsync(&dir, &["serve", "--port", "0"]));
    r.code(2);
    assert!(
        r.one_error_line()
            .contains("names an API that is not local (abc.appsync-api.us-east-1.amazonaws.com)"),
        "{r:#?}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("amplify_outputs.json")).unwrap(),
        real
    );
    // Elsewhere, it writes its own.
    let mut p = Proc::spawn(
        "serve elsewhere",
        &mut appsync(
            &dir,
            &["serve", "--port", "0", "--out-dir", "local", "-o", "json"],
        ),
    );
    p.wait_line(Stream::Out, |l| l.starts_with('{'));
    assert!(dir.join("local/amplify_outputs.json").is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join("amplify_outputs.json")).unwrap(),
        real
    );
}
