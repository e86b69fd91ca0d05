//! A cache in front of one provider (tokens, AWS credentials): one fetch at a time whoever
//! asks, every fetch bounded by a timeout, no lock held while a provider runs, and a value near
//! its expiry refreshed in the background while it is still handed out.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::future::{FutureExt, Shared};

use crate::error::{BoxError, Error, Result};

/// How long before expiry a cached value is replaced (at most half its lifetime).
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The default limit on one call of a token or credentials provider.
pub(crate) const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// A fetched value and when it expires, if known.
pub(crate) struct Fetched<T> {
    pub value: T,
    pub expires_at: Option<SystemTime>,
}

/// What a provider call returns.
pub(crate) type FetchFuture<T> = Pin<Box<dyn Future<Output = Result<Fetched<T>>> + Send>>;

/// The shared outcome of one fetch, seen by everyone who waited for it.
type Outcome<T> = std::result::Result<(T, u64), SharedError>;

type Inflight<T> = Shared<Pin<Box<dyn Future<Output = Outcome<T>> + Send>>>;

struct Entry<T> {
    value: T,
    /// When to fetch a new one (in the background while this one is still valid).
    refresh_at: Option<SystemTime>,
    /// When it may no longer be handed out.
    expires_at: Option<SystemTime>,
    generation: u64,
}

struct State<T> {
    cached: Option<Entry<T>>,
    /// The last value was refused by a server: the next fetch says so to the provider.
    force: bool,
    generation: u64,
    inflight: Option<Inflight<T>>,
}

/// The cache. `T` is cheap to clone (a secret string, `Credentials`).
pub(crate) struct Refreshing<T> {
    /// What it caches, for errors and logs ("the OPENID_CONNECT token provider").
    what: String,
    timeout: Duration,
    state: Arc<Mutex<State<T>>>,
}

impl<T> fmt::Debug for Refreshing<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refreshing")
            .field("what", &self.what)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// An error that several waiters share: its message, and the original as its source.
#[derive(Clone)]
pub(crate) struct SharedError(Arc<Error>);

impl fmt::Debug for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for SharedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

impl SharedError {
    /// Shares an error.
    pub(crate) fn new(e: Error) -> Self {
        SharedError(Arc::new(e))
    }

    /// An error of the same kind and message for one waiter, with the shared one as source.
    pub(crate) fn to_error(&self) -> Error {
        self.0
            .same_kind(self.0.to_string())
            .with_source(self.clone())
    }

    /// The same error under another message (the old one becomes its source).
    pub(crate) fn with_message(&self, message: String) -> SharedError {
        SharedError::new(self.0.same_kind(message).with_source(self.clone()))
    }
}

fn lock<T>(m: &Mutex<State<T>>) -> std::sync::MutexGuard<'_, State<T>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `t - d`, or the epoch when that cannot be represented.
fn minus(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_sub(d).unwrap_or(SystemTime::UNIX_EPOCH)
}

