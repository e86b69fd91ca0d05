//! Amplify Gen1 `amplifyconfiguration.json`: the `awsAPIPlugin` block and the Cognito auth plugin.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::read::Reader;
use super::{
    Config, ConfigFormat, EndpointBuilder, EndpointType, FieldKeys, IdentityPoolConfig,
    UserPoolConfig,
};
use crate::error::Result;
use appsync_types::AuthMode;

/// Whether an object looks like a bare `awsAPIPlugin` map: every value an object with an
/// `endpointType`.
pub(super) fn looks_like_plugin(obj: &Map<String, Value>) -> bool {
    !obj.is_empty()
        && obj.values().all(|v| {
            v.as_object()
                .is_some_and(|o| o.contains_key("endpointType"))
        })
}

/// An `auth.plugins.awsCognitoAuthPlugin.AppSync` entry.
struct AppSyncEntry {
    name: String,
    url: String,
    mode: Option<AuthMode>,
    api_key: Option<String>,
}

pub(super) fn parse(obj: &Map<String, Value>) -> Result<Config> {
    let mut r = Reader::default();
    let mut builder = Config::builder().format(ConfigFormat::Gen1);

    let (plugin, plugin_path) = if obj.contains_key("api") {
        let plugin = r
            .object(obj, "api", "")
            .and_then(|api| r.object(api, "plugins", "api"))
            .and_then(|p| r.object(p, "awsAPIPlugin", "api.plugins"));
        (plugin, "api.plugins.awsAPIPlugin")
    } else if obj.contains_key("awsAPIPlugin") {
        (r.object(obj, "awsAPIPlugin", ""), "awsAPIPlugin")
    } else if looks_like_plugin(obj) {
        (Some(obj), "awsAPIPlugin")
    } else {
        (None, "api.plugins.awsAPIPlugin")
    };

    let mut appsync = Vec::new();
    if let Some(auth) = obj.get("auth") {
        if let Some(cognito) = r
            .as_object(auth, "auth")
            .and_then(|a| r.object(a, "plugins", "auth"))
            .and_then(|p| r.object(p, "awsCognitoAuthPlugin", "auth.plugins"))
        {
            let base = "auth.plugins.awsCognitoAuthPlugin";
            read_pools(&mut r, cognito, base, &mut builder);
            if let Some(entries) = r.object(cognito, "AppSync", base) {
                for (name, v) in entries {
                    let path = format!("{base}.AppSync.{name}");
                    let Some(e) = r.as_object(v, &path) else {
                        continue;
                    };
                    let url = r.string(e, "ApiUrl", &path);
                    let mode = r
                        .string(e, "AuthMode", &path)
                        .and_then(|m| match m.parse() {
                            Ok(m) => Some(m),
                            Err(err) => {
                                r.problems.push(format!("{path}.AuthMode: {err}"));
                                None
                            }
                        });
                    let api_key = r.string(e, "ApiKey", &path);
                    if let Some(url) = url {
                        appsync.push(AppSyncEntry {
                            name: name.clone(),
                            url,
                            mode,
                            api_key,
                        });
                    }
                }
            }
        }
    }

    let mut graphql: Vec<(String, String, Option<String>)> = Vec::new();
    if let Some(plugin) = plugin {
        for (name, v) in plugin {
            let path = format!("{plugin_path}.{name}");
            let Some(e) = r.as_object(v, &path) else {
                continue;
            };
            let ty = match r.string(e, "endpointType", &path).as_deref() {
                Some("GraphQL") => EndpointType::GraphQL,
                Some("REST") => EndpointType::Rest,
                Some(other) => {
                    r.problems.push(format!(
                        "{path}.endpointType: unknown endpoint type {other:?}; expected \"GraphQL\" or \"REST\""
                    ));
                    continue;
                }
                None => {
                    r.problems.push(format!(
                        "{path}.endpointType: missing; expected \"GraphQL\" or \"REST\""
                    ));
                    continue;
                }
            };
            let mut b = EndpointBuilder {
                name: name.clone(),
                endpoint_type: ty,
                url: r.string(e, "endpoint", &path),
                region: r.string(e, "region", &path),
                authorization_type: r.string(e, "authorizationType", &path),
                api_key: r.string(e, "apiKey", &path).map(Into::into),
                enabled_modes: None,
                realtime_url: r.string(e, "realtimeEndpoint", &path),
                key_path: path.clone(),
                keys: FieldKeys::GEN1,
            };
            if ty == EndpointType::GraphQL {
                if let Some(url) = &b.url {
                    let same: Vec<&AppSyncEntry> =
                        appsync.iter().filter(|a| same_url(&a.url, url)).collect();
                    if !same.is_empty() {
                        let modes: BTreeSet<&'static str> = same
                            .iter()
                            .filter_map(|a| a.mode)
                            .map(AuthMode::as_str)
                            .collect();
                        b.enabled_modes = Some(modes.into_iter().map(str::to_owned).collect());
                        if b.api_key.is_none() {
                            b.api_key = same.iter().find_map(|a| a.api_key.clone()).map(Into::into);
                        }
                    }
                }
                graphql.push((
                    name.clone(),
                    b.url.clone().unwrap_or_default(),
                    b.authorization_type.clone(),
                ));
            }
            builder = builder.endpoint(b);
        }
    }

    // The AppSync "Default" entry names the default API (and its mode picks among its names).
    if graphql.len() > 1 {
        if let Some(d) = appsync.iter().find(|a| a.name == "Default") {
            let same_url: Vec<&(String, String, Option<String>)> = graphql
                .iter()
                .filter(|(_, u, _)| same_url(u, &d.url))
                .collect();
            let by_mode = same_url
                .iter()
                .find(|(_, _, m)| m.as_deref() == d.mode.map(AuthMode::as_str));
            if let Some((name, _, _)) = by_mode.or(same_url.first()) {
                builder = builder.default_graphql(name.clone());
            }
        }
    }

    builder.build_with(r.problems)
}

