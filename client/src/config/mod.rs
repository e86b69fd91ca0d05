//! Configuration: endpoints by name, their type, URL, region, auth mode and key, and Cognito pools.
//!
//! A [`Config`] comes from an Amplify Gen1 `amplifyconfiguration.json` ([`gen1`]), a Gen2
//! `amplify_outputs.json` ([`gen2`]), or [`Config::builder`]. Every problem found while reading it
//! is reported at once, each line naming the key path and what is wrong.

mod gen1;
mod gen2;
mod read;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use url::Url;

use crate::auth::AuthMode;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Whether an endpoint is an AppSync GraphQL API or an API Gateway REST API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndpointType {
    /// An AppSync GraphQL API (`endpointType: "GraphQL"`).
    GraphQL,
    /// An API Gateway REST (or HTTP) API (`endpointType: "REST"`).
    Rest,
}

impl EndpointType {
    /// The name used in Gen1 config files: `GraphQL` or `REST`.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointType::GraphQL => "GraphQL",
            EndpointType::Rest => "REST",
        }
    }
}

impl fmt::Display for EndpointType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One named endpoint: an API seen under one name with one default auth mode.
///
/// Several endpoints may share one URL (Amplify's "friendly name per auth mode" pattern); they
/// are then one API under several names.
#[derive(Clone)]
pub struct EndpointConfig {
    name: String,
    endpoint_type: EndpointType,
    url: Url,
    region: Option<String>,
    authorization_type: AuthMode,
    api_key: Option<Secret>,
    enabled_modes: Option<BTreeSet<AuthMode>>,
    realtime_url: Option<Url>,
    key_path: String,
    /// The `host` header and `x-api-key` values, made once rather than per call.
    host_value: http::HeaderValue,
    api_key_value: Option<http::HeaderValue>,
}

impl EndpointConfig {
    /// Starts a GraphQL endpoint for [`ConfigBuilder::endpoint`].
    pub fn graphql(name: impl Into<String>, url: impl Into<String>) -> EndpointBuilder {
        EndpointBuilder::new(name.into(), EndpointType::GraphQL, url.into())
    }

    /// Starts a REST endpoint for [`ConfigBuilder::endpoint`]; `url` includes the stage.
    pub fn rest(name: impl Into<String>, url: impl Into<String>) -> EndpointBuilder {
        EndpointBuilder::new(name.into(), EndpointType::Rest, url.into())
    }

    /// The name (`apiName`) calls choose it by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// GraphQL or REST.
    pub fn endpoint_type(&self) -> EndpointType {
        self.endpoint_type
    }

    /// The URL: the GraphQL endpoint, or the REST base URL with its stage.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The region, as configured or parsed from an AWS host name.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The default auth mode of this endpoint (`authorizationType`).
    pub fn authorization_type(&self) -> AuthMode {
        self.authorization_type
    }

    /// Whether an API key is configured (the key itself stays private).
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }

    pub(crate) fn api_key(&self) -> Option<&Secret> {
        self.api_key.as_ref()
    }

    /// The modes the API enables (default and additional), when the config says; `None` when
    /// it does not (Gen1 without `AppSync` entries, REST), and then any mode may be asked for.
    pub fn enabled_modes(&self) -> Option<&BTreeSet<AuthMode>> {
        self.enabled_modes.as_ref()
    }

    /// Whether a call may use `mode` on this endpoint. `NONE` is a client-only mode and is
    /// always allowed.
    pub fn allows(&self, mode: AuthMode) -> bool {
        mode == AuthMode::None
            || mode == self.authorization_type
            || self
                .enabled_modes
                .as_ref()
                .is_none_or(|m| m.contains(&mode))
    }

    /// An explicit realtime (WebSocket) URL, if configured.
    pub fn realtime_url(&self) -> Option<&Url> {
        self.realtime_url.as_ref()
    }

    /// Where in the configuration this endpoint came from, e.g.
    /// `api.plugins.awsAPIPlugin.notes`.
    pub fn key_path(&self) -> &str {
        &self.key_path
    }

    pub(crate) fn host_value(&self) -> &http::HeaderValue {
        &self.host_value
    }

    pub(crate) fn api_key_value(&self) -> Option<&http::HeaderValue> {
        self.api_key_value.as_ref()
    }

    fn set_api_key(&mut self, key: Option<Secret>) {
        self.api_key_value = key
            .as_ref()
            .and_then(|k| crate::auth::api_key::header_value(k).ok());
        self.api_key = key;
    }

    /// Two endpoints are one API when they share type and URL.
    pub(crate) fn same_api(&self, other: &EndpointConfig) -> bool {
        self.endpoint_type == other.endpoint_type && self.url == other.url
    }
}

