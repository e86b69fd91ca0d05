//! Usage: bad flags and bad config files give one-line errors and exit 2 (never a panic),
//! secrets given on the command line are never echoed, every command's help has an example,
//! and shell completions are printed.

mod support;

use support::{appsync, run, run_with_input, tmp_dir};

#[test]
fn bad_flags_give_one_line_errors_and_exit_2() {
    let dir = tmp_dir("usage-flags");
    let cases: &[(&[&str], &str)] = &[
        (
            &["query", "--nope", "{ a }"],
            "unexpected argument '--nope'",
        ),
        (&["query"], "<DOCUMENT>"),
        (
            &["query", "{ a }", "--auth-mode", "KERBEROS"],
            "invalid value 'KERBEROS' for '--auth-mode",
        ),
        (&["query", "{ a }", "--timeout", "soon"], "--timeout"),
        (&["query", "{ a }", "--output", "xml"], "--output"),
        (&["query", "{ a }", "--secret-key", "s"], "--access-key"),
        (
            &["subscribe", "subscription { a }", "--count", "many"],
            "--count",
        ),
        (&["rest", "GET"], "<PATH>"),
        (&["serve", "--port", "99999"], "--port"),
        (&["serve", "--auth", "NONE"], "--auth"),
        (&["codegen"], "--schema"),
        (&["completions", "tcsh"], "tcsh"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&["--color", "sometimes", "config"], "--color"),
    ];
    for (args, says) in cases {
        let r = run(&mut appsync(&dir, args));
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        assert_eq!(r.stdout, "", "{args:?}");
        let line = r.one_error_line();
        assert!(line.contains(says), "{args:?}: {line}");
        assert!(line.contains("--help`"), "{args:?} points to help: {line}");
    }
}

#[test]
fn bad_input_and_bad_config_give_one_line_errors_and_exit_2() {
    let dir = tmp_dir("usage-config");
    // No config file here.
    let r = run(&mut appsync(&dir, &["query", "{ a }"]));
    r.code(2);
    assert!(r.one_error_line().contains("pass --config FILE"));
    // A config file that is not JSON, one with several problems, one of another kind.
    std::fs::write(dir.join("amplify_outputs.json"), "not json").unwrap();
    let r = run(&mut appsync(&dir, &["query", "{ a }"]));
    r.code(2);
    assert!(r
        .one_error_line()
        .contains("amplify_outputs.json: not valid JSON"));
    std::fs::write(
        dir.join("amplify_outputs.json"),
        r#"{"version": "1", "data": {"url": "", "default_authorization_type": "WHAT"}}"#,
    )
    .unwrap();
    let r = run(&mut appsync(&dir, &["subscribe", "subscription { a }"]));
    r.code(2);
    let line = r.one_error_line();
    assert!(
        line.contains("[1] data.") && line.contains("[2] data.") && line.contains("config --check"),
        "{line}"
    );
    std::fs::write(dir.join("amplify_outputs.json"), "[]").unwrap();
    run(&mut appsync(&dir, &["rest", "GET", "/"]))
        .code(2)
        .one_error_line();
    // Bad variables, headers and files.
    std::fs::remove_file(dir.join("amplify_outputs.json")).unwrap();
    for (args, says) in [
        (
            &["query", "{ a }", "--variables", "[1]"][..],
            "--variables must be a JSON object",
        ),
        (
            &["query", "{ a }", "--var", "x"][..],
            "--var #1: expected NAME=text",
        ),
        (
            &["query", "{ a }", "--var", "x:={"][..],
            "--var #1: the value is not valid JSON",
        ),
        (
            &["query", "{ a }", "-H", "no colon"][..],
            "--header #1: expected NAME:VALUE",
        ),
        (
            &["query", "@nowhere.graphql"][..],
            "cannot read the document",
        ),
        (&["query", "   "][..], "the document is empty"),
        (
            &["query", "subscription { a }"][..],
            "run it with `appsync subscribe`",
        ),
        (
            &["subscribe", "mutation { a }"][..],
            "run it with `appsync mutate`",
        ),
        (
            &["serve", "--schema", "nowhere.graphql"][..],
            "cannot read --schema",
        ),
    ] {
        let r = run(&mut appsync(&dir, args));
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        assert!(r.one_error_line().contains(says), "{args:?}: {r:#?}");
    }
    // A schema appsync-local cannot serve: every problem on one line.
    std::fs::write(dir.join("bad.graphql"), "type Query { a: Nope }\ntype {").unwrap();
    let r = run(&mut appsync(
        &dir,
        &[
            "serve",
            "--port",
            "0",
            "--schema",
            "bad.graphql",
            "--no-config-files",
        ],
    ));
    r.code(2);
    r.one_error_line();
}

