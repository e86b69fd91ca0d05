//! `appsync config`: what a config file holds (endpoints grouped by API, modes, regions,
//! Cognito pools; secrets never shown), which endpoint and mode a call would use and by which
//! rule, and `--check`: every problem, one per line with its key path.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use appsync_client::config::ConfigFormat;
use appsync_client::{
    AuthMode, BoxError, Client, Config, EndpointConfig, EndpointType, GraphQLRequest,
    RequestContext,
};

use crate::args::ConfigArgs;
use crate::exit::{cli_speak, Failure, OK, USAGE};
use crate::output::Ui;
use crate::setup::{self, split_problems};

/// Shows the file, or checks it.
pub(crate) async fn run(args: ConfigArgs, ui: Ui) -> Result<u8, Failure> {
    let path = setup::config_path(args.target.config.as_deref())?;
    if args.check {
        return check(&path, args.allow_insecure_http, ui);
    }
    let (_, config) = setup::load_config(&args.target)?;
    let mut out = describe(&path, &config);
    out.push('\n');
    out.push_str("Which endpoint and mode a call uses");
    match (&args.target.api_name, args.target.auth_mode) {
        (None, None) => out.push_str(" (no --api-name, no --auth-mode):\n"),
        (n, m) => {
            let mut asked = Vec::new();
            if let Some(n) = n {
                asked.push(format!("--api-name {n}"));
            }
            if let Some(m) = m {
                asked.push(format!("--auth-mode {m}"));
            }
            let _ = writeln!(out, " with {}:", asked.join(" "));
        }
    }
    for ty in [
        EndpointType::GraphQL,
        EndpointType::Events,
        EndpointType::Rest,
    ] {
        let api_name = args.target.api_name.as_deref();
        let has_type = config.endpoints().iter().any(|e| e.endpoint_type() == ty);
        let named_other = api_name
            .and_then(|n| config.endpoint(n))
            .is_some_and(|e| e.endpoint_type() != ty);
        if !has_type || named_other {
            continue;
        }
        match choose(&config, ty, api_name, args.target.auth_mode).await {
            Ok((name, mode)) => explain(
                &mut out,
                &config,
                ty,
                api_name,
                args.target.auth_mode,
                &name,
                mode,
            ),
            Err(why) => {
                let _ = writeln!(out, "  {ty}: refused: {why}");
            }
        }
    }
    if args
        .target
        .api_name
        .as_deref()
        .is_some_and(|n| config.endpoint(n).is_none())
    {
        let _ = writeln!(
            out,
            "  no endpoint is named {:?}",
            args.target.api_name.as_deref().unwrap_or_default()
        );
    }
    ui.bytes(out.as_bytes())?;
    Ok(OK)
}

/// `--check`: every problem of the file (and of a client built from it), one per line.
fn check(path: &Path, allow_insecure_http: bool, ui: Ui) -> Result<u8, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let mut problems = Vec::new();
    let config = match Config::from_json_str(&text) {
        Ok(c) => Some(c),
        Err(e) => {
            problems.extend(split_problems(&e.to_string()));
            None
        }
    };
    if let Some(c) = &config {
        if let Err(e) = Client::builder()
            .config(c.clone())
            .allow_insecure_http(allow_insecure_http)
            .build()
        {
            problems.extend(split_problems(&e.to_string()));
        }
    }
    let shown = path.display();
    match (problems.as_slice(), &config) {
        ([], Some(c)) => {
            let count = |t| {
                c.endpoints()
                    .iter()
                    .filter(|e| e.endpoint_type() == t)
                    .count()
            };
            let events = match count(EndpointType::Events) {
                0 => String::new(),
                n => format!(", {n} Events"),
            };
            ui.bytes(
                format!(
                    "{shown}: valid {} configuration: {} GraphQL{events} and {} REST endpoint(s)\n",
                    format_name(c.format()),
                    count(EndpointType::GraphQL),
                    count(EndpointType::Rest)
                )
                .as_bytes(),
            )?;
            Ok(OK)
        }
        _ => {
            let mut out = String::new();
            for p in &problems {
                let _ = writeln!(out, "{shown}: {}", cli_speak(p));
            }
            ui.bytes(out.as_bytes())?;
            ui.status(format!(
                "{shown}: {} problem{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ));
            Ok(USAGE)
        }
    }
}

fn format_name(f: ConfigFormat) -> &'static str {
    match f {
        ConfigFormat::Gen1 => "Amplify Gen1",
        ConfigFormat::Gen2 => "Amplify Gen2",
        _ => "built-in",
    }
}

