//! A `tracing` subscriber that keeps every span (name, fields, later records) and event, so
//! tests can check what a call logs and what its spans carry.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One span: its name and its fields' values as text (the last value recorded wins).
#[derive(Clone, Debug)]
pub struct SpanRecord {
    pub name: String,
    pub fields: BTreeMap<String, String>,
}

/// One event: its level, its target and its fields (the message under `message`).
#[derive(Clone, Debug)]
pub struct EventRecord {
    pub level: Level,
    pub target: String,
    pub fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Store {
    spans: Mutex<BTreeMap<u64, SpanRecord>>,
    events: Mutex<Vec<EventRecord>>,
    next: AtomicU64,
}

/// Clones share the store; install one with [`Capture::install`].
#[derive(Clone, Default)]
pub struct Capture(Arc<Store>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Capture {
    /// Captures everything this thread logs until the guard is dropped (tests run on a
    /// current-thread runtime, so that is the whole call).
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        // With a single live dispatcher, `tracing` computes a callsite's interest from the
        // default of whichever thread reaches it first: a test running in parallel without a
        // subscriber would switch our spans off for good. A second dispatcher kept alive for
        // the whole process makes every interest "ask each time".
        static SECOND: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
        SECOND.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
        tracing::subscriber::set_default(self.clone())
    }

    /// Every span of that name, in creation order.
    pub fn spans(&self, name: &str) -> Vec<SpanRecord> {
        self.0
            .spans
            .lock()
            .unwrap()
            .values()
            .filter(|s| s.name == name)
            .cloned()
            .collect()
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<EventRecord> {
        self.0.events.lock().unwrap().clone()
    }

    /// Everything captured, as one text (to search for secrets).
    pub fn text(&self) -> String {
        format!(
            "{:?}\n{:?}",
            self.0.spans.lock().unwrap(),
            self.0.events.lock().unwrap()
        )
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.0.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        self.0.spans.lock().unwrap().insert(
            id,
            SpanRecord {
                name: attrs.metadata().name().to_owned(),
                fields,
            },
        );
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(s) = self.0.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(&mut s.fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.events.lock().unwrap().push(EventRecord {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            fields,
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