#[test]
fn secrets_are_never_echoed() {
    let dir = tmp_dir("usage-secrets");
    std::fs::write(
        dir.join("amplify_outputs.json"),
        r#"{"version": "1.4", "data": {"url": "http://127.0.0.1:9/graphql", "aws_region": "us-east-1",
            "default_authorization_type": "API_KEY", "api_key": "da2-file-secret",
            "authorization_types": ["AWS_IAM", "AWS_LAMBDA"]}}"#,
    )
    .unwrap();
    let secrets = [
        "tok-secret-1",
        "sk-secret-2",
        "st-secret-3",
        "key-secret-4",
        "da2-file-secret",
        "hdr-secret-5",
    ];
    for args in [
        &[
            "-v",
            "query",
            "{ a }",
            "-a",
            "AWS_LAMBDA",
            "--token",
            "tok-secret-1",
        ][..],
        &[
            "-vv",
            "query",
            "{ a }",
            "-a",
            "AWS_IAM",
            "--access-key",
            "AK",
            "--secret-key",
            "sk-secret-2",
            "--session-token",
            "st-secret-3",
        ][..],
        &[
            "-v",
            "query",
            "{ a }",
            "--api-key",
            "key-secret-4",
            "-H",
            "authorization: hdr-secret-5",
        ][..],
        &[
            "-v",
            "subscribe",
            "subscription { a }",
            "-a",
            "AWS_LAMBDA",
            "--token",
            "tok-secret-1",
        ][..],
        &["query", "{ a }", "-H", "hdr-secret-5"][..],
        &["config"][..],
    ] {
        let r = run(&mut appsync(&dir, args));
        if args[0] != "config" {
            assert_ne!(r.code, 0, "{args:?}: nothing listens on port 9");
        }
        for s in secrets {
            assert!(
                !r.stderr.contains(s) && !r.stdout.contains(s),
                "{args:?} printed {s}: {r:#?}"
            );
        }
    }
    // Tokens from the environment are not shown in --help either.
    let r = run_with_input(
        appsync(&dir, &["query", "--help"])
            .env("APPSYNC_TOKEN", "tok-secret-1")
            .env("APPSYNC_API_KEY", "key-secret-4"),
        None,
    );
    r.code(0);
    assert!(!r.stdout.contains("tok-secret-1") && !r.stdout.contains("key-secret-4"));
}

#[test]
fn every_command_has_help_with_an_example() {
    let dir = tmp_dir("usage-help");
    let r = run(&mut appsync(&dir, &["--help"]));
    r.code(0);
    assert!(r.stdout.contains("Examples:"), "{r:#?}");
    for cmd in [
        "query",
        "mutate",
        "subscribe",
        "rest",
        "config",
        "codegen",
        "serve",
        "completions",
    ] {
        let r = run(&mut appsync(&dir, &[cmd, "--help"]));
        r.code(0);
        assert!(
            r.stdout.contains("Examples:\n  appsync"),
            "{cmd} --help has no example"
        );
        assert_eq!(r.stderr, "");
    }
    let r = run(&mut appsync(&dir, &["--version"]));
    r.code(0);
    assert!(r.stdout.starts_with("appsync "));
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let dir = tmp_dir("usage-completions");
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef appsync"),
        ("fish", "complete -c appsync"),
    ] {
        let r = run(&mut appsync(&dir, &["completions", shell]));
        r.code(0);
        assert!(
            r.stdout.contains(marker),
            "{shell}: {}",
            &r.stdout[..r.stdout.len().min(300)]
        );
        // The auth modes are completed by their config spellings.
        assert!(r.stdout.contains("AMAZON_COGNITO_USER_POOLS"), "{shell}");
    }
}

#[cfg(unix)]
#[test]
fn arguments_that_are_not_unicode_are_usage_errors() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tmp_dir("usage-bytes");
    let bad = OsStr::from_bytes(b"\xff\xfe");
    for args in [
        vec![OsStr::new("query"), bad],
        vec![
            OsStr::new("query"),
            OsStr::new("{ a }"),
            OsStr::new("--api-name"),
            bad,
        ],
        vec![bad],
    ] {
        let mut cmd = appsync(&dir, &[]);
        cmd.args(&args);
        let r = run(&mut cmd);
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        r.one_error_line();
    }
}