impl<T: Clone + Send + Sync + 'static> Refreshing<T> {
    /// A cache named `what` whose fetches may take at most `timeout`.
    pub(crate) fn new(what: impl Into<String>, timeout: Duration) -> Self {
        Refreshing {
            what: what.into(),
            timeout,
            state: Arc::new(Mutex::new(State {
                cached: None,
                force: false,
                generation: 0,
                inflight: None,
            })),
        }
    }

    /// A valid value and its generation: the cached one, else the outcome of the fetch under
    /// way, else of a new one made by `fetch(force_refresh)`. A value past its refresh time but
    /// not yet expired is handed out while a new one is fetched in the background.
    pub(crate) async fn get(&self, fetch: impl FnOnce(bool) -> FetchFuture<T>) -> Result<(T, u64)> {
        let inflight = {
            let mut s = lock(&self.state);
            let now = SystemTime::now();
            let fresh = |e: &Entry<T>| e.refresh_at.is_none_or(|t| now < t);
            let valid = |e: &Entry<T>| e.expires_at.is_none_or(|t| now < t);
            match s.cached.as_ref() {
                Some(e) if !s.force && fresh(e) => return Ok((e.value.clone(), e.generation)),
                Some(e) if !s.force && valid(e) => {
                    let out = (e.value.clone(), e.generation);
                    if s.inflight.is_none() {
                        tracing::debug!(what = %self.what, "refreshing ahead of expiry");
                        s.inflight = Some(self.start(&mut s, fetch));
                    }
                    return Ok(out);
                }
                _ => {}
            }
            match &s.inflight {
                Some(f) => f.clone(),
                None => {
                    let f = self.start(&mut s, fetch);
                    s.inflight = Some(f.clone());
                    f
                }
            }
        };
        // The fetch is bounded by the same timeout; waiting a little longer than it lets its own
        // (more precise) error win the race.
        match tokio::time::timeout(self.timeout + Duration::from_millis(50), inflight).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.to_error()),
            Err(_) => Err(self.timed_out()),
        }
    }

    fn timed_out(&self) -> Error {
        Error::timeout(format!(
            "{} did not answer within {:?}",
            self.what, self.timeout
        ))
    }

    /// Runs one fetch in a task of its own (it completes, and fills the cache, even when every
    /// waiter gave up) and returns its shared outcome.
    fn start(&self, s: &mut State<T>, fetch: impl FnOnce(bool) -> FetchFuture<T>) -> Inflight<T> {
        let force = s.force || s.cached.is_some();
        let fut = fetch(force);
        let state = self.state.clone();
        let timeout = self.timeout;
        let timed_out = self.timed_out();
        let what = self.what.clone();
        let task = tokio::spawn(async move {
            let result = match tokio::time::timeout(timeout, fut).await {
                Ok(r) => r,
                Err(_) => Err(timed_out),
            };
            let mut s = lock(&state);
            s.inflight = None;
            match result {
                Ok(f) => {
                    let now = SystemTime::now();
                    let refresh_at = f.expires_at.map(|exp| {
                        let life = exp.duration_since(now).unwrap_or_default();
                        minus(exp, REFRESH_MARGIN.min(life / 2))
                    });
                    s.generation += 1;
                    let generation = s.generation;
                    s.cached = Some(Entry {
                        value: f.value.clone(),
                        refresh_at,
                        expires_at: f.expires_at,
                        generation,
                    });
                    s.force = false;
                    tracing::debug!(%what, "fetched a new value");
                    Ok((f.value, generation))
                }
                Err(e) => {
                    tracing::debug!(%what, error = %e, "the fetch failed");
                    Err(SharedError::new(e))
                }
            }
        });
        let what = self.what.clone();
        let joined: Pin<Box<dyn Future<Output = Outcome<T>> + Send>> = Box::pin(async move {
            match task.await {
                Ok(outcome) => outcome,
                Err(e) => Err(SharedError(Arc::new(
                    Error::auth(format!("{what} panicked or was cancelled")).with_source(e),
                ))),
            }
        });
        joined.shared()
    }

    /// Forgets the cached value if it is still the one of `generation` (a newer one stays), so
    /// that the next `get` fetches with `force_refresh`.
    pub(crate) fn invalidate(&self, generation: u64) {
        let mut s = lock(&self.state);
        if s.cached
            .as_ref()
            .is_some_and(|c| c.generation == generation)
        {
            s.cached = None;
            s.force = true;
        }
    }

    /// Forgets the cached value, whatever it is.
    pub(crate) fn clear(&self) {
        let mut s = lock(&self.state);
        s.cached = None;
        s.force = true;
    }
}

/// Whether a provider said that retrying cannot help, by wrapping its error in
/// [`PermanentError`](crate::auth::PermanentError), anywhere in the source chain.
pub(crate) fn is_permanent(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut e: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cur) = e {
        if cur.is::<crate::auth::PermanentError>() {
            return true;
        }
        e = cur.source();
    }
    false
}

