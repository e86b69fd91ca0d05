//! Configuration: endpoints by name, their type, URL, region, auth mode and key, and Cognito pools.
//!
//! A [`Config`] comes from an Amplify Gen1 `amplifyconfiguration.json` (`gen1`), a Gen2
//! `amplify_outputs.json` (`gen2`), or [`Config::builder`]. Every problem found while reading it
//! is reported at once, each line naming the key path and what is wrong.

mod endpoints;
mod gen1;
mod gen2;
mod pools;
mod read;
mod urls;

pub(crate) use endpoints::FieldKeys;
pub use endpoints::{EndpointBuilder, EndpointConfig, EndpointType};
pub use pools::{AuthConfig, IdentityPoolConfig, UserPoolConfig};
pub(crate) use urls::{host_header, is_loopback, redacted_raw_url, redacted_url};

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};

/// Which format a configuration was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigFormat {
    /// Amplify Gen1 `amplifyconfiguration.json` (or its bare `awsAPIPlugin` object).
    Gen1,
    /// Amplify Gen2 `amplify_outputs.json`.
    Gen2,
    /// Built in code.
    Builder,
}

/// The whole configuration: named endpoints, the default GraphQL and REST names, Cognito pools,
/// and the document it was read from (for sections this crate does not read yet).
#[derive(Clone)]
pub struct Config {
    endpoints: Vec<EndpointConfig>,
    default_graphql: Option<String>,
    default_rest: Option<String>,
    default_events: Option<String>,
    auth: AuthConfig,
    format: ConfigFormat,
    /// Shared: the document can be large and a `Config` is cloned into every client.
    raw: Option<std::sync::Arc<serde_json::Value>>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The document holds API keys (e.g. `custom.events.api_key`): show only its top keys.
        let raw_keys = self
            .raw
            .as_deref()
            .and_then(serde_json::Value::as_object)
            .map(|o| o.keys().map(String::as_str).collect::<Vec<_>>());
        f.debug_struct("Config")
            .field("endpoints", &self.endpoints)
            .field("default_graphql", &self.default_graphql)
            .field("default_rest", &self.default_rest)
            .field("default_events", &self.default_events)
            .field("auth", &self.auth)
            .field("format", &self.format)
            .field("raw_keys", &raw_keys)
            .finish()
    }
}

