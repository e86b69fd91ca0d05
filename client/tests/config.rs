//! Loading Amplify configuration files: every documented example, Gen2 outputs, and every error.
//!
//! Fixtures live in `tests/fixtures/config/`. Where each one comes from (paths in the
//! `aws-amplify/docs` repository, as of commit 6cf6e76e3b, May 2026, unless said otherwise):
//!
//! From the Amplify Gen1 GraphQL page "Configure authorization modes"
//! (`aws-amplify/docs`, `src/pages/gen1/[platform]/build-a-backend/graphqlapi/customize-authz-modes/index.mdx`,
//! Android/Swift/Flutter; its text is the fragment
//! `src/fragments/lib/graphqlapi/native_common/authz/common.mdx`), one file per JSON block, in page
//! order. Placeholders are kept exactly; only the docs' `...` lines and trailing commas are removed
//! so that the files are valid JSON:
//! - `gen1_graphql_authz_modes_api_key.json`: "Manual Configuration > API Key" (`awsAPIPlugin`, API_KEY + `apiKey`).
//! - `gen1_graphql_authz_modes_user_pools_auth_plugin.json`: "Amazon Cognito User Pools", the `awsCognitoAuthPlugin` block.
//! - `gen1_graphql_authz_modes_user_pools.json`: "Amazon Cognito User Pools", the `awsAPIPlugin` block.
//! - `gen1_graphql_authz_modes_iam_auth_plugin.json`: "IAM", the `awsCognitoAuthPlugin` (identity pool) block.
//! - `gen1_graphql_authz_modes_iam.json`: "IAM", the `awsAPIPlugin` block.
//! - `gen1_graphql_authz_modes_oidc.json`: "OIDC".
//! - `gen1_graphql_authz_modes_lambda.json`: "AWS Lambda".
//! - `gen1_graphql_authz_modes_none.json`: "NONE".
//! - `gen1_graphql_authz_modes_multi_auth.json`: "Configure multiple authorization modes": the whole
//!   `amplifyconfiguration.json` with four friendly names, one per auth mode, for one API.
//!
//! From the Amplify Gen1 GraphQL page "Customize authorization rules"
//! (`src/pages/gen1/[platform]/build-a-backend/graphqlapi/customize-authorization-rules/index.mdx`),
//! its only client-config block (the others are Lambda authorizer payloads and `custom-roles.json`):
//! - `gen1_graphql_customize_authorization_rules_js.json`: the Amplify JS v6 `Amplify.configure`
//!   object that the page calls `amplifyconfiguration.json` (`Auth.Cognito`, `API.GraphQL`),
//!   trailing commas removed.
//!
//! From the Amplify Gen1 REST page "Define authorization rules"
//! (`src/pages/gen1/[platform]/build-a-backend/restapi/customize-authz/index.mdx`; Android, Swift and
//! React Native show `src/fragments/lib/restapi/native_common/authz/common.mdx`, Flutter shows
//! `src/fragments/lib/restapi/flutter/authz.mdx`), same treatment:
//! - `gen1_rest_authz_iam.json`: "IAM Authorization" (AWS_IAM).
//! - `gen1_rest_authz_api_key.json`: "API Key" (API_KEY + `apiKey`).
//! - `gen1_rest_authz_user_pools.json`: "Cognito User pool authorization" (AMAZON_COGNITO_USER_POOLS).
//! - `gen1_rest_authz_user_pools_auth_plugin.json`: the same section's `awsCognitoAuthPlugin`
//!   contents (user pool with `AppClientSecret`, identity pool); identical on the Flutter page.
//! - `gen1_rest_authz_oidc.json`: "OIDC" (OPENID_CONNECT).
//! - `gen1_rest_authz_none.json`: "NONE".
//! - `gen1_rest_authz_flutter_{iam,api_key,user_pools}.json`: the Flutter page's three
//!   `awsAPIPlugin` blocks (they name the API `<YOUR-RESTENDPOINT-NAME>` instead of `[...]`).
//!
//! From earlier revisions of the same GraphQL authorization docs (`aws-amplify/docs` commit
//! 15917b980c, `docs/lib/graphqlapi/fragments/{android,ios}/authz.md`, "Multi-Auth"): the
//! `friendly_name_<MODE>` example as Amplify CLI generates it, with real-looking URLs, and each
//! with a typo that makes it a bad config (made valid JSON the same way):
//! - `legacy_docs_android_authz_multi_auth.json`: `friendly_name_AWS_IAM` has `"API_IAM"`.
//! - `legacy_docs_ios_authz_multi_auth.json`: `friendly_name_AWS_IAM` has `"API_KEY"` and no key.
//!
//! Gen2 `amplify_outputs.json`:
//! - `gen2_connect_existing_resources_data.json`: verbatim from the Gen2 page "Connect to existing
//!   AWS resources" (`src/pages/[platform]/frontend/connect-to-existing-resources/index.mdx`,
//!   the Data block): only `data`.
//! - `gen2_outputs_data_rest_auth.json`: written for these tests from the schema v1 key names
//!   (`src/pages/[platform]/reference/amplify_outputs/amplify-outputs-schema-v1.json`), the `auth`
//!   values of "Connect to existing AWS resources", and the `custom.API` entry that
//!   `backend.addOutput` writes on the Gen2 page "Set up Amplify REST API"
//!   (`src/pages/[platform]/build-a-backend/add-aws-services/rest-api/set-up-rest-api/index.mdx`),
//!   plus a second REST API without `region`.
//!
//! Written for these tests, one problem each (named after it): `bad_missing_url.json`,
//! `bad_invalid_url.json`, `bad_iam_without_region.json`, `bad_http_non_loopback.json` (and
//! `gen1_http_loopback.json`, which is fine), `bad_gen2_duplicate_name.json`,
//! `bad_gen1_endpoint_number.json`, `bad_gen2_authorization_types_string.json`,
//! `bad_gen2_version_2.json`, `bad_not_json.json` (an `aws-exports.js`), `bad_not_amplify.json` (a
//! `tsconfig.json`), and `bad_gen1_several_problems.json` (five problems at once).

use std::collections::BTreeSet;
use std::path::PathBuf;

use appsync_client::config::{ConfigFormat, IdentityPoolConfig, UserPoolConfig};
use appsync_client::{AuthMode, Client, Config, EndpointConfig, EndpointType};
use serde_json::{json, Value};