/// The endpoints grouped by API (names sharing a URL are one API), and the Cognito pools.
fn describe(path: &Path, config: &Config) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Config file: {} ({})",
        path.display(),
        format_name(config.format())
    );
    for ty in [
        EndpointType::GraphQL,
        EndpointType::Events,
        EndpointType::Rest,
    ] {
        let of_type: Vec<&EndpointConfig> = config
            .endpoints()
            .iter()
            .filter(|e| e.endpoint_type() == ty)
            .collect();
        let _ = writeln!(out);
        if of_type.is_empty() {
            let _ = writeln!(out, "{ty} endpoints: none");
            continue;
        }
        let mut apis: Vec<Vec<&EndpointConfig>> = Vec::new();
        for e in of_type {
            match apis.iter_mut().find(|a| a[0].url() == e.url()) {
                Some(a) => a.push(e),
                None => apis.push(vec![e]),
            }
        }
        let _ = writeln!(
            out,
            "{ty} APIs: {}{}",
            apis.len(),
            config
                .default_endpoint(ty)
                .map(|d| format!(" (default endpoint: {d:?})"))
                .unwrap_or_default()
        );
        for names in apis {
            let first = names[0];
            let _ = writeln!(out, "  {}", redacted(first.url()));
            let _ = writeln!(
                out,
                "    region:        {}",
                first
                    .region()
                    .unwrap_or("none (AWS_IAM cannot sign for it)")
            );
            let enabled: Option<Vec<AuthMode>> = {
                let said: Vec<&std::collections::BTreeSet<AuthMode>> =
                    names.iter().filter_map(|e| e.enabled_modes()).collect();
                (!said.is_empty()).then(|| {
                    let mut all: Vec<AuthMode> = said.into_iter().flatten().copied().collect();
                    all.sort();
                    all.dedup();
                    all
                })
            };
            let _ = writeln!(
                out,
                "    enabled modes: {}",
                match enabled {
                    Some(m) => modes(&m),
                    None if ty == EndpointType::Rest =>
                        "not listed (API Gateway's authorizers decide)".to_owned(),
                    None => "not listed in the file: any mode may be asked for".to_owned(),
                }
            );
            let _ = writeln!(
                out,
                "    API key:       {}",
                if names.iter().any(|e| e.has_api_key()) {
                    "configured (not shown)"
                } else {
                    "none"
                }
            );
            for e in &names {
                let mut extra = Vec::new();
                if config.default_endpoint(ty) == Some(e.name()) {
                    extra.push("default".to_owned());
                }
                if let Some(rt) = e.realtime_url() {
                    extra.push(format!("realtime {}", redacted(rt)));
                }
                extra.push(format!("at {}", e.key_path()));
                let _ = writeln!(
                    out,
                    "    name {:?}: {} ({})",
                    e.name(),
                    e.authorization_type(),
                    extra.join(", ")
                );
            }
        }
    }
    let auth = config.auth();
    let _ = writeln!(out);
    match &auth.user_pool {
        Some(p) => {
            let _ = writeln!(
                out,
                "Cognito user pool: {} (app client {}, region {})",
                p.pool_id,
                p.app_client_id.as_deref().unwrap_or("not set"),
                p.region.as_deref().unwrap_or("not set")
            );
        }
        None => {
            let _ = writeln!(out, "Cognito user pool: none");
        }
    }
    match &auth.identity_pool {
        Some(p) => {
            let _ = writeln!(
                out,
                "Cognito identity pool: {} (region {}, guests {})",
                p.pool_id,
                p.region,
                if p.allow_guest {
                    "allowed"
                } else {
                    "not allowed"
                }
            );
        }
        None => {
            let _ = writeln!(out, "Cognito identity pool: none");
        }
    }
    out
}

/// The endpoint and mode the client would choose, asked of the client itself: a header
/// provider sees the choice and stops the call before it is authorized or sent.
async fn choose(
    config: &Config,
    ty: EndpointType,
    api_name: Option<&str>,
    mode: Option<AuthMode>,
) -> Result<(String, AuthMode), String> {
    let seen: Arc<Mutex<Option<(String, AuthMode)>>> = Arc::default();
    let record = seen.clone();
    let client = Client::builder()
        .config(config.clone())
        // Reported by --check; the choice does not depend on it.
        .allow_insecure_http(true)
        .header_provider(appsync_client::headers_fn(move |ctx: RequestContext| {
            if let Ok(mut s) = record.lock() {
                *s = Some((ctx.api_name.clone(), ctx.auth_mode));
            }
            async { Err::<http::HeaderMap, BoxError>("stopped: only the choice was asked".into()) }
        }))
        .build()
        .map_err(|e| cli_speak(&e.to_string()))?;
    let result = match ty {
        EndpointType::Rest => {
            let api = match api_name {
                Some(n) => client.rest(n),
                None => client.rest_default(),
            };
            let mut call = api.get("/");
            if let Some(m) = mode {
                call = call.auth_mode(m);
            }
            call.send().await.map(drop)
        }
        EndpointType::Events => {
            let api = match api_name {
                Some(n) => client.events(n),
                None => client.events_default(),
            };
            let mut call = api.publish("/default/choice", [serde_json::Value::Null]);
            if let Some(m) = mode {
                call = call.auth_mode(m);
            }
            call.send().await.map(drop)
        }
        _ => {
            let mut call = client.graphql(GraphQLRequest::new("query { __typename }"));
            if let Some(n) = api_name {
                call = call.api_name(n);
            }
            if let Some(m) = mode {
                call = call.auth_mode(m);
            }
            call.send().await.map(drop)
        }
    };
    if let Some(choice) = seen.lock().ok().and_then(|mut s| s.take()) {
        return Ok(choice);
    }
    Err(match result {
        Err(e) => cli_speak(&e.to_string()),
        Ok(()) => "no choice was made".to_owned(),
    })
}

