//! The subcommands, one module each, and what they share: waiting for Ctrl-C and durations
//! for people.

pub(crate) mod codegen;
pub(crate) mod config;
pub(crate) mod events;
pub(crate) mod graphql;
pub(crate) mod rest;
pub(crate) mod serve;
pub(crate) mod subscribe;

use std::time::Duration;

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM. Where a handler cannot be installed it
/// never resolves (the default action, ending the process, still applies).
pub(crate) async fn interrupted() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = async {
            match signal(SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}

/// `12h`, `2m`, `30s` or `1500ms`, for messages.
pub(crate) fn human(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0s".to_owned(),
        _ if ms.is_multiple_of(3_600_000) => format!("{}h", ms / 3_600_000),
        _ if ms.is_multiple_of(60_000) => format!("{}m", ms / 60_000),
        _ if ms.is_multiple_of(1000) => format!("{}s", ms / 1000),
        _ => format!("{ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_people() {
        assert_eq!(human(Duration::from_secs(43200)), "12h");
        assert_eq!(human(Duration::from_secs(120)), "2m");
        assert_eq!(human(Duration::from_secs(30)), "30s");
        assert_eq!(human(Duration::from_millis(1500)), "1500ms");
        assert_eq!(human(Duration::ZERO), "0s");
    }
}