/// Whether two URLs name one API although written differently: host case, a default port, a
/// trailing `/` (Amplify CLI versions differ on these between `awsAPIPlugin` and `AppSync`).
fn same_url(a: &str, b: &str) -> bool {
    fn key(raw: &str) -> Option<String> {
        // `url` lowercases the host and drops a default port already.
        let mut u = url::Url::parse(raw.trim()).ok()?;
        let path = u.path().trim_end_matches('/').to_owned();
        u.set_path(&path);
        Some(u.into())
    }
    match (key(a), key(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn read_pools(
    r: &mut Reader,
    cognito: &Map<String, Value>,
    base: &str,
    builder: &mut super::ConfigBuilder,
) {
    let up_path = format!("{base}.CognitoUserPool");
    if let Some(d) = r
        .object(cognito, "CognitoUserPool", base)
        .and_then(|p| r.object(p, "Default", &up_path))
    {
        let path = format!("{up_path}.Default");
        if let Some(pool_id) = r.string(d, "PoolId", &path) {
            let mut pool = UserPoolConfig::new(
                pool_id,
                r.string(d, "AppClientId", &path),
                r.string(d, "Region", &path),
            );
            pool.app_client_secret = r.string(d, "AppClientSecret", &path).map(Into::into);
            pool.endpoint = r.string(d, "Endpoint", &path);
            *builder = std::mem::take(builder).user_pool(pool);
        }
    }
    let cp = format!("{base}.CredentialsProvider");
    let ci = format!("{cp}.CognitoIdentity");
    if let Some(d) = r
        .object(cognito, "CredentialsProvider", base)
        .and_then(|p| r.object(p, "CognitoIdentity", &cp))
        .and_then(|p| r.object(p, "Default", &ci))
    {
        let path = format!("{ci}.Default");
        if let Some(pool_id) = r.string(d, "PoolId", &path) {
            let mut pool = IdentityPoolConfig::new(pool_id, true);
            if let Some(region) = r.string(d, "Region", &path) {
                pool.region = region;
            }
            *builder = std::mem::take(builder).identity_pool(pool);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same_url;

    #[test]
    fn urls_match_when_written_differently() {
        let a = "https://abc.appsync-api.us-east-1.amazonaws.com/graphql";
        for b in [
            "https://ABC.AppSync-API.us-east-1.amazonaws.com/graphql",
            "https://abc.appsync-api.us-east-1.amazonaws.com/graphql/",
            "https://abc.appsync-api.us-east-1.amazonaws.com:443/graphql",
            " https://abc.appsync-api.us-east-1.amazonaws.com/graphql",
        ] {
            assert!(same_url(a, b), "{b}");
        }
        for b in [
            "https://abc.appsync-api.us-east-1.amazonaws.com/graphql2",
            "http://abc.appsync-api.us-east-1.amazonaws.com/graphql",
            "https://abd.appsync-api.us-east-1.amazonaws.com/graphql",
        ] {
            assert!(!same_url(a, b), "{b}");
        }
    }
}
