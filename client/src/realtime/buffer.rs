//! The buffers between a socket's actor and its subscriptions' streams, bounded by bytes.
//!
//! Each subscription has a [`Shared`] queue; the socket has one [`Budget`] of unread bytes for
//! all of them. Over the budget the actor stops reading the socket (TCP holds the rest) until
//! readers drain half of it: a burst the readers work through loses nothing. A reader that does
//! not catch up within the stall limit is *shed*: its oldest events are dropped down to a share
//! of the budget and counted (the reader sees `Lagged`), and it keeps dropping instead of
//! stopping the socket until it has emptied its queue. An optional per-subscription event cap
//! drops the oldest event at once. `Resumed` and `Failing` markers are kept (merged when
//! nothing separates them); the end (completion or error) is delivered last.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use tokio::sync::Notify;

use super::failure::Disruption;
use super::socket::TextFrame;
use crate::error::Error;

/// The unread bytes of one socket's subscriptions, and the actor's wake-up when they drain.
#[derive(Debug)]
pub(crate) struct Budget {
    used: AtomicUsize,
    limit: usize,
    /// The actor stopped reading and waits for `drained`.
    paused: AtomicBool,
    drained: Notify,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Self {
        Budget {
            used: AtomicUsize::new(0),
            limit: limit.max(1),
            paused: AtomicBool::new(false),
            drained: Notify::new(),
        }
    }

    fn charge(&self, n: usize) {
        self.used.fetch_add(n, Ordering::SeqCst);
    }

    fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let before = self.used.fetch_sub(n, Ordering::SeqCst);
        if self.paused.load(Ordering::SeqCst) && before.saturating_sub(n) <= self.resume_at() {
            // A permit is kept if the actor is not waiting yet: no wake-up is lost.
            self.drained.notify_one();
        }
    }

    /// The reading stops above this.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// And resumes at or below this.
    fn resume_at(&self) -> usize {
        self.limit / 2
    }

    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    pub(crate) fn over(&self) -> bool {
        self.used() > self.limit
    }

    pub(crate) fn can_resume(&self) -> bool {
        self.used() <= self.resume_at()
    }

    /// The actor says whether it waits; set *before* it checks [`Budget::can_resume`] again,
    /// so that a reader draining in between wakes it.
    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
    }

    /// Resolves when readers drained the budget enough (or spuriously: check again).
    pub(crate) async fn drained(&self) {
        self.drained.notified().await;
    }
}

/// One buffered item.
#[derive(Debug)]
pub(crate) enum Item {
    /// A `data` frame, as received: the reader decodes its `payload` into its type.
    Data(TextFrame),
    /// The subscription runs again after a reconnection; the socket was down this long.
    Resumed(Duration),
    /// The socket fails to come back: this many failures in a row, the last one's cause.
    Failing(u32, Disruption),
}

/// What the reader gets next.
#[derive(Debug)]
pub(crate) enum Next {
    Item(Item),
    /// This many data events were dropped since the last read.
    Lagged(u64),
    /// The subscription failed; nothing follows.
    Failed(Error),
    /// The subscription ended (the server completed it, or it failed and that was read).
    Done,
    /// Nothing yet; the waker is stored.
    Pending,
}

#[derive(Debug)]
enum End {
    Completed,
    Failed(Error),
    /// The end was read.
    Read,
}

#[derive(Debug)]
struct State {
    items: VecDeque<Item>,
    /// Data events in `items`, and their bytes.
    data: usize,
    bytes: usize,
    /// The optional cap on data events.
    cap: Option<usize>,
    /// Shed: the bytes it may hold before dropping its oldest, until its reader empties it.
    shed_to: Option<usize>,
    missed: u64,
    end: Option<End>,
    waker: Option<Waker>,
    /// The reader is gone: drop everything from now on.
    closed: bool,
    /// The budget of the socket it is on (set when a socket takes it).
    budget: Option<Arc<Budget>>,
}

impl State {
    /// Drops the oldest data event, counting it; false when there is none.
    fn drop_oldest(&mut self) -> bool {
        let Some(i) = self.items.iter().position(|it| matches!(it, Item::Data(_))) else {
            return false;
        };
        if let Some(Item::Data(f)) = self.items.remove(i) {
            self.data -= 1;
            self.take_bytes(f.len());
        }
        self.missed += 1;
        // The markers on both sides of it are one run now.
        self.merge_markers_around(i);
        true
    }

