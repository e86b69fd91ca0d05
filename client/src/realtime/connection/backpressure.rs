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

    /// Ends a subscription's queue; the queue stays in the budget's care until it is read.
    pub(super) fn finish(&mut self, shared: Arc<Shared>, error: Option<Error>) {
        shared.finish(error);
        self.ended.retain(|q| q.bytes() > 0);
        if shared.bytes() > 0 {
            self.ended.push(shared);
        }
    }

    /// The readers did not catch up in time: those holding more than a fair share of the
    /// budget drop their oldest events down to it (and keep dropping until they catch up),
    /// the readers of ended subscriptions included.
    pub(super) fn shed(&mut self) {
        self.ended.retain(|q| q.bytes() > 0);
        let n = (self.subs.len() + self.ended.len()).max(1);
        let share = (self.budget.limit() / 2 / n).max(1);
        let mut dropped = 0;
        let queues = self.subs.values().map(|s| &s.shared).chain(&self.ended);
        for q in queues {
            if q.bytes() > share {
                dropped += q.shed(share);
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
