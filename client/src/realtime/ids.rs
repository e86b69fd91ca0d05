//! The wire ids of one socket's subscriptions: `<socket prefix>-<n>`, made here, so a frame's id
//! is looked up by its number with a multiply for a hash instead of hashing the string.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes the `u64` numbers of our own ids: a multiply by an odd constant spreads consecutive
/// numbers over the whole word (the table's control bytes come from its top bits).
#[derive(Default)]
pub(crate) struct NumberHasher(u64);

impl Hasher for NumberHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; anything else still hashes, slowly.
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by numbers this process made (subscription keys, wire id numbers): hashed with
/// [`NumberHasher`] rather than SipHash, since no outsider picks the keys.
pub(crate) type NumberMap<V> = HashMap<u64, V, BuildHasherDefault<NumberHasher>>;

/// Wire id → subscription key, for the ids this socket made.
pub(crate) struct WireIds {
    prefix: String,
    next: u64,
    map: NumberMap<u64>,
}

impl WireIds {
    /// Ids under a random prefix (ids are per connection, the prefix only makes logs readable
    /// across sockets).
    pub(crate) fn new() -> Self {
        WireIds {
            prefix: format!("{:08x}", fastrand::u32(..)),
            next: 0,
            map: HashMap::default(),
        }
    }

    /// A fresh id (not registered yet).
    pub(crate) fn fresh(&mut self) -> String {
        self.next += 1;
        format!("{}-{}", self.prefix, self.next)
    }

    /// The number of an id this socket made; `None` for anything else.
    fn number(&self, id: &str) -> Option<u64> {
        let n = id.strip_prefix(self.prefix.as_str())?.strip_prefix('-')?;
        // `parse` accepts a leading `+`: only digits are ours.
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n.parse().ok()
    }

    pub(crate) fn insert(&mut self, id: &str, key: u64) {
        if let Some(n) = self.number(id) {
            self.map.insert(n, key);
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<u64> {
        self.map.get(&self.number(id)?).copied()
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<u64> {
        let n = self.number(id)?;
        self.map.remove(&n)
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_ids_are_found() {
        let mut ids = WireIds::new();
        let a = ids.fresh();
        let b = ids.fresh();
        ids.insert(&a, 10);
        ids.insert(&b, 20);
        assert_eq!((ids.get(&a), ids.get(&b)), (Some(10), Some(20)));
        let prefix = &a[..a.len() - 2];
        for other in [
            "1".to_owned(),
            format!("{prefix}-+1"),
            format!("{prefix}-"),
            format!("{prefix}-1x"),
            format!("{prefix}-99999999999999999999999"),
            format!("x{a}"),
            "ü-1".to_owned(),
        ] {
            assert_eq!(ids.get(&other), None, "{other}");
        }
        assert_eq!(ids.remove(&a), Some(10));
        assert_eq!(ids.get(&a), None);
        ids.clear();
        assert_eq!(ids.get(&b), None);
    }
}