// ----------------------------------------------------------------------------------------------
// Helpers

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Loads a fixture that must be valid.
fn load(name: &str) -> Config {
    Config::from_path(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Loads a fixture that must fail; checks the error kind and the path prefix, returns the text.
fn load_err(name: &str) -> String {
    let err = Config::from_path(fixture_path(name)).expect_err(name);
    assert!(err.is_config(), "{name}: not a config error: {err:?}");
    let text = err.to_string();
    let prefix = format!("{}: ", fixture_path(name).display());
    assert!(
        text.starts_with(&prefix),
        "{name}: the message does not start with the file's path: {text}"
    );
    text[prefix.len()..].to_owned()
}

/// Parses text that must fail; checks the error kind, returns the text.
fn parse_err(text: &str) -> String {
    let err = Config::from_json_str(text).expect_err("expected an error");
    assert!(err.is_config(), "not a config error: {err:?}");
    err.to_string()
}

#[track_caller]
fn assert_contains(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(haystack.contains(n), "expected {n:?} in:\n{haystack}");
    }
}

/// The docs' placeholders replaced by real-looking values, as a user would fill them in. The
/// GraphQL page itself says: "The `GRAPHQL-ENDPOINT` from AWS AppSync will look similar to
/// `https://xyz.appsync-api.us-west-2.amazonaws.com/graphql`"; the REST page names the region
/// `us-west-2`, so the REST URL is an API Gateway URL with a stage in that region.
const GRAPHQL_URL: &str = "https://xyz.appsync-api.us-west-2.amazonaws.com/graphql";
const REST_URL: &str = "https://xyz.execute-api.us-west-2.amazonaws.com/dev";

fn filled(name: &str) -> String {
    fixture_text(name)
        .replace("[GRAPHQL-ENDPOINT]", GRAPHQL_URL)
        .replace("YOUR-REST-ENDPOINT", REST_URL)
        .replace("[REST-ENDPOINT]", REST_URL)
        .replace("[REGION]", "us-west-2")
}

fn modes(list: &[AuthMode]) -> BTreeSet<AuthMode> {
    list.iter().copied().collect()
}

fn only(config: &Config) -> &EndpointConfig {
    assert_eq!(config.endpoints().len(), 1, "{config:?}");
    &config.endpoints()[0]
}

// ----------------------------------------------------------------------------------------------
// Gen1 single-endpoint examples from the two documentation pages

struct DocExample {
    file: &'static str,
    name: &'static str,
    ty: EndpointType,
    mode: AuthMode,
    /// The URL placeholder as written in the docs.
    url_placeholder: &'static str,
    /// The `apiKey` value as written in the docs.
    api_key: Option<&'static str>,
}

const DOC_EXAMPLES: &[DocExample] = &[
    DocExample {
        file: "gen1_graphql_authz_modes_api_key.json",
        name: "[YOUR-GRAPHQLENDPOINT-NAME]",
        ty: EndpointType::GraphQL,
        mode: AuthMode::ApiKey,
        url_placeholder: "[GRAPHQL-ENDPOINT]",
        api_key: Some("[API-KEY]"),
    },
    DocExample {
        file: "gen1_graphql_authz_modes_user_pools.json",
        name: "[YOUR-GRAPHQLENDPOINT-NAME]",
        ty: EndpointType::GraphQL,
        mode: AuthMode::UserPools,
        url_placeholder: "[GRAPHQL-ENDPOINT]",
        api_key: None,
    },
    DocExample {
        file: "gen1_graphql_authz_modes_iam.json",
        name: "[YOUR-GRAPHQLENDPOINT-NAME]",
        ty: EndpointType::GraphQL,
        mode: AuthMode::Iam,
        url_placeholder: "[GRAPHQL-ENDPOINT]",
        api_key: None,
    },
    DocExample {
        file: "gen1_graphql_authz_modes_oidc.json",
        name: "[YOUR-GRAPHQLENDPOINT-NAME]",
        ty: EndpointType::GraphQL,
        mode: AuthMode::Oidc,
        url_placeholder: "[GRAPHQL-ENDPOINT]",
        api_key: None,
    },
    DocExample {
        file: "gen1_graphql_authz_modes_lambda.json",
        name: "[YOUR-GRAPHQLENDPOINT-NAME]",
        ty: EndpointType::GraphQL,
        mode: AuthMode::Lambda,
        url_placeholder: "[GRAPHQL-ENDPOINT]",
        api_key: None,
    },
    DocExample {
        file: "gen1_graphql_authz_modes_none.json",
        name: "[YOUR-GRAPHQLENDPOINT-NAME]",
        ty: EndpointType::GraphQL,
        mode: AuthMode::None,
        url_placeholder: "[GRAPHQL-ENDPOINT]",
        api_key: None,
    },
    DocExample {
        file: "gen1_rest_authz_iam.json",
        name: "[YOUR-RESTENDPOINT-NAME]",
        ty: EndpointType::Rest,
        mode: AuthMode::Iam,
        url_placeholder: "YOUR-REST-ENDPOINT",
        api_key: None,
    },
    DocExample {
        file: "gen1_rest_authz_api_key.json",
        name: "[YOUR-RESTENDPOINT-NAME]",
        ty: EndpointType::Rest,
        mode: AuthMode::ApiKey,
        url_placeholder: "YOUR-REST-ENDPOINT",
        api_key: Some("YOUR_API_KEY"),
    },
    DocExample {
        file: "gen1_rest_authz_user_pools.json",
        name: "[YOUR-RESTENDPOINT-NAME]",
        ty: EndpointType::Rest,
        mode: AuthMode::UserPools,
        url_placeholder: "YOUR-REST-ENDPOINT",
        api_key: None,
    },
    DocExample {
        file: "gen1_rest_authz_oidc.json",
        name: "[YOUR-RESTENDPOINT-NAME]",
        ty: EndpointType::Rest,
        mode: AuthMode::Oidc,
        url_placeholder: "[REST-ENDPOINT]",
        api_key: None,
    },
    DocExample {
        file: "gen1_rest_authz_none.json",
        name: "[yourApiName]",
        ty: EndpointType::Rest,
        mode: AuthMode::None,
        url_placeholder: "[REST-ENDPOINT]",
        api_key: None,
    },
    DocExample {
        file: "gen1_rest_authz_flutter_iam.json",
        name: "<YOUR-RESTENDPOINT-NAME>",
        ty: EndpointType::Rest,
        mode: AuthMode::Iam,
        url_placeholder: "YOUR-REST-ENDPOINT",
        api_key: None,
    },
    DocExample {
        file: "gen1_rest_authz_flutter_api_key.json",
        name: "<YOUR-RESTENDPOINT-NAME>",
        ty: EndpointType::Rest,
        mode: AuthMode::ApiKey,
        url_placeholder: "YOUR-REST-ENDPOINT",
        api_key: Some("YOUR_API_KEY"),
    },
    DocExample {
        file: "gen1_rest_authz_flutter_user_pools.json",
        name: "<YOUR-RESTENDPOINT-NAME>",
        ty: EndpointType::Rest,
        mode: AuthMode::UserPools,
        url_placeholder: "YOUR-REST-ENDPOINT",
        api_key: None,
    },
];

/// Copied verbatim, every documented example is rejected for its URL placeholder alone, and the
/// message names the key path and the placeholder.
#[test]
fn doc_examples_verbatim_report_the_url_placeholder() {
    for ex in DOC_EXAMPLES {
        let msg = load_err(ex.file);
        let expected = format!(
            "awsAPIPlugin.{}.endpoint: {:?} is not a valid URL",
            ex.name, ex.url_placeholder
        );
        assert!(
            msg.contains(&expected),
            "{}: expected {expected:?}, got:\n{msg}",
            ex.file
        );
        // Besides the URL, only a `[REGION]` placeholder may be reported.
        for line in msg.lines().skip(1) {
            assert!(
                line.contains(".endpoint: ")
                    || line.contains(".region: \"[REGION]\" is not a region name"),
                "{}: unexpected problem {line:?} in:\n{msg}",
                ex.file
            );
        }
        if let Some(key) = ex.api_key {
            assert!(
                !msg.contains(key),
                "{}: the API key leaked:\n{msg}",
                ex.file
            );
        }
    }
}

/// With the placeholders filled in, every documented example loads as documented.
#[test]
fn doc_examples_filled_in_load() {
    for ex in DOC_EXAMPLES {
        let config =
            Config::from_json_str(&filled(ex.file)).unwrap_or_else(|e| panic!("{}: {e}", ex.file));
        assert_eq!(config.format(), ConfigFormat::Gen1, "{}", ex.file);
        let e = only(&config);
        assert_eq!(e.name(), ex.name, "{}", ex.file);
        assert_eq!(e.endpoint_type(), ex.ty, "{}", ex.file);
        let url = match ex.ty {
            EndpointType::Rest => REST_URL,
            _ => GRAPHQL_URL,
        };
        assert_eq!(e.url().as_str(), url, "{}", ex.file);
        assert_eq!(e.region(), Some("us-west-2"), "{}", ex.file);
        assert_eq!(e.authorization_type(), ex.mode, "{}", ex.file);
        assert_eq!(e.has_api_key(), ex.api_key.is_some(), "{}", ex.file);
        // Gen1 `awsAPIPlugin` entries do not list the API's modes, so any mode may be asked for.
        assert_eq!(e.enabled_modes(), None, "{}", ex.file);
        for &m in AuthMode::ALL {
            assert!(e.allows(m), "{}: {m}", ex.file);
        }
        assert_eq!(e.realtime_url(), None, "{}", ex.file);
        assert_eq!(
            e.key_path(),
            format!("awsAPIPlugin.{}", ex.name),
            "{}",
            ex.file
        );
        // One endpoint of a type needs no default; none is invented.
        assert_eq!(config.default_endpoint(EndpointType::GraphQL), None);
        assert_eq!(config.default_endpoint(EndpointType::Rest), None);
        assert_eq!(config.auth(), &Default::default(), "{}", ex.file);
        assert_eq!(
            config.endpoint(ex.name).map(EndpointConfig::name),
            Some(ex.name)
        );
    }
}

/// The Flutter REST page differs from the native one only in the API's name placeholder.
#[test]
fn flutter_rest_examples_match_the_native_ones() {
    for mode in ["iam", "api_key", "user_pools"] {
        let native = fixture_text(&format!("gen1_rest_authz_{mode}.json"));
        let flutter = fixture_text(&format!("gen1_rest_authz_flutter_{mode}.json"));
        assert_eq!(
            native.replace("[YOUR-RESTENDPOINT-NAME]", "<YOUR-RESTENDPOINT-NAME>"),
            flutter
        );
    }
}

/// The region is parsed from an AWS host when the file does not give one (GraphQL and REST).
#[test]
fn region_is_parsed_from_the_host() {
    for (file, url, region) in [
        (
            "gen1_graphql_authz_modes_iam.json",
            GRAPHQL_URL,
            "us-west-2",
        ),
        (
            "gen1_rest_authz_iam.json",
            "https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com/prod",
            "eu-central-1",
        ),
        (
            "gen1_rest_authz_iam.json",
            "https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod",
            "cn-north-1",
        ),
    ] {
        let mut v: Value = serde_json::from_str(&filled(file)).unwrap();
        let entry = v["awsAPIPlugin"]
            .as_object_mut()
            .unwrap()
            .values_mut()
            .next()
            .unwrap();
        entry.as_object_mut().unwrap().remove("region");
        entry["endpoint"] = json!(url);
        let config = Config::from_json(&v).unwrap_or_else(|e| panic!("{url}: {e}"));
        let e = only(&config);
        assert_eq!(e.region(), Some(region), "{url}");
        assert_eq!(e.authorization_type(), AuthMode::Iam);
    }

    // A custom domain names no region; that is fine for modes other than IAM.
    let config = Config::from_json(&json!({"awsAPIPlugin": {"notes": {
        "endpointType": "GraphQL", "endpoint": "https://api.example.com/graphql",
        "authorizationType": "AMAZON_COGNITO_USER_POOLS"}}}))
    .unwrap();
    assert_eq!(only(&config).region(), None);

    // An explicit region wins over the host's.
    let config = Config::from_json(&json!({"awsAPIPlugin": {"notes": {
        "endpointType": "GraphQL", "endpoint": GRAPHQL_URL, "region": "eu-west-1",
        "authorizationType": "AWS_IAM"}}}))
    .unwrap();
    assert_eq!(only(&config).region(), Some("eu-west-1"));
}

/// The documented `awsCognitoAuthPlugin` snippets are not files of their own: alone they are
/// refused; put where the docs say (`auth.plugins.awsCognitoAuthPlugin`), their pools are read.
#[test]
fn doc_auth_plugin_snippets() {
    for file in [
        "gen1_graphql_authz_modes_user_pools_auth_plugin.json",
        "gen1_graphql_authz_modes_iam_auth_plugin.json",
        "gen1_rest_authz_user_pools_auth_plugin.json",
    ] {
        let msg = load_err(file);
        assert_contains(&msg, &["not an Amplify configuration"]);
    }

    // GraphQL, user pools: the auth-plugin block beside the api-plugin block.
    let api: Value =
        serde_json::from_str(&filled("gen1_graphql_authz_modes_user_pools.json")).unwrap();
    let auth: Value = serde_json::from_str(&filled(
        "gen1_graphql_authz_modes_user_pools_auth_plugin.json",
    ))
    .unwrap();
    let whole = json!({
        "api": {"plugins": {"awsAPIPlugin": api["awsAPIPlugin"]}},
        "auth": {"plugins": auth},
    });
    let config = Config::from_json(&whole).unwrap();
    assert_eq!(
        config.auth().user_pool,
        Some(UserPoolConfig::new(
            "[POOL-ID]",
            Some("[APP-CLIENT-ID]".to_owned()),
            Some("us-west-2".to_owned())
        ))
    );
    assert_eq!(config.auth().identity_pool, None);
    assert_eq!(only(&config).authorization_type(), AuthMode::UserPools);

    // GraphQL, IAM: the identity pool. Gen1 has no guest flag; a configured pool allows guests.
    let api: Value = serde_json::from_str(&filled("gen1_graphql_authz_modes_iam.json")).unwrap();
    let auth: Value =
        serde_json::from_str(&filled("gen1_graphql_authz_modes_iam_auth_plugin.json")).unwrap();
    let whole = json!({
        "api": {"plugins": {"awsAPIPlugin": api["awsAPIPlugin"]}},
        "auth": {"plugins": auth},
    });
    let config = Config::from_json(&whole).unwrap();
    assert_eq!(config.auth().user_pool, None);
    let pool = config.auth().identity_pool.as_ref().unwrap();
    assert_eq!(pool.pool_id, "[COGNITO-IDENTITY-POOLID]");
    assert_eq!(pool.region, "us-west-2");
    assert!(pool.allow_guest);

    // REST, user pools: the snippet is the contents of `awsCognitoAuthPlugin`.
    let api: Value = serde_json::from_str(&filled("gen1_rest_authz_user_pools.json")).unwrap();
    let auth = fixture_json("gen1_rest_authz_user_pools_auth_plugin.json");
    let whole = json!({
        "api": {"plugins": {"awsAPIPlugin": api["awsAPIPlugin"]}},
        "auth": {"plugins": {"awsCognitoAuthPlugin": auth}},
    });
    let config = Config::from_json(&whole).unwrap();
    // The app client secret is read (and redacted in `Debug`).
    assert!(!format!("{config:?}").contains("YOUR-APP-CLIENT-SECRET"));
    assert_eq!(
        config.auth().user_pool,
        Some(
            UserPoolConfig::new(
                "YOUR-POOL-ID",
                Some("YOUR-APP-CLIENT-ID".to_owned()),
                Some("us-east-1".to_owned())
            )
            .app_client_secret("YOUR-APP-CLIENT-SECRET")
        )
    );
    let pool = config.auth().identity_pool.as_ref().unwrap();
    assert_eq!(pool.pool_id, "YOUR-COGNITO-IDENTITY-POOLID");
    assert_eq!(pool.region, "us-east-1");
    assert!(pool.allow_guest);
    // The app client secret is not kept anywhere.
    assert!(!format!("{config:?}").contains("YOUR-APP-CLIENT-SECRET"));
    let e = only(&config);
    assert_eq!(e.endpoint_type(), EndpointType::Rest);
    assert_eq!(e.authorization_type(), AuthMode::UserPools);
}

/// The Amplify JS v6 configuration object (`{"Auth": {"Cognito"}, "API": {"GraphQL"}}`) is
/// neither Gen1 native nor Gen2, and is refused as such.
#[test]
fn js_v6_configure_object_is_not_supported() {
    let msg = load_err("gen1_graphql_customize_authorization_rules_js.json");
    assert!(msg.starts_with("not an Amplify configuration: "), "{msg}");
}

// ----------------------------------------------------------------------------------------------
// Gen1: four friendly names for one API

const MULTI_NAMES: [(&str, AuthMode); 4] = [
    ("[FRIENDLY-NAME-API-WITH-API-KEY]", AuthMode::ApiKey),
    ("[FRIENDLY-NAME-API-WITH-IAM]", AuthMode::Iam),
    ("[FRIENDLY-NAME-API-WITH-OPENID-CONNECT]", AuthMode::Oidc),
    ("[FRIENDLY-NAME-API-WITH-USER-POOLS]", AuthMode::UserPools),
];

/// Verbatim, two of the four names still have the `[GRAPHQL-ENDPOINT]` placeholder (the other two
/// already show the example URL): both are reported, in one error.
#[test]
fn multi_auth_doc_example_verbatim() {
    let msg = load_err("gen1_graphql_authz_modes_multi_auth.json");
    assert_contains(
        &msg,
        &[
            "invalid configuration (6 problems):",
            "api.plugins.awsAPIPlugin.[FRIENDLY-NAME-API-WITH-API-KEY].endpoint: \"[GRAPHQL-ENDPOINT]\" is not a valid URL",
            "api.plugins.awsAPIPlugin.[FRIENDLY-NAME-API-WITH-IAM].endpoint: \"[GRAPHQL-ENDPOINT]\" is not a valid URL",
            "api.plugins.awsAPIPlugin.[FRIENDLY-NAME-API-WITH-USER-POOLS].region: \"[REGION]\" is not a region name",
        ],
    );
    assert!(!msg.contains("USER-POOLS].endpoint"), "{msg}");
    assert!(!msg.contains("[API_KEY]"), "the API key leaked: {msg}");
}

#[test]
fn multi_auth_doc_example_filled_in() {
    let config =
        Config::from_json_str(&filled("gen1_graphql_authz_modes_multi_auth.json")).unwrap();
    assert_eq!(config.format(), ConfigFormat::Gen1);
    // Sorted by name.
    let names: Vec<&str> = config
        .endpoints()
        .iter()
        .map(EndpointConfig::name)
        .collect();
    assert_eq!(names, MULTI_NAMES.map(|(n, _)| n));
    for (name, mode) in MULTI_NAMES {
        let e = config.endpoint(name).unwrap();
        assert_eq!(e.endpoint_type(), EndpointType::GraphQL, "{name}");
        assert_eq!(e.url().as_str(), GRAPHQL_URL, "{name}");
        assert_eq!(e.region(), Some("us-west-2"), "{name}");
        assert_eq!(e.authorization_type(), mode, "{name}");
        // Only the API_KEY name carries the key in the docs' example; names of one API share it.
        assert!(e.has_api_key(), "{name}");
        assert_eq!(e.enabled_modes(), None, "{name}");
        assert_eq!(
            e.key_path(),
            format!("api.plugins.awsAPIPlugin.{name}"),
            "{name}"
        );
    }
    // Four names, one API, and nothing in the file says which name is the default.
    assert_eq!(config.default_endpoint(EndpointType::GraphQL), None);
    assert_eq!(config.auth(), &Default::default());
}

/// As Amplify CLI writes it: the `AppSync` entries of the auth plugin give the API's modes and,
/// with `Default`, the default name.
/// The multi-auth example with `AppSync` entries for three modes (user pools the `Default`)
/// whose `ApiUrl` is written `api_url`.
fn multi_auth_with_entries_at(api_url: &str) -> Value {
    let mut v: Value =
        serde_json::from_str(&filled("gen1_graphql_authz_modes_multi_auth.json")).unwrap();
    let entry = |mode: &str, key: Option<&str>| {
        let mut e = json!({"ApiUrl": api_url, "Region": "us-west-2", "AuthMode": mode,
            "ClientDatabasePrefix": format!("notes_{mode}")});
        if let Some(k) = key {
            e["ApiKey"] = json!(k);
        }
        e
    };
    v["auth"] = json!({"plugins": {"awsCognitoAuthPlugin": {"AppSync": {
        "Default": entry("AMAZON_COGNITO_USER_POOLS", None),
        "notes_API_KEY": entry("API_KEY", Some("[API_KEY]")),
        "notes_AWS_IAM": entry("AWS_IAM", None),
    }}}});
    v
}

#[test]
fn multi_auth_with_appsync_entries() {
    let config = Config::from_json(&multi_auth_with_entries_at(GRAPHQL_URL)).unwrap();
    assert_eq!(
        config.default_endpoint(EndpointType::GraphQL),
        Some("[FRIENDLY-NAME-API-WITH-USER-POOLS]")
    );
    let enabled = modes(&[AuthMode::ApiKey, AuthMode::Iam, AuthMode::UserPools]);
    for (name, mode) in MULTI_NAMES {
        let e = config.endpoint(name).unwrap();
        // The API's modes, plus the name's own (OPENID_CONNECT is not in the AppSync entries).
        let mut expected = enabled.clone();
        expected.insert(mode);
        assert_eq!(e.enabled_modes(), Some(&expected), "{name}");
        assert!(e.allows(AuthMode::None), "{name}");
        assert!(!e.allows(AuthMode::Lambda), "{name}");
        // The key is shared from the AppSync entries by every name of the API.
        assert!(e.has_api_key(), "{name}");
    }
}

// ----------------------------------------------------------------------------------------------
// Gen2

#[test]
fn gen2_data_rest_and_auth() {
    let config = load("gen2_outputs_data_rest_auth.json");
    assert_eq!(config.format(), ConfigFormat::Gen2);
    let names: Vec<&str> = config
        .endpoints()
        .iter()
        .map(EndpointConfig::name)
        .collect();
    assert_eq!(names, ["data", "myRestApi", "ordersApi"]);

    let data = config.endpoint("data").unwrap();
    assert_eq!(data.endpoint_type(), EndpointType::GraphQL);
    assert_eq!(
        data.url().as_str(),
        "https://abc123.appsync-api.us-east-1.amazonaws.com/graphql"
    );
    assert_eq!(data.region(), Some("us-east-1"));
    assert_eq!(data.authorization_type(), AuthMode::UserPools);
    assert!(data.has_api_key());
    // Gen2 lists the additional modes; the API enables them and the default.
    assert_eq!(
        data.enabled_modes(),
        Some(&modes(&[
            AuthMode::ApiKey,
            AuthMode::Iam,
            AuthMode::UserPools
        ]))
    );
    assert!(data.allows(AuthMode::None));
    assert!(!data.allows(AuthMode::Oidc));
    assert!(!data.allows(AuthMode::Lambda));
    assert_eq!(data.key_path(), "data");
    assert_eq!(config.default_endpoint(EndpointType::GraphQL), Some("data"));

    let rest = config.endpoint("myRestApi").unwrap();
    assert_eq!(rest.endpoint_type(), EndpointType::Rest);
    assert_eq!(
        rest.url().as_str(),
        "https://xyz789abc0.execute-api.us-east-1.amazonaws.com/dev/"
    );
    assert_eq!(rest.region(), Some("us-east-1"));
    // `custom.API` says nothing about auth; Amplify signs REST calls with IAM.
    assert_eq!(rest.authorization_type(), AuthMode::Iam);
    assert!(!rest.has_api_key());
    assert_eq!(rest.enabled_modes(), None);
    assert_eq!(rest.key_path(), "custom.API.myRestApi");

    let orders = config.endpoint("ordersApi").unwrap();
    assert_eq!(orders.endpoint_type(), EndpointType::Rest);
    assert_eq!(orders.region(), Some("eu-west-1"), "parsed from the host");
    assert_eq!(orders.authorization_type(), AuthMode::Iam);
    // Two REST APIs and Gen2 has no REST default.
    assert_eq!(config.default_endpoint(EndpointType::Rest), None);

    let auth = config.auth();
    assert_eq!(
        auth.user_pool,
        Some(UserPoolConfig::new(
            "us-east-1_abc123",
            Some("abcdef123456".to_owned()),
            Some("us-east-1".to_owned())
        ))
    );
    assert_eq!(
        auth.identity_pool,
        Some(IdentityPoolConfig::new(
            "us-east-1:11111111-2222-3333-4444-555555555555",
            true
        ))
    );
}

#[test]
fn gen2_minimal_data_only() {
    let config = load("gen2_connect_existing_resources_data.json");
    assert_eq!(config.format(), ConfigFormat::Gen2);
    let data = only(&config);
    assert_eq!(data.name(), "data");
    assert_eq!(data.endpoint_type(), EndpointType::GraphQL);
    assert_eq!(
        data.url().as_str(),
        "https://abc123.appsync-api.us-east-1.amazonaws.com/graphql"
    );
    assert_eq!(data.region(), Some("us-east-1"));
    assert_eq!(data.authorization_type(), AuthMode::ApiKey);
    assert!(data.has_api_key());
    // The docs list the default among `authorization_types`; that is harmless.
    assert_eq!(data.enabled_modes(), Some(&modes(&[AuthMode::ApiKey])));
    assert!(!data.allows(AuthMode::Iam));
    assert!(data.allows(AuthMode::None));
    assert_eq!(config.default_endpoint(EndpointType::GraphQL), Some("data"));
    assert_eq!(config.default_endpoint(EndpointType::Rest), None);
    assert_eq!(config.auth(), &Default::default());
}

#[test]
fn gen2_guest_access_defaults_to_off() {
    let mut v = fixture_json("gen2_outputs_data_rest_auth.json");
    v["auth"]
        .as_object_mut()
        .unwrap()
        .remove("unauthenticated_identities_enabled");
    let config = Config::from_json(&v).unwrap();
    let pool = config.auth().identity_pool.as_ref().unwrap();
    assert!(!pool.allow_guest);
    assert_eq!(pool.region, "us-east-1");
}

#[test]
fn gen2_accepts_any_1x_version() {
    for version in ["1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.10"] {
        let mut v = fixture_json("gen2_connect_existing_resources_data.json");
        v["version"] = json!(version);
        let config = Config::from_json(&v).unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(config.format(), ConfigFormat::Gen2);
    }
    for version in ["2", "1.", "1.x", "0.9", ""] {
        let mut v = fixture_json("gen2_connect_existing_resources_data.json");
        v["version"] = json!(version);
        let err = Config::from_json(&v).expect_err(version);
        assert!(err.is_config());
        assert_contains(
            &err.to_string(),
            &[&format!(
                "version: unsupported amplify_outputs version {version:?}"
            )],
        );
    }
}

// ----------------------------------------------------------------------------------------------
// Bad configs: one problem each; the message names the key path and what is wrong

#[test]
fn bad_unknown_authorization_type() {
    // The Android docs' typo "API_IAM".
    let msg = load_err("legacy_docs_android_authz_multi_auth.json");
    assert_eq!(
        msg,
        "invalid configuration: api.plugins.awsAPIPlugin.friendly_name_AWS_IAM.authorizationType: \
         unknown authorization type \"API_IAM\"; expected one of API_KEY, AWS_IAM, \
         AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT, AWS_LAMBDA, NONE"
    );
    // With the typo fixed, it is the four-names example with real URLs.
    let fixed =
        fixture_text("legacy_docs_android_authz_multi_auth.json").replace("API_IAM", "AWS_IAM");
    let config = Config::from_json_str(&fixed).unwrap();
    assert_eq!(config.endpoints().len(), 4);
    assert_eq!(
        config
            .endpoint("friendly_name_AWS_IAM")
            .unwrap()
            .authorization_type(),
        AuthMode::Iam
    );
    assert!(config
        .endpoints()
        .iter()
        .all(|e| e.url().as_str() == GRAPHQL_URL));
}

#[test]
fn bad_api_key_without_key() {
    // The iOS docs' copy-paste slip: the IAM name says API_KEY and has no key.
    let msg = load_err("legacy_docs_ios_authz_multi_auth.json");
    assert_eq!(
        msg,
        "invalid configuration: api.plugins.awsAPIPlugin.friendly_name_AWS_IAM: authorization type \
         is API_KEY but no API key is configured (api.plugins.awsAPIPlugin.friendly_name_AWS_IAM.apiKey)"
    );
    assert!(!msg.contains("da2-abcdefghijklmnopqr"));
}

#[test]
fn bad_missing_url() {
    assert_eq!(
        load_err("bad_missing_url.json"),
        "invalid configuration: api.plugins.awsAPIPlugin.notes.endpoint: missing; expected the API's URL"
    );
}

#[test]
fn bad_invalid_url() {
    let msg = load_err("bad_invalid_url.json");
    assert_contains(
        &msg,
        &[
            "invalid configuration: api.plugins.awsAPIPlugin.notes.endpoint: ",
            "\"https//abc123.appsync-api.us-east-1.amazonaws.com/graphql\" is not a valid URL",
        ],
    );
    // Other schemes and empty strings are refused too.
    for (url, why) in [
        (
            "ftp://abc123.appsync-api.us-east-1.amazonaws.com/graphql",
            "has scheme \"ftp\"; expected https",
        ),
        (
            "wss://abc123.appsync-realtime-api.us-east-1.amazonaws.com/graphql",
            "has scheme \"wss\"; expected https",
        ),
        ("", "empty; expected the API's URL"),
        ("   ", "empty; expected the API's URL"),
    ] {
        let text = json!({"awsAPIPlugin": {"notes": {"endpointType": "GraphQL", "endpoint": url,
            "region": "us-east-1", "authorizationType": "AWS_IAM"}}})
        .to_string();
        let msg = parse_err(&text);
        assert_contains(&msg, &["awsAPIPlugin.notes.endpoint: ", why]);
    }
}

#[test]
fn bad_iam_without_region() {
    assert_eq!(
        load_err("bad_iam_without_region.json"),
        "invalid configuration: api.plugins.awsAPIPlugin.notes: AWS_IAM needs a region and none can \
         be parsed from the host \"api.example.com\"; set api.plugins.awsAPIPlugin.notes.region"
    );
    // An additional IAM mode needs a region as well (Gen2, custom domain).
    let msg = parse_err(
        &json!({"version": "1", "data": {"url": "https://api.example.com/graphql",
            "default_authorization_type": "API_KEY", "api_key": "da2-k",
            "authorization_types": ["AWS_IAM"]}})
        .to_string(),
    );
    assert_contains(
        &msg,
        &[
            "data: AWS_IAM needs a region and none can be parsed from the host \"api.example.com\"",
            "set data.aws_region",
        ],
    );
}

#[test]
fn http_needs_loopback_or_permission() {
    let config = load("bad_http_non_loopback.json");
    let err = Client::builder()
        .config(config.clone())
        .build()
        .expect_err("http to a LAN host");
    assert!(err.is_config(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid configuration: api.plugins.awsAPIPlugin.notes: \
         http://appsync.internal.example:8080/graphql is plain http to a non-loopback host; use \
         https, or allow it with ClientBuilder::allow_insecure_http(true)"
    );
    assert!(!err.to_string().contains("da2-httpfixturekey"));
    Client::builder()
        .config(config)
        .allow_insecure_http(true)
        .build()
        .expect("allowed explicitly");

    // Loopback by address and by name needs no permission.
    let config = load("gen1_http_loopback.json");
    assert_eq!(
        config.endpoint("local_ipv4").unwrap().url().as_str(),
        "http://127.0.0.1:20002/graphql"
    );
    assert_eq!(
        config.endpoint("local_name").unwrap().url().as_str(),
        "http://localhost:3000/dev"
    );
    // REST without `authorizationType` and without an AWS host: NONE, no region.
    assert_eq!(
        config.endpoint("local_name").unwrap().authorization_type(),
        AuthMode::None
    );
    assert_eq!(config.endpoint("local_name").unwrap().region(), None);
    Client::builder()
        .config(config)
        .build()
        .expect("loopback is allowed");
}

#[test]
fn bad_duplicate_names() {
    assert_eq!(
        load_err("bad_gen2_duplicate_name.json"),
        "invalid configuration: custom.API.dataRestApi: duplicate endpoint name \"data\" (already \
         defined at data)"
    );
    let err = Config::builder()
        .endpoint(
            EndpointConfig::graphql(
                "a",
                "https://one.appsync-api.us-east-1.amazonaws.com/graphql",
            )
            .authorization_type(AuthMode::Iam),
        )
        .endpoint(
            EndpointConfig::rest("a", "https://two.execute-api.us-east-1.amazonaws.com/prod")
                .authorization_type(AuthMode::Iam),
        )
        .build()
        .expect_err("two endpoints named a");
    assert!(err.is_config());
    assert_eq!(
        err.to_string(),
        "invalid configuration: endpoint \"a\": duplicate endpoint name \"a\" (already defined at \
         endpoint \"a\")"
    );
}

#[test]
fn bad_wrong_json_types() {
    // Reported once, as a type error (not also as "missing").
    assert_eq!(
        load_err("bad_gen1_endpoint_number.json"),
        "invalid configuration: api.plugins.awsAPIPlugin.notes.endpoint: expected a string, found a number"
    );

    let msg = load_err("bad_gen2_authorization_types_string.json");
    assert_eq!(
        msg,
        "invalid configuration: data.authorization_types: expected an array of strings, found a string"
    );
    assert!(!msg.contains("da2-typesfixturekey"));

    // More of the same, inline.
    for (text, expected) in [
        (
            json!({"awsAPIPlugin": {"notes": {"endpointType": "GraphQL", "endpoint": GRAPHQL_URL,
                "authorizationType": ["AWS_IAM"]}}}),
            "awsAPIPlugin.notes.authorizationType: expected a string, found an array",
        ),
        (
            json!({"awsAPIPlugin": {"notes": "https://example.com/graphql"}}),
            "awsAPIPlugin.notes: expected an object, found a string",
        ),
        (
            json!({"api": {"plugins": {"awsAPIPlugin": []}}}),
            "api.plugins.awsAPIPlugin: expected an object, found an array",
        ),
        (
            json!({"version": "1", "data": {"url": GRAPHQL_URL, "aws_region": "us-west-2",
                "default_authorization_type": "AWS_IAM", "authorization_types": ["API_KEY", 7]}}),
            "data.authorization_types[1]: expected a string, found a number",
        ),
        (
            json!({"version": "1", "data": {"url": GRAPHQL_URL, "aws_region": "us-west-2",
                "default_authorization_type": "AWS_IAM", "authorization_types": ["NONE"]}}),
            "data.authorization_types[0]: NONE is not an AppSync authorization type",
        ),
        (
            json!({"version": "1", "auth": {"user_pool_id": "us-east-1_abc123",
                "identity_pool_id": "us-east-1:1111", "unauthenticated_identities_enabled": "true"}}),
            "auth.unauthenticated_identities_enabled: expected a boolean, found a string",
        ),
        (
            json!({"version": 1, "data": {"url": GRAPHQL_URL, "aws_region": "us-west-2",
                "default_authorization_type": "AWS_IAM", "authorization_types": []}}),
            "version: expected a string, found a number",
        ),
        (
            json!({"version": "1", "custom": {"API": {"items": {"endpoint": true}}}}),
            "custom.API.items.endpoint: expected a string, found a boolean",
        ),
    ] {
        let msg = parse_err(&text.to_string());
        assert_eq!(msg, format!("invalid configuration: {expected}"));
    }
}

#[test]
fn bad_gen2_version() {
    let msg = load_err("bad_gen2_version_2.json");
    assert_eq!(
        msg,
        "invalid configuration: version: unsupported amplify_outputs version \"2\"; expected \"1\" or \"1.x\""
    );
}

#[test]
fn bad_not_json() {
    let msg = load_err("bad_not_json.json");
    assert!(msg.starts_with("not valid JSON: "), "{msg}");
    assert!(!msg.contains("da2-abcdefghijklmno"), "{msg}");
    let msg = parse_err("");
    assert!(msg.starts_with("not valid JSON: "), "{msg}");
    // Valid JSON, but not an object.
    for (text, found) in [
        ("[]", "an array"),
        ("\"amplify\"", "a string"),
        ("null", "null"),
    ] {
        assert_eq!(
            parse_err(text),
            format!("expected a JSON object at the top level, found {found}")
        );
    }
}

#[test]
fn bad_not_amplify() {
    let msg = load_err("bad_not_amplify.json");
    assert_eq!(
        msg,
        "not an Amplify configuration: expected amplify_outputs.json (with \"version\" and \"data\") \
         or amplifyconfiguration.json (with \"api.plugins.awsAPIPlugin\")"
    );
    assert!(parse_err("{}").starts_with("not an Amplify configuration"));
}

#[test]
fn bad_file_missing() {
    let path = fixture_path("no_such_file.json");
    let err = Config::from_path(&path).expect_err("missing file");
    assert!(err.is_config());
    assert!(
        err.to_string()
            .starts_with(&format!("cannot read config file {}: ", path.display())),
        "{err}"
    );
}

#[test]
fn several_problems_in_one_error() {
    let msg = load_err("bad_gen1_several_problems.json");
    assert!(
        msg.starts_with("invalid configuration (5 problems):\n  "),
        "{msg}"
    );
    assert_contains(
        &msg,
        &[
            "api.plugins.awsAPIPlugin.audit: AWS_IAM needs a region and none can be parsed from the host \"api.example.com\"",
            "api.plugins.awsAPIPlugin.billing: authorization type is API_KEY but no API key is configured",
            "api.plugins.awsAPIPlugin.events.endpointType: unknown endpoint type \"WebSocket\"; expected \"GraphQL\" or \"REST\"",
            "api.plugins.awsAPIPlugin.items.endpoint: missing; expected the API's URL",
            "api.plugins.awsAPIPlugin.notes.authorizationType: unknown authorization type \"COGNITO\"",
        ],
    );
    assert_eq!(msg.lines().count(), 6, "{msg}");
    assert!(
        !msg.contains("da2-severalfixturekey"),
        "the API key leaked: {msg}"
    );

    // The builder reports everything at once too.
    let err = Config::builder()
        .endpoint(EndpointConfig::graphql("a", "not a url").authorization_type(AuthMode::ApiKey))
        .endpoint(EndpointConfig::graphql("", GRAPHQL_URL).authorization_type(AuthMode::Iam))
        .default_graphql("missing")
        .default_rest("a")
        .build()
        .expect_err("several problems");
    assert!(err.is_config());
    let msg = err.to_string();
    assert_contains(
        &msg,
        &[
            "invalid configuration (4 problems):",
            "endpoint \"a\".endpoint: \"not a url\" is not a valid URL",
            "endpoint \"a\": authorization type is API_KEY but no API key is configured",
            "endpoint \"\": an endpoint name must not be empty",
            "default GraphQL endpoint \"missing\" is not configured",
        ],
    );
}

// ----------------------------------------------------------------------------------------------
// Secrets stay out of Debug output

#[test]
fn api_keys_are_redacted() {
    for (file, key) in [
        (
            "gen2_outputs_data_rest_auth.json",
            "da2-gen2fixturekey4r7x9q2m5w8z",
        ),
        (
            "gen2_connect_existing_resources_data.json",
            "da2-abcdefghijklmno",
        ),
        ("gen1_http_loopback.json", "da2-fakeApiId123456"),
    ] {
        assert!(fixture_text(file).contains(key), "{file}");
        let config = load(file);
        let debug = format!("{config:?}");
        assert!(!debug.contains(key), "{file}: {debug}");
        assert!(debug.contains("<redacted>"), "{file}: {debug}");
        let pretty = format!("{config:#?}");
        assert!(!pretty.contains(key), "{file}");
        for e in config.endpoints() {
            assert!(!format!("{e:?}").contains(key), "{file}");
        }
        let client = Client::builder().config(config).build().unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains(key), "{file}: {debug}");
        assert!(!format!("{:?}", client.config()).contains(key), "{file}");
    }

    // And from the legacy docs, with the key on one of four names.
    let fixed =
        fixture_text("legacy_docs_android_authz_multi_auth.json").replace("API_IAM", "AWS_IAM");
    let config = Config::from_json_str(&fixed).unwrap();
    assert!(!format!("{config:?}").contains("da2-abcdefghijklmnopqr"));

    // Builder keys too, in the config builder's Debug as well.
    let builder = Config::builder().endpoint(
        EndpointConfig::graphql("a", GRAPHQL_URL)
            .authorization_type(AuthMode::ApiKey)
            .api_key("da2-builderkey0000000000000"),
    );
    assert!(!format!("{builder:?}").contains("da2-builderkey"));
    let config = builder.build().unwrap();
    assert!(!format!("{config:?}").contains("da2-builderkey"));
}

// ----------------------------------------------------------------------------------------------
// Config built in code

#[test]
fn builder_config() {
    let url = "https://abc123.appsync-api.us-east-1.amazonaws.com/graphql";
    let config = Config::builder()
        .endpoint(
            EndpointConfig::graphql("a", url)
                .authorization_type(AuthMode::ApiKey)
                .api_key("k")
                .additional_auth_modes([AuthMode::Iam])
                .region("us-east-1"),
        )
        .default_graphql("a")
        .build()
        .unwrap();
    assert_eq!(config.format(), ConfigFormat::Builder);
    let e = only(&config);
    assert_eq!(e.name(), "a");
    assert_eq!(e.endpoint_type(), EndpointType::GraphQL);
    assert_eq!(e.url().as_str(), url);
    assert_eq!(e.region(), Some("us-east-1"));
    assert_eq!(e.authorization_type(), AuthMode::ApiKey);
    assert!(e.has_api_key());
    assert_eq!(
        e.enabled_modes(),
        Some(&modes(&[AuthMode::ApiKey, AuthMode::Iam]))
    );
    assert!(e.allows(AuthMode::Iam));
    assert!(e.allows(AuthMode::None));
    assert!(!e.allows(AuthMode::UserPools));
    assert_eq!(e.key_path(), "endpoint \"a\"");
    assert_eq!(config.default_endpoint(EndpointType::GraphQL), Some("a"));
    assert_eq!(config.default_endpoint(EndpointType::Rest), None);
    assert_eq!(config.auth(), &Default::default());

    // Without additional modes, the builder says nothing about the API's modes.
    let config = Config::builder()
        .endpoint(EndpointConfig::graphql("a", url).authorization_type(AuthMode::Iam))
        .endpoint(EndpointConfig::rest(
            "r",
            "https://x1.execute-api.eu-west-1.amazonaws.com/prod",
        ))
        .user_pool(UserPoolConfig::new("us-east-1_abc123", None, None))
        .identity_pool(IdentityPoolConfig::new("eu-west-1:2222", false))
        .build()
        .unwrap();
    let a = config.endpoint("a").unwrap();
    assert_eq!(a.enabled_modes(), None);
    assert_eq!(a.region(), Some("us-east-1"), "parsed from the host");
    let r = config.endpoint("r").unwrap();
    // REST without a mode is NONE.
    assert_eq!(r.authorization_type(), AuthMode::None);
    assert_eq!(r.region(), Some("eu-west-1"));
    assert_eq!(
        config.auth().identity_pool.as_ref().unwrap().region,
        "eu-west-1"
    );
    assert!(!config.auth().identity_pool.as_ref().unwrap().allow_guest);

    // GraphQL needs a mode; a default must be of the right type.
    let err = Config::builder()
        .endpoint(EndpointConfig::graphql("a", url))
        .endpoint(EndpointConfig::rest(
            "r",
            "https://x1.execute-api.eu-west-1.amazonaws.com/prod",
        ))
        .default_graphql("r")
        .build()
        .unwrap_err();
    assert!(err.is_config());
    assert_contains(
        &err.to_string(),
        &[
            "endpoint \"a\".authorizationType: missing; expected one of API_KEY, AWS_IAM",
            "default GraphQL endpoint \"r\" is a REST endpoint",
        ],
    );
}

// ----------------------------------------------------------------------------------------------
// Hostile or sloppy files (issue 8)

/// Amplify CLI versions write the `AppSync` entries' `ApiUrl` with another host case or a
/// trailing `/`: they still describe the API of `awsAPIPlugin`.
#[test]
fn gen1_appsync_entries_match_by_normalised_url() {
    let sloppy = GRAPHQL_URL
        .replace("xyz.appsync-api", "XYZ.AppSync-Api")
        .replace(".com/", ".com:443/")
        + "/";
    let config = Config::from_json(&multi_auth_with_entries_at(&sloppy)).unwrap();
    assert_eq!(
        config.default_endpoint(EndpointType::GraphQL),
        Some("[FRIENDLY-NAME-API-WITH-USER-POOLS]")
    );
    for (name, mode) in MULTI_NAMES {
        let e = config.endpoint(name).unwrap();
        let mut expected = modes(&[AuthMode::ApiKey, AuthMode::Iam, AuthMode::UserPools]);
        expected.insert(mode);
        assert_eq!(e.enabled_modes(), Some(&expected), "{name}");
        assert!(!e.allows(AuthMode::Lambda), "{name}");
    }
}

#[test]
fn gen2_none_default_is_refused_at_its_key_path() {
    for none in ["NONE", "none"] {
        let mut v = fixture_json("gen2_outputs_data_rest_auth.json");
        v["data"]["default_authorization_type"] = json!(none);
        let e = Config::from_json(&v).unwrap_err();
        assert!(e.is_config());
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "invalid configuration: data.default_authorization_type: NONE is not an AppSync \
                 authorization type"
            ),
            "{msg}"
        );
        // One problem, not a second "missing" one for the same key.
        assert!(!msg.contains("missing"), "{msg}");
    }
}

