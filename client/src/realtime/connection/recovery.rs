//! Losses and failures: what follows each (a fresh retry, backoff, reports, giving up), and
//! the counting of failures in a row.

use super::*;

impl Actor {
    /// The socket was lost, or a connection attempt failed (before the ack).
    pub(super) async fn socket_lost(&mut self, failure: Failure) {
        self.socket_lost_since(failure, None).await;
    }

    /// The socket was lost, down since `down_since` (default: now).
    pub(super) async fn socket_lost_since(
        &mut self,
        failure: Failure,
        down_since: Option<Instant>,
    ) {
        let since = match &self.conn {
            Conn::Ready { since, .. } => *since,
            _ => return self.attempt_failed(failure).await,
        };
        let now = Instant::now();
        if now.saturating_duration_since(since) >= self.config.reconnect.healthy() {
            // It was up long enough: the failures before it are forgotten.
            self.failures = 0;
            self.fresh_retry_used = false;
        } else {
            self.failures = self.failures.saturating_add(1);
        }
        self.lose(down_since.unwrap_or(now), &failure);
        self.after_failure(failure, false).await;
    }

    /// Drops the socket and requeues every subscription, keeping when each went down.
    pub(super) fn lose(&mut self, down_since: Instant, failure: &Failure) {
        let was_ready = self.conn.is_ready();
        self.conn = Conn::Down;
        self.requeue();
        self.publishes_lost(failure);
        tracing::debug!(why = %failure.message, "realtime socket lost");
        for sub in self.subs.values_mut() {
            if sub.established() && sub.down_since.is_none() {
                sub.down_since = Some(down_since);
            }
        }
        if was_ready {
            self.emit(ConnectionState::Disrupted {
                cause: failure.disruption(),
            });
        }
    }

    /// Every subscription waits for the next socket. Reading stays stopped while the readers
    /// are still behind: the next socket is not read either until they catch up or are shed
    /// (else each reconnection would let one more frame past the budget; found by the
    /// realtime_actor fuzz target).
    pub(super) fn requeue(&mut self) {
        self.ids.clear();
        for sub in self.subs.values_mut() {
            if !matches!(sub.state, SubState::Backoff { .. }) {
                sub.state = SubState::Queued;
            }
        }
        if self.paused_since.is_some() && self.budget.can_resume() {
            self.resume();
        }
    }

    /// A connection attempt failed (opening, refusal, no ack, closed before the ack).
    pub(super) async fn attempt_failed(&mut self, failure: Failure) {
        self.conn = Conn::Down;
        self.requeue();
        self.publishes_lost(&failure);
        self.failures = self.failures.saturating_add(1);
        tracing::debug!(message = %failure.message, refused = failure.refused, failures = self.failures, "realtime connection attempt failed");
        self.after_failure(failure, true).await;
    }

    /// What follows a failure: a fresh retry at once for a first refusal of the credentials;
    /// else first starts fail (with `fail_waiting`), and the rest wait for a reconnection with
    /// backoff, unless the failure is permanent or the policy gives up.
    pub(super) async fn after_failure(&mut self, failure: Failure, fail_waiting: bool) {
        if failure.refused && !self.fresh_retry_used && self.has_work() {
            let auth = self.auth.clone();
            if auth.refresh(failure.date).await {
                self.fresh_retry_used = true;
                tracing::debug!("credentials refused: retrying at once with fresh ones");
                self.emit(ConnectionState::Reconnecting {
                    attempt: self.failures + 1,
                });
                self.begin_open();
                return;
            }
        }
        if fail_waiting {
            // First starts do not wait for a server that is not there.
            let waiting: Vec<u64> = self
                .subs
                .iter()
                .filter(|(_, s)| !s.established())
                .map(|(k, _)| *k)
                .collect();
            for key in waiting {
                self.fail(key, failure.to_error());
            }
            self.fail_publishes(|_| true, || failure.to_error());
        }
        if !self.has_work() {
            return;
        }
        if failure.permanent {
            self.terminal(&failure.terminal("the realtime connection cannot be made"));
            return;
        }
        if let Some(max) = self.config.reconnect.attempts_limit() {
            if self.failures >= max {
                let f = failure.terminal(&format!("gave up after {max} failures in a row"));
                self.terminal(&f);
                return;
            }
        }
        if failure.refused {
            // Whatever was refused is not offered again.
            let auth = self.auth.clone();
            auth.refresh(failure.date).await;
        }
        self.report(&failure);
        self.schedule_reconnect();
    }

    /// From `report_after` failures in a row on, the application hears of each.
    pub(super) fn report(&mut self, failure: &Failure) {
        if self.failures < self.config.reconnect.reports_from() {
            return;
        }
        let cause = failure.disruption();
        tracing::warn!(failures = self.failures, cause = %cause, "the realtime connection keeps failing");
        for sub in self.subs.values() {
            if sub.established() {
                sub.shared.push_failing(self.failures, cause.clone());
            }
        }
        self.emit(ConnectionState::Failing {
            failures: self.failures,
            cause,
        });
    }

    pub(super) fn schedule_reconnect(&mut self) {
        if !self.has_work() {
            self.conn = Conn::Down;
            return;
        }
        let delay = self.config.reconnect.delay(self.failures);
        tracing::debug!(
            ?delay,
            attempt = self.failures + 1,
            "reconnecting after a delay"
        );
        self.conn = Conn::Waiting {
            until: Instant::now() + delay,
        };
    }

    /// Ends every subscription with the failure and stops the actor.
    pub(super) fn terminal(&mut self, failure: &Failure) {
        tracing::warn!(message = %failure.message, "realtime connection given up");
        let keys: Vec<u64> = self.subs.keys().copied().collect();
        for key in keys {
            self.fail(key, failure.to_error());
        }
        self.fail_publishes(|_| true, || failure.to_error());
        self.conn = Conn::Down;
        self.exit = true;
    }

    /// The signed-in identity changed: a socket made with the old one (open, or opening) is
    /// closed and made again at once with fresh auth; its subscriptions resume. Not a failure.
    pub(super) async fn reauthenticate(&mut self) {
        match self.conn {
            Conn::Ready { .. } | Conn::AwaitAck { .. } => {
                tracing::debug!("the identity changed: reconnecting with fresh auth");
                self.close_socket(Some(CLOSE_NORMAL)).await;
                self.lose(
                    Instant::now(),
                    &Failure::new("the signed-in identity changed"),
                );
            }
            Conn::Opening { .. } => tracing::debug!("the identity changed: opening again"),
            // The next attempt asks for fresh auth anyway.
            Conn::Down | Conn::Waiting { .. } => return,
        }
        if !self.has_work() {
            self.conn = Conn::Down;
            return;
        }
        self.emit(ConnectionState::Reconnecting {
            attempt: self.failures + 1,
        });
        self.begin_open();
    }
}
