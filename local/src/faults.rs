//! Fault hooks for tests: what appsync-local should do wrong next, on HTTP and on its sockets
//! (GraphQL's and Events' alike: every socket command reaches both kinds).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::broadcast;

/// A command to every open realtime socket.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SocketCommand {
    /// Drop the TCP connection without a close frame (a network loss).
    Drop,
    /// Send a close frame with this code and reason.
    Close(u16, String),
    /// Send this frame as it is (e.g. an `error` frame without an id).
    Send(Value),
}

/// The fault switches. Get them with `LocalAppSync::faults()`; every switch takes effect on the
/// next request, connection or frame.
#[derive(Debug)]
pub struct Faults {
    http_failures: Mutex<Vec<(u16, Option<String>)>>,
    refuse_connections: Mutex<Vec<u16>>,
    keep_alive_paused: AtomicBool,
    refuse_acks: AtomicBool,
    ack_delay_ms: AtomicU64,
    sockets: broadcast::Sender<SocketCommand>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            http_failures: Mutex::default(),
            refuse_connections: Mutex::default(),
            keep_alive_paused: AtomicBool::new(false),
            refuse_acks: AtomicBool::new(false),
            ack_delay_ms: AtomicU64::new(0),
            sockets: broadcast::channel(64).0,
        }
    }
}

impl Faults {
    /// The next `n` `POST /graphql` and `POST /event` requests get this status (e.g. 503 or
    /// 429) with an `errors` envelope, before any auth check.
    pub fn fail_next_requests(&self, n: usize, status: u16) {
        let mut f = self.http_failures.lock().unwrap_or_else(|e| e.into_inner());
        f.extend(std::iter::repeat_n((status, None), n));
    }

    pub(crate) fn take_http_failure(&self) -> Option<u16> {
        let mut f = self.http_failures.lock().unwrap_or_else(|e| e.into_inner());
        (!f.is_empty()).then(|| f.remove(0).0)
    }

    /// The next `n` WebSocket upgrades (GraphQL or Events) are refused with this HTTP status (e.g. 503, or 401 for
    /// a refusal the client must not retry forever).
    pub fn refuse_next_connections(&self, n: usize, status: u16) {
        let mut f = self
            .refuse_connections
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        f.extend(std::iter::repeat_n(status, n));
    }

    pub(crate) fn take_connection_refusal(&self) -> Option<u16> {
        let mut f = self
            .refuse_connections
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        (!f.is_empty()).then(|| f.remove(0))
    }

    /// Stops (or resumes) sending `ka` frames on every socket.
    pub fn pause_keep_alives(&self, paused: bool) {
        self.keep_alive_paused.store(paused, Ordering::SeqCst);
    }

    pub(crate) fn keep_alives_paused(&self) -> bool {
        self.keep_alive_paused.load(Ordering::SeqCst)
    }

    /// Never answer `connection_init` (or answer again, with `false`).
    pub fn refuse_acks(&self, refuse: bool) {
        self.refuse_acks.store(refuse, Ordering::SeqCst);
    }

    pub(crate) fn acks_refused(&self) -> bool {
        self.refuse_acks.load(Ordering::SeqCst)
    }

    /// Wait this long before each `connection_ack`, `start_ack` and `subscribe_success`.
    pub fn delay_acks(&self, delay: Duration) {
        self.ack_delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub(crate) fn ack_delay(&self) -> Duration {
        Duration::from_millis(self.ack_delay_ms.load(Ordering::SeqCst))
    }

    /// Drops every open socket without a close frame.
    pub fn drop_all_sockets(&self) {
        let _ = self.sockets.send(SocketCommand::Drop);
    }

    /// Closes every open socket with this code and reason.
    pub fn close_all_sockets(&self, code: u16, reason: &str) {
        let _ = self
            .sockets
            .send(SocketCommand::Close(code, reason.to_owned()));
    }

    /// Sends this frame on every open socket.
    pub fn send_frame(&self, frame: Value) {
        let _ = self.sockets.send(SocketCommand::Send(frame));
    }

    /// Subscribes a socket to the commands.
    pub(crate) fn socket_commands(&self) -> broadcast::Receiver<SocketCommand> {
        self.sockets.subscribe()
    }
}