/// Sections this crate does not read yet stay reachable, as written; they never show in Debug.
#[test]
fn unknown_keys_are_kept() {
    let mut v = fixture_json("gen2_outputs_data_rest_auth.json");
    let events = json!({"url": "https://ev.appsync-api.us-east-1.amazonaws.com/event",
        "aws_region": "us-east-1", "api_key": "da2-eventskey000000000000000",
        "default_authorization_type": "API_KEY"});
    v["custom"]["events"] = events.clone();
    v["storage"] = json!({"bucket_name": "b", "aws_region": "us-east-1"});
    v["data"]["model_introspection"] = json!({"version": 1});
    let config = Config::from_json(&v).unwrap();
    assert_eq!(config.custom().unwrap()["events"], events);
    assert!(config.custom().unwrap().contains_key("API"));
    let raw = config.raw().unwrap();
    assert_eq!(raw["storage"]["bucket_name"], "b");
    assert_eq!(raw["data"]["model_introspection"]["version"], 1);
    let debug = format!(
        "{config:?} {:?}",
        Client::builder().config(config.clone()).build().unwrap()
    );
    assert!(!debug.contains("da2-eventskey"), "{debug}");
    assert!(!debug.contains("da2-gen2fixturekey"), "{debug}");

    // Gen1 documents are kept too; a configuration built in code has none.
    let gen1 = load("gen1_http_loopback.json");
    assert!(gen1.raw().is_some());
    assert!(gen1.custom().is_none());
    let built = Config::builder()
        .endpoint(EndpointConfig::graphql("a", GRAPHQL_URL).authorization_type(AuthMode::Iam))
        .build()
        .unwrap();
    assert!(built.raw().is_none());
}

