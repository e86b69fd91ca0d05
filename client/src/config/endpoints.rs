//! One endpoint of the configuration: its type, name, URL, region, auth modes and key, and
//! the builder that checks them.

use std::collections::BTreeSet;
use std::fmt;

use url::Url;

use super::{host_header, redacted_raw_url, redacted_url};
use crate::secret::Secret;
use appsync_types::AuthMode;

/// Whether an endpoint is an AppSync GraphQL API, an API Gateway REST API, or an AppSync
/// Events API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EndpointType {
    /// An AppSync GraphQL API (`endpointType: "GraphQL"`).
    GraphQL,
    /// An API Gateway REST (or HTTP) API (`endpointType: "REST"`).
    Rest,
    /// An AppSync Events API (Gen2 `custom.events`): channels to publish to and subscribe on.
    Events,
}

impl EndpointType {
    /// The name used in Gen1 config files: `GraphQL` or `REST`.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointType::GraphQL => "GraphQL",
            EndpointType::Rest => "REST",
            EndpointType::Events => "Events",
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
    pub(super) name: String,
    pub(super) endpoint_type: EndpointType,
    pub(super) url: Url,
    pub(super) region: Option<String>,
    pub(super) authorization_type: AuthMode,
    pub(super) api_key: Option<Secret>,
    pub(super) enabled_modes: Option<BTreeSet<AuthMode>>,
    pub(super) realtime_url: Option<Url>,
    pub(super) key_path: String,
    /// The `host` header and `x-api-key` values, made once rather than per call.
    pub(super) host_value: http::HeaderValue,
    pub(super) api_key_value: Option<http::HeaderValue>,
}

impl EndpointConfig {
    /// Starts a GraphQL endpoint for [`ConfigBuilder::endpoint`](super::ConfigBuilder::endpoint).
    pub fn graphql(name: impl Into<String>, url: impl Into<String>) -> EndpointBuilder {
        EndpointBuilder::new(name.into(), EndpointType::GraphQL, url.into())
    }

    /// Starts a REST endpoint for [`ConfigBuilder::endpoint`](super::ConfigBuilder::endpoint); `url` includes the stage.
    pub fn rest(name: impl Into<String>, url: impl Into<String>) -> EndpointBuilder {
        EndpointBuilder::new(name.into(), EndpointType::Rest, url.into())
    }

    /// Starts an AppSync Events endpoint for [`ConfigBuilder::endpoint`](super::ConfigBuilder::endpoint); `url`
    /// is its HTTP endpoint, `https://<id>.appsync-api.<region>.amazonaws.com/event`.
    pub fn events(name: impl Into<String>, url: impl Into<String>) -> EndpointBuilder {
        EndpointBuilder::new(name.into(), EndpointType::Events, url.into())
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

    pub(super) fn set_api_key(&mut self, key: Option<Secret>) {
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

/// An endpoint being described; checked when [`ConfigBuilder::build`](super::ConfigBuilder::build) runs. Setters never fail.
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
    pub(super) fn new(name: String, endpoint_type: EndpointType, url: String) -> Self {
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

    pub(super) fn path(&self, key: &str) -> String {
        format!("{}.{}", self.key_path, key)
    }

    /// Checks the fields; pushes every problem onto `problems`.
    pub(super) fn check(self, problems: &mut Vec<String>) -> Option<EndpointConfig> {
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
        let Ok(host_value) = http::HeaderValue::from_str(&host_header(&url)) else {
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
pub(super) fn reported(problems: &[String], path: &str) -> bool {
    problems.iter().any(|p| {
        p.strip_prefix(path)
            .is_some_and(|rest| rest.starts_with(": "))
    })
}

pub(super) fn parse_url(raw: &str) -> std::result::Result<Url, String> {
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
        EndpointType::GraphQL | EndpointType::Events => "appsync-api",
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
pub(super) fn valid_region(r: &str) -> bool {
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
