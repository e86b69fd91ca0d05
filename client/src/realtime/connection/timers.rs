//! The actor's one timer: the earliest deadline (backoff, acks, keep-alive, throttled starts,
//! idle close, stall) and what is due when it fires.

use super::*;

impl Actor {
    pub(super) fn next_wake(&self) -> Option<Instant> {
        let mut wake: Option<Instant> = None;
        let mut at = |t: Instant| wake = Some(wake.map_or(t, |w| w.min(t)));
        let paused = self.paused_since;
        if let Some(since) = paused {
            at(since + self.config.max_stall);
        }
        match &self.conn {
            Conn::Waiting { until } => at(*until),
            // An ack cannot be heard on a socket that is not read.
            Conn::AwaitAck { deadline, .. } if paused.is_none() => at(*deadline),
            // A socket that is not read cannot be heard: its watchdog waits.
            Conn::Ready {
                ka_timeout,
                last_heard,
                missed,
                ..
            } if paused.is_none() => {
                at(*last_heard + *ka_timeout);
                if !missed {
                    at(*last_heard + *ka_timeout / 2);
                }
            }
            _ => {}
        }
        // While the socket is not read, `on_timer` handles only the stall, the idle close and
        // the connection's own deadlines: a deadline it would not act on must not be waited
        // for, or the timer fires again at once, forever (found by the realtime_actor fuzz
        // target: a throttled start's backoff ending while the readers were behind).
        for sub in self.subs.values() {
            match &sub.state {
                SubState::Pending { deadline, .. } if paused.is_none() => at(*deadline),
                SubState::Backoff { until } if paused.is_none() && self.conn.is_ready() => {
                    at(*until)
                }
                _ => {}
            }
        }
        if paused.is_none() {
            for deadline in self.publish_deadlines() {
                at(deadline);
            }
        }
        if let (Some(since), false) = (self.idle_since, self.has_work()) {
            at(since + self.config.idle_close_delay);
        }
        wake
    }

    pub(super) async fn on_timer(&mut self) {
        let now = Instant::now();
        if !self.has_work() {
            if let Some(since) = self.idle_since {
                if now >= since + self.config.idle_close_delay {
                    tracing::debug!("closing the idle socket");
                    self.exit = true;
                    return;
                }
            }
        }
        if let Some(since) = self.paused_since {
            if now >= since + self.config.max_stall {
                self.shed();
            } else if !matches!(self.conn, Conn::Waiting { .. }) {
                // Nothing else is due while the socket is not read (it resumes or sheds); a
                // reconnection waiting for its backoff goes on.
                return;
            }
        }
        match &mut self.conn {
            Conn::Waiting { until } if now >= *until => {
                self.emit(ConnectionState::Reconnecting {
                    attempt: self.failures + 1,
                });
                self.begin_open();
            }
            Conn::AwaitAck { deadline, .. } if now >= *deadline => {
                let t = self.config.ack_timeout;
                self.attempt_failed(Failure::timeout(format!("no connection_ack within {t:?}")))
                    .await;
            }
            Conn::Ready {
                ka_timeout,
                last_heard,
                missed,
                ..
            } => {
                if now >= *last_heard + *ka_timeout {
                    // Down since it was last heard of.
                    let (t, heard) = (*ka_timeout, *last_heard);
                    self.close_socket(Some(CLOSE_NORMAL)).await;
                    let f = Failure::new(format!("nothing heard for {t:?}"));
                    self.socket_lost_since(f, Some(heard)).await;
                    return;
                }
                if !*missed && now >= *last_heard + *ka_timeout / 2 {
                    *missed = true;
                    self.emit(ConnectionState::KeepAliveMissed);
                }
            }
            _ => {}
        }
        if !self.conn.is_ready() {
            return;
        }
        self.publishes_due(now);
        let mut due: Vec<(u64, bool)> = self
            .subs
            .iter()
            .filter_map(|(k, s)| match &s.state {
                SubState::Pending { deadline, .. } if now >= *deadline => Some((*k, true)),
                SubState::Backoff { until } if now >= *until => Some((*k, false)),
                _ => None,
            })
            .collect();
        due.sort_unstable();
        for (key, timed_out) in due {
            if !self.conn.is_ready() {
                break;
            }
            if timed_out {
                self.start_timed_out(key).await;
            } else {
                if let Some(s) = self.subs.get_mut(&key) {
                    s.state = SubState::Queued;
                }
                self.start(key);
            }
        }
    }
}
