//! Choosing the endpoint and the auth mode for a call (DESIGN.md §3).

use crate::config::{list_names, Config, EndpointConfig, EndpointType};
use crate::error::{Error, Result};
use appsync_types::AuthMode;

/// The endpoint and mode a call will use.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Selected<'a> {
    pub endpoint: &'a EndpointConfig,
    pub mode: AuthMode,
}

/// What a call asked for.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Want<'a> {
    pub api_name: Option<&'a str>,
    pub auth_mode: Option<AuthMode>,
    /// The modes a typed operation's schema allows (`None`: no check).
    pub allowed_modes: Option<&'a [AuthMode]>,
    /// The operation's name, for messages.
    pub operation: Option<&'a str>,
}

/// Distinct APIs (by type and URL) among endpoints, keeping the first name of each.
fn apis<'a>(endpoints: &[&'a EndpointConfig]) -> Vec<&'a EndpointConfig> {
    let mut out: Vec<&EndpointConfig> = Vec::new();
    for e in endpoints {
        if !out.iter().any(|o| o.same_api(e)) {
            out.push(e);
        }
    }
    out
}

fn modes(list: &[AuthMode]) -> String {
    list.iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Applies the rules: `api_name`, else `auth_mode`, else the only or the default endpoint; then
/// the mode, refused before any traffic when the API or the operation does not allow it.
pub(crate) fn select<'a>(
    config: &'a Config,
    ty: EndpointType,
    want: Want<'_>,
) -> Result<Selected<'a>> {
    // The common call (nothing asked, one endpoint of the type, its own mode) costs no allocation.
    if want.api_name.is_none() && want.auth_mode.is_none() {
        let mut it = config
            .endpoints()
            .iter()
            .filter(|e| e.endpoint_type() == ty);
        if let (Some(only), None) = (it.next(), it.next()) {
            let mode = only.authorization_type();
            if want
                .allowed_modes
                .is_none_or(|a| mode == AuthMode::None || a.contains(&mode))
            {
                return Ok(Selected {
                    endpoint: only,
                    mode,
                });
            }
        }
    }
    let of_type: Vec<&EndpointConfig> = config
        .endpoints()
        .iter()
        .filter(|e| e.endpoint_type() == ty)
        .collect();
    let default = config
        .default_endpoint(ty)
        .and_then(|d| of_type.iter().copied().find(|e| e.name() == d));

    let endpoint = if let Some(name) = want.api_name {
        // Rule 1.
        match config.endpoint(name) {
            Some(e) if e.endpoint_type() == ty => e,
            Some(e) => {
                return Err(Error::selection(format!(
                    "endpoint {name:?} is a {} endpoint, but this call needs a {ty} endpoint; {ty} endpoints: {}",
                    e.endpoint_type(),
                    list_names(of_type.iter().copied())
                )))
            }
            None => {
                return Err(Error::selection(format!(
                    "no endpoint is named {name:?}; configured: {}",
                    list_names(config.endpoints())
                )))
            }
        }
    } else if let Some(mode) = want.auth_mode {
        // Rule 2: the endpoint whose own type is that mode, else the one API with an override.
        let named: Vec<&EndpointConfig> = of_type
            .iter()
            .copied()
            .filter(|e| e.authorization_type() == mode)
            .collect();
        let named_apis = apis(&named);
        match named_apis.len() {
            1 => pick_name(&named, default),
            0 => {
                let all = apis(&of_type);
                match all.len() {
                    1 => pick_name(&of_type, default),
                    0 => return Err(none_of_type(config, ty)),
                    _ => {
                        return Err(Error::selection(format!(
                            "no {ty} endpoint has authorization type {mode}, and several {ty} APIs are \
                             configured: {}; choose one with .api_name(..)",
                            list_names(of_type.iter().copied())
                        )))
                    }
                }
            }
            _ => {
                return Err(Error::selection(format!(
                    "several {ty} APIs have authorization type {mode}: {}; choose one with .api_name(..)",
                    list_names(named.iter().copied())
                )))
            }
        }
    } else {
        // Rule 3.
        match (of_type.as_slice(), default) {
            ([only], _) => only,
            ([], _) => return Err(none_of_type(config, ty)),
            (_, Some(d)) => d,
            (several, None) => {
                return Err(Error::selection(format!(
                    "{} {ty} endpoints are configured and none is the default: {}; choose one with \
                     .api_name(..) or .auth_mode(..), or set a default in the configuration",
                    several.len(),
                    list_names(several.iter().copied())
                )))
            }
        }
    };

    // Rule 4.
    let mode = want.auth_mode.unwrap_or(endpoint.authorization_type());
    // The API's modes: what all its names say together (any name that does not say: unknown).
    let names = || of_type.iter().copied().filter(|e| e.same_api(endpoint));
    if !endpoint.allows(mode) && !names().any(|e| e.allows(mode)) {
        let mut enabled: Vec<AuthMode> = names()
            .flat_map(|e| e.enabled_modes().into_iter().flatten().copied())
            .collect();
        enabled.sort();
        enabled.dedup();
        return Err(Error::selection(format!(
            "{mode} is not enabled on the API of endpoint {:?} ({}); enabled: {}",
            endpoint.name(),
            endpoint.url(),
            modes(&enabled)
        )));
    }
    if let Some(allowed) = want.allowed_modes {
        if mode != AuthMode::None && !allowed.contains(&mode) {
            return Err(Error::selection(format!(
                "the schema does not let {mode} reach every field of operation {}; allowed: {} \
                 (opt out per call with .skip_auth_mode_check())",
                want.operation.unwrap_or("(unnamed)"),
                if allowed.is_empty() {
                    "none".to_owned()
                } else {
                    modes(allowed)
                }
            )));
        }
    }
    Ok(Selected { endpoint, mode })
}

