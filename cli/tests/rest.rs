//! `appsync rest` against a small HTTP server on 127.0.0.1:0 named by a Gen1 config: method,
//! encoded path and segments, query, headers, JSON body, SigV4 for `execute-api`, API keys,
//! endpoints by name, and the exit codes of error statuses.

mod support;

use serde_json::json;
use support::{appsync, run, tmp_dir, HttpServer, Received};

fn answer(r: &Received) -> (u16, String) {
    let status = if r.target.contains("/missing") {
        404
    } else if r.target.contains("/denied") {
        403
    } else {
        200
    };
    (
        status,
        json!({"method": r.method, "target": r.target, "body": r.body}).to_string(),
    )
}

/// A config with three REST APIs on the server: IAM (the default), an API key one and an open
/// one.
fn config(dir: &std::path::Path, port: u16) {
    let e = |stage: &str, mode: &str| {
        let mut v = json!({"endpointType": "REST", "endpoint": format!("http://127.0.0.1:{port}/{stage}"),
            "region": "eu-west-1", "authorizationType": mode});
        if mode == "API_KEY" {
            v["apiKey"] = json!("rest-key-123");
        }
        v
    };
    let doc = json!({"api": {"plugins": {"awsAPIPlugin": {
        "items": e("prod", "AWS_IAM"),
        "keyed": e("keyed", "API_KEY"),
        "open": e("open", "NONE"),
    }}}});
    std::fs::write(dir.join("amplifyconfiguration.json"), doc.to_string()).unwrap();
}

#[test]
fn rest_sends_method_path_query_headers_and_body_signed() {
    let server = HttpServer::start(answer);
    let dir = tmp_dir("rest");
    config(&dir, server.port);
    let r = run(&mut appsync(
        &dir,
        &[
            "rest",
            "post",
            "/items/a%20b",
            "--segment",
            "x/y z",
            "--query",
            "q=1 2",
            "--query",
            "empty=",
            "-H",
            "x-trace: 42",
            "--data",
            r#"{"name": "a"}"#,
            "--api-name",
            "items",
            "--access-key",
            "AKIDREST",
            "--secret-key",
            "rest-secret",
        ],
    ));
    r.code(0);
    let got = server.next();
    assert_eq!(got.method, "POST");
    assert_eq!(got.target, "/prod/items/a%20b/x%2Fy%20z?q=1%202&empty=");
    assert_eq!(got.header("x-trace"), Some("42"));
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&got.body).unwrap(),
        json!({"name": "a"})
    );
    let auth = got.header("authorization").unwrap_or_default();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDREST/")
            && auth.contains("/eu-west-1/execute-api/aws4_request")
            && auth.contains("x-trace"),
        "{auth}"
    );
    // The answer's JSON on stdout.
    assert_eq!(r.json()["target"], got.target);
    assert!(!r.stderr.contains("rest-secret") && !r.stdout.contains("rest-secret"));
}

#[test]
fn rest_chooses_endpoints_and_modes() {
    let server = HttpServer::start(answer);
    let dir = tmp_dir("rest-modes");
    config(&dir, server.port);
    // The API key endpoint sends its key.
    let r = run(&mut appsync(
        &dir,
        &["rest", "GET", "/k", "--api-name", "keyed"],
    ));
    r.code(0);
    let got = server.next();
    assert_eq!(got.target, "/keyed/k");
    assert_eq!(got.header("x-api-key"), Some("rest-key-123"));
    // An open endpoint sends no auth at all.
    let r = run(&mut appsync(
        &dir,
        &["rest", "DELETE", "/o", "--api-name", "open"],
    ));
    r.code(0);
    let got = server.next();
    assert_eq!(
        (got.method.as_str(), got.target.as_str()),
        ("DELETE", "/open/o")
    );
    assert_eq!(got.header("authorization"), None);
    assert_eq!(got.header("x-api-key"), None);
    // Three REST APIs and no default: choosing is the user's job.
    let r = run(&mut appsync(&dir, &["rest", "GET", "/x"]));
    r.code(2);
    assert!(
        r.one_error_line().contains("choose one with --api-name"),
        "{r:#?}"
    );
    // --auth-mode picks the endpoint of that mode.
    let r = run(&mut appsync(
        &dir,
        &["rest", "GET", "/by-mode", "--auth-mode", "API_KEY"],
    ));
    r.code(0);
    assert_eq!(server.next().target, "/keyed/by-mode");
}

#[test]
fn rest_error_statuses_print_the_body_and_exit_1_or_3() {
    let server = HttpServer::start(answer);
    let dir = tmp_dir("rest-errors");
    config(&dir, server.port);
    let r = run(&mut appsync(
        &dir,
        &["rest", "GET", "/missing", "--api-name", "open"],
    ));
    r.code(1);
    assert_eq!(r.json()["target"], "/open/missing");
    assert!(r.one_error_line().contains("HTTP 404"));
    let r = run(&mut appsync(
        &dir,
        &["rest", "GET", "/denied", "--api-name", "open"],
    ));
    r.code(3);
    assert_eq!(r.json()["target"], "/open/denied");
    assert!(r.one_error_line().contains("HTTP 403"));
    // Paths the library refuses, and bad flags, before anything is sent.
    for (args, says) in [
        (
            &["rest", "GET", "/a?b", "--api-name", "open"][..],
            "--query NAME=VALUE",
        ),
        (&["rest", "GET", "/a/../b", "--api-name", "open"][..], ".."),
        (
            &["rest", "G T", "/a", "--api-name", "open"][..],
            "not an HTTP method",
        ),
        (
            &[
                "rest",
                "GET",
                "/a",
                "--api-name",
                "open",
                "--query",
                "novalue",
            ][..],
            "--query #1",
        ),
        (
            &["rest", "POST", "/a", "--api-name", "open", "--data", "{"][..],
            "--data is not valid JSON",
        ),
    ] {
        let r = run(&mut appsync(&dir, args));
        r.code(2);
        assert!(r.one_error_line().contains(says), "{args:?}: {r:#?}");
    }
}
