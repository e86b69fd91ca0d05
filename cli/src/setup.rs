//! From flags to a ready client: finding and reading the config file, and building the client
//! with the credentials, tokens, trusted certificates and timeouts the flags ask for.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use appsync_client::{AuthMode, Client, Config, RequestContext};

use crate::args::{Credentials, Target};
use crate::credentials::AwsChain;
use crate::exit::{cli_speak, CallContext, Failure};
use crate::output::Ui;
use crate::tokens::{TokenCommand, TokenSource};

/// The config files looked for in the current folder, in this order.
pub(crate) const DEFAULT_FILES: [&str; 2] = ["amplify_outputs.json", "amplifyconfiguration.json"];

/// How long a token command, the AWS chain (SSO, IMDS) or another provider may take: longer
/// than the library's 10 s default, since a command may prompt the user.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(120);

/// The config file to read: the one given, else the first default file in the current folder.
pub(crate) fn config_path(given: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(p) = given {
        return Ok(p.to_owned());
    }
    for name in DEFAULT_FILES {
        let p = Path::new(name);
        if p.is_file() {
            return Ok(p.to_owned());
        }
    }
    let here = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| ".".to_owned());
    Err(Failure::usage(format!(
        "no config file: neither amplify_outputs.json nor amplifyconfiguration.json is in {here}; \
         pass --config FILE (or run `appsync serve`, which writes both)"
    )))
}

/// Reads and checks the config file; every problem on one line.
pub(crate) fn load_config(target: &Target) -> Result<(PathBuf, Config), Failure> {
    let path = config_path(target.config.as_deref())?;
    let config = Config::from_path(&path).map_err(|e| config_failure(&e.to_string()))?;
    Ok((path, config))
}

/// A configuration error on one line, its problems numbered.
fn config_failure(message: &str) -> Failure {
    let message = cli_speak(message);
    let Some((header, _)) = message.split_once('\n') else {
        return Failure::usage(message);
    };
    let numbered: Vec<String> = split_problems(&message)
        .iter()
        .enumerate()
        .map(|(i, p)| format!("[{}] {p}", i + 1))
        .collect();
    Failure::usage(format!("{} {}", header.trim_end(), numbered.join(" ")))
        .hint("`appsync config --check` lists them one per line")
}

/// The problems of a configuration error: its lines after the "invalid configuration (N
/// problems):" header, or its one problem.
pub(crate) fn split_problems(message: &str) -> Vec<String> {
    let mut lines = message.lines();
    let first = lines.next().unwrap_or_default();
    let rest: Vec<String> = lines
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if !rest.is_empty() {
        return rest;
    }
    vec![first
        .strip_prefix("invalid configuration: ")
        .unwrap_or(first)
        .to_owned()]
}

/// The mode of the last request the client authorized, as its header provider saw it.
#[derive(Clone, Default, Debug)]
pub(crate) struct Seen(Arc<Mutex<Option<AuthMode>>>);

impl Seen {
    /// What the failed or finished call used.
    pub(crate) fn context(&self) -> CallContext {
        CallContext {
            mode: self.0.lock().ok().and_then(|m| *m),
        }
    }
}

/// What a built client needs besides the config: flags that apply per call.
#[derive(Debug)]
pub(crate) struct Built {
    /// The client.
    pub client: Client,
    /// The mode of the request in hand, for hints on failure.
    pub seen: Seen,
}

/// Builds the client for `config` from the credential flags.
pub(crate) fn client(
    config: Config,
    creds: &Credentials,
    timeout: Option<Duration>,
    ui: Ui,
) -> Result<Built, Failure> {
    let mut b = Client::builder()
        .provider_timeout(PROVIDER_TIMEOUT)
        .allow_insecure_http(creds.allow_insecure_http);
    b = match (&creds.access_key, &creds.secret_key) {
        (Some(id), Some(secret)) => b.credentials_provider(aws_credential_types::Credentials::new(
            id.clone(),
            secret.clone(),
            creds.session_token.clone(),
            None,
            "appsync-cli",
        )),
        _ => {
            // The chain's own region (for SSO and STS): the flag, else one the config names.
            let region = creds.region.clone().or_else(|| {
                config
                    .endpoints()
                    .iter()
                    .find_map(|e| e.region().map(str::to_owned))
            });
            b.credentials_provider(AwsChain::new(creds.profile.clone(), region))
        }
    };
    let source =
        match (&creds.token, &creds.token_command) {
            (Some(_), Some(_)) => return Err(Failure::usage(
                "give either a token (--token or APPSYNC_TOKEN) or a command (--token-command or \
                 APPSYNC_TOKEN_COMMAND), not both",
            )),
            (Some(t), None) if t.trim().is_empty() => {
                return Err(Failure::usage(
                    "the token (--token or APPSYNC_TOKEN) is empty",
                ))
            }
            (Some(t), None) => TokenSource::Fixed(t.trim().into()),
            (None, Some(c)) => TokenSource::Command(Arc::new(TokenCommand::new(
                c.clone(),
                creds.token_ttl,
                ui.verbose > 0,
            ))),
            (None, None) => TokenSource::Missing,
        };
    for mode in [AuthMode::UserPools, AuthMode::Oidc, AuthMode::Lambda] {
        b = b.token_provider(mode, source.clone());
    }
    if let Some(path) = &creds.ca_cert {
        let pem = std::fs::read(path).map_err(|e| {
            Failure::usage(format!("cannot read --ca-cert {}: {e}", path.display()))
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            Failure::usage(format!(
                "--ca-cert {} holds no PEM certificate ({e})",
                path.display()
            ))
        })?;
        if certs.is_empty() {
            return Err(Failure::usage(format!(
                "--ca-cert {} holds no PEM certificate",
                path.display()
            )));
        }
        // Built as the client builds its own: no redirects, a bounded connect; realtime
        // upgrades need HTTP/1.1.
        let http = |http1: bool| {
            let b = reqwest::Client::builder()
                .tls_certs_merge(certs.clone())
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("appsync-cli/", env!("CARGO_PKG_VERSION")));
            let b = if http1 { b.http1_only() } else { b };
            b.build()
                .map_err(|e| Failure::usage(format!("the HTTP client cannot be built: {e}")))
        };
        b = b
            .http_client(http(false)?)
            .realtime_http_client(http(true)?);
    }
    if let Some(t) = timeout {
        if t.is_zero() {
            return Err(Failure::usage("--timeout must be more than zero"));
        }
        b = b.timeout(t);
    }
    let seen = Seen::default();
    let record = seen.clone();
    b = b.header_provider(appsync_client::headers_fn(move |ctx: RequestContext| {
        if let Ok(mut m) = record.0.lock() {
            *m = Some(ctx.auth_mode);
        }
        // Names only: never a header value, key or token.
        if ui.verbose > 0 {
            ui.verbose(format!(
                "request: endpoint {:?} ({}), {}{}",
                ctx.api_name,
                ctx.endpoint_type,
                ctx.auth_mode,
                if ctx.attempt > 0 {
                    format!(", retry {}", ctx.attempt)
                } else {
                    String::new()
                }
            ));
        } else if ctx.attempt > 0 {
            // A retry follows a failure and a backoff: say why the wait.
            ui.status(format!(
                "retrying (retry {}) after a failed attempt…",
                ctx.attempt
            ));
        }
        async { Ok(http::HeaderMap::new()) }
    }));
    let client = b
        .config(config)
        .build()
        .map_err(|e| Failure::usage(cli_speak(&e.to_string())))?;
    Ok(Built { client, seen })
}
