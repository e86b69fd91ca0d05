//! `--token-command`: run again once its token is past its lifetime (here a 1 s `--token-ttl`,
//! the token being opaque) when a reconnection needs one, and at once when the server refuses
//! the token. Its runs are counted in a file it appends to.

mod support;

use std::path::Path;
use std::time::Instant;

use support::{Proc, Serve, Stream, LONG};

/// How many times the command ran (one line per run), and what each saw in
/// APPSYNC_FORCE_REFRESH.
fn runs(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_token_command_runs_again_after_its_token_expires() {
    let mut s = Serve::start("token-expiry", &[]);
    let counter = s.dir.join("runs");
    let command = format!(
        "echo \"$APPSYNC_AUTH_MODE\" >> '{}'; echo '{}'",
        counter.display(),
        s.get("/tokens/lambda")
    );
    let mut sub = Proc::spawn(
        "subscriber",
        &mut s.cmd(&[
            "-v",
            "subscribe",
            "subscription { onCreateNote { id content } }",
            "--count",
            "1",
            "-a",
            "AWS_LAMBDA",
            "--token-command",
            &command,
            "--token-ttl",
            "1s",
        ]),
    );
    sub.wait_line(Stream::Err, |l| l.contains("waiting for events"));
    assert_eq!(
        runs(&counter),
        ["AWS_LAMBDA"],
        "one run serves the connection and the start"
    );
    // Each drop makes the socket reconnect, which takes a token from the client's cache: the
    // same one until its second of life is half gone, then a new run of the command.
    let deadline = Instant::now() + LONG;
    let ran_again = |l: &str| l.starts_with("token command: run 2 ");
    while !sub.seen.iter().any(|(_, l)| ran_again(l)) {
        assert!(
            Instant::now() < deadline,
            "the command never ran again: {:#?}",
            sub.seen
        );
        s.proc.send_line("drop");
        sub.wait_line(Stream::Err, |l| {
            l == "realtime data/AWS_LAMBDA: connected" || ran_again(l)
        });
    }
    sub.find_line(Stream::Err, |l| l == "realtime data/AWS_LAMBDA: connected");
    s.create_note("after a new token");
    let (code, lines) = sub.wait_exit();
    assert_eq!(code, 0, "{lines:#?}");
    assert!(lines
        .iter()
        .any(|(st, l)| *st == Stream::Out && l.contains("after a new token")));
    let n = runs(&counter).len();
    let reported = lines
        .iter()
        .filter(|(_, l)| l.starts_with("token command: run "))
        .count();
    assert!(
        n >= 2 && n == reported,
        "{n} runs, {reported} reported: {lines:#?}"
    );
}

#[test]
fn a_refused_token_makes_the_command_run_again_at_once() {
    let s = Serve::start("token-refused", &[]);
    let counter = s.dir.join("runs");
    // The first run prints a token the server refuses, the next the right one.
    let command = format!(
        "f='{}'; echo \"$APPSYNC_FORCE_REFRESH\" >> \"$f\"; \
         if [ \"$(wc -l < \"$f\")\" -eq 1 ]; then echo wrong; else echo '{}'; fi",
        counter.display(),
        s.get("/tokens/lambda")
    );
    let r = s.run(&[
        "query",
        "{ listNotes { items { id } } }",
        "-a",
        "AWS_LAMBDA",
        "--token-command",
        &command,
    ]);
    r.code(0);
    assert_eq!(
        runs(&counter),
        ["0", "1"],
        "the second run is told the first was refused"
    );
    // A command that fails is an auth failure that says what to do.
    let r = s.run(&[
        "query",
        "{ listNotes { items { id } } }",
        "-a",
        "AWS_LAMBDA",
        "--token-command",
        "exit 7",
    ]);
    r.code(3);
    assert!(
        r.one_error_line().contains("run it by hand to see why"),
        "{r:#?}"
    );
    // A token and a command at once is a usage error.
    let r = s.run(&[
        "query",
        "{ listNotes { items { id } } }",
        "--token",
        "t",
        "--token-command",
        "echo t",
    ]);
    r.code(2);
    assert!(r.one_error_line().contains("not both"));
}