/// A URL's query (a realtime URL may carry the `header=` handshake) and user info never show
/// in `Debug` of an endpoint, a configuration, a builder or a client.
#[test]
fn debug_redacts_url_queries_and_user_info() {
    let handshake =
        "header=eyJob3N0IjoiYSIsIngtYXBpLWtleSI6ImRhMi1zZWNyZXQifQ%3D%3D&payload=e30%3D";
    let endpoint = || {
        EndpointConfig::graphql(
            "a",
            "https://user:hunter2@xyz.appsync-api.us-west-2.amazonaws.com/graphql?sig=topsecret",
        )
        .authorization_type(AuthMode::Iam)
        .realtime_url(format!(
            "wss://xyz.appsync-realtime-api.us-west-2.amazonaws.com/graphql?{handshake}"
        ))
    };
    let builder = Config::builder().endpoint(endpoint());
    let mut texts = vec![format!("{builder:?}"), format!("{:?}", endpoint())];
    let config = builder
        .endpoint(EndpointConfig::rest(
            "r",
            "https://bob:pw@x1.execute-api.us-west-2.amazonaws.com/prod?k=restsecret",
        ))
        .build()
        .unwrap();
    texts.push(format!("{config:?}"));
    texts.push(format!("{config:#?}"));
    texts.push(format!("{:?}", config.endpoints()));
    let client = Client::builder().config(config).build().unwrap();
    texts.push(format!("{client:?}"));
    let all = texts.join("\n");
    for secret in [
        "eyJob3N0",
        "hunter2",
        "topsecret",
        "restsecret",
        "pw@",
        "user:",
        "bob",
    ] {
        assert!(!all.contains(secret), "{secret} leaked into:\n{all}");
    }
    assert!(
        all.contains(
            "https://<redacted>@xyz.appsync-api.us-west-2.amazonaws.com/graphql?<redacted>"
        ),
        "{all}"
    );
    assert!(
        all.contains("wss://xyz.appsync-realtime-api.us-west-2.amazonaws.com/graphql?<redacted>"),
        "{all}"
    );
}

/// Gen2 `custom.events` is the Events endpoint `events` (Amplify JS reads the same keys).
#[test]
fn gen2_custom_events_is_the_events_endpoint() {
    let config = Config::from_json_str(
        r#"{"version": "1.3",
            "custom": {"events": {
              "url": "https://abcdefghijklmnopqrstuvwxyz.appsync-api.eu-west-1.amazonaws.com/event",
              "aws_region": "eu-west-1",
              "default_authorization_type": "API_KEY",
              "api_key": "da2-eventskey"}}}"#,
    )
    .unwrap();
    let e = config.endpoint("events").expect("the events endpoint");
    assert_eq!(e.endpoint_type(), EndpointType::Events);
    assert_eq!(e.region(), Some("eu-west-1"));
    assert_eq!(e.authorization_type(), AuthMode::ApiKey);
    assert!(e.has_api_key());
    assert_eq!(
        config.default_endpoint(EndpointType::Events),
        Some("events")
    );
    let bad = Config::from_json_str(r#"{"version": "1", "custom": {"events": {"url": 7}}}"#)
        .unwrap_err()
        .to_string();
    assert!(bad.contains("custom.events"), "{bad}");
}
