//! The in-memory store behind the default resolvers (`get*`, `list*`, `create*`, `update*`,
//! `delete*`), so a schema works with no code.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::parser::types::{BaseType, Type};
use serde_json::{json, Map, Value};

use crate::resolver::ResolverError;
use crate::schema::{named_type, SchemaModel};

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

    /// The default resolver for a root field: by its name's prefix and its return type.
    pub(crate) fn resolve_root(
        &self,
        model: &SchemaModel,
        is_mutation: bool,
        field: &str,
        ret: &Type,
        args: &Value,
    ) -> Result<Value, ResolverError> {
        let ty = named_type(ret);
        let has = |f: &str| model.field(ty, f).is_some();
        if !is_mutation {
            if field.starts_with("get") {
                return Ok(id_arg(args)
                    .and_then(|id| self.get(ty, &id))
                    .unwrap_or(Value::Null));
            }
            if field.starts_with("list") {
                if let BaseType::List(_) = ret.base {
                    return Ok(Value::Array(self.list(ty)));
                }
                // A connection type: `{ items: [T], nextToken }`.
                if let Some(items) = model.field(ty, "items") {
                    let item_ty = named_type(&items.ty.node).to_owned();
                    return Ok(json!({"items": self.list(&item_ty), "nextToken": null}));
                }
            }
            return Ok(Value::Null);
        }
        let input = match args.get("input") {
            Some(Value::Object(o)) => o.clone(),
            _ => args.as_object().cloned().unwrap_or_default(),
        };
        let now = Value::String(crate::dates::aws_datetime_now());
        if field.starts_with("create") {
            let mut item: Map<String, Value> = input;
            if item.get("id").and_then(id_string).is_none() {
                item.insert("id".into(), Value::String(new_id()));
            }
            for f in ["createdAt", "updatedAt"] {
                if has(f) && !item.contains_key(f) {
                    item.insert(f.into(), now.clone());
                }
            }
            let item = Value::Object(item);
            self.put(ty, item.clone())?;
            return Ok(item);
        }
        if field.starts_with("update") {
            let id = input
                .get("id")
                .and_then(id_string)
                .ok_or_else(|| ResolverError::new("update needs an id").error_type("BadRequest"))?;
            let mut item = self.get(ty, &id).ok_or_else(conditional_failed)?;
            if let Some(obj) = item.as_object_mut() {
                obj.extend(input);
                if has("updatedAt") {
                    obj.insert("updatedAt".into(), now);
                }
            }
            self.put(ty, item.clone())?;
            return Ok(item);
        }
        if field.starts_with("delete") {
            let id = input
                .get("id")
                .and_then(id_string)
                .ok_or_else(|| ResolverError::new("delete needs an id").error_type("BadRequest"))?;
            return self.delete(ty, &id).ok_or_else(conditional_failed);
        }
        Ok(Value::Null)
    }
}

fn conditional_failed() -> ResolverError {
    ResolverError::new("The conditional request failed")
        .error_type("DynamoDB:ConditionalCheckFailedException")
}

fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn id_arg(args: &Value) -> Option<String> {
    args.get("id")
        .or_else(|| args.get("input").and_then(|i| i.get("id")))
        .and_then(id_string)
}

/// A random UUID-shaped id.
pub(crate) fn new_id() -> String {
    let h = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_and_ids_have_their_shapes() {
        let t = crate::dates::aws_datetime_now();
        assert!(
            crate::scalars::valid("AWSDateTime", &async_graphql::Value::String(t.clone())),
            "{t}"
        );
        assert_eq!(new_id().len(), 36);
    }
}