impl fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointConfig")
            .field("name", &self.name)
            .field("endpoint_type", &self.endpoint_type)
            .field("url", &redacted_url(&self.url))
            .field("region", &self.region)
            .field("authorization_type", &self.authorization_type)
            .field("api_key", &self.api_key)
            .field("enabled_modes", &self.enabled_modes)
            .field(
                "realtime_url",
                &self.realtime_url.as_ref().map(redacted_url),
            )
            .finish()
    }
}

/// An endpoint being described; checked when [`ConfigBuilder::build`] runs. Setters never fail.
#[derive(Clone)]
pub struct EndpointBuilder {
    pub(crate) name: String,
    pub(crate) endpoint_type: EndpointType,
    pub(crate) url: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) authorization_type: Option<String>,
    pub(crate) api_key: Option<Secret>,
    pub(crate) enabled_modes: Option<Vec<String>>,
    pub(crate) realtime_url: Option<String>,
    /// Key path of the endpoint's object, for messages.
    pub(crate) key_path: String,
    /// Key names of the fields, as they are spelled in the source (Gen1 vs Gen2 differ).
    pub(crate) keys: FieldKeys,
}

/// The spelling of each field's key in the source document, for error messages.
#[derive(Clone, Debug)]
pub(crate) struct FieldKeys {
    pub url: &'static str,
    pub region: &'static str,
    pub authorization_type: &'static str,
    pub api_key: &'static str,
    pub enabled_modes: &'static str,
    pub realtime_url: &'static str,
}

impl FieldKeys {
    pub(crate) const GEN1: FieldKeys = FieldKeys {
        url: "endpoint",
        region: "region",
        authorization_type: "authorizationType",
        api_key: "apiKey",
        enabled_modes: "additionalAuthorizationTypes",
        realtime_url: "realtimeEndpoint",
    };
}

impl EndpointBuilder {
    fn new(name: String, endpoint_type: EndpointType, url: String) -> Self {
        EndpointBuilder {
            key_path: format!("endpoint {name:?}"),
            name,
            endpoint_type,
            url: Some(url),
            region: None,
            authorization_type: None,
            api_key: None,
            enabled_modes: None,
            realtime_url: None,
            keys: FieldKeys::GEN1,
        }
    }

    /// The AWS region (needed for `AWS_IAM` unless the host names it).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The default auth mode of this endpoint. Without it, `NONE` is assumed for REST and an
    /// error is reported for GraphQL.
    pub fn authorization_type(mut self, mode: AuthMode) -> Self {
        self.authorization_type = Some(mode.as_str().to_owned());
        self
    }