    /// Rewrites the run of markers that contains position `at` (or ends just before it) as at
    /// most two: the `Resumed` gaps summed, the last `Failing`, in the order of their last
    /// appearance. Markers never pile up, however often a socket flaps between two events.
    fn merge_markers_around(&mut self, at: usize) {
        let is_marker = |it: &Item| !matches!(it, Item::Data(_));
        let mut start = at.min(self.items.len());
        while start > 0 && is_marker(&self.items[start - 1]) {
            start -= 1;
        }
        let mut end = at.min(self.items.len());
        while end < self.items.len() && is_marker(&self.items[end]) {
            end += 1;
        }
        if end - start <= 1 {
            return;
        }
        let mut gap: Option<(Duration, usize)> = None;
        let mut failing: Option<(u32, Disruption, usize)> = None;
        for (k, it) in self.items.drain(start..end).enumerate() {
            match it {
                Item::Resumed(g) => gap = Some((gap.map_or(g, |(a, _)| a + g), k)),
                Item::Failing(n, c) => failing = Some((n, c, k)),
                Item::Data(_) => {}
            }
        }
        let mut run: Vec<(usize, Item)> = Vec::with_capacity(2);
        if let Some((g, k)) = gap {
            run.push((k, Item::Resumed(g)));
        }
        if let Some((n, c, k)) = failing {
            run.push((k, Item::Failing(n, c)));
        }
        run.sort_by_key(|(k, _)| *k);
        for (offset, (_, it)) in run.into_iter().enumerate() {
            self.items.insert(start + offset, it);
        }
    }

    fn push_marker(&mut self, item: Item) {
        self.items.push_back(item);
        let last = self.items.len() - 1;
        self.merge_markers_around(last);
    }

    fn take_bytes(&mut self, n: usize) {
        self.bytes -= n;
        if let Some(b) = &self.budget {
            b.release(n);
        }
    }
}

