//! `appsync config`: what a file holds and the choice a call would lead to (by the client's own
//! rules, with no traffic), secrets never shown; `--check` on good and broken files.

mod support;

use serde_json::json;
use support::{appsync, run, tmp_dir};

const SECRET_KEY: &str = "da2-secret-api-key-123";

/// A Gen1 file: one API under three names (one per mode, the API key one being the default)
/// and a second GraphQL API.
fn gen1() -> serde_json::Value {
    let notes = "https://abc.appsync-api.eu-west-1.amazonaws.com/graphql";
    let e = |mode: &str| {
        let mut v = json!({"endpointType": "GraphQL", "endpoint": notes, "region": "eu-west-1", "authorizationType": mode});
        if mode == "API_KEY" {
            v["apiKey"] = json!(SECRET_KEY);
        }
        v
    };
    let a = |mode: &str| json!({"ApiUrl": notes, "Region": "eu-west-1", "AuthMode": mode});
    json!({
        "api": {"plugins": {"awsAPIPlugin": {
            "notes": e("API_KEY"),
            "notes_AWS_IAM": e("AWS_IAM"),
            "notes_AMAZON_COGNITO_USER_POOLS": e("AMAZON_COGNITO_USER_POOLS"),
            "billing": {"endpointType": "GraphQL", "endpoint": "https://def.appsync-api.us-east-1.amazonaws.com/graphql",
                "region": "us-east-1", "authorizationType": "AWS_IAM"},
        }}},
        "auth": {"plugins": {"awsCognitoAuthPlugin": {"AppSync": {
            "Default": a("API_KEY"),
            "notes_AWS_IAM": a("AWS_IAM"),
            "notes_AMAZON_COGNITO_USER_POOLS": a("AMAZON_COGNITO_USER_POOLS"),
        }}}},
    })
}

#[test]
fn config_shows_endpoints_and_explains_the_choice_without_secrets() {
    let dir = tmp_dir("config-show");
    std::fs::write(dir.join("amplifyconfiguration.json"), gen1().to_string()).unwrap();
    let r = run(&mut appsync(&dir, &["config"]));
    r.code(0);
    for want in [
        "Config file: amplifyconfiguration.json (Amplify Gen1)",
        "GraphQL APIs: 2 (default endpoint: \"notes\")",
        "https://abc.appsync-api.eu-west-1.amazonaws.com/graphql",
        "enabled modes: API_KEY, AWS_IAM, AMAZON_COGNITO_USER_POOLS",
        "API key:       configured (not shown)",
        "name \"notes_AWS_IAM\": AWS_IAM (at api.plugins.awsAPIPlugin.notes_AWS_IAM)",
        "GraphQL: endpoint \"notes\" with API_KEY",
        "rule 3: \"notes\" is the configured default GraphQL endpoint",
    ] {
        assert!(
            r.stdout.contains(want),
            "missing {want:?} in:\n{}",
            r.stdout
        );
    }
    assert!(!r.stdout.contains(SECRET_KEY) && !r.stderr.contains(SECRET_KEY));

    // Rule 2: the name whose own mode is the one asked for.
    let r = run(&mut appsync(
        &dir,
        &["config", "--auth-mode", "AMAZON_COGNITO_USER_POOLS"],
    ));
    r.code(0);
    assert!(
        r.stdout.contains(
            "GraphQL: endpoint \"notes_AMAZON_COGNITO_USER_POOLS\" with AMAZON_COGNITO_USER_POOLS"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("rule 2: endpoint \"notes_AMAZON_COGNITO_USER_POOLS\" has authorizationType"),
        "{}",
        r.stdout
    );
    // Several APIs have AWS_IAM: the client refuses to guess.
    let r = run(&mut appsync(&dir, &["config", "--auth-mode", "AWS_IAM"]));
    r.code(0);
    assert!(
        r.stdout
            .contains("GraphQL: refused: several GraphQL APIs have authorization type AWS_IAM"),
        "{}",
        r.stdout
    );
    // Rule 1, with a mode the API does not enable.
    let r = run(&mut appsync(
        &dir,
        &[
            "config",
            "--api-name",
            "notes",
            "--auth-mode",
            "OPENID_CONNECT",
        ],
    ));
    r.code(0);
    assert!(
        r.stdout.contains("refused: OPENID_CONNECT is not enabled"),
        "{}",
        r.stdout
    );
    let r = run(&mut appsync(
        &dir,
        &["config", "--api-name", "billing", "--auth-mode", "AWS_IAM"],
    ));
    r.code(0);
    assert!(
        r.stdout
            .contains("rule 1: --api-name names endpoint \"billing\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("signed for region us-east-1"),
        "{}",
        r.stdout
    );
}

#[test]
fn config_check_passes_good_files_and_lists_every_problem_of_broken_ones() {
    let dir = tmp_dir("config-check");
    std::fs::write(dir.join("good.json"), gen1().to_string()).unwrap();
    let r = run(&mut appsync(
        &dir,
        &["config", "--check", "--config", "good.json"],
    ));
    r.code(0);
    assert_eq!(
        r.stdout,
        "good.json: valid Amplify Gen1 configuration: 4 GraphQL and 0 REST endpoint(s)\n"
    );

    let broken = json!({"version": "1.4", "data": {
        "url": "ftp://nope", "default_authorization_type": "API_KEY",
        "authorization_types": ["AWS_IAM", "BOGUS"], "aws_region": "not a region"}});
    std::fs::write(dir.join("broken.json"), broken.to_string()).unwrap();
    let r = run(&mut appsync(
        &dir,
        &["config", "--check", "-c", "broken.json"],
    ));
    r.code(2);
    let problems: Vec<&str> = r.stdout.lines().collect();
    assert!(problems.len() >= 3, "{r:#?}");
    for (path, what) in [
        ("data.url", "ftp"),
        ("data.authorization_types[1]", "BOGUS"),
        ("data.aws_region", "not a region"),
    ] {
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(&format!("broken.json: {path}")) && p.contains(what)),
            "no problem at {path}: {r:#?}"
        );
    }
    assert_eq!(
        r.stderr,
        format!("broken.json: {} problems\n", problems.len())
    );

    // Plain http to another machine is a problem of the client built from the file.
    let insecure = json!({"version": "1.4", "data": {"url": "http://example.com/graphql",
        "default_authorization_type": "AWS_IAM", "aws_region": "us-east-1"}});
    std::fs::write(dir.join("insecure.json"), insecure.to_string()).unwrap();
    let r = run(&mut appsync(
        &dir,
        &["config", "--check", "-c", "insecure.json"],
    ));
    r.code(2);
    assert!(
        r.stdout.contains("plain http to a non-loopback host")
            && r.stdout.contains("--allow-insecure-http"),
        "{r:#?}"
    );
    run(&mut appsync(
        &dir,
        &[
            "config",
            "--check",
            "-c",
            "insecure.json",
            "--allow-insecure-http",
        ],
    ))
    .code(0);

    // Not JSON, not a config, not there.
    std::fs::write(dir.join("garbage.json"), "{\"data\": ").unwrap();
    let r = run(&mut appsync(
        &dir,
        &["config", "--check", "-c", "garbage.json"],
    ));
    r.code(2);
    assert!(
        r.stdout.starts_with("garbage.json: not valid JSON"),
        "{r:#?}"
    );
    std::fs::write(dir.join("other.json"), "[1, 2]").unwrap();
    run(&mut appsync(
        &dir,
        &["config", "--check", "-c", "other.json"],
    ))
    .code(2);
    let r = run(&mut appsync(
        &dir,
        &["config", "--check", "-c", "missing.json"],
    ));
    r.code(2);
    assert!(r.one_error_line().contains("cannot read missing.json"));
    // No file given and none here.
    let empty = tmp_dir("config-none");
    let r = run(&mut appsync(&empty, &["config"]));
    r.code(2);
    assert!(r
        .one_error_line()
        .contains("neither amplify_outputs.json nor amplifyconfiguration.json"));
}

