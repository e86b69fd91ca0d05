//! `appsync query` and `appsync mutate` against `appsync serve`: every auth mode, endpoints by
//! `--api-name`, documents and variables from files and stdin, and the exit codes of refused
//! calls.

mod support;

use serde_json::json;
use support::{run_with_input, Serve};

const CREATE: &str =
    "mutation($i: CreateNoteInput!) { createNote(input: $i) { id content owner } }";
const LIST: &str = "{ listNotes { items { id content } } }";

#[test]
fn every_auth_mode_queries_and_mutates() {
    let s = Serve::start("every-mode", &[]);
    // API_KEY, the default mode: a read.
    let r = s.run(&["query", LIST]);
    r.code(0);
    assert_eq!(r.json(), json!({"data": {"listNotes": {"items": []}}}));
    assert_eq!(
        r.stdout.lines().count(),
        1,
        "piped output is one compact line"
    );
    assert_eq!(r.stderr, "");

    // A write in each mode that may write, and a read in the others.
    let alice = s.get("/tokens/user_pool/alice");
    let oidc = s.get("/tokens/oidc");
    let lambda = s.get("/tokens/lambda");
    let iam = s.iam_flags();
    let mut by_flags = vec![
        "mutate",
        "--auth-mode",
        "AWS_IAM",
        CREATE,
        "--var",
        "i.content=by flags",
    ];
    by_flags.extend(iam.iter().map(String::as_str));
    let writes: Vec<(&str, Vec<&str>)> = vec![
        ("iam flags", by_flags),
        (
            "user pools",
            vec![
                "mutate",
                "-a",
                "AMAZON_COGNITO_USER_POOLS",
                "--token",
                &alice,
                CREATE,
                "--var",
                "i.content=user pools",
            ],
        ),
        (
            "lambda",
            vec![
                "mutate",
                "--auth-mode",
                "aws_lambda",
                "--token",
                &lambda,
                CREATE,
                "--var",
                "i.content=lambda",
            ],
        ),
    ];
    for (what, args) in &writes {
        let r = s.run(args);
        r.code(0);
        assert_eq!(
            r.json()["data"]["createNote"]["content"],
            what.replace("iam flags", "by flags"),
            "{what}"
        );
    }
    // IAM from the standard AWS chain (its environment provider).
    let r = run_with_input(
        s.cmd(&[
            "mutate",
            "--auth-mode",
            "AWS_IAM",
            CREATE,
            "--var",
            "i.content=chain",
            "--var",
            "i.owner:=null",
        ])
        .env("AWS_ACCESS_KEY_ID", s.get("/iam/access_key_id"))
        .env("AWS_SECRET_ACCESS_KEY", s.get("/iam/secret_access_key")),
        None,
    );
    r.code(0);
    assert_eq!(
        r.json()["data"]["createNote"],
        json!({"id": r.json()["data"]["createNote"]["id"], "content": "chain", "owner": null})
    );

    // OIDC may read; the token also comes from APPSYNC_TOKEN.
    let r = run_with_input(
        s.cmd(&["query", "--auth-mode", "OPENID_CONNECT", LIST])
            .env("APPSYNC_TOKEN", &oidc),
        None,
    );
    r.code(0);
    let mut contents: Vec<String> = r.json()["data"]["listNotes"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["content"].as_str().unwrap().to_owned())
        .collect();
    contents.sort();
    assert_eq!(contents, ["by flags", "chain", "lambda", "user pools"]);
}

#[test]
fn api_name_chooses_a_gen1_endpoint() {
    let s = Serve::start("api-name", &[]);
    let alice = s.get("/tokens/user_pool/alice");
    let id = s.create_note("private");
    let gen1 = ["--config", "amplifyconfiguration.json"];
    // The user-pools name: its mode is used, and it may read the private field.
    let mut args = vec![
        "-v",
        "query",
        "query($id: ID!) { getNote(id: $id) { id privateNotes } }",
        "--var",
    ];
    let var = format!("id={id}");
    args.push(&var);
    args.extend(gen1);
    args.extend([
        "--api-name",
        "local_AMAZON_COGNITO_USER_POOLS",
        "--token",
        &alice,
    ]);
    let r = s.run(&args);
    r.code(0);
    assert_eq!(r.json()["data"]["getNote"]["id"], id);
    assert!(
        r.stderr.contains("request: endpoint \"local_AMAZON_COGNITO_USER_POOLS\" (GraphQL), AMAZON_COGNITO_USER_POOLS"),
        "{r:#?}"
    );
    assert!(!r.stderr.contains(&alice), "the token is never printed");
    // The IAM name, with the chain's credentials from the environment.
    let r = run_with_input(
        s.cmd(&[
            "-v",
            "query",
            LIST,
            "--config",
            "amplifyconfiguration.json",
            "--api-name",
            "local_AWS_IAM",
        ])
        .env("AWS_ACCESS_KEY_ID", s.get("/iam/access_key_id"))
        .env("AWS_SECRET_ACCESS_KEY", s.get("/iam/secret_access_key")),
        None,
    );
    r.code(0);
    assert!(r.stderr.contains("(GraphQL), AWS_IAM"), "{r:#?}");
    // A name that is not configured: a usage error naming the configured ones.
    let r = s.run(&[
        "query",
        LIST,
        "--config",
        "amplifyconfiguration.json",
        "--api-name",
        "nope",
    ]);
    r.code(2);
    let line = r.one_error_line();
    assert!(
        line.contains("no endpoint is named \"nope\"") && line.contains("local_AWS_IAM"),
        "{line}"
    );
}

