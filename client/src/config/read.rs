//! Typed reads from JSON objects that record, by key path, every value of the wrong type.

use serde_json::{Map, Value};

use super::json_type;

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Collects problems while reading; each read names its key path.
#[derive(Default)]
pub(crate) struct Reader {
    pub problems: Vec<String>,
}

impl Reader {
    fn wrong(&mut self, path: &str, expected: &str, found: &Value) {
        self.problems.push(format!(
            "{path}: expected {expected}, found {}",
            json_type(found)
        ));
    }

    /// An optional string; null counts as absent.
    pub fn string(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<String> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.wrong(&join(path, key), "a string", other);
                None
            }
        }
    }

    /// An optional object; null counts as absent.
    pub fn object<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'a Map<String, Value>> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o),
            Some(other) => {
                self.wrong(&join(path, key), "an object", other);
                None
            }
        }
    }

    /// An optional boolean; null counts as absent.
    pub fn boolean(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<bool> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                self.wrong(&join(path, key), "a boolean", other);
                None
            }
        }
    }

    /// An optional array of strings; null counts as absent.
    pub fn strings(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<Vec<String>> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        other => {
                            self.wrong(&format!("{}[{i}]", join(path, key)), "a string", other)
                        }
                    }
                }
                Some(out)
            }
            Some(other) => {
                self.wrong(&join(path, key), "an array of strings", other);
                None
            }
        }
    }

    /// A value that must be an object (for map entries).
    pub fn as_object<'a>(
        &mut self,
        value: &'a Value,
        path: &str,
    ) -> Option<&'a Map<String, Value>> {
        match value {
            Value::Object(o) => Some(o),
            other => {
                self.wrong(path, "an object", other);
                None
            }
        }
    }
}
