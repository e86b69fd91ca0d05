//! Choosing the endpoint and the auth mode for a call (DESIGN.md §3).

use crate::auth::AuthMode;
use crate::config::{list_names, Config, EndpointConfig, EndpointType};
use crate::error::{Error, Result};

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
    if !endpoint.allows(mode) {
        let enabled: Vec<AuthMode> = endpoint
            .enabled_modes()
            .map(|m| m.iter().copied().collect())
            .unwrap_or_default();
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

/// Among names of one API: the default if it is one of them, else the first.
fn pick_name<'a>(
    names: &[&'a EndpointConfig],
    default: Option<&'a EndpointConfig>,
) -> &'a EndpointConfig {
    default
        .filter(|d| names.iter().any(|n| n.same_api(d)))
        .unwrap_or(names[0])
}

fn none_of_type(config: &Config, ty: EndpointType) -> Error {
    Error::selection(format!(
        "no {ty} endpoint is configured; configured: {}",
        list_names(config.endpoints())
    ))
}
