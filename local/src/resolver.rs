//! Resolvers: what a user resolver receives, and the default resolvers that keep the in-memory
//! store for `get*`, `list*`, `create*`, `update*` and `delete*` root fields, so a schema works
//! with no code.

use std::future::Future;
use std::sync::Arc;

use async_graphql::parser::types::{BaseType, Type};
use serde_json::{json, Map, Value};

use crate::auth::{BoxFuture, Identity};
use crate::error::ResolverError;
use crate::schema::{named_type, SchemaModel};
use crate::store::{id_string, Store};

/// What a resolver receives.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ResolverRequest {
    /// The type whose field is resolved, e.g. `Query`.
    pub type_name: String,
    /// The field.
    pub field_name: String,
    /// The arguments, as JSON (AWSJSON values still as strings).
    pub arguments: Value,
    /// The parent object (null for root fields).
    pub source: Value,
    /// The caller.
    pub identity: Identity,
    /// The in-memory store the default resolvers use.
    pub store: Store,
}

/// A resolver function.
pub(crate) type Resolver =
    Arc<dyn Fn(ResolverRequest) -> BoxFuture<'static, Result<Value, ResolverError>> + Send + Sync>;

/// Wraps an async closure as a resolver.
pub(crate) fn resolver<F, Fut>(f: F) -> Resolver
where
    F: Fn(ResolverRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ResolverError>> + Send + 'static,
{
    Arc::new(move |r| Box::pin(f(r)))
}

/// The default resolver for a root field: by its name's prefix and its return type.
pub(crate) fn default_root(
    store: &Store,
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
                .and_then(|id| store.get(ty, &id))
                .unwrap_or(Value::Null));
        }
        if field.starts_with("list") {
            if let BaseType::List(_) = ret.base {
                return Ok(Value::Array(store.list(ty)));
            }
            // A connection type: `{ items: [T], nextToken }`.
            if let Some(items) = model.field(ty, "items") {
                let item_ty = named_type(&items.ty.node).to_owned();
                return Ok(json!({"items": store.list(&item_ty), "nextToken": null}));
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
        store.put(ty, item.clone())?;
        return Ok(item);
    }
    if field.starts_with("update") {
        let id = required_id(&input, "update")?;
        let mut item = store.get(ty, &id).ok_or_else(conditional_failed)?;
        if let Some(obj) = item.as_object_mut() {
            obj.extend(input);
            if has("updatedAt") {
                obj.insert("updatedAt".into(), now);
            }
        }
        store.put(ty, item.clone())?;
        return Ok(item);
    }
    if field.starts_with("delete") {
        let id = required_id(&input, "delete")?;
        return store.delete(ty, &id).ok_or_else(conditional_failed);
    }
    Ok(Value::Null)
}

/// The `id` an `update*` or `delete*` input must carry.
fn required_id(input: &Map<String, Value>, what: &str) -> Result<String, ResolverError> {
    input
        .get("id")
        .and_then(id_string)
        .ok_or_else(|| ResolverError::new(format!("{what} needs an id")).error_type("BadRequest"))
}

fn conditional_failed() -> ResolverError {
    ResolverError::new("The conditional request failed")
        .error_type("DynamoDB:ConditionalCheckFailedException")
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