/// The queue of one subscription, shared by the actor (writer) and the `Subscription` (reader).
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    /// A queue with an optional cap on data events (at least 1).
    pub(crate) fn new(cap: Option<usize>) -> Self {
        Shared {
            state: Mutex::new(State {
                items: VecDeque::new(),
                data: 0,
                bytes: 0,
                cap: cap.map(|c| c.max(1)),
                shed_to: None,
                missed: 0,
                end: None,
                waker: None,
                closed: false,
                budget: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(mut s: std::sync::MutexGuard<'_, State>) {
        let w = s.waker.take();
        drop(s);
        if let Some(w) = w {
            w.wake();
        }
    }

    /// Charges this queue's bytes to a socket's budget from now on.
    pub(crate) fn attach(&self, budget: Arc<Budget>) {
        let mut s = self.lock();
        if let Some(old) = s.budget.take() {
            old.release(s.bytes);
        }
        budget.charge(s.bytes);
        s.budget = Some(budget);
    }

    /// Adds a data event (dropping the oldest when the cap, or a shed subscription's share, says
    /// so).
    pub(crate) fn push_data(&self, frame: TextFrame) {
        let mut s = self.lock();
        if s.closed || s.end.is_some() {
            return;
        }
        if let Some(cap) = s.cap {
            while s.data >= cap && s.drop_oldest() {}
        }
        let n = frame.len();
        if let Some(share) = s.shed_to {
            while s.bytes + n > share && s.drop_oldest() {}
            if n > share {
                // Bigger than the whole share: dropped too (and counted), rather than held
                // past it: each shed queue keeping one big frame would let a socket's unread
                // bytes grow with its subscriptions (found by the realtime_actor fuzz target).
                s.missed += 1;
                Self::wake(s);
                return;
            }
        }
        s.items.push_back(Item::Data(frame));
        s.data += 1;
        s.bytes += n;
        if let Some(b) = &s.budget {
            b.charge(n);
        }
        // One wake-up per batch: the waker is taken, and stored again only when the reader
        // finds the queue empty.
        Self::wake(s);
    }

    /// Adds a `Resumed` marker (merged with the markers just before it).
    pub(crate) fn push_resumed(&self, gap: Duration) {
        let mut s = self.lock();
        if s.closed || s.end.is_some() {
            return;
        }
        s.push_marker(Item::Resumed(gap));
        Self::wake(s);
    }

    /// Adds a `Failing` marker (merged with the markers just before it).
    pub(crate) fn push_failing(&self, failures: u32, cause: Disruption) {
        let mut s = self.lock();
        if s.closed || s.end.is_some() {
            return;
        }
        s.push_marker(Item::Failing(failures, cause));
        Self::wake(s);
    }

    /// Ends the subscription, with an error or (`None`) as completed. The first end wins.
    pub(crate) fn finish(&self, error: Option<Error>) {
        let mut s = self.lock();
        if s.end.is_none() {
            s.end = Some(match error {
                Some(e) => End::Failed(e),
                None => End::Completed,
            });
        }
        Self::wake(s);
    }

    /// The reader is gone: its bytes go back to the budget.
    pub(crate) fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        s.items.clear();
        s.data = 0;
        let n = s.bytes;
        s.take_bytes(n);
    }

    /// How many items wait.
    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// The unread bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Drops the oldest events down to `share` bytes and keeps dropping rather than growing
    /// past it until the reader empties the queue. Returns how many were dropped.
    pub(crate) fn shed(&self, share: usize) -> u64 {
        let mut s = self.lock();
        let before = s.missed;
        while s.bytes > share && s.drop_oldest() {}
        s.shed_to = Some(share);
        let dropped = s.missed - before;
        if dropped > 0 {
            Self::wake(s);
        }
        dropped
    }

    /// The next thing for the reader; stores `waker` when there is nothing.
    pub(crate) fn next(&self, waker: &Waker) -> Next {
        let mut s = self.lock();
        if s.missed > 0 {
            let n = std::mem::take(&mut s.missed);
            if s.bytes == 0 {
                // Caught up (everything it held was dropped): back to stopping the socket.
                s.shed_to = None;
            }
            return Next::Lagged(n);
        }
        if let Some(item) = s.items.pop_front() {
            if let Item::Data(f) = &item {
                s.data -= 1;
                s.take_bytes(f.len());
                if s.bytes == 0 {
                    // Caught up: back to stopping the socket rather than dropping.
                    s.shed_to = None;
                }
            }
            return Next::Item(item);
        }
        match s.end.take() {
            Some(End::Failed(e)) => {
                s.end = Some(End::Read);
                Next::Failed(e)
            }
            Some(End::Completed | End::Read) => {
                s.end = Some(End::Read);
                Next::Done
            }
            None => {
                match &s.waker {
                    Some(w) if w.will_wake(waker) => {}
                    _ => s.waker = Some(waker.clone()),
                }
                Next::Pending
            }
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Whatever is left unread goes back to the socket's budget.
        let s = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = &s.budget {
            b.release(s.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: u64) -> TextFrame {
        TextFrame::new(n.to_string())
    }

    fn noop() -> Waker {
        Waker::noop().clone()
    }

    fn drain(s: &Shared) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            match s.next(&noop()) {
                Next::Item(Item::Data(v)) => out.push(format!("d{}", v.as_str())),
                Next::Item(Item::Resumed(g)) => out.push(format!("r{}", g.as_secs())),
                Next::Item(Item::Failing(n, _)) => out.push(format!("f{n}")),
                Next::Lagged(n) => out.push(format!("lag{n}")),
                Next::Failed(e) => out.push(format!("err:{e}")),
                Next::Done => {
                    out.push("done".into());
                    return out;
                }
                Next::Pending => return out,
            }
        }
    }

    #[test]
    fn with_a_cap_the_oldest_data_is_dropped_and_counted() {
        let s = Shared::new(Some(3));
        for n in 0..10 {
            s.push_data(data(n));
        }
        assert_eq!(s.len(), 3);
        assert_eq!(drain(&s), ["lag7", "d7", "d8", "d9"]);
        s.push_data(data(10));
        assert_eq!(drain(&s), ["d10"]);
    }

    #[test]
    fn bytes_are_charged_to_the_budget_and_given_back() {
        let budget = Arc::new(Budget::new(10));
        let s = Shared::new(None);
        s.push_data(data(1)); // before attach: charged at attach
        s.attach(budget.clone());
        assert_eq!(budget.used(), 1);
        for n in 10..16 {
            s.push_data(data(n)); // 2 bytes each
        }
        assert_eq!((budget.used(), budget.over()), (13, true));
        assert_eq!(drain(&s).len(), 7, "nothing is dropped without a cap");
        assert_eq!(budget.used(), 0);
        s.push_data(data(99));
        drop(s);
        assert_eq!(budget.used(), 0, "a dropped queue gives its bytes back");
    }

    #[test]
    fn a_shed_queue_drops_down_to_its_share_until_it_is_read_empty() {
        let budget = Arc::new(Budget::new(100));
        let s = Shared::new(None);
        s.attach(budget.clone());
        for n in 10..60 {
            s.push_data(data(n)); // 100 bytes
        }
        assert_eq!(s.shed(10), 45);
        assert_eq!((s.bytes(), budget.used()), (10, 10));
        s.push_data(data(60));
        assert_eq!(s.bytes(), 10, "still shedding");
        assert_eq!(drain(&s), ["lag46", "d56", "d57", "d58", "d59", "d60"]);
        for n in 61..70 {
            s.push_data(data(n));
        }
        assert_eq!(s.bytes(), 18, "emptied once: it grows again");
    }

    #[test]
    fn a_shed_queue_drops_a_frame_bigger_than_its_share_until_it_is_read() {
        let budget = Arc::new(Budget::new(100));
        let s = Shared::new(None);
        s.attach(budget.clone());
        for n in 10..20 {
            s.push_data(data(n)); // 20 bytes
        }
        assert_eq!(s.shed(1), 10);
        s.push_data(data(20));
        s.push_data(data(21));
        assert_eq!(
            (s.bytes(), budget.used()),
            (0, 0),
            "nothing held past the share"
        );
        assert_eq!(drain(&s), ["lag12"]);
        s.push_data(data(22));
        assert_eq!(drain(&s), ["d22"], "read empty: it holds events again");
    }

    #[test]
    fn the_budget_wakes_a_paused_actor_once_half_is_drained() {
        use std::future::Future;
        let budget = Arc::new(Budget::new(4));
        let s = Shared::new(None);
        s.attach(budget.clone());
        for n in 10..13 {
            s.push_data(data(n));
        }
        budget.set_paused(true);
        assert!(!budget.can_resume());
        let mut drained = Box::pin(budget.drained());
        let waker = noop();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(drained.as_mut().poll(&mut cx).is_pending());
        let _ = s.next(&noop()); // 4 bytes left: not yet
        assert!(drained.as_mut().poll(&mut cx).is_pending());
        let _ = s.next(&noop()); // 2 left: half of 4
        assert!(drained.as_mut().poll(&mut cx).is_ready());
        assert!(budget.can_resume());
    }

    #[test]
    fn markers_are_kept_merged_and_bounded() {
        let s = Shared::new(Some(2));
        for round in 0..50 {
            s.push_resumed(Duration::from_secs(1));
            s.push_failing(round as u32, Disruption::new("x"));
            s.push_data(data(round));
        }
        // Two data events and at most two markers before each, and two after.
        assert!(s.len() <= 6, "{}", s.len());
        let out = drain(&s);
        assert_eq!(out[0], "lag48");
        let total: u64 = out
            .iter()
            .filter_map(|x| x.strip_prefix('r'))
            .map(|x| x.parse::<u64>().unwrap())
            .sum();
        assert_eq!(total, 50, "{out:?}");
        assert_eq!(&out[out.len() - 1], "d49");
    }

    #[test]
    fn a_flapping_socket_leaves_two_markers_at_most() {
        let s = Shared::new(None);
        for n in 0..1000 {
            s.push_failing(n, Disruption::new("down"));
            s.push_resumed(Duration::from_secs(1));
        }
        assert_eq!(drain(&s), ["f999", "r1000"]);
        s.push_resumed(Duration::from_secs(1));
        s.push_failing(7, Disruption::new("down"));
        assert_eq!(drain(&s), ["r1", "f7"]);
    }

    #[test]
    fn the_end_comes_after_the_items_and_once() {
        let s = Shared::new(None);
        s.push_data(data(1));
        s.finish(Some(Error::realtime("boom")));
        s.finish(None);
        s.push_data(data(2));
        assert_eq!(drain(&s), ["d1", "err:boom", "done"]);
        assert!(matches!(s.next(&noop()), Next::Done));
    }
}