/// How a call's auth mode is chosen when the call does not name one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthStrategy {
    /// The endpoint's `authorizationType` (the rules of the README's "Choosing the endpoint and
    /// the auth mode").
    #[default]
    Default,
    /// Amplify's multi-auth: the first mode, in the order user pools, OIDC, IAM, API key,
    /// Lambda, that the operation allows (a typed operation's schema modes; for untyped calls,
    /// any), the API enables, and the client has a key, credentials or a token provider for;
    /// the next one when that provider fails, or on an unauthorized answer (HTTP 401/403, or
    /// `Unauthorized` errors).
    /// Subscriptions pick once per start, moving on when the start is refused as unauthorized.
    Multi,
}

/// The order Amplify's multi-auth tries modes in (IAM signed in and as a guest are one mode
/// here: the credentials provider decides which).
pub(crate) const MULTI_ORDER: [AuthMode; 5] = [
    AuthMode::UserPools,
    AuthMode::Oidc,
    AuthMode::Iam,
    AuthMode::ApiKey,
    AuthMode::Lambda,
];

/// The candidates of a multi-auth call, in order: each mode of [`MULTI_ORDER`] that the rules
/// accept for `want` (with that mode asked for) and that `have` says the client can send.
pub(crate) fn select_multi<'a>(
    config: &'a Config,
    ty: EndpointType,
    want: Want<'_>,
    have: impl Fn(&EndpointConfig, AuthMode) -> bool,
) -> Result<Vec<Selected<'a>>> {
    let mut out = Vec::new();
    let mut refused = Vec::new();
    for mode in MULTI_ORDER {
        match select(
            config,
            ty,
            Want {
                auth_mode: Some(mode),
                ..want
            },
        ) {
            Ok(s) if have(s.endpoint, mode) => out.push(s),
            Ok(_) => refused.push(format!("{mode}: no key, credentials or token provider")),
            Err(e) => refused.push(format!("{mode}: {e}")),
        }
    }
    if out.is_empty() {
        return Err(Error::selection(format!(
            "multi-auth found no mode for operation {}: {}",
            want.operation.unwrap_or("(unnamed)"),
            refused.join("; ")
        )));
    }
    Ok(out)
}

/// Among names of one API: the default if it is one of them, else the first.
fn pick_name<'a>(
    names: &[&'a EndpointConfig],
    default: Option<&'a EndpointConfig>,
) -> &'a EndpointConfig {
    default
        .filter(|d| names.iter().any(|n| n.name() == d.name()))
        .unwrap_or(names[0])
}

