//! Backpressure: reading stops while readers are behind by more than the socket's byte budget,
//! and the slowest readers are shed after the stall limit.

use super::*;

impl Actor {
    /// Stops reading when the readers are behind by more than the budget; `true` if it did.
    pub(super) fn maybe_pause(&mut self) -> bool {
        if self.paused_since.is_some() || !self.budget.over() {
            return false;
        }
        // Said before checking again, so that a reader draining in between wakes us.
        self.budget.set_paused(true);
        if self.budget.can_resume() {
            self.budget.set_paused(false);
            return false;
        }
        tracing::debug!(
            unread = self.budget.used(),
            "the readers are behind: reading stops"
        );
        self.paused_since = Some(Instant::now());
        true
    }

    pub(super) fn drained(&mut self) {
        if self.paused_since.is_some() && self.budget.can_resume() {
            self.resume();
        }
    }

    /// Reads again. Time spent stopped does not count against the server: the keep-alive
    /// watchdog and the `start_ack` deadlines move by it.
    pub(super) fn resume(&mut self) {
        let Some(since) = self.paused_since.take() else {
            return;
        };
        self.budget.set_paused(false);
        let now = Instant::now();
        let stopped = now.saturating_duration_since(since);
        tracing::debug!(?stopped, "reading again");
        if let Conn::Ready { last_heard, .. } = &mut self.conn {
            *last_heard = (*last_heard).max(now);
        }
        for sub in self.subs.values_mut() {
            if let SubState::Pending { deadline, .. } = &mut sub.state {
                *deadline += stopped;
            }
        }
    }

    /// The readers did not catch up in time: those holding more than a fair share of the
    /// budget drop their oldest events down to it (and keep dropping until they catch up).
    pub(super) fn shed(&mut self) {
        let n = self.subs.len().max(1);
        let share = (self.budget.limit() / 2 / n).max(1);
        let mut dropped = 0;
        for sub in self.subs.values() {
            if sub.shared.bytes() > share {
                dropped += sub.shared.shed(share);
            }
        }
        tracing::warn!(
            dropped,
            share,
            "subscription readers fell behind for too long: their oldest events are dropped"
        );
        self.resume();
    }
}
