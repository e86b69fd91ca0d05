//! Events: publishes over the socket — queued until the socket is acknowledged, authorized
//! beside the loop (IAM signs `{"channel","events"}`), sent, and matched with their
//! `publish_success` / `publish_error` by id.
//!
//! A publish is never sent twice: one whose socket is lost after it was sent fails (the server
//! may or may not have taken it), one not yet sent waits for the next socket, and every one
//! fails when a connection attempt fails (a publish does not wait for a server that is not
//! there).

use super::*;
use crate::channel::PublishResult;
use crate::realtime::protocol::PublishOutcome;

/// Where a publish stands.
#[derive(Debug)]
pub(super) enum PubState {
    /// Waits for an acknowledged socket.
    Queued,
    /// Its authorization is being made for the socket of this epoch.
    Authorizing { epoch: u64 },
    /// Sent under this id; answered by `deadline`.
    Sent { id: String, deadline: Instant },
    /// Throttled (`LimitExceededError`: not taken), sent again at `until`.
    Backoff { until: Instant },
}

pub(super) struct Pub {
    channel: Arc<str>,
    events: Arc<[String]>,
    headers: Arc<[(String, String)]>,
    reply: oneshot::Sender<PubReply>,
    pub(super) state: PubState,
    /// Throttled sends in a row.
    retries: u32,
}

impl Actor {
    /// Whether anything needs a socket: a subscription or a publish.
    pub(super) fn has_work(&self) -> bool {
        !self.subs.is_empty() || !self.pubs.is_empty()
    }

    pub(super) fn add_publish(&mut self, req: PublishRequest) {
        if self.exit {
            let _ = req.reply.send(PubReply::Retry);
            return;
        }
        self.idle_since = None;
        self.pubs.insert(
            req.key,
            Pub {
                channel: req.channel,
                events: req.events,
                headers: req.headers,
                reply: req.reply,
                state: PubState::Queued,
                retries: 0,
            },
        );
        match self.conn {
            Conn::Ready { .. } => self.authorize_publish(req.key),
            Conn::Down => {
                self.emit(ConnectionState::Connecting);
                self.begin_open();
            }
            // It is sent when the socket is acknowledged.
            _ => {}
        }
    }

    /// Starts making a queued publish's authorization, beside the loop.
    fn authorize_publish(&mut self, key: u64) {
        if !self.conn.is_ready() {
            return;
        }
        let epoch = self.epoch;
        let Some(p) = self.pubs.get_mut(&key) else {
            return;
        };
        p.state = PubState::Authorizing { epoch };
        let body = protocol::signed_publish_body(&p.channel, &p.events);
        let headers = p.headers.clone();
        let auth = self.auth.clone();
        let limit = self.config.auth_timeout;
        self.authorizing.push(Box::pin(async move {
            let r = within(
                limit,
                "a publish's authorization",
                auth.start_auth(&body, &headers),
            )
            .await;
            (key, epoch, r)
        }));
    }

    /// Sends every queued publish (the socket was just acknowledged).
    pub(super) fn send_queued_publishes(&mut self) {
        let mut queued: Vec<u64> = self
            .pubs
            .iter()
            .filter(|(_, p)| matches!(p.state, PubState::Queued))
            .map(|(k, _)| *k)
            .collect();
        queued.sort_unstable();
        for key in queued {
            self.authorize_publish(key);
        }
    }

    /// A publish's authorization is made: send it (if it still waits for it on this socket).
    pub(super) async fn publish_authorized(
        &mut self,
        key: u64,
        epoch: u64,
        result: Result<AuthObject>,
    ) {
        if epoch != self.epoch || !self.conn.is_ready() {
            return;
        }
        let Some(p) = self.pubs.get_mut(&key) else {
            return;
        };
        if !matches!(p.state, PubState::Authorizing { epoch: e } if e == epoch) {
            return;
        }
        p.state = PubState::Queued;
        let object = match result {
            Ok(o) => o,
            Err(e) => return self.finish_publish(key, Err(e)),
        };
        let (channel, events) = (p.channel.clone(), p.events.clone());
        let id = self.new_id();
        let frame = protocol::publish(&id, &channel, &events, &object);
        if let Err(e) = self.send(frame).await {
            self.socket_lost(Failure::new(format!("the socket failed: {e}")))
                .await;
            return;
        }
        if let Some(p) = self.pubs.get_mut(&key) {
            p.state = PubState::Sent {
                id: id.clone(),
                deadline: Instant::now() + self.config.start_ack_timeout,
            };
            self.ids.insert(&id, key);
        }
    }

