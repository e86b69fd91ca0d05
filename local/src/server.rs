//! `LocalAppSync`, the running server: `start` wires the builder's state to the router and the
//! listener (plain or TLS); the handle gives its URLs, tokens, faults, store and config files.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::auth::AuthMode;
use crate::builder::{LocalAppSyncBuilder, Prepared};
use crate::error::Error;
use crate::faults::Faults;
use crate::state::ServerState;
use crate::store::Store;
use crate::token::TokenSpec;

impl LocalAppSyncBuilder {
    /// Fetches the key sets given by URL ([`LocalAppSyncBuilder::user_pool_jwks_url`]),
    /// checks everything, binds 127.0.0.1 on a free port and starts serving. Every problem
    /// (settings, schema, key sets) is reported at once in the error.
    pub async fn start(mut self) -> Result<LocalAppSync, Error> {
        self.fetch_jwks().await;
        let Prepared { mut state, tls } = self.prepare()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::new(format!("cannot bind 127.0.0.1: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::new(e.to_string()))?;
        state.auth.hosts.splice(
            0..0,
            [addr.to_string(), format!("localhost:{}", addr.port())],
        );
        let state = Arc::new(state);
        let app = router(state.clone());
        let (stop, stop_rx) = oneshot::channel::<()>();
        let (task, cert_pem) = if tls {
            let tls = crate::tls::self_signed().map_err(Error::new)?;
            let listener = crate::tls::TlsListener::new(listener, tls.acceptor)
                .map_err(|e| Error::new(e.to_string()))?;
            (serve(listener, app, stop_rx), Some(tls.cert_pem))
        } else {
            (serve(listener, app, stop_rx), None)
        };
        tracing::info!(%addr, "appsync-local is listening");
        Ok(LocalAppSync {
            addr,
            cert_pem,
            state,
            stop: Some(stop),
            task,
        })
    }
}

/// The routes: GraphQL over HTTP and its realtime upgrades (with a schema), Events' publish and
/// realtime upgrade (with an Event API), the key sets of the token issuers.
fn router(state: Arc<ServerState>) -> Router {
    let mut router = Router::new();
    if state.engine.is_some() {
        router = router
            .route(
                "/graphql",
                post(crate::http::graphql).get(crate::realtime::upgrade),
            )
            .route("/graphql/realtime", get(crate::realtime::upgrade));
    }
    if state.events.is_some() {
        router = router
            .route("/event", post(crate::http::events))
            .route("/event/realtime", get(crate::realtime::events_upgrade));
    }
    router
        .route("/{pool}/.well-known/jwks.json", get(crate::http::jwks))
        .with_state(state)
}

/// Serves `app` on `listener` until `stop` fires (or its sender is dropped).
fn serve<L>(listener: L, app: Router, stop: oneshot::Receiver<()>) -> tokio::task::JoinHandle<()>
where
    L: axum::serve::Listener,
    L::Addr: fmt::Debug,
{
    tokio::spawn(async move {
        let stopped = async {
            let _ = stop.await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(error = %e, "appsync-local stopped");
        }
    })
}

/// A running local AppSync. Dropping it stops the server.
pub struct LocalAppSync {
    addr: SocketAddr,
    cert_pem: Option<String>,
    state: Arc<ServerState>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for LocalAppSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalAppSync")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl LocalAppSync {
    /// Starts configuring a server.
    pub fn builder() -> LocalAppSyncBuilder {
        LocalAppSyncBuilder::default()
    }

    /// The address it listens on (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn http_url(&self, path: &str) -> String {
        let scheme = if self.cert_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}{path}", self.addr)
    }

