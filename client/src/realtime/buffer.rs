//! The bounded buffer between a socket's actor and one subscription's stream: data events
//! beyond the bound push out the oldest one and are counted; `Resumed` markers are kept
//! (merged when nothing separates them); the end (completion or error) is delivered last.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::Waker;
use std::time::Duration;

use crate::error::Error;

/// One buffered item.
#[derive(Debug)]
pub(crate) enum Item {
    /// A `data` frame, as received: the reader decodes its `payload` into its type.
    Data(String),
    /// The subscription runs again after a reconnection; the socket was down this long.
    Resumed(Duration),
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
    data: usize,
    cap: usize,
    missed: u64,
    end: Option<End>,
    waker: Option<Waker>,
    /// The reader is gone: drop everything from now on.
    closed: bool,
}

/// The buffer, shared by the actor (writer) and the `Subscription` (reader).
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    /// A buffer for at most `cap` data events (at least 1).
    pub(crate) fn new(cap: usize) -> Self {
        Shared {
            state: Mutex::new(State {
                items: VecDeque::new(),
                data: 0,
                cap: cap.max(1),
                missed: 0,
                end: None,
                waker: None,
                closed: false,
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

    /// Adds a data event; when full, the oldest data event is dropped and counted.
    pub(crate) fn push_data(&self, frame: String) {
        let mut s = self.lock();
        if s.closed || s.end.is_some() {
            return;
        }
        if s.data >= s.cap {
            if let Some(i) = s.items.iter().position(|it| matches!(it, Item::Data(_))) {
                s.items.remove(i);
                s.data -= 1;
                s.missed += 1;
                // Two markers that nothing separates any more become one.
                if i > 0 {
                    if let (Some(Item::Resumed(a)), Some(Item::Resumed(b))) =
                        (s.items.get(i - 1), s.items.get(i))
                    {
                        let gap = *a + *b;
                        s.items[i - 1] = Item::Resumed(gap);
                        s.items.remove(i);
                    }
                }
            }
        }
        s.items.push_back(Item::Data(frame));
        s.data += 1;
        Self::wake(s);
    }

    /// Adds a `Resumed` marker (merged into a marker just before it).
    pub(crate) fn push_resumed(&self, gap: Duration) {
        let mut s = self.lock();
        if s.closed || s.end.is_some() {
            return;
        }
        match s.items.back_mut() {
            Some(Item::Resumed(g)) => *g += gap,
            _ => s.items.push_back(Item::Resumed(gap)),
        }
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

    /// The reader is gone.
    pub(crate) fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        s.items.clear();
        s.data = 0;
    }

    /// How many items wait.
    pub(crate) fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// The next thing for the reader; stores `waker` when there is nothing.
    pub(crate) fn next(&self, waker: &Waker) -> Next {
        let mut s = self.lock();
        if s.missed > 0 {
            let n = std::mem::take(&mut s.missed);
            return Next::Lagged(n);
        }
        if let Some(item) = s.items.pop_front() {
            if matches!(item, Item::Data(_)) {
                s.data -= 1;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: u64) -> String {
        n.to_string()
    }

    fn noop() -> Waker {
        Waker::noop().clone()
    }

    fn drain(s: &Shared) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            match s.next(&noop()) {
                Next::Item(Item::Data(v)) => out.push(format!("d{v}")),
                Next::Item(Item::Resumed(g)) => out.push(format!("r{}", g.as_secs())),
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
    fn the_oldest_data_is_dropped_and_counted() {
        let s = Shared::new(3);
        for n in 0..10 {
            s.push_data(data(n));
        }
        assert_eq!(s.len(), 3);
        assert_eq!(drain(&s), ["lag7", "d7", "d8", "d9"]);
        s.push_data(data(10));
        assert_eq!(drain(&s), ["d10"]);
    }

    #[test]
    fn markers_are_kept_merged_and_bounded() {
        let s = Shared::new(2);
        for round in 0..50 {
            s.push_resumed(Duration::from_secs(1));
            s.push_data(data(round));
        }
        // Two data events and at most one marker per data event left, plus one.
        assert!(s.len() <= 5, "{}", s.len());
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
    fn the_end_comes_after_the_items_and_once() {
        let s = Shared::new(4);
        s.push_data(data(1));
        s.finish(Some(Error::realtime("boom")));
        s.finish(None);
        s.push_data(data(2));
        assert_eq!(drain(&s), ["d1", "err:boom", "done"]);
        assert!(matches!(s.next(&noop()), Next::Done));
    }
}