#[test]
fn config_shows_an_events_api_and_explains_its_choice() {
    let dir = tmp_dir("config-events");
    let outputs = json!({
        "version": "1.4",
        "data": {
            "url": "https://abc.appsync-api.eu-west-1.amazonaws.com/graphql",
            "aws_region": "eu-west-1",
            "default_authorization_type": "AWS_IAM",
            "authorization_types": ["AWS_IAM"],
        },
        "custom": {"events": {
            "url": "https://evt.appsync-api.eu-west-1.amazonaws.com/event",
            "aws_region": "eu-west-1",
            "default_authorization_type": "API_KEY",
            "api_key": SECRET_KEY,
            "authorization_types": ["API_KEY", "AWS_IAM"],
        }},
    });
    std::fs::write(dir.join("amplify_outputs.json"), outputs.to_string()).unwrap();
    let r = run(&mut appsync(&dir, &["config"]));
    r.code(0);
    for want in [
        "Events APIs: 1 (default endpoint: \"events\")",
        "https://evt.appsync-api.eu-west-1.amazonaws.com/event",
        "enabled modes: API_KEY, AWS_IAM",
        "name \"events\": API_KEY (default, at custom.events)",
        "Events: endpoint \"events\" with API_KEY",
        "rule 3: \"events\" is the only Events endpoint",
        "GraphQL: endpoint \"data\" with AWS_IAM",
    ] {
        assert!(
            r.stdout.contains(want),
            "missing {want:?} in:\n{}",
            r.stdout
        );
    }
    assert!(!r.stdout.contains(SECRET_KEY) && !r.stderr.contains(SECRET_KEY));

    // Named, with a mode the Events API enables: explained under Events only.
    let r = run(&mut appsync(
        &dir,
        &["config", "--api-name", "events", "--auth-mode", "AWS_IAM"],
    ));
    r.code(0);
    assert!(
        r.stdout
            .contains("Events: endpoint \"events\" with AWS_IAM")
            && r.stdout
                .contains("rule 1: --api-name names endpoint \"events\"")
            && r.stdout.contains("signed for region eu-west-1"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("GraphQL: "), "{}", r.stdout);
}