    /// The server answered a publish. A throttled one (`LimitExceededError`) was not taken: it
    /// is sent again after a backoff, up to [`MAX_START_RETRIES`] times.
    pub(super) fn published(&mut self, id: &str, outcome: PublishOutcome) {
        let Some(key) = self.ids.remove(id) else {
            tracing::debug!(id, "a publish answer for an unknown id");
            return;
        };
        if let Err(errors) = &outcome {
            let delay = self.config.reconnect.delay(0);
            if let (true, Some(p)) = (protocol::is_limit_exceeded(errors), self.pubs.get_mut(&key))
            {
                if p.retries < MAX_START_RETRIES {
                    // Growing, jittered: the policy's delay for this many retries.
                    let delay = delay.max(self.config.reconnect.delay(p.retries));
                    p.retries += 1;
                    p.state = PubState::Backoff {
                        until: Instant::now() + delay,
                    };
                    tracing::debug!(
                        key,
                        retries = p.retries,
                        ?delay,
                        "publish throttled: sent again later"
                    );
                    return;
                }
            }
        }
        let result = outcome
            .map_err(|errors| Error::realtime_errors("the server refused the publish", errors));
        self.finish_publish(key, result);
    }

    /// Whether `key` is a publish (an `error` frame with its id is its refusal).
    pub(super) fn is_publish(&self, key: u64) -> bool {
        self.pubs.contains_key(&key)
    }

    /// Answers the caller of a publish and forgets it.
    pub(super) fn finish_publish(&mut self, key: u64, result: Result<PublishResult>) {
        let Some(p) = self.pubs.remove(&key) else {
            return;
        };
        if let PubState::Sent { id, .. } = &p.state {
            self.ids.remove(id);
        }
        if let Err(e) = &result {
            tracing::debug!(key, error = %e, "publish failed");
        }
        let _ = p.reply.send(PubReply::Done(result));
        self.note_idle();
    }

    /// Fails the publishes whose state matches, each with `error()`.
    pub(super) fn fail_publishes(
        &mut self,
        matches: impl Fn(&PubState) -> bool,
        error: impl Fn() -> Error,
    ) {
        let keys: Vec<u64> = self
            .pubs
            .iter()
            .filter(|(_, p)| matches(&p.state))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            self.finish_publish(key, Err(error()));
        }
    }

    /// The socket is gone: publishes sent on it fail (their outcome is unknown, and sending
    /// again could deliver twice); the others wait for the next socket.
    pub(super) fn publishes_lost(&mut self, failure: &Failure) {
        self.fail_publishes(
            |s| matches!(s, PubState::Sent { .. }),
            || {
                Error::realtime(format!(
                    "the socket was lost before the publish was answered ({}); the events may or \
                     may not have been delivered",
                    failure.message
                ))
            },
        );
        // Throttled ones go with the rest: a new socket has a new rate.
        for p in self.pubs.values_mut() {
            p.state = PubState::Queued;
        }
    }

    /// The deadlines of the publishes: answers due, and throttled ones to send again (on an
    /// acknowledged socket).
    pub(super) fn publish_deadlines(&self) -> impl Iterator<Item = Instant> + '_ {
        let ready = self.conn.is_ready();
        self.pubs.values().filter_map(move |p| match &p.state {
            PubState::Sent { deadline, .. } => Some(*deadline),
            PubState::Backoff { until } if ready => Some(*until),
            _ => None,
        })
    }

    /// Fails the publishes not answered in time, and sends again the throttled ones that are
    /// due.
    pub(super) fn publishes_due(&mut self, now: Instant) {
        let mut due: Vec<u64> = self
            .pubs
            .iter()
            .filter(|(_, p)| matches!(p.state, PubState::Backoff { until } if now >= until))
            .map(|(k, _)| *k)
            .collect();
        due.sort_unstable();
        for key in due {
            if let Some(p) = self.pubs.get_mut(&key) {
                p.state = PubState::Queued;
            }
            self.authorize_publish(key);
        }
        self.publishes_timed_out(now);
    }

    /// Fails the publishes not answered in time.
    fn publishes_timed_out(&mut self, now: Instant) {
        let t = self.config.start_ack_timeout;
        self.fail_publishes(
            |s| matches!(s, PubState::Sent { deadline, .. } if now >= *deadline),
            || {
                Error::timeout(format!(
                    "no answer to the publish within {t:?}; the events may or may not have been \
                     delivered"
                ))
            },
        );
    }
}