fn none_of_type(config: &Config, ty: EndpointType) -> Error {
    Error::selection(format!(
        "no {ty} endpoint is configured; configured: {}",
        list_names(config.endpoints())
    ))
}

#[cfg(test)]
mod tests {
    //! Every rule of DESIGN.md §3, as a table: (config, type, api_name, auth_mode, allowed
    //! modes) -> the endpoint name and mode, or an error containing the given text.

    use serde_json::json;

    use super::*;
    use crate::config::EndpointConfig as Ep;

    const NOTES: &str = "https://notes123.appsync-api.us-west-2.amazonaws.com/graphql";
    const BILLING: &str = "https://billing456.appsync-api.us-east-1.amazonaws.com/graphql";
    const AUDIT: &str = "https://audit789.appsync-api.eu-west-1.amazonaws.com/graphql";
    const ITEMS: &str = "https://items123.execute-api.us-west-2.amazonaws.com/dev";
    const ADMIN: &str = "https://admin456.execute-api.us-west-2.amazonaws.com/prod";

    fn from_json(v: serde_json::Value) -> Config {
        Config::from_json(&v).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Gen1: one API under four friendly names, one per mode; the API_KEY name has the key.
    fn four_names_value() -> serde_json::Value {
        let e = |mode: &str| {
            let mut v = json!({"endpointType": "GraphQL", "endpoint": NOTES, "region": "us-west-2",
                "authorizationType": mode});
            if mode == "API_KEY" {
                v["apiKey"] = json!("da2-notes");
            }
            v
        };
        json!({"api": {"plugins": {"awsAPIPlugin": {
            "notes_API_KEY": e("API_KEY"),
            "notes_AWS_IAM": e("AWS_IAM"),
            "notes_AMAZON_COGNITO_USER_POOLS": e("AMAZON_COGNITO_USER_POOLS"),
            "notes_OPENID_CONNECT": e("OPENID_CONNECT"),
        }}}})
    }

    /// The same, with the auth plugin's `AppSync` entries as Amplify CLI writes them: `Default`
    /// makes `notes_API_KEY` the default, and the entries enable exactly the four modes.
    fn four_names_with_default_value() -> serde_json::Value {
        let mut v = four_names_value();
        let a = |mode: &str| json!({"ApiUrl": NOTES, "Region": "us-west-2", "AuthMode": mode});
        v["auth"] = json!({"plugins": {"awsCognitoAuthPlugin": {"AppSync": {
            "Default": a("API_KEY"),
            "notes_AWS_IAM": a("AWS_IAM"),
            "notes_AMAZON_COGNITO_USER_POOLS": a("AMAZON_COGNITO_USER_POOLS"),
            "notes_OPENID_CONNECT": a("OPENID_CONNECT"),
        }}}});
        v
    }

    /// Gen1: three different GraphQL APIs; two of them use IAM.
    fn three_apis_value() -> serde_json::Value {
        json!({"api": {"plugins": {"awsAPIPlugin": {
            "notes": {"endpointType": "GraphQL", "endpoint": NOTES,
                "authorizationType": "AMAZON_COGNITO_USER_POOLS"},
            "billing": {"endpointType": "GraphQL", "endpoint": BILLING, "authorizationType": "AWS_IAM"},
            "audit": {"endpointType": "GraphQL", "endpoint": AUDIT, "authorizationType": "AWS_IAM"},
        }}}})
    }

    /// Gen2: `data` (default user pools, additional API key and IAM) and one `custom.API` REST API.
    fn gen2_value() -> serde_json::Value {
        json!({"version": "1.4",
            "data": {"url": NOTES, "aws_region": "us-west-2", "api_key": "da2-data",
                "default_authorization_type": "AMAZON_COGNITO_USER_POOLS",
                "authorization_types": ["API_KEY", "AWS_IAM"]},
            "custom": {"API": {"items": {"endpoint": ITEMS, "region": "us-west-2", "apiName": "items"}}}})
    }

    /// Gen1: REST and GraphQL mixed; two REST APIs, one GraphQL API.
    fn mixed_value() -> serde_json::Value {
        json!({"api": {"plugins": {"awsAPIPlugin": {
            "items": {"endpointType": "REST", "endpoint": ITEMS, "region": "us-west-2",
                "authorizationType": "AWS_IAM"},
            "admin": {"endpointType": "REST", "endpoint": ADMIN, "region": "us-west-2",
                "authorizationType": "AMAZON_COGNITO_USER_POOLS"},
            "notes": {"endpointType": "GraphQL", "endpoint": NOTES, "authorizationType": "API_KEY",
                "apiKey": "da2-notes"},
        }}}})
    }

    #[derive(Debug)]
    enum Expect {
        Ok(&'static str, AuthMode),
        Err(&'static [&'static str]),
    }
    use Expect::{Err as E, Ok as O};

    struct Row<'c> {
        rule: &'static str,
        config: &'c Config,
        ty: EndpointType,
        api_name: Option<&'static str>,
        auth_mode: Option<AuthMode>,
        allowed_modes: Option<&'static [AuthMode]>,
        operation: Option<&'static str>,
        expect: Expect,
    }

