//! The Amplify config files a running server can write: Gen2 `amplify_outputs.json` (with the
//! Event API in `custom.events`) and Gen1 `amplifyconfiguration.json`.

use serde_json::{json, Value};

use crate::auth::{AuthMode, Authenticator};

/// A Gen2 `amplify_outputs.json`: `data` for a GraphQL API (its default mode and URL), and
/// `custom.events` for an Event API (likewise).
pub(crate) fn outputs(
    auth: &Authenticator,
    graphql: Option<(AuthMode, String)>,
    events: Option<(AuthMode, String)>,
) -> Value {
    let mut out = json!({"version": "1.4"});
    if let Some((default, url)) = graphql {
        let additional: Vec<&str> = auth
            .modes
            .iter()
            .filter(|m| **m != default)
            .map(|m| m.as_str())
            .collect();
        let mut data = json!({
            "url": url,
            "aws_region": auth.region,
            "default_authorization_type": default.as_str(),
            "authorization_types": additional,
        });
        if let Some(k) = auth.api_key() {
            data["api_key"] = json!(k);
        }
        out["data"] = data;
    }
    if let Some((default, url)) = events {
        let mut e = json!({
            "url": url,
            "aws_region": auth.region,
            "default_authorization_type": default.as_str(),
        });
        if let Some(k) = auth.api_key() {
            e["api_key"] = json!(k);
        }
        out["custom"] = json!({ "events": e });
    }
    if let Some((pool_id, client_id, region)) = user_pool(auth) {
        out["auth"] = json!({
            "aws_region": region,
            "user_pool_id": pool_id,
            "user_pool_client_id": client_id,
        });
    }
    out
}

/// The user pool a config file names, with an app client and its region: the server's own, or
/// else the first external pool (its first client).
fn user_pool(auth: &Authenticator) -> Option<(&str, &str, &str)> {
    if let Some(up) = &auth.user_pool {
        return Some((&up.pool_id, &up.client_id, &auth.region));
    }
    let p = auth.trusted_pools.first()?;
    Some((&p.pool_id, p.client_ids.first()?, &p.region))
}

/// A Gen1 `amplifyconfiguration.json`: one friendly name per auth mode, `<name>_<MODE>`, all
/// on the same URL, the default mode's name plain `<name>`.
pub(crate) fn configuration(
    auth: &Authenticator,
    default: AuthMode,
    url: &str,
    name: &str,
) -> Value {
    let region = auth.region.as_str();
    let mut apis = serde_json::Map::new();
    let mut appsync = serde_json::Map::new();
    for mode in &auth.modes {
        let api_name = if *mode == default {
            name.to_owned()
        } else {
            format!("{name}_{}", mode.as_str())
        };
        let mut e = json!({
            "endpointType": "GraphQL",
            "endpoint": url,
            "region": region,
            "authorizationType": mode.as_str(),
        });
        let mut a = json!({"ApiUrl": url, "Region": region, "AuthMode": mode.as_str()});
        if let (AuthMode::ApiKey, Some(k)) = (mode, auth.api_key()) {
            e["apiKey"] = json!(k);
            a["ApiKey"] = json!(k);
        }
        apis.insert(api_name.clone(), e);
        let key = if *mode == default {
            "Default".to_owned()
        } else {
            api_name
        };
        appsync.insert(key, a);
    }
    let mut cognito = json!({"AppSync": appsync});
    if let Some((pool_id, client_id, region)) = user_pool(auth) {
        cognito["CognitoUserPool"] =
            json!({"Default": {"PoolId": pool_id, "AppClientId": client_id, "Region": region}});
    }
    json!({
        "UserAgent": "appsync-local", "Version": "1.0",
        "api": {"plugins": {"awsAPIPlugin": apis}},
        "auth": {"plugins": {"awsCognitoAuthPlugin": cognito}},
    })
}