impl Config {
    /// Starts a configuration in code.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Reads a Gen1 or Gen2 file, detected from its content.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("cannot read config file {}: {e}", path.display())).with_source(e)
        })?;
        Config::from_json_str(&text).map_err(|e| Error::config(format!("{}: {e}", path.display())))
    }

    /// Parses Gen1 (`amplifyconfiguration.json`, whole or its bare `awsAPIPlugin` object) or
    /// Gen2 (`amplify_outputs.json`), detected from the content.
    pub fn from_json_str(text: &str) -> Result<Config> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::config(format!("not valid JSON: {e}")).with_source(e))?;
        Config::from_json(&value)
    }

    /// Like [`Config::from_json_str`], from parsed JSON.
    pub fn from_json(value: &serde_json::Value) -> Result<Config> {
        let Some(obj) = value.as_object() else {
            return Err(Error::config(format!(
                "expected a JSON object at the top level, found {}",
                json_type(value)
            )));
        };
        const GEN2_KEYS: [&str; 7] = [
            "data",
            "auth",
            "custom",
            "rest_api",
            "storage",
            "geo",
            "notifications",
        ];
        let mut config =
            if obj.contains_key("version") && GEN2_KEYS.iter().any(|k| obj.contains_key(*k)) {
                gen2::parse(obj)?
            } else if obj.contains_key("api")
                || obj.contains_key("auth")
                || obj.contains_key("awsAPIPlugin")
                || gen1::looks_like_plugin(obj)
            {
                gen1::parse(obj)?
            } else {
                return Err(Error::config(
                "not an Amplify configuration: expected amplify_outputs.json (with \"version\" and \
                 \"data\") or amplifyconfiguration.json (with \"api.plugins.awsAPIPlugin\")",
            ));
            };
        config.raw = Some(std::sync::Arc::new(value.clone()));
        Ok(config)
    }

    /// Every endpoint, sorted by name.
    pub fn endpoints(&self) -> &[EndpointConfig] {
        &self.endpoints
    }

    /// The endpoint of that name.
    pub fn endpoint(&self, name: &str) -> Option<&EndpointConfig> {
        self.endpoints.iter().find(|e| e.name == name)
    }

    /// The default endpoint name for a type, if one is configured.
    pub fn default_endpoint(&self, endpoint_type: EndpointType) -> Option<&str> {
        match endpoint_type {
            EndpointType::GraphQL => self.default_graphql.as_deref(),
            EndpointType::Rest => self.default_rest.as_deref(),
            EndpointType::Events => self.default_events.as_deref(),
        }
    }

    /// The Cognito pools.
    pub fn auth(&self) -> &AuthConfig {
        &self.auth
    }

    /// Gives the endpoints that have no region this one (the AWS SDK configuration's).
    #[cfg(feature = "aws-config")]
    pub(crate) fn fill_region(&mut self, region: &str) {
        for e in &mut self.endpoints {
            if e.region.is_none() {
                e.region = Some(region.to_owned());
            }
        }
    }

    /// Which format it was read from.
    pub fn format(&self) -> ConfigFormat {
        self.format
    }

    /// The whole document the configuration was read from, unknown keys included (`None` for a
    /// configuration built in code). Sections this crate does not read yet (Gen2 `storage`,
    /// `data.model_introspection`, …) are here as they were written. It holds the file's
    /// secrets (API keys): keep it out of logs.
    pub fn raw(&self) -> Option<&serde_json::Value> {
        self.raw.as_deref()
    }

    /// Gen2's `custom` object (what the backend added with `backend.addOutput({custom: …})`),
    /// as written: e.g. `custom.events` for an AppSync Events API, which this crate does not
    /// call yet. `custom.API` is also read as REST endpoints.
    pub fn custom(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        match self.format {
            ConfigFormat::Gen2 => self.raw()?.get("custom")?.as_object(),
            _ => None,
        }
    }
}

/// Builds a [`Config`] in code; [`ConfigBuilder::build`] reports every problem at once.
#[derive(Debug, Default)]
pub struct ConfigBuilder {
    endpoints: Vec<EndpointBuilder>,
    default_graphql: Option<String>,
    default_rest: Option<String>,
    default_events: Option<String>,
    auth: AuthConfig,
    format: Option<ConfigFormat>,
}

impl ConfigBuilder {
    /// Adds an endpoint (see [`EndpointConfig::graphql`] and [`EndpointConfig::rest`]).
    pub fn endpoint(mut self, endpoint: EndpointBuilder) -> Self {
        self.endpoints.push(endpoint);
        self
    }

    /// The GraphQL endpoint used when a call names none (rule 3 of endpoint choice).
    pub fn default_graphql(mut self, name: impl Into<String>) -> Self {
        self.default_graphql = Some(name.into());
        self
    }

    /// The REST endpoint used when a call names none.
    pub fn default_rest(mut self, name: impl Into<String>) -> Self {
        self.default_rest = Some(name.into());
        self
    }

    /// The Events endpoint used when a call names none and several are configured.
    pub fn default_events(mut self, name: impl Into<String>) -> Self {
        self.default_events = Some(name.into());
        self
    }

    /// The Cognito user pool.
    pub fn user_pool(mut self, pool: UserPoolConfig) -> Self {
        self.auth.user_pool = Some(pool);
        self
    }

    /// The Cognito identity pool.
    pub fn identity_pool(mut self, pool: IdentityPoolConfig) -> Self {
        self.auth.identity_pool = Some(pool);
        self
    }