    #[test]
    fn rules_table() {
        use AuthMode::{ApiKey, Iam, Lambda, None as NoAuth, Oidc, UserPools};
        use EndpointType::{GraphQL as G, Rest as R};

        let four = from_json(four_names_value());
        let four_default = from_json(four_names_with_default_value());
        let three = from_json(three_apis_value());
        let three_default = Config::builder()
            .endpoint(Ep::graphql("notes", NOTES).authorization_type(UserPools))
            .endpoint(Ep::graphql("billing", BILLING).authorization_type(Iam))
            .endpoint(Ep::graphql("audit", AUDIT).authorization_type(Iam))
            .default_graphql("billing")
            .build()
            .unwrap();
        let gen2 = from_json(gen2_value());
        let mixed = from_json(mixed_value());
        let rest_only = from_json(json!({"version": "1",
            "custom": {"API": {"items": {"endpoint": ITEMS, "region": "us-west-2", "apiName": "items"}}}}));

        // Sanity of the fixtures the rules rest on.
        assert_eq!(four.default_endpoint(G), None);
        assert_eq!(four_default.default_endpoint(G), Some("notes_API_KEY"));
        assert_eq!(
            four.endpoint("notes_AWS_IAM").unwrap().enabled_modes(),
            None
        );
        assert_eq!(
            four_default
                .endpoint("notes_AWS_IAM")
                .unwrap()
                .enabled_modes()
                .map(|m| m.len()),
            Some(4)
        );
        assert_eq!(gen2.default_endpoint(G), Some("data"));

        let row = |rule, config, ty, api_name, auth_mode, expect| Row {
            rule,
            config,
            ty,
            api_name,
            auth_mode,
            allowed_modes: None,
            operation: None,
            expect,
        };
        let typed = |rule, config, auth_mode, allowed_modes, operation, expect| Row {
            rule,
            config,
            ty: G,
            api_name: None,
            auth_mode,
            allowed_modes,
            operation,
            expect,
        };

        #[rustfmt::skip]
        let rows = [
            // ---- Rule 1: the name given.
            row("1 found", &four, G, Some("notes_AWS_IAM"), None, O("notes_AWS_IAM", Iam)),
            row("1 found, mode overridden", &four, G, Some("notes_AWS_IAM"), Some(UserPools),
                O("notes_AWS_IAM", UserPools)),
            row("1 found, name beats mode", &three, G, Some("notes"), Some(Iam), O("notes", Iam)),
            row("1 found, ignores the default", &four_default, G, Some("notes_OPENID_CONNECT"), None,
                O("notes_OPENID_CONNECT", Oidc)),
            row("1 found, REST", &mixed, R, Some("admin"), None, O("admin", UserPools)),
            row("1 unknown name lists the configured ones", &four, G, Some("notes"), None,
                E(&["no endpoint is named \"notes\"; configured: ",
                    "\"notes_AMAZON_COGNITO_USER_POOLS\" (GraphQL, AMAZON_COGNITO_USER_POOLS)",
                    "\"notes_API_KEY\" (GraphQL, API_KEY)", "\"notes_AWS_IAM\" (GraphQL, AWS_IAM)",
                    "\"notes_OPENID_CONNECT\" (GraphQL, OPENID_CONNECT)"])),
            row("1 unknown name, REST and GraphQL listed", &mixed, R, Some("orders"), None,
                E(&["no endpoint is named \"orders\"", "\"admin\" (REST, AMAZON_COGNITO_USER_POOLS)",
                    "\"items\" (REST, AWS_IAM)", "\"notes\" (GraphQL, API_KEY)"])),
            row("1 REST name for a GraphQL call", &mixed, G, Some("items"), None,
                E(&["endpoint \"items\" is a REST endpoint, but this call needs a GraphQL endpoint",
                    "GraphQL endpoints: \"notes\" (GraphQL, API_KEY)"])),
            row("1 GraphQL name for a REST call", &gen2, R, Some("data"), None,
                E(&["endpoint \"data\" is a GraphQL endpoint, but this call needs a REST endpoint",
                    "REST endpoints: \"items\" (REST, AWS_IAM)"])),
            // ---- Rule 2: the mode given, no name.
            row("2 the name whose authorizationType is the mode", &four, G, None, Some(Iam),
                O("notes_AWS_IAM", Iam)),
            row("2 the name whose authorizationType is the mode (OIDC)", &four, G, None, Some(Oidc),
                O("notes_OPENID_CONNECT", Oidc)),
            row("2 the name with the mode, not the default name", &four_default, G, None, Some(Iam),
                O("notes_AWS_IAM", Iam)),
            row("2 the name with the mode, which is the default", &four_default, G, None, Some(ApiKey),
                O("notes_API_KEY", ApiKey)),
            row("2 no name has the mode: the one API, mode overridden", &four, G, None, Some(Lambda),
                O("notes_AMAZON_COGNITO_USER_POOLS", Lambda)),
            row("2 no name has the mode: the one API's default name", &four_default, G, None,
                Some(NoAuth), O("notes_API_KEY", NoAuth)),
            row("2 Gen2: the one API, mode overridden", &gen2, G, None, Some(ApiKey), O("data", ApiKey)),
            row("2 one of several APIs has the mode", &three, G, None, Some(UserPools),
                O("notes", UserPools)),
            row("2 several APIs have the mode", &three, G, None, Some(Iam),
                E(&["several GraphQL APIs have authorization type AWS_IAM: ",
                    "\"audit\" (GraphQL, AWS_IAM)", "\"billing\" (GraphQL, AWS_IAM)",
                    "choose one with .api_name(..)"])),
            row("2 several APIs have the mode, a default does not choose", &three_default, G, None,
                Some(Iam), E(&["several GraphQL APIs have authorization type AWS_IAM"])),
            row("2 no API has the mode and there are several", &three, G, None, Some(Lambda),
                E(&["no GraphQL endpoint has authorization type AWS_LAMBDA, and several GraphQL APIs \
                     are configured: ", "\"audit\"", "\"billing\"", "\"notes\"",
                    "choose one with .api_name(..)"])),
            row("2 REST by mode", &mixed, R, None, Some(UserPools), O("admin", UserPools)),
            row("2 REST by mode, several REST APIs without it", &mixed, R, None, Some(ApiKey),
                E(&["no REST endpoint has authorization type API_KEY, and several REST APIs are \
                     configured: ", "\"admin\"", "\"items\""])),
            row("2 no endpoint of the type", &rest_only, G, None, Some(Iam),
                E(&["no GraphQL endpoint is configured; configured: \"items\" (REST, AWS_IAM)"])),
            // ---- Rule 3: neither name nor mode.
            row("3 the only endpoint of the type", &mixed, G, None, None, O("notes", ApiKey)),
            row("3 the only REST endpoint (Gen2 custom.API)", &gen2, R, None, None, O("items", Iam)),
            row("3 the default (Gen2 data)", &gen2, G, None, None, O("data", UserPools)),
            row("3 the default among one API's names", &four_default, G, None, None,
                O("notes_API_KEY", ApiKey)),
            row("3 the default among several APIs", &three_default, G, None, None, O("billing", Iam)),
            row("3 several names of ONE API, no default", &four, G, None, None,
                E(&["4 GraphQL endpoints are configured and none is the default: ",
                    "\"notes_API_KEY\" (GraphQL, API_KEY)", "\"notes_AWS_IAM\" (GraphQL, AWS_IAM)",
                    "choose one with .api_name(..) or .auth_mode(..), or set a default in the configuration"])),
            row("3 several APIs, no default", &three, G, None, None,
                E(&["3 GraphQL endpoints are configured and none is the default", "\"audit\"",
                    ".api_name(..) or .auth_mode(..)"])),
            row("3 several REST APIs, no default", &mixed, R, None, None,
                E(&["2 REST endpoints are configured and none is the default: ",
                    "\"admin\" (REST, AMAZON_COGNITO_USER_POOLS)", "\"items\" (REST, AWS_IAM)"])),
            row("3 no endpoint of the type", &rest_only, G, None, None,
                E(&["no GraphQL endpoint is configured; configured: \"items\" (REST, AWS_IAM)"])),
            // ---- Rule 4: the mode used, and refusals before sending.
            row("4 the endpoint's own mode", &gen2, G, Some("data"), None, O("data", UserPools)),
            row("4 an additional Gen2 mode", &gen2, G, None, Some(Iam), O("data", Iam)),
            row("4 a mode the Gen2 API does not enable", &gen2, G, None, Some(Oidc),
                E(&["OPENID_CONNECT is not enabled on the API of endpoint \"data\" (", NOTES,
                    "); enabled: API_KEY, AWS_IAM, AMAZON_COGNITO_USER_POOLS"])),
            row("4 not enabled, with the name given", &gen2, G, Some("data"), Some(Lambda),
                E(&["AWS_LAMBDA is not enabled on the API of endpoint \"data\"",
                    "enabled: API_KEY, AWS_IAM, AMAZON_COGNITO_USER_POOLS"])),
            row("4 not enabled (Gen1 AppSync entries)", &four_default, G, Some("notes_AWS_IAM"),
                Some(Lambda), E(&["AWS_LAMBDA is not enabled on the API of endpoint \"notes_AWS_IAM\"",
                    "enabled: API_KEY, AWS_IAM, AMAZON_COGNITO_USER_POOLS, OPENID_CONNECT"])),
            row("4 not enabled, reached by rule 2", &four_default, G, None, Some(Lambda),
                E(&["AWS_LAMBDA is not enabled on the API of endpoint \"notes_API_KEY\""])),
            row("4 Gen1 without AppSync entries: any mode", &four, G, Some("notes_API_KEY"),
                Some(Lambda), O("notes_API_KEY", Lambda)),
            row("4 REST: any mode", &mixed, R, Some("items"), Some(Lambda), O("items", Lambda)),
            row("4 NONE is always allowed (not a Gen2 mode)", &gen2, G, None, Some(NoAuth),
                O("data", NoAuth)),
            row("4 NONE is always allowed (Gen1 AppSync entries)", &four_default, G,
                Some("notes_OPENID_CONNECT"), Some(NoAuth), O("notes_OPENID_CONNECT", NoAuth)),
            typed("4 a typed operation refuses the mode", &gen2, Some(ApiKey), Some(&[UserPools]),
                Some("ListNotes"),
                E(&["the schema does not let API_KEY reach every field of operation ListNotes; \
                     allowed: AMAZON_COGNITO_USER_POOLS (opt out per call with .skip_auth_mode_check())"])),
            typed("4 a typed operation refuses the endpoint's mode", &gen2, None, Some(&[ApiKey, Iam]),
                Some("ListNotes"),
                E(&["the schema does not let AMAZON_COGNITO_USER_POOLS reach every field of operation \
                     ListNotes; allowed: API_KEY, AWS_IAM"])),
            typed("4 a typed operation allowing no mode", &gen2, None, Some(&[]), None,
                E(&["operation (unnamed); allowed: none"])),
            typed("4 a typed operation allows the mode", &gen2, Some(Iam), Some(&[ApiKey, Iam]),
                Some("ListNotes"), O("data", Iam)),
            typed("4 a typed operation allows the endpoint's mode", &gen2, None, Some(&[UserPools]),
                Some("ListNotes"), O("data", UserPools)),
            typed("4 a typed operation and NONE", &gen2, Some(NoAuth), Some(&[UserPools]),
                Some("ListNotes"), O("data", NoAuth)),
            typed("4 skip: no allowed modes, no check", &gen2, Some(ApiKey), None, Some("ListNotes"),
                O("data", ApiKey)),
            typed("4 the API's check comes first", &gen2, Some(Oidc), Some(&[Oidc]), Some("ListNotes"),
                E(&["OPENID_CONNECT is not enabled on the API of endpoint \"data\""])),
            typed("4 skip does not skip the API's check", &gen2, Some(Oidc), None, None,
                E(&["OPENID_CONNECT is not enabled on the API"])),
        ];

        let mut failures = Vec::new();
        for r in &rows {
            let got = select(
                r.config,
                r.ty,
                Want {
                    api_name: r.api_name,
                    auth_mode: r.auth_mode,
                    allowed_modes: r.allowed_modes,
                    operation: r.operation,
                },
            );
            let ok = match (&r.expect, &got) {
                (Expect::Ok(name, mode), Ok(s)) => s.endpoint.name() == *name && s.mode == *mode,
                (Expect::Err(needles), Err(e)) => {
                    let msg = e.to_string();
                    e.is_selection() && needles.iter().all(|n| msg.contains(n))
                }
                _ => false,
            };
            if !ok {
                let got = match &got {
                    Ok(s) => format!("Ok({:?}, {})", s.endpoint.name(), s.mode),
                    Err(e) => format!("Err({e}) selection={}", e.is_selection()),
                };
                failures.push(format!(
                    "rule {}: expected {:?}, got {got}",
                    r.rule, r.expect
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Rule 2 and rule 3 count APIs, not names: two names of one API with the same mode are one
    /// candidate, and the default picks among them.
    #[test]
    fn names_of_one_api_are_one_candidate() {
        let config = Config::builder()
            .endpoint(Ep::graphql("notes_b", NOTES).authorization_type(AuthMode::Iam))
            .endpoint(Ep::graphql("notes_a", NOTES).authorization_type(AuthMode::Iam))
            .endpoint(
                Ep::graphql("billing", BILLING)
                    .authorization_type(AuthMode::ApiKey)
                    .api_key("k"),
            )
            .build()
            .unwrap();
        let want = Want {
            auth_mode: Some(AuthMode::Iam),
            ..Want::default()
        };
        let s = select(&config, EndpointType::GraphQL, want).unwrap();
        assert_eq!((s.endpoint.name(), s.mode), ("notes_a", AuthMode::Iam));

        let config = Config::builder()
            .endpoint(Ep::graphql("notes_b", NOTES).authorization_type(AuthMode::Iam))
            .endpoint(Ep::graphql("notes_a", NOTES).authorization_type(AuthMode::Iam))
            .endpoint(
                Ep::graphql("billing", BILLING)
                    .authorization_type(AuthMode::ApiKey)
                    .api_key("k"),
            )
            .default_graphql("notes_b")
            .build()
            .unwrap();
        let s = select(&config, EndpointType::GraphQL, want).unwrap();
        assert_eq!((s.endpoint.name(), s.mode), ("notes_b", AuthMode::Iam));
        let s = select(&config, EndpointType::GraphQL, Want::default()).unwrap();
        assert_eq!((s.endpoint.name(), s.mode), ("notes_b", AuthMode::Iam));
    }

    /// Errors never carry an API key.
    #[test]
    fn selection_errors_hold_no_secret() {
        let config = from_json(gen2_value());
        for want in [
            Want {
                api_name: Some("nope"),
                ..Want::default()
            },
            Want {
                auth_mode: Some(AuthMode::Oidc),
                ..Want::default()
            },
        ] {
            let e = select(&config, EndpointType::GraphQL, want).unwrap_err();
            assert!(!e.to_string().contains("da2-data"), "{e}");
            assert!(!format!("{e:?}").contains("da2-data"), "{e:?}");
        }
    }
}
