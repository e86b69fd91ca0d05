//! Field resolvers: the auth check of every field (§3.3, Lambda `deniedFields`), user and
//! default resolvers, JSON turned into GraphQL values, and the event streams of subscription
//! fields with `@aws_subscribe` argument filtering (§3.5).

use std::sync::{Arc, Mutex};

use async_graphql::dynamic::{FieldFuture, FieldValue, ResolverContext, SubscriptionFieldFuture};
use async_graphql::parser::types::{BaseType, Type};
use async_graphql::{ErrorExtensions, Name, Value as GqlValue};
use futures_util::stream::StreamExt;
use serde_json::{Map, Value};
use tokio::sync::{broadcast, oneshot};

use crate::auth::Identity;
use crate::error::ResolverError;
use crate::resolver::{default_root, ResolverRequest};
use crate::schema::SchemaModel;

use super::Core;

/// The error extension that carries a resolver error's path to `finish`.
pub(super) const PATH_EXT: &str = "appsyncLocalPath";

/// Fired by a subscription field's resolver once its stream is set up (then `start_ack`).
pub(super) struct Started(pub(super) Mutex<Option<oneshot::Sender<()>>>);

/// Root-field arguments bound to variables the request left out (with no default). GraphQL
/// treats them as not given, so they must not filter (§3.5); async-graphql hands the resolver
/// `null` for them, which would filter for null.
pub(super) struct OmittedArguments(pub(super) Vec<String>);

/// The error of a denied field, in AppSync's words.
fn unauthorized(field: &str, type_name: &str) -> async_graphql::Error {
    async_graphql::Error::new(format!(
        "Not Authorized to access {field} on type {type_name}"
    ))
    .extend_with(|_, e| e.set("errorType", "Unauthorized"))
}

fn resolver_error(e: ResolverError) -> async_graphql::Error {
    async_graphql::Error::new(e.message).extend_with(|_, ext| {
        if let Some(t) = &e.error_type {
            ext.set("errorType", t.as_str());
        }
        if let Some(d) = &e.data {
            ext.set(
                "data",
                GqlValue::from_json(d.clone()).unwrap_or(GqlValue::Null),
            );
        }
        if let Some(i) = &e.error_info {
            ext.set(
                "errorInfo",
                GqlValue::from_json(i.clone()).unwrap_or(GqlValue::Null),
            );
        }
    })
}

fn args_json(ctx: &ResolverContext<'_>) -> Value {
    let mut m = Map::new();
    for (k, v) in ctx.args.iter() {
        m.insert(
            k.to_string(),
            v.as_value().clone().into_json().unwrap_or(Value::Null),
        );
    }
    Value::Object(m)
}

/// JSON → the value async-graphql resolves further, per the field's declared type.
fn to_field_value(
    model: &SchemaModel,
    ty: &Type,
    v: Value,
) -> async_graphql::Result<Option<FieldValue<'static>>> {
    if v.is_null() {
        return Ok(None);
    }
    match &ty.base {
        BaseType::List(inner) => {
            let Value::Array(items) = v else {
                return Err(async_graphql::Error::new(format!(
                    "expected a list for type {ty}"
                )));
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(to_field_value(model, inner, item)?.unwrap_or(FieldValue::NULL));
            }
            Ok(Some(FieldValue::list(out)))
        }
        BaseType::Named(n) => {
            let n = n.as_str();
            if model.is_abstract(n) {
                let possible = model.possible_types(n);
                let t = v
                    .get("__typename")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| possible.first().cloned())
                    .ok_or_else(|| {
                        async_graphql::Error::new(format!("no object type implements {n}"))
                    })?;
                let gv =
                    GqlValue::from_json(v).map_err(|e| async_graphql::Error::new(e.to_string()))?;
                return Ok(Some(FieldValue::value(gv).with_type(t)));
            }
            if model.is_enum(n) {
                if let Value::String(s) = &v {
                    return Ok(Some(FieldValue::value(GqlValue::Enum(Name::new(s)))));
                }
            }
            if n == "AWSJSON" && !v.is_string() {
                // AppSync serializes a resolver's structured value back into a JSON string.
                return Ok(Some(FieldValue::value(GqlValue::String(v.to_string()))));
            }
            let gv =
                GqlValue::from_json(v).map_err(|e| async_graphql::Error::new(e.to_string()))?;
            Ok(Some(FieldValue::value(gv)))
        }
    }
}

/// A field of the schema as its resolver sees it: the type it is on, its name and its type.
#[derive(Clone)]
pub(super) struct FieldSite {
    pub core: Arc<Core>,
    pub type_name: String,
    pub field: String,
    pub ret: Type,
}