    /// The API key sent in `x-api-key` for `API_KEY` calls.
    pub fn api_key(mut self, key: impl Into<Secret>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The API's additional auth modes; with them, a call asking for any other mode is refused
    /// before it is sent.
    pub fn additional_auth_modes(mut self, modes: impl IntoIterator<Item = AuthMode>) -> Self {
        self.enabled_modes = Some(modes.into_iter().map(|m| m.as_str().to_owned()).collect());
        self
    }

    /// An explicit realtime (WebSocket) URL instead of the derived one.
    pub fn realtime_url(mut self, url: impl Into<String>) -> Self {
        self.realtime_url = Some(url.into());
        self
    }

    fn path(&self, key: &str) -> String {
        format!("{}.{}", self.key_path, key)
    }

    /// Checks the fields; pushes every problem onto `problems`.
    fn check(self, problems: &mut Vec<String>) -> Option<EndpointConfig> {
        let before = problems.len();
        let keys = self.keys.clone();
        let url = match &self.url {
            // Present but not a string: the reader has reported it already.
            None if reported(problems, &self.path(keys.url)) => None,
            None => {
                problems.push(format!(
                    "{}: missing; expected the API's URL",
                    self.path(keys.url)
                ));
                None
            }
            Some(raw) => match parse_url(raw) {
                Ok(u) => Some(u),
                Err(why) => {
                    problems.push(format!("{}: {why}", self.path(keys.url)));
                    None
                }
            },
        };
        let authorization_type = match &self.authorization_type {
            None if self.endpoint_type == EndpointType::Rest => Some(AuthMode::None),
            None if reported(problems, &self.path(keys.authorization_type)) => None,
            None => {
                problems.push(format!(
                    "{}: missing; expected one of API_KEY, AWS_IAM, AMAZON_COGNITO_USER_POOLS, \
                     OPENID_CONNECT, AWS_LAMBDA, NONE",
                    self.path(keys.authorization_type)
                ));
                None
            }
            Some(s) => match s.parse::<AuthMode>() {
                Ok(m) => Some(m),
                Err(e) => {
                    problems.push(format!("{}: {e}", self.path(keys.authorization_type)));
                    None
                }
            },
        };
        let mut enabled = None;
        if let Some(list) = &self.enabled_modes {
            let mut set = BTreeSet::new();
            for (i, s) in list.iter().enumerate() {
                match s.parse::<AuthMode>() {
                    Ok(AuthMode::None) => problems.push(format!(
                        "{}[{i}]: NONE is not an AppSync authorization type",
                        self.path(keys.enabled_modes)
                    )),
                    Ok(m) => {
                        set.insert(m);
                    }
                    Err(e) => problems.push(format!("{}[{i}]: {e}", self.path(keys.enabled_modes))),
                }
            }
            if let Some(m) = authorization_type {
                set.insert(m);
            }
            enabled = Some(set);
        }
        let realtime_url = match &self.realtime_url {
            None => None,
            Some(raw) => match Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "ws" | "wss") => Some(u),
                Ok(u) => {
                    problems.push(format!(
                        "{}: scheme {:?} is not ws or wss",
                        self.path(keys.realtime_url),
                        u.scheme()
                    ));
                    None
                }
                Err(e) => {
                    problems.push(format!(
                        "{}: not a valid URL ({e})",
                        self.path(keys.realtime_url)
                    ));
                    None
                }
            },
        };
        if authorization_type == Some(AuthMode::ApiKey) && self.api_key.is_none() {
            problems.push(format!(
                "{}: authorization type is API_KEY but no API key is configured ({})",
                self.key_path,
                self.path(keys.api_key)
            ));
        }
        let region = match (&self.region, &url) {
            (Some(r), _) if !valid_region(r) => {
                problems.push(format!(
                    "{}: {r:?} is not a region name (expected e.g. \"us-east-1\")",
                    self.path(keys.region)
                ));
                None
            }
            (Some(r), _) => Some(r.clone()),
            (None, Some(u)) => region_from_host(self.endpoint_type, u),
            (None, None) => None,
        };
        let needs_iam = authorization_type == Some(AuthMode::Iam)
            || enabled
                .as_ref()
                .is_some_and(|m: &BTreeSet<AuthMode>| m.contains(&AuthMode::Iam));
        if needs_iam && region.is_none() && url.is_some() {
            problems.push(format!(
                "{}: AWS_IAM needs a region and none can be parsed from the host {:?}; set {}",
                self.key_path,
                url.as_ref().and_then(|u| u.host_str()).unwrap_or(""),
                self.path(keys.region)
            ));
        }
        if problems.len() > before {
            return None;
        }
        let url = url?;
        let Ok(host_value) = http::HeaderValue::from_str(&crate::transport::host_header(&url))
        else {
            problems.push(format!(
                "{}: the host cannot be sent in a header",
                self.path(keys.url)
            ));
            return None;
        };
        if self
            .api_key
            .as_ref()
            .is_some_and(|k| crate::auth::api_key::header_value(k).is_err())
        {
            problems.push(format!(
                "{}: the API key holds characters a header cannot carry",
                self.path(keys.api_key)
            ));
            return None;
        }
        let mut e = EndpointConfig {
            name: self.name,
            endpoint_type: self.endpoint_type,
            url,
            region,
            authorization_type: authorization_type?,
            api_key: None,
            enabled_modes: enabled,
            realtime_url,
            key_path: self.key_path,
            host_value,
            api_key_value: None,
        };
        e.set_api_key(self.api_key);
        Some(e)
    }
}

impl fmt::Debug for EndpointBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointBuilder")
            .field("name", &self.name)
            .field("endpoint_type", &self.endpoint_type)
            .field("url", &self.url.as_deref().map(redacted_raw_url))
            .field(
                "realtime_url",
                &self.realtime_url.as_deref().map(redacted_raw_url),
            )
            .field("authorization_type", &self.authorization_type)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

/// Whether a problem about the value at `path` is already listed.
fn reported(problems: &[String], path: &str) -> bool {
    problems.iter().any(|p| {
        p.strip_prefix(path)
            .is_some_and(|rest| rest.starts_with(": "))
    })
}

