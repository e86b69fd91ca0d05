//! Token providers for the user-pools, OIDC and Lambda modes: a fixed `--token`, a
//! `--token-command` run again when its token is near expiry or refused, or none (an error that
//! says how to give one).

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use appsync_client::{AuthMode, BoxError, Token, TokenKind, TokenProvider, TokenRequest};

/// Part of the error when a token mode is used without a token source (a usage error).
pub(crate) const MISSING_TOKEN: &str =
    "needs a token: pass --token TOKEN, set APPSYNC_TOKEN, or pass --token-command COMMAND";

/// Where tokens come from.
#[derive(Clone)]
pub(crate) enum TokenSource {
    /// The same token for every request.
    Fixed(Arc<str>),
    /// A command printing the token.
    Command(Arc<TokenCommand>),
    /// No source: every request in a token mode fails saying how to give one.
    Missing,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.write_str(match self {
            TokenSource::Fixed(_) => "Fixed(<redacted>)",
            TokenSource::Command(_) => "Command",
            TokenSource::Missing => "Missing",
        })
    }
}

/// `--token-command`: runs `sh -c COMMAND` (`cmd /C` on Windows) for each token the client's
/// cache asks for. The cache keeps a token until shortly before its expiry: the JWT `exp`
/// claim, else `ttl` after it was printed.
#[derive(Debug)]
pub(crate) struct TokenCommand {
    command: String,
    ttl: Duration,
    verbose: bool,
    /// How many times it ran (for `-v`).
    runs: AtomicU64,
}

impl TokenCommand {
    /// A command whose non-JWT tokens are used for `ttl`.
    pub(crate) fn new(command: String, ttl: Duration, verbose: bool) -> Self {
        TokenCommand {
            command,
            ttl,
            verbose,
            runs: AtomicU64::new(0),
        }
    }

    async fn run(&self, request: &TokenRequest) -> Result<Token, BoxError> {
        self.run_for(request.mode, request.kind, request.force_refresh)
            .await
    }

    /// Runs the command for a token of `mode` (and `kind`, for user pools).
    async fn run_for(
        &self,
        mode: AuthMode,
        kind: TokenKind,
        force_refresh: bool,
    ) -> Result<Token, BoxError> {
        let run = self.runs.fetch_add(1, Ordering::Relaxed) + 1;
        let kind = match kind {
            TokenKind::Id => "id",
            _ => "access",
        };
        if self.verbose {
            eprintln_safe(&format!(
                "token command: run {run} ({mode}, {kind} token{})",
                if force_refresh {
                    "; the last one was refused or expired"
                } else {
                    ""
                }
            ));
        }
        let mut cmd = shell(&self.command);
        cmd.env("APPSYNC_AUTH_MODE", mode.as_str())
            .env("APPSYNC_TOKEN_KIND", kind)
            .env(
                "APPSYNC_FORCE_REFRESH",
                if force_refresh { "1" } else { "0" },
            )
            // Its prompts and messages reach the user; its stdout is the token.
            .stdin(Stdio::inherit())
            .stderr(Stdio::inherit())
            .stdout(Stdio::piped())
            // The client gives up on a provider after its timeout: the command goes too.
            .kill_on_drop(true);
        let out = cmd
            .output()
            .await
            .map_err(|e| format!("the token command could not be started: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "the token command failed ({}); run it by hand to see why",
                out.status
            )
            .into());
        }
        let text = String::from_utf8(out.stdout)
            .map_err(|_| "the token command printed something that is not UTF-8 text")?;
        let token = text.trim();
        if token.is_empty() {
            return Err("the token command printed nothing; it must print the token".into());
        }
        if token.contains(['\n', '\r']) {
            return Err(
                "the token command printed several lines; it must print the token alone".into(),
            );
        }
        let token = Token::new(token.to_owned());
        Ok(match token.expires_at() {
            Some(_) => token,
            None => token.with_expiry(SystemTime::now() + self.ttl),
        })
    }
}

/// The shell that runs a command line.
fn shell(command: &str) -> tokio::process::Command {
    if cfg!(windows) {
        let mut c = tokio::process::Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c").arg(command);
        c
    }
}

fn eprintln_safe(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

impl TokenProvider for TokenSource {
    fn token<'a>(
        &'a self,
        request: &'a TokenRequest,
    ) -> appsync_client::auth::token::BoxFuture<'a, Result<Token, BoxError>> {
        Box::pin(async move {
            match self {
                TokenSource::Fixed(t) => Ok(Token::new(t.to_string())),
                TokenSource::Command(c) => c.run(request).await,
                TokenSource::Missing => Err(format!("{} {MISSING_TOKEN}", request.mode).into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: u64) -> String {
        use std::fmt::Write;
        let payload = format!("{{\"exp\":{exp}}}");
        let mut b64 = String::new();
        // base64url without padding, by hand (no dependency for a test).
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for chunk in payload.as_bytes().chunks(3) {
            let n = chunk.iter().fold(0u32, |n, b| (n << 8) | *b as u32) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                let _ = b64.write_char(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        format!("e30.{b64}.c2ln")
    }

    #[tokio::test]
    async fn command_tokens_expire_at_their_exp_else_after_the_ttl() {
        let exp = 2_000_000_000;
        let c = TokenCommand::new(
            format!("echo ' {} '", jwt(exp)),
            Duration::from_secs(5),
            false,
        );
        let t = c
            .run_for(AuthMode::UserPools, TokenKind::Access, false)
            .await
            .unwrap();
        assert_eq!(
            t.expires_at(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(exp))
        );
        let c = TokenCommand::new("echo opaque".into(), Duration::from_secs(60), false);
        let t = c
            .run_for(AuthMode::UserPools, TokenKind::Access, false)
            .await
            .unwrap();
        assert_eq!(t.value().expose(), "opaque");
        let left = t
            .expires_at()
            .unwrap()
            .duration_since(SystemTime::now())
            .unwrap();
        assert!(left > Duration::from_secs(50) && left <= Duration::from_secs(60));
    }

    #[tokio::test]
    async fn command_failures_say_what_to_do() {
        let run = |cmd: &str| {
            let c = TokenCommand::new(cmd.into(), Duration::from_secs(1), false);
            async move {
                c.run_for(AuthMode::UserPools, TokenKind::Access, false)
                    .await
                    .unwrap_err()
                    .to_string()
            }
        };
        assert!(run("exit 3").await.contains("failed"));
        assert!(run("true").await.contains("printed nothing"));
        assert!(run("printf 'a\\nb'").await.contains("several lines"));
        assert!(run("printf '\\377'").await.contains("not UTF-8"));
        let c = TokenCommand::new(
            "echo \"$APPSYNC_AUTH_MODE $APPSYNC_TOKEN_KIND $APPSYNC_FORCE_REFRESH\"".into(),
            Duration::from_secs(1),
            false,
        );
        assert_eq!(
            c.run_for(AuthMode::UserPools, TokenKind::Access, false)
                .await
                .unwrap()
                .value()
                .expose(),
            "AMAZON_COGNITO_USER_POOLS access 0"
        );
    }
}
