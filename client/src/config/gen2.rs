//! Amplify Gen2 `amplify_outputs.json` (schema version 1.x): `data`, `custom.API`, `custom.events`, `rest_api`, `auth`.

use serde_json::{Map, Value};

use super::read::Reader;
use super::{
    json_type, Config, ConfigFormat, EndpointBuilder, EndpointType, FieldKeys, IdentityPoolConfig,
    UserPoolConfig,
};
use crate::error::Result;
use appsync_types::AuthMode;

/// The name given to the `data` GraphQL API, which Gen2 does not name.
pub const DATA_API_NAME: &str = "data";

const DATA_KEYS: FieldKeys = FieldKeys {
    url: "url",
    region: "aws_region",
    authorization_type: "default_authorization_type",
    api_key: "api_key",
    enabled_modes: "authorization_types",
    realtime_url: "realtime_url",
};

const REST_API_KEYS: FieldKeys = FieldKeys {
    url: "url",
    region: "aws_region",
    authorization_type: "authorization_type",
    api_key: "api_key",
    enabled_modes: "authorization_types",
    realtime_url: "realtime_url",
};

/// The name of the Gen2 Events API (`custom.events`).
pub(crate) const EVENTS_API_NAME: &str = "events";

/// `custom.API` entries use the Gen1 `awsAPIPlugin` key names.
const CUSTOM_API_KEYS: FieldKeys = FieldKeys::GEN1;

pub(super) fn parse(obj: &Map<String, Value>) -> Result<Config> {
    let mut r = Reader::default();
    let mut builder = Config::builder().format(ConfigFormat::Gen2);

    match obj.get("version") {
        Some(Value::String(v))
            if v == "1"
                || v.strip_prefix("1.")
                    .is_some_and(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit())) => {}
        Some(Value::String(v)) => r.problems.push(format!(
            "version: unsupported amplify_outputs version {v:?}; expected \"1\" or \"1.x\""
        )),
        Some(other) => r.problems.push(format!(
            "version: expected a string, found {}",
            json_type(other)
        )),
        None => {}
    }

    if let Some(data) = r.object(obj, "data", "") {
        let mut default_mode = r.string(data, "default_authorization_type", "data");
        if default_mode
            .as_deref()
            .is_some_and(|m| m.parse::<AuthMode>() == Ok(AuthMode::None))
        {
            // Left unset, the endpoint check sees this problem and adds no "missing" one.
            r.problems.push(
                "data.default_authorization_type: NONE is not an AppSync authorization type \
                 (amplify_outputs.json allows AMAZON_COGNITO_USER_POOLS, API_KEY, AWS_IAM, \
                 AWS_LAMBDA, OPENID_CONNECT); regenerate the file, or build the endpoint in code \
                 with AuthMode::None for a proxy that needs no auth"
                    .to_owned(),
            );
            default_mode = None;
        }
        let b = EndpointBuilder {
            name: DATA_API_NAME.to_owned(),
            endpoint_type: EndpointType::GraphQL,
            url: r.string(data, "url", "data"),
            region: r.string(data, "aws_region", "data"),
            authorization_type: default_mode,
            api_key: r.string(data, "api_key", "data").map(Into::into),
            // Gen2 lists the additional modes only; the check adds the default one.
            enabled_modes: Some(
                r.strings(data, "authorization_types", "data")
                    .unwrap_or_default(),
            ),
            realtime_url: None,
            key_path: "data".to_owned(),
            keys: DATA_KEYS,
        };
        builder = builder.endpoint(b).default_graphql(DATA_API_NAME);
    }

    // The documented Gen2 REST pattern: `backend.addOutput({custom: {API: {...}}})`.
    if let Some(apis) = r
        .object(obj, "custom", "")
        .and_then(|c| r.object(c, "API", "custom"))
    {
        for (name, v) in apis {
            let path = format!("custom.API.{name}");
            let Some(e) = r.as_object(v, &path) else {
                continue;
            };
            let auth = r.string(e, "authorizationType", &path);
            builder = builder.endpoint(EndpointBuilder {
                name: r
                    .string(e, "apiName", &path)
                    .unwrap_or_else(|| name.clone()),
                endpoint_type: EndpointType::Rest,
                url: r.string(e, "endpoint", &path),
                region: r.string(e, "region", &path),
                // Amplify signs REST calls with IAM unless told otherwise.
                authorization_type: Some(auth.unwrap_or_else(|| "AWS_IAM".to_owned())),
                api_key: r.string(e, "apiKey", &path).map(Into::into),
                enabled_modes: None,
                realtime_url: None,
                key_path: path,
                keys: CUSTOM_API_KEYS,
            });
        }
    }

    // AppSync Events: `custom.events`, as Amplify JS reads it (`url`, `aws_region`,
    // `default_authorization_type`, `api_key`).
    if let Some(events) = r
        .object(obj, "custom", "")
        .and_then(|c| c.get("events"))
        .and_then(|v| r.as_object(v, "custom.events"))
    {
        builder = builder
            .endpoint(EndpointBuilder {
                name: EVENTS_API_NAME.to_owned(),
                endpoint_type: EndpointType::Events,
                url: r.string(events, "url", "custom.events"),
                region: r.string(events, "aws_region", "custom.events"),
                authorization_type: r.string(events, "default_authorization_type", "custom.events"),
                api_key: r.string(events, "api_key", "custom.events").map(Into::into),
                enabled_modes: r.strings(events, "authorization_types", "custom.events"),
                realtime_url: None,
                key_path: "custom.events".to_owned(),
                keys: DATA_KEYS,
            })
            .default_events(EVENTS_API_NAME);
    }

    // Amplify Flutter's own REST map.
    if let Some(apis) = r.object(obj, "rest_api", "") {
        for (name, v) in apis {
            let path = format!("rest_api.{name}");
            let Some(e) = r.as_object(v, &path) else {
                continue;
            };
            builder = builder.endpoint(EndpointBuilder {
                name: name.clone(),
                endpoint_type: EndpointType::Rest,
                url: r.string(e, "url", &path),
                region: r.string(e, "aws_region", &path),
                authorization_type: r.string(e, "authorization_type", &path),
                api_key: r.string(e, "api_key", &path).map(Into::into),
                enabled_modes: None,
                realtime_url: None,
                key_path: path,
                keys: REST_API_KEYS,
            });
        }
    }

    if let Some(auth) = r.object(obj, "auth", "") {
        let region = r.string(auth, "aws_region", "auth");
        if let Some(pool_id) = r.string(auth, "user_pool_id", "auth") {
            let client = r.string(auth, "user_pool_client_id", "auth");
            builder = builder.user_pool(UserPoolConfig::new(pool_id, client, region.clone()));
        }
        if let Some(pool_id) = r.string(auth, "identity_pool_id", "auth") {
            // Absent means no guests: the safer reading (Amplify JS does the same).
            let guest = r
                .boolean(auth, "unauthenticated_identities_enabled", "auth")
                .unwrap_or(false);
            let mut pool = IdentityPoolConfig::new(pool_id, guest);
            if let Some(region) = region {
                pool.region = region;
            }
            builder = builder.identity_pool(pool);
        }
    }

    builder.build_with(r.problems)
}