impl FieldSite {
    /// The caller, if the field's rules admit it (§3.3, Lambda `deniedFields`).
    fn admitted<'c>(&self, ctx: &'c ResolverContext<'_>) -> async_graphql::Result<&'c Identity> {
        let identity = ctx.data::<Identity>()?;
        if !self
            .core
            .model
            .admits(&self.type_name, &self.field, identity)
        {
            return Err(unauthorized(&self.field, &self.type_name));
        }
        Ok(identity)
    }
}

pub(super) fn field_resolver(
    site: FieldSite,
) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let site = site.clone();
        FieldFuture::new(async move {
            let result = resolve_field(&site, &ctx).await;
            // async-graphql's dynamic schema leaves resolver errors without a path: add it.
            result.map_err(|e| {
                let path = ctx
                    .path_node
                    .as_ref()
                    .and_then(|p| serde_json::to_value(p).ok())
                    .and_then(|v| GqlValue::from_json(v).ok())
                    .unwrap_or(GqlValue::Null);
                e.extend_with(|_, ext| ext.set(PATH_EXT, path.clone()))
            })
        })
    }
}

async fn resolve_field(
    site: &FieldSite,
    ctx: &ResolverContext<'_>,
) -> async_graphql::Result<Option<FieldValue<'static>>> {
    let FieldSite {
        core,
        type_name,
        field,
        ret,
    } = site;
    let identity = site.admitted(ctx)?;
    let is_query = *type_name == core.model.query;
    let is_mutation = core.model.mutation.as_deref() == Some(type_name.as_str());
    let value = if let Some(r) = core.resolvers.get(&(type_name.clone(), field.clone())) {
        let source = ctx
            .parent_value
            .as_value()
            .map(|v| v.clone().into_json().unwrap_or(Value::Null))
            .unwrap_or(Value::Null);
        r(ResolverRequest {
            type_name: type_name.clone(),
            field_name: field.clone(),
            arguments: args_json(ctx),
            source,
            identity: identity.clone(),
            store: core.store.clone(),
        })
        .await
        .map_err(resolver_error)?
    } else if is_query || is_mutation {
        default_root(
            &core.store,
            &core.model,
            is_mutation,
            field,
            ret,
            &args_json(ctx),
        )
        .map_err(resolver_error)?
    } else {
        match ctx.parent_value.as_value() {
            Some(GqlValue::Object(o)) => o
                .get(field.as_str())
                .map(|v| v.clone().into_json().unwrap_or(Value::Null))
                .unwrap_or(Value::Null),
            _ => Value::Null,
        }
    };
    to_field_value(&core.model, ret, value)
}

pub(super) fn subscription_resolver(
    site: FieldSite,
) -> impl for<'a> Fn(ResolverContext<'a>) -> SubscriptionFieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let site = site.clone();
        SubscriptionFieldFuture::new(async move {
            site.admitted(&ctx)?;
            let FieldSite {
                core, field, ret, ..
            } = site;
            let omitted = ctx
                .data_opt::<OmittedArguments>()
                .map(|o| o.0.as_slice())
                .unwrap_or_default();
            let filters: Vec<(String, Value)> = match args_json(&ctx) {
                Value::Object(m) => m
                    .into_iter()
                    .filter(|(k, _)| !omitted.contains(k))
                    .collect(),
                _ => Vec::new(),
            };
            let mutations = core
                .model
                .subscribe
                .get(&field)
                .cloned()
                .unwrap_or_default();
            let rx = core.events.subscribe();
            if let Ok(started) = ctx.data::<Started>() {
                if let Some(tx) = started.0.lock().ok().and_then(|mut s| s.take()) {
                    let _ = tx.send(());
                }
            }
            let model_core = core.clone();
            let stream = futures_util::stream::unfold(rx, move |mut rx| {
                let (filters, mutations, core, ret) = (
                    filters.clone(),
                    mutations.clone(),
                    model_core.clone(),
                    ret.clone(),
                );
                async move {
                    loop {
                        match rx.recv().await {
                            Ok(ev) => {
                                if !mutations.contains(&ev.mutation_field) {
                                    continue;
                                }
                                // Every argument given must equal the result's field; an explicit
                                // null matches only a null field (§3.5).
                                if !filters.iter().all(|(k, v)| ev.value.get(k) == Some(v)) {
                                    continue;
                                }
                                return Some((to_field_value(&core.model, &ret, ev.value), rx));
                            }
                            Err(broadcast::error::RecvError::Lagged(n)) => {
                                tracing::warn!(
                                    skipped = n,
                                    "a subscription fell behind the mutation events"
                                );
                            }
                            Err(broadcast::error::RecvError::Closed) => return None,
                        }
                    }
                }
            })
            .filter_map(|r| async move {
                match r {
                    Ok(Some(v)) => Some(Ok(v)),
                    Ok(None) => None,
                    Err(e) => Some(Err(e)),
                }
            });
            Ok(stream)
        })
    }
}
