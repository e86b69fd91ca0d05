//! `appsync subscribe` against `appsync serve`: every auth mode and a Gen1 `--api-name`, one
//! JSON line per event, `--count` ending by itself, `--timeout`, connection states on stderr
//! only, a refused subscription, and `resumed` after the server drops the socket.

mod support;

use serde_json::Value;
use support::{Proc, Serve, Stream};

const ON_CREATE: &str = "subscription { onCreateNote { id content } }";

/// `appsync subscribe` started and waited for until the server acknowledged it.
fn subscribed(s: &Serve, name: &str, args: &[&str]) -> Proc {
    let mut p = Proc::spawn(name, &mut s.cmd(args));
    p.wait_line(Stream::Err, |l| l.contains("waiting for events"));
    p
}

/// The data lines of a finished subscriber, as JSON.
fn data_lines(lines: &[(Stream, String)]) -> Vec<Value> {
    lines
        .iter()
        .filter(|(s, _)| *s == Stream::Out)
        .map(|(_, l)| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn count_2_ends_by_itself_in_every_auth_mode_and_by_api_name() {
    let s = Serve::start("sub-modes", &[]);
    let alice = s.get("/tokens/user_pool/alice");
    let oidc = s.get("/tokens/oidc");
    let lambda = s.get("/tokens/lambda");
    let iam = s.iam_flags();
    let mut iam_args = vec![
        "subscribe",
        ON_CREATE,
        "--count",
        "2",
        "--auth-mode",
        "AWS_IAM",
    ];
    iam_args.extend(iam.iter().map(String::as_str));
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("API_KEY", vec!["subscribe", ON_CREATE, "--count", "2"]),
        ("AWS_IAM", iam_args),
        (
            "user pools",
            vec![
                "subscribe",
                ON_CREATE,
                "-n",
                "2",
                "-a",
                "AMAZON_COGNITO_USER_POOLS",
                "--token",
                &alice,
            ],
        ),
        (
            "OIDC",
            vec![
                "subscribe",
                ON_CREATE,
                "-n",
                "2",
                "-a",
                "OPENID_CONNECT",
                "--token",
                &oidc,
            ],
        ),
        (
            "Lambda",
            vec![
                "subscribe",
                ON_CREATE,
                "-n",
                "2",
                "-a",
                "AWS_LAMBDA",
                "--token",
                &lambda,
            ],
        ),
        (
            "Gen1 --api-name",
            vec![
                "subscribe",
                ON_CREATE,
                "-n",
                "2",
                "--config",
                "amplifyconfiguration.json",
                "--api-name",
                "local_AMAZON_COGNITO_USER_POOLS",
                "--token",
                &alice,
            ],
        ),
    ];
    let mut subs: Vec<Proc> = cases
        .iter()
        .map(|(name, args)| subscribed(&s, name, args))
        .collect();
    let first = s.create_note("first");
    let second = s.create_note("second");
    for (p, (name, _)) in subs.iter_mut().zip(&cases) {
        let (code, lines) = p.wait_exit();
        assert_eq!(code, 0, "{name}: {lines:#?}");
        let data = data_lines(&lines);
        assert_eq!(data.len(), 2, "{name}: {lines:#?}");
        for (d, (id, content)) in data.iter().zip([(&first, "first"), (&second, "second")]) {
            assert_eq!(d["type"], "data", "{name}");
            assert_eq!(d["data"]["onCreateNote"]["id"], id.as_str(), "{name}");
            assert_eq!(d["data"]["onCreateNote"]["content"], content, "{name}");
            assert!(d.get("errors").is_none());
        }
    }
}

#[test]
fn connection_states_go_to_stderr_with_v_and_stdout_holds_only_events() {
    let s = Serve::start("sub-states", &[]);
    let mut p = Proc::spawn(
        "verbose",
        &mut s.cmd(&["-v", "subscribe", ON_CREATE, "--count", "1"]),
    );
    p.wait_line(Stream::Err, |l| l == "realtime data/API_KEY: connecting");
    p.wait_line(Stream::Err, |l| l == "realtime data/API_KEY: connected");
    p.wait_line(Stream::Err, |l| l.contains("waiting for events"));
    s.create_note("seen");
    let (code, lines) = p.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
    let out: Vec<&String> = lines
        .iter()
        .filter(|(s, _)| *s == Stream::Out)
        .map(|(_, l)| l)
        .collect();
    assert_eq!(out.len(), 1, "{lines:#?}");
    assert!(
        out[0].starts_with('{') && out[0].contains("\"type\":\"data\""),
        "{lines:#?}"
    );
    // Without -v, nothing about states when nothing goes wrong; with -q, not even the status.
    let mut quiet = Proc::spawn(
        "quiet",
        &mut s.cmd(&["-q", "subscribe", ON_CREATE, "--count", "0"]),
    );
    let (code, lines) = quiet.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
    assert!(lines.is_empty(), "{lines:#?}");
}

#[test]
fn timeout_ends_the_wait() {
    let s = Serve::start("sub-timeout", &[]);
    // Listening for a while is a normal end.
    let r = s.run(&["subscribe", ON_CREATE, "--timeout", "300ms"]);
    r.code(0);
    assert_eq!(r.stdout, "");
    // Expecting events that do not come in time is a failure.
    let r = s.run(&["subscribe", ON_CREATE, "--count", "1", "--timeout", "300ms"]);
    r.code(3);
    assert!(
        r.stderr
            .lines()
            .last()
            .unwrap_or_default()
            .contains("passed with 0 of 1 events"),
        "{r:#?}"
    );
}

#[test]
fn a_refused_subscription_prints_its_errors_and_exits_1() {
    let s = Serve::start("sub-refused", &[]);
    // onDeleteNote allows IAM and user pools only.
    let r = s.run(&["subscribe", "subscription { onDeleteNote { id } }"]);
    r.code(1);
    let line: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(line["type"], "error");
    assert_eq!(line["errors"][0]["errorType"], "Unauthorized");
    assert!(
        r.stderr
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("error: "),
        "{r:#?}"
    );
    // A denied token is an auth failure.
    let r = s.run(&[
        "subscribe",
        ON_CREATE,
        "-a",
        "AWS_LAMBDA",
        "--token",
        "denied",
    ]);
    r.code(3);
    assert_eq!(r.stdout, "");
    // A query is not a subscription.
    let r = s.run(&["subscribe", "{ listNotes { items { id } } }"]);
    r.code(2);
    assert!(r.one_error_line().contains("run it with `appsync query`"));
}

#[test]
fn a_dropped_socket_comes_back_with_a_resumed_event() {
    let mut s = Serve::start("sub-resumed", &[]);
    let mut p = subscribed(&s, "resumed", &["subscribe", ON_CREATE, "--count", "1"]);
    // Typed on serve's stdin: drop every realtime socket.
    s.proc.send_line("drop");
    let resumed = p.wait_line(Stream::Out, |l| l.contains("\"type\":\"resumed\""));
    let v: Value = serde_json::from_str(&resumed).unwrap();
    assert!(v["gap_ms"].as_u64().is_some(), "{resumed}");
    // States of the disruption were shown without -v.
    p.find_line(Stream::Err, |l| {
        l.starts_with("realtime data/API_KEY: disrupted")
    });
    s.create_note("after");
    let (code, lines) = p.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
    assert!(lines
        .iter()
        .any(|(st, l)| *st == Stream::Out && l.contains("\"content\":\"after\"")));
}

#[test]
fn a_connection_that_keeps_failing_is_reported_with_its_cause_then_resumes() {
    let mut s = Serve::start("sub-failing", &[]);
    let mut p = subscribed(&s, "failing", &["subscribe", ON_CREATE, "--count", "1"]);
    // The socket is lost (a failure), and the next two connections are refused: from the third
    // failure in a row on, each is reported.
    s.proc.send_line("refuse 2 503");
    s.proc.wait_line(Stream::Err, |l| {
        l.starts_with("the next 2 realtime connection(s)")
    });
    s.proc.send_line("drop");
    let failing = p.wait_line(Stream::Out, |l| l.contains("\"type\":\"failing\""));
    let v: Value = serde_json::from_str(&failing).unwrap();
    assert!(v["failures"].as_u64().is_some_and(|n| n >= 3), "{failing}");
    assert_eq!(v["status"], 503, "{failing}");
    assert!(
        v["cause"].as_str().is_some_and(|c| !c.is_empty()),
        "{failing}"
    );
    p.find_line(Stream::Err, |l| {
        l.starts_with("realtime data/API_KEY: failing")
    });
    p.wait_line(Stream::Out, |l| l.contains("\"type\":\"resumed\""));
    s.create_note("back");
    let (code, lines) = p.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
}
