//! The builder's settings as the loader and the generator read them, and the auth modes read
//! from an Amplify config file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use appsync_types::AuthMode;

/// One input: a file (or, for operations, a folder) read from disk, or text given directly.
#[derive(Clone, Debug)]
pub(crate) enum Input {
    Path(PathBuf),
    Text { name: String, text: String },
}

/// Everything a [`Builder`](crate::Builder) was told.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub schemas: Vec<Input>,
    pub operations: Vec<Input>,
    pub scalars: BTreeMap<String, String>,
    pub default_auth_mode: Option<AuthMode>,
    pub additional_auth_modes: Option<Vec<AuthMode>>,
    pub time_types: bool,
    pub client_crate: String,
    pub statements: Option<u32>,
    pub all_types: bool,
    pub rerun_if_changed: Option<bool>,
    /// Problems found by setters, reported when generating.
    pub settings_errors: Vec<String>,
    pub serde_both_ways: bool,
    pub deny_unsendable: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            schemas: Vec::new(),
            operations: Vec::new(),
            scalars: BTreeMap::new(),
            default_auth_mode: None,
            additional_auth_modes: None,
            time_types: false,
            client_crate: "::appsync_client".to_owned(),
            statements: None,
            all_types: false,
            rerun_if_changed: None,
            settings_errors: Vec::new(),
            serde_both_ways: false,
            deny_unsendable: false,
        }
    }
}

/// The default and additional auth modes of the first GraphQL API of a Gen2
/// `amplify_outputs.json` or Gen1 `amplifyconfiguration.json`.
pub(crate) fn read_auth_modes(path: &Path) -> Result<(AuthMode, Vec<AuthMode>), String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{shown}: not JSON: {e}"))?;
    let mode = |v: &serde_json::Value| -> Result<AuthMode, String> {
        v.as_str()
            .ok_or_else(|| format!("{shown}: an authorization type is not a string"))?
            .parse::<AuthMode>()
            .map_err(|e| format!("{shown}: {e}"))
            .and_then(|m| {
                m.is_appsync()
                    .then_some(m)
                    .ok_or_else(|| format!("{shown}: {m} is not an AppSync authorization type"))
            })
    };
    if let Some(data) = v.get("data") {
        let default = mode(
            data.get("default_authorization_type")
                .unwrap_or(&serde_json::Value::Null),
        )?;
        let mut additional = Vec::new();
        for m in data
            .get("authorization_types")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            let m = mode(m)?;
            if m != default && !additional.contains(&m) {
                additional.push(m);
            }
        }
        return Ok((default, additional));
    }
    let apis = v
        .pointer("/api/plugins/awsAPIPlugin")
        .and_then(|a| a.as_object())
        .ok_or_else(|| {
            format!("{shown}: neither `data` (Gen2) nor `api.plugins.awsAPIPlugin` (Gen1)")
        })?;
    let api = apis
        .values()
        .find(|a| a.get("endpointType").and_then(|t| t.as_str()) == Some("GraphQL"))
        .ok_or_else(|| format!("{shown}: no GraphQL API in awsAPIPlugin"))?;
    let default = mode(
        api.get("authorizationType")
            .unwrap_or(&serde_json::Value::Null),
    )?;
    let mut additional = Vec::new();
    // Additional modes appear as `AppSync` entries with the same URL.
    let url = api.get("endpoint");
    if let Some(entries) = v
        .pointer("/auth/plugins/awsCognitoAuthPlugin/AppSync")
        .and_then(|a| a.as_object())
    {
        for e in entries.values() {
            if e.get("ApiUrl") == url {
                if let Some(m) = e.get("AuthMode") {
                    let m = mode(m)?;
                    if m != default && !additional.contains(&m) {
                        additional.push(m);
                    }
                }
            }
        }
    }
    Ok((default, additional))
}
