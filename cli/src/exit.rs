//! Exit codes and one-line errors: what a failure is called, which code it exits with, and how
//! library, clap and I/O errors become one line that says what to fix.

use std::fmt;

use appsync_client::AuthMode;

/// No GraphQL errors (or a 2xx REST answer).
pub(crate) const OK: u8 = 0;
/// The server answered with GraphQL errors (or a non-2xx REST status other than 401/403).
pub(crate) const GRAPHQL_ERRORS: u8 = 1;
/// Bad flags, bad input files, bad config, or no endpoint or mode fits.
pub(crate) const USAGE: u8 = 2;
/// The network, TLS, the server or the credentials failed.
pub(crate) const FAILURE: u8 = 3;

/// A command that cannot go on: the exit code and the one line that says why.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The process exit code.
    pub code: u8,
    /// One line; never holds a secret.
    pub message: String,
    /// Stdout was closed by its reader: exit quietly with `code`.
    pub quiet: bool,
}

impl Failure {
    /// A usage or configuration error (exit 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: USAGE,
            message: one_line(&message.into()),
            quiet: false,
        }
    }

    /// A transport, TLS, server or credentials failure (exit 3).
    pub(crate) fn broken(message: impl Into<String>) -> Self {
        Failure {
            code: FAILURE,
            message: one_line(&message.into()),
            quiet: false,
        }
    }

    /// Ends the command with this code, printing nothing more (a closed stdout).
    pub(crate) fn quiet(code: u8) -> Self {
        Failure {
            code,
            message: String::new(),
            quiet: true,
        }
    }

    /// The same failure with `hint` appended to its message.
    pub(crate) fn hint(mut self, hint: impl fmt::Display) -> Self {
        let base = self.message.trim_end_matches('.');
        self.message = format!("{base}; {hint}");
        self
    }
}

impl From<std::io::Error> for Failure {
    /// Writing stdout failed: a closed pipe ends quietly, anything else is a failure.
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::quiet(OK)
        } else {
            Failure::broken(format!("cannot write the output: {e}"))
        }
    }
}

/// What a call was, for hints: the mode the request used, when known.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CallContext {
    /// The auth mode the client chose (seen by its header provider before authorizing).
    pub mode: Option<AuthMode>,
}

/// A library error as a failure: configuration, selection and request errors are usage
/// errors (2), the rest (auth, network, TLS, status, decoding, realtime) failures (3), with a
/// hint saying what to check.
pub(crate) fn client_failure(e: &appsync_client::Error, ctx: CallContext) -> Failure {
    let message = cli_speak(&chain(e));
    // A token mode without a token source is a missing flag, not a refusal.
    let usage = e.is_config()
        || e.is_selection()
        || e.is_request()
        || message.contains(crate::tokens::MISSING_TOKEN);
    let mut f = if usage {
        Failure::usage(message)
    } else {
        Failure::broken(message)
    };
    if e.is_config() && f.message.contains("invalid configuration") {
        f = f.hint("`appsync config --check` lists every problem");
    }
    let status = e.status_code().map(|s| s.as_u16());
    let refused = matches!(status, Some(401 | 403))
        || e.error_type()
            .is_some_and(|t| t.starts_with("Unauthorized") || t == "AccessDeniedException");
    if refused && !e.is_config() {
        f = f.hint(match ctx.mode {
            Some(AuthMode::ApiKey) => "check the API key (the config file's, or --api-key)",
            Some(AuthMode::Iam) => {
                "check the AWS credentials (AWS_* variables, --profile, `aws sso login`, or \
                 --access-key/--secret-key) and the endpoint's region"
            }
            Some(AuthMode::UserPools | AuthMode::Oidc | AuthMode::Lambda) => {
                "check the token (--token, APPSYNC_TOKEN or --token-command) and that it has \
                 not expired"
            }
            Some(AuthMode::None) => {
                "the call carried no authorization (NONE): choose a mode with --auth-mode"
            }
            _ => "check the credentials of the auth mode used (-v shows which)",
        });
    }
    if e.is_timeout() && f.message.starts_with("the request timed out") {
        f = f.hint("allow more with --timeout (default 30s per attempt)");
    }
    if e.is_auth() && ctx.mode == Some(AuthMode::Iam) {
        f = f.hint(
            "AWS_IAM credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile (run \
             `aws sso login` for SSO profiles), or --access-key/--secret-key",
        );
    }
    let lower = f.message.to_ascii_lowercase();
    if (lower.contains("certificate") || lower.contains("unknownissuer")) && !e.is_config() {
        f = f.hint("for a self-signed server (appsync serve --tls), pass --ca-cert FILE");
    } else if lower.contains("connection refused") {
        f = f.hint("is the server running? (`appsync serve` for a local one)");
    }
    f
}

/// An error and its sources on one line, each source added only when it says something new.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The library's messages name builder methods; on the command line those are flags.
pub(crate) fn cli_speak(message: &str) -> String {
    message
        .replace(
            "ClientBuilder::allow_insecure_http(true)",
            "--allow-insecure-http",
        )
        .replace(".api_name(..)", "--api-name")
        .replace(".auth_mode(..)", "--auth-mode")
        .replace(" (opt out per call with .skip_auth_mode_check())", "")
        .replace(".query(name, value)", "--query NAME=VALUE")
        .replace(".path_segment(..)", "--segment TEXT")
        .replace("pass .api_key(..) on the call", "pass --api-key KEY")
}

/// Folds a message of several lines into one: lines joined with "; " (a line ending with ':'
/// is followed by a space only), blank lines dropped.
pub(crate) fn one_line(message: &str) -> String {
    let mut out = String::new();
    for line in message.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(line);
    }
    out
}

/// A clap error on one line: its message and any tip, without the usage block, and where to
/// read more.
pub(crate) fn clap_one_line(e: &clap::Error, command: &str) -> String {
    let rendered = e.render().to_string();
    let mut main = Vec::new();
    let mut tips = Vec::new();
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() {
            continue;
        }
        match line.strip_prefix("tip:") {
            Some(t) => tips.push(t.trim().to_owned()),
            None => main.push(
                line.strip_prefix("error:")
                    .unwrap_or(line)
                    .trim()
                    .to_owned(),
            ),
        }
    }
    let mut out = one_line(&main.join("\n"));
    for t in tips {
        out.push_str(&format!(" ({t})"));
    }
    let help = if command.is_empty() {
        "appsync --help".to_owned()
    } else {
        format!("appsync {command} --help")
    };
    format!("{out}; see `{help}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_folds() {
        assert_eq!(
            one_line("invalid configuration (2 problems):\n  a: x\n  b: y\n"),
            "invalid configuration (2 problems): a: x; b: y"
        );
        assert_eq!(one_line("plain"), "plain");
    }

    #[test]
    fn library_words_become_flags() {
        assert_eq!(
            cli_speak("choose one with .api_name(..) or .auth_mode(..)"),
            "choose one with --api-name or --auth-mode"
        );
    }
}