#[test]
fn refused_calls_exit_with_their_codes() {
    let s = Serve::start("refused", &[]);
    // The schema does not let API keys create notes: GraphQL errors, exit 1, data on stdout.
    let r = s.run(&["mutate", CREATE, "--var", "i.content=no"]);
    r.code(1);
    assert_eq!(r.json()["errors"][0]["errorType"], "Unauthorized");
    assert_eq!(r.json()["data"], json!({"createNote": null}));
    assert!(
        r.stderr.starts_with("GraphQL error: Unauthorized: "),
        "{r:#?}"
    );
    assert_eq!(r.stderr.lines().count(), 1);
    // A token the Lambda authorizer denies: HTTP 401, exit 3, nothing on stdout.
    let r = s.run(&[
        "query",
        LIST,
        "--auth-mode",
        "AWS_LAMBDA",
        "--token",
        "wrong-token",
    ]);
    r.code(3);
    assert_eq!(r.stdout, "");
    let line = r.one_error_line();
    assert!(
        line.contains("401") && line.contains("check the token"),
        "{line}"
    );
    assert!(!line.contains("wrong-token"));
    // A wrong API key.
    let r = s.run(&["query", LIST, "--api-key", "da2-wrong"]);
    r.code(3);
    assert!(r.one_error_line().contains("check the API key"));
    // IAM credentials the server does not know.
    let r = s.run(&[
        "query",
        LIST,
        "-a",
        "AWS_IAM",
        "--access-key",
        "AKIDNOPE",
        "--secret-key",
        "nope-secret",
    ]);
    r.code(3);
    assert!(!r.one_error_line().contains("nope-secret"));
    // A token mode and no token: a usage error saying how to give one.
    let r = s.run(&["query", LIST, "--auth-mode", "OPENID_CONNECT"]);
    r.code(2);
    assert!(r
        .one_error_line()
        .contains("pass --token TOKEN, set APPSYNC_TOKEN, or pass --token-command"));

    // A mode the API does not enable is refused before sending.
    let only_key = Serve::start("refused-only-key", &["--auth", "API_KEY"]);
    let r = only_key.run(&["query", LIST, "--auth-mode", "AWS_IAM"]);
    r.code(2);
    assert!(
        r.one_error_line().contains("AWS_IAM is not enabled"),
        "{r:#?}"
    );
    // No server: a transport failure with a hint.
    drop(only_key.proc);
    let r = run_with_input(&mut support::appsync(&only_key.dir, &["query", LIST]), None);
    r.code(3);
    assert!(
        r.one_error_line().contains("is the server running?"),
        "{r:#?}"
    );
}

#[test]
fn documents_and_variables_come_from_files_and_stdin() {
    let s = Serve::start("files", &[]);
    let id = s.create_note("from a file");
    std::fs::write(
        s.dir.join("ops.graphql"),
        "query GetNote($id: ID!) { getNote(id: $id) { content } }\nquery ListNotes { listNotes { items { id } } }\n",
    )
    .unwrap();
    std::fs::write(s.dir.join("vars.json"), format!("{{\"id\": \"{id}\"}}")).unwrap();
    let r = s.run(&[
        "query",
        "@ops.graphql",
        "--operation-name",
        "GetNote",
        "--variables",
        "@vars.json",
    ]);
    r.code(0);
    assert_eq!(
        r.json(),
        json!({"data": {"getNote": {"content": "from a file"}}})
    );
    // The document on stdin, a variable overriding --variables.
    let r = run_with_input(
        &mut s.cmd(&[
            "query",
            "@-",
            "--operation-name",
            "GetNote",
            "--variables",
            r#"{"id": "nope"}"#,
            "--var",
            &format!("id={id}"),
        ]),
        Some("query GetNote($id: ID!) { getNote(id: $id) { content } }"),
    );
    r.code(0);
    assert_eq!(r.json()["data"]["getNote"]["content"], "from a file");
    // --output pretty indents even when piped; headers are accepted.
    let r = s.run(&["query", LIST, "-o", "pretty", "-H", "x-trace: 1"]);
    r.code(0);
    assert!(r.stdout.starts_with("{\n  \"data\": {"), "{r:#?}");
    // A query document sent with `mutate`, and a missing file: usage errors.
    let r = s.run(&["mutate", LIST]);
    r.code(2);
    assert!(r.one_error_line().contains("run it with `appsync query`"));
    let r = s.run(&["query", "@missing.graphql"]);
    r.code(2);
    assert!(r
        .one_error_line()
        .contains("cannot read the document from missing.graphql"));
}

#[test]
fn multi_auth_picks_the_first_mode_the_credentials_allow() {
    let s = Serve::start("multi-auth", &[]);
    let alice = s.get("/tokens/user_pool/alice");
    // With a user-pool token, user pools come first (and may read privateNotes).
    let r = s.run(&["query", "--multi-auth", "--token", &alice, "-v", LIST]);
    r.code(0);
    assert!(
        r.stderr.contains("AMAZON_COGNITO_USER_POOLS"),
        "{}",
        r.stderr
    );
    // Without, the API key (the only other thing given here).
    let r = s.run(&["query", "--multi-auth", "-v", LIST]);
    r.code(0);
    assert!(r.stderr.contains("API_KEY"), "{}", r.stderr);
    // Not with --auth-mode, and not for REST.
    s.run(&["query", "--multi-auth", "-a", "API_KEY", LIST])
        .code(2);
    s.run(&["rest", "GET", "/x", "--multi-auth"]).code(2);
}