    fn ws_url(&self, path: &str) -> String {
        let scheme = if self.cert_pem.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}{path}", self.addr)
    }

    /// `http://127.0.0.1:PORT/graphql` (`https` with TLS). Served only with a schema.
    pub fn graphql_url(&self) -> String {
        self.http_url("/graphql")
    }

    /// `ws://127.0.0.1:PORT/graphql/realtime` (`wss` with TLS). Served only with a schema.
    pub fn realtime_url(&self) -> String {
        self.ws_url("/graphql/realtime")
    }

    /// The Event API's HTTP endpoint, `http://127.0.0.1:PORT/event` (`https` with TLS), where
    /// events are published. Served only with an [Event API](crate::LocalAppSyncBuilder::events).
    pub fn events_url(&self) -> String {
        self.http_url("/event")
    }

    /// The Event API's realtime endpoint, `ws://127.0.0.1:PORT/event/realtime` (`wss` with
    /// TLS): AWS's custom-domain form, which is what Amplify JS derives from
    /// [`LocalAppSync::events_url`].
    pub fn events_realtime_url(&self) -> String {
        self.ws_url("/event/realtime")
    }

    /// The self-signed certificate (PEM) when serving TLS.
    pub fn tls_certificate_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// The region IAM signatures must name.
    pub fn region(&self) -> &str {
        &self.state.auth.region
    }

    /// The first API key, if any.
    pub fn api_key(&self) -> Option<&str> {
        self.state.auth.api_key()
    }

    /// A user-pool token for `username`; panics if no user pool is configured (a test bug).
    pub fn user_pool_token(&self, username: &str) -> TokenSpec<'_> {
        let pool = self.state.auth.user_pool.as_ref();
        let pool = pool.expect("no user pool: call LocalAppSyncBuilder::user_pool");
        TokenSpec::user_pool(pool, username)
    }

    /// An OIDC token for `subject`; panics if no OIDC issuer is configured (a test bug).
    pub fn oidc_token(&self, subject: &str) -> TokenSpec<'_> {
        let issuer = self.state.auth.oidc.as_ref();
        let issuer = issuer.expect("no OIDC issuer: call LocalAppSyncBuilder::oidc_issuer");
        TokenSpec::oidc(issuer, subject)
    }

    /// The fault switches.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// The store behind the default resolvers.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Every mode the GraphQL API enables (none on an Events-only server).
    pub fn auth_modes(&self) -> Vec<AuthMode> {
        self.state.auth.modes.iter().copied().collect()
    }

    /// A Gen2 `amplify_outputs.json` for this server: `data` for the GraphQL API, and
    /// `custom.events` (`url`, `aws_region`, `default_authorization_type`, `api_key`) for the
    /// Event API.
    pub fn amplify_outputs(&self) -> Value {
        let graphql = self
            .state
            .engine
            .is_some()
            .then(|| (self.state.default_mode, self.graphql_url()));
        let events = self
            .state
            .events
            .as_ref()
            .map(|e| (e.default_mode, self.events_url()));
        crate::amplify::outputs(&self.state.auth, graphql, events)
    }

    /// A Gen1 `amplifyconfiguration.json`: one friendly name per auth mode, `<name>_<MODE>`,
    /// all on the same URL, the default mode's name plain `<name>`. Gen1 has no Event API.
    pub fn amplify_configuration(&self, name: &str) -> Value {
        let url = self.graphql_url();
        crate::amplify::configuration(&self.state.auth, self.state.default_mode, &url, name)
    }

    /// Writes [`LocalAppSync::amplify_outputs`] to a file.
    pub fn write_amplify_outputs(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, serde_json::to_vec_pretty(&self.amplify_outputs())?)
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.state.faults.drop_all_sockets();
        let _ = (&mut self.task).await;
    }
}

impl Drop for LocalAppSync {
    fn drop(&mut self) {
        self.state.faults.drop_all_sockets();
        self.task.abort();
    }
}

#[cfg(feature = "fuzzing")]
impl LocalAppSync {
    /// The routes `start` serves, on this server's state, to be served in-process by the fuzz
    /// targets.
    pub(crate) fn fuzz_router(&self) -> Router {
        router(self.state.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn none_is_refused_as_an_api_mode() {
        let started = LocalAppSync::builder()
            .schema("type Query { a: Int }")
            .default_auth_mode(AuthMode::ApiKey)
            .api_key("da2-k")
            .additional_auth_modes([AuthMode::None])
            .start()
            .await;
        let Err(e) = started else {
            panic!("NONE is refused");
        };
        assert!(
            e.to_string()
                .contains("NONE is not an AppSync authorization type"),
            "{e}"
        );
    }
}