    pub(crate) fn format(mut self, format: ConfigFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// Checks everything and reports every problem at once.
    pub fn build(self) -> Result<Config> {
        self.build_with(Vec::new())
    }

    /// Like `build`, adding problems a parser found before.
    pub(crate) fn build_with(self, mut problems: Vec<String>) -> Result<Config> {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut endpoints = Vec::new();
        for e in self.endpoints {
            if e.name.is_empty() {
                problems.push(format!(
                    "{}: an endpoint name must not be empty",
                    e.key_path
                ));
                continue;
            }
            if let Some(first) = seen.get(&e.name) {
                problems.push(format!(
                    "{}: duplicate endpoint name {:?} (already defined at {first})",
                    e.key_path, e.name
                ));
                continue;
            }
            seen.insert(e.name.clone(), e.key_path.clone());
            if let Some(ok) = e.check(&mut problems) {
                endpoints.push(ok);
            }
        }
        endpoints.sort_by(|a, b| a.name.cmp(&b.name));
        // Names of one API share its key: an API_KEY call under any name can use it.
        for i in 0..endpoints.len() {
            if endpoints[i].api_key.is_none() {
                let shared = endpoints
                    .iter()
                    .find(|o| o.same_api(&endpoints[i]) && o.api_key.is_some())
                    .and_then(|o| o.api_key.clone());
                endpoints[i].set_api_key(shared);
            }
        }
        for (ty, default) in [
            (EndpointType::GraphQL, &self.default_graphql),
            (EndpointType::Rest, &self.default_rest),
            (EndpointType::Events, &self.default_events),
        ] {
            if let Some(d) = default {
                match endpoints.iter().find(|e| &e.name == d) {
                    Some(e) if e.endpoint_type != ty => problems.push(format!(
                        "default {ty} endpoint {d:?} is a {} endpoint",
                        e.endpoint_type
                    )),
                    Some(_) => {}
                    None if seen.contains_key(d) => {}
                    None => problems.push(format!(
                        "default {ty} endpoint {d:?} is not configured; configured: {}",
                        list_names(&endpoints)
                    )),
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems_error(&problems));
        }
        Ok(Config {
            endpoints,
            default_graphql: self.default_graphql,
            default_rest: self.default_rest,
            default_events: self.default_events,
            auth: self.auth,
            format: self.format.unwrap_or(ConfigFormat::Builder),
            raw: None,
        })
    }
}

/// One format's parser, without the detection of [`Config::from_json`] (for the fuzz targets).
#[cfg(feature = "fuzzing")]
pub(crate) fn parse_as(
    gen2: bool,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<Config> {
    if gen2 {
        gen2::parse(obj)
    } else {
        gen1::parse(obj)
    }
}

/// One error listing every problem, one per line when there are several.
pub(crate) fn problems_error(problems: &[String]) -> Error {
    if let [one] = problems {
        Error::config(format!("invalid configuration: {one}"))
    } else {
        Error::config(format!(
            "invalid configuration ({} problems):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

/// `"a" (GraphQL, API_KEY), "b" (REST, AWS_IAM)` for messages.
pub(crate) fn list_names<'a>(endpoints: impl IntoIterator<Item = &'a EndpointConfig>) -> String {
    let v: Vec<String> = endpoints
        .into_iter()
        .map(|e| {
            format!(
                "{:?} ({}, {})",
                e.name, e.endpoint_type, e.authorization_type
            )
        })
        .collect();
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}

pub(crate) fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::endpoints::region_from_host;
    use super::*;
    use url::Url;

    #[test]
    fn regions_from_aws_hosts() {
        let u = Url::parse("https://abc.appsync-api.eu-west-1.amazonaws.com/graphql").unwrap();
        assert_eq!(
            region_from_host(EndpointType::GraphQL, &u).as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region_from_host(EndpointType::Rest, &u), None);
        let u = Url::parse("https://x1.execute-api.cn-north-1.amazonaws.com.cn/prod").unwrap();
        assert_eq!(
            region_from_host(EndpointType::Rest, &u).as_deref(),
            Some("cn-north-1")
        );
        let u = Url::parse("https://api.example.com/graphql").unwrap();
        assert_eq!(region_from_host(EndpointType::GraphQL, &u), None);
    }

    #[test]
    fn loopback_hosts() {
        for ok in [
            "http://localhost:1/",
            "http://127.0.0.1:9/",
            "http://[::1]:3/",
        ] {
            assert!(is_loopback(&Url::parse(ok).unwrap()), "{ok}");
        }
        assert!(!is_loopback(&Url::parse("http://example.com/").unwrap()));
    }
}