/// Turns a provider's boxed error into the crate's, keeping it as the source.
pub(crate) fn provider_error(what: &str, e: BoxError) -> Error {
    Error::auth(format!("{what} failed")).with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn value(v: u32, ttl: Option<Duration>) -> FetchFuture<u32> {
        Box::pin(async move {
            Ok(Fetched {
                value: v,
                expires_at: ttl.map(|t| SystemTime::now() + t),
            })
        })
    }

    #[tokio::test]
    async fn one_fetch_serves_every_waiter() {
        let cache = Arc::new(Refreshing::<u32>::new("test", Duration::from_secs(5)));
        let calls = Arc::new(AtomicUsize::new(0));
        let (release, gate) = tokio::sync::oneshot::channel::<()>();
        let gate = gate.shared();
        let mut waiters = Vec::new();
        for _ in 0..50 {
            let cache = cache.clone();
            let calls = calls.clone();
            let gate = gate.clone();
            waiters.push(tokio::spawn(async move {
                cache
                    .get(move |_| {
                        calls.fetch_add(1, Ordering::SeqCst);
                        Box::pin(async move {
                            let _ = gate.await;
                            Ok(Fetched {
                                value: 7,
                                expires_at: None,
                            })
                        })
                    })
                    .await
            }));
        }
        tokio::task::yield_now().await;
        release.send(()).unwrap();
        for w in waiters {
            assert_eq!(w.await.unwrap().unwrap().0, 7);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stuck_provider_times_out_and_blocks_nobody_else() {
        let cache = Refreshing::<u32>::new("the stuck provider", Duration::from_secs(2));
        let e = cache
            .get(|_| Box::pin(std::future::pending()))
            .await
            .unwrap_err();
        assert!(e.is_timeout(), "{e:?}");
        assert!(e.to_string().contains("the stuck provider"), "{e}");
        // The fetch was abandoned: the next caller gets a fetch of its own.
        assert_eq!(cache.get(|_| value(3, None)).await.unwrap().0, 3);
        // Invalidation never waits for a fetch.
        cache.invalidate(1);
        let (v, g) = cache
            .get(|force| value(if force { 4 } else { 0 }, None))
            .await
            .unwrap();
        assert_eq!((v, g), (4, 2));
    }

    #[tokio::test]
    async fn near_expiry_the_old_value_is_served_while_a_new_one_comes() {
        let cache = Refreshing::<u32>::new("test", Duration::from_secs(5));
        // A value past its refresh time, not yet expired.
        {
            let mut s = lock(&cache.state);
            let now = SystemTime::now();
            s.generation = 1;
            s.cached = Some(Entry {
                value: 1,
                refresh_at: Some(now - Duration::from_secs(1)),
                expires_at: Some(now + Duration::from_secs(3600)),
                generation: 1,
            });
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (v, _) = cache
            .get(move |force| {
                assert!(force, "a refresh says so to the provider");
                Box::pin(async move {
                    let _ = rx.await;
                    Ok(Fetched {
                        value: 2,
                        expires_at: None,
                    })
                })
            })
            .await
            .unwrap();
        assert_eq!(v, 1, "the old value at once");
        // The refresh under way serves later callers too: no second fetch.
        let inflight = lock(&cache.state).inflight.clone().unwrap();
        tx.send(()).unwrap();
        assert_eq!(inflight.await.unwrap().0, 2);
        let calls = AtomicUsize::new(0);
        let (v, g) = cache
            .get(|_| {
                calls.fetch_add(1, Ordering::SeqCst);
                value(99, None)
            })
            .await
            .unwrap();
        assert_eq!((v, g, calls.load(Ordering::SeqCst)), (2, 2, 0));
    }

    #[test]
    fn permanence_is_found_in_the_chain() {
        let inner: BoxError = Box::new(crate::auth::PermanentError::new("signed out"));
        let e = provider_error("the provider", inner);
        assert!(is_permanent(&e));
        let shared = SharedError(Arc::new(e)).to_error();
        assert!(is_permanent(&shared));
        assert!(!is_permanent(&Error::auth("x")));
    }
}