/// Why the client chose `name` and `mode`, rule by rule (DESIGN.md §3), and the credentials
/// the CLI would use for it.
fn explain(
    out: &mut String,
    config: &Config,
    ty: EndpointType,
    api_name: Option<&str>,
    asked: Option<AuthMode>,
    name: &str,
    mode: AuthMode,
) {
    let Some(e) = config.endpoint(name) else {
        return;
    };
    let _ = writeln!(out, "  {ty}: endpoint {name:?} with {mode}");
    let of_type = config
        .endpoints()
        .iter()
        .filter(|x| x.endpoint_type() == ty)
        .count();
    let rule = match (api_name, asked) {
        (Some(_), _) => format!("rule 1: --api-name names endpoint {name:?}"),
        (None, Some(m)) if e.authorization_type() == m => {
            format!("rule 2: endpoint {name:?} has authorizationType {m}")
        }
        (None, Some(m)) => format!(
            "rule 2: no {ty} endpoint has authorizationType {m}, so the one {ty} API is used \
             (as {name:?}) with the mode overridden"
        ),
        (None, None) if of_type == 1 => format!("rule 3: {name:?} is the only {ty} endpoint"),
        (None, None) => format!("rule 3: {name:?} is the configured default {ty} endpoint"),
    };
    let _ = writeln!(out, "    {rule}");
    let why_mode = if asked.is_some() {
        "as --auth-mode asks"
    } else {
        "the endpoint's authorizationType"
    };
    let enabled = if mode == AuthMode::None {
        "NONE adds no authorization".to_owned()
    } else if e.enabled_modes().is_some() {
        "the API enables it".to_owned()
    } else {
        "the file does not list the API's modes".to_owned()
    };
    let _ = writeln!(out, "    rule 4: {mode} is {why_mode}; {enabled}");
    let credentials =
        match mode {
            AuthMode::ApiKey if e.has_api_key() => {
                "the config file's API key (or --api-key)".to_owned()
            }
            AuthMode::ApiKey => "an API key from --api-key (the file has none)".to_owned(),
            AuthMode::Iam => format!(
                "AWS credentials from the AWS chain (AWS_* variables, --profile, SSO, IMDS) or \
             --access-key/--secret-key, signed for region {}",
                e.region().unwrap_or("(none: set one in the file)")
            ),
            AuthMode::UserPools => {
                format!(
            "a user-pool {} token from --token, APPSYNC_TOKEN or --token-command (--id-token \
             for the other)",
            if ty == EndpointType::Rest { "ID" } else { "access" }
        )
            }
            AuthMode::Oidc | AuthMode::Lambda => {
                "a token from --token, APPSYNC_TOKEN or --token-command".to_owned()
            }
            _ => "none".to_owned(),
        };
    let _ = writeln!(out, "    credentials: {credentials}");
}

fn modes(list: &[AuthMode]) -> String {
    list.iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A URL without user info, query or fragment (they may hold credentials).
fn redacted(u: &reqwest::Url) -> String {
    let mut clean = u.clone();
    let mut hidden = !u.username().is_empty() || u.password().is_some();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    hidden |= u.query().is_some() || u.fragment().is_some();
    clean.set_query(None);
    clean.set_fragment(None);
    let mut s = clean.to_string();
    if hidden {
        s.push_str(" (credentials or query not shown)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_split() {
        assert_eq!(
            split_problems("invalid configuration (2 problems):\n  a.b: x\n  c: y"),
            vec!["a.b: x", "c: y"]
        );
        assert_eq!(split_problems("invalid configuration: a: x"), vec!["a: x"]);
        assert_eq!(
            split_problems("not valid JSON: eof"),
            vec!["not valid JSON: eof"]
        );
    }
}