fn parse_url(raw: &str) -> std::result::Result<Url, String> {
    if raw.trim().is_empty() {
        return Err("empty; expected the API's URL".to_owned());
    }
    let u = Url::parse(raw).map_err(|e| format!("{raw:?} is not a valid URL ({e})"))?;
    if !matches!(u.scheme(), "https" | "http") {
        return Err(format!(
            "{raw:?} has scheme {:?}; expected https",
            u.scheme()
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(format!("{raw:?} has no host"));
    }
    Ok(u)
}

/// The region named by an AWS host: `<id>.appsync-api.<region>.amazonaws.com` for GraphQL,
/// `<id>.execute-api.<region>.amazonaws.com` for REST (`.com.cn` too).
pub(crate) fn region_from_host(endpoint_type: EndpointType, url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let service = match endpoint_type {
        EndpointType::GraphQL => "appsync-api",
        EndpointType::Rest => "execute-api",
    };
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let mut parts = rest.rsplitn(3, '.');
    let region = parts.next()?;
    let svc = parts.next()?;
    let id = parts.next()?;
    (svc == service && !id.is_empty() && valid_region(region)).then(|| region.to_owned())
}

/// `us-east-1`, `cn-north-1`, `us-gov-west-1`: lowercase words and a number, dash-separated.
fn valid_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// A URL safe to print: without user info, query and fragment, which may carry credentials (a
/// realtime URL's `header=` handshake query, a `user:password@` prefix, a signed query).
pub(crate) fn redacted_url(url: &Url) -> String {
    let mut u = url.clone();
    let had_userinfo = !url.username().is_empty() || url.password().is_some();
    u.set_query(None);
    u.set_fragment(None);
    // Fails only for URLs that cannot carry user info at all.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let mut out = u.to_string();
    if had_userinfo {
        if let Some(i) = out.find("://") {
            out.insert_str(i + 3, "<redacted>@");
        }
    }
    if url.query().is_some() {
        out.push_str("?<redacted>");
    }
    if url.fragment().is_some() {
        out.push_str("#<redacted>");
    }
    out
}

/// [`redacted_url`] of a URL not parsed yet; one that does not parse shows as `<invalid>`
/// (it may be anything, a secret included).
pub(crate) fn redacted_raw_url(raw: &str) -> String {
    Url::parse(raw).map_or_else(|_| "<invalid>".to_owned(), |u| redacted_url(&u))
}

/// Whether a URL points at this machine (plain `http://` is allowed only there by default).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A Cognito user pool (for tokens; see the `cognito` docs).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserPoolConfig {
    /// The pool id, e.g. `us-east-1_AbCdEf`.
    pub pool_id: String,
    /// The app client id.
    pub app_client_id: Option<String>,
    /// The pool's region.
    pub region: Option<String>,
}

impl UserPoolConfig {
    /// A user pool by id, client id and region.
    pub fn new(
        pool_id: impl Into<String>,
        app_client_id: Option<String>,
        region: Option<String>,
    ) -> Self {
        UserPoolConfig {
            pool_id: pool_id.into(),
            app_client_id,
            region,
        }
    }
}

/// A Cognito identity pool (AWS credentials for guests and signed-in users).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdentityPoolConfig {
    /// The pool id, e.g. `us-east-1:0000…`.
    pub pool_id: String,
    /// The pool's region (the part of the id before `:` when not given).
    pub region: String,
    /// Whether guest (unauthenticated) identities are enabled. Gen2's
    /// `unauthenticated_identities_enabled`; absent means `false`. Gen1 files do not say, and
    /// a pool that is present is taken as allowing guests (as the Amplify native libraries do).
    pub allow_guest: bool,
}

impl IdentityPoolConfig {
    /// An identity pool by id; the region is taken from the id.
    pub fn new(pool_id: impl Into<String>, allow_guest: bool) -> Self {
        let pool_id = pool_id.into();
        let region = pool_id.split(':').next().unwrap_or_default().to_owned();
        IdentityPoolConfig {
            pool_id,
            region,
            allow_guest,
        }
    }
}

/// The Cognito part of a configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthConfig {
    /// The user pool, if configured.
    pub user_pool: Option<UserPoolConfig>,
    /// The identity pool, if configured.
    pub identity_pool: Option<IdentityPoolConfig>,
}

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
        }
    }

    /// The Cognito pools.
    pub fn auth(&self) -> &AuthConfig {
        &self.auth
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
    use super::*;

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
