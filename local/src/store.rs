//! The in-memory store behind the default resolvers: items by type name, then by `id`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::error::ResolverError;

/// Items by type name, then by `id`. Clones share the data.
#[derive(Clone, Debug, Default)]
pub struct Store(Arc<Mutex<BTreeMap<String, BTreeMap<String, Value>>>>);

impl Store {
    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<String, BTreeMap<String, Value>>) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The item of that type and id.
    pub fn get(&self, type_name: &str, id: &str) -> Option<Value> {
        self.with(|s| s.get(type_name).and_then(|t| t.get(id)).cloned())
    }

    /// Every item of a type, by id.
    pub fn list(&self, type_name: &str) -> Vec<Value> {
        self.with(|s| {
            s.get(type_name)
                .map(|t| t.values().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// Stores an item (an object with a string `id`), replacing one with the same id.
    pub fn put(&self, type_name: &str, item: Value) -> Result<(), ResolverError> {
        let id = item
            .get("id")
            .and_then(id_string)
            .ok_or_else(|| ResolverError::new("an item needs an id"))?;
        self.with(|s| s.entry(type_name.to_owned()).or_default().insert(id, item));
        Ok(())
    }

    /// Removes and returns an item.
    pub fn delete(&self, type_name: &str, id: &str) -> Option<Value> {
        self.with(|s| s.get_mut(type_name).and_then(|t| t.remove(id)))
    }
}

/// An id as the store keys it: a string, or a number as its text.
pub(crate) fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
