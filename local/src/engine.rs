//! Execution: the async-graphql dynamic schema built from the SDL, with per-field auth (§3.3),
//! default and user resolvers, AppSync-shaped responses, and mutation events for subscriptions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::dynamic::{
    Enum, Field, FieldFuture, FieldValue, InputObject, InputValue, Interface, InterfaceField,
    Object, ResolverContext, Scalar, Schema, Subscription, SubscriptionField,
    SubscriptionFieldFuture, TypeRef,
};
use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationType, Selection, Type, TypeKind,
};
use async_graphql::{
    ErrorExtensions, Name, PathSegment, Request, ServerError, Value as GqlValue, Variables,
};
use futures_util::stream::{BoxStream, StreamExt};
use serde_json::{json, Map, Value};
use tokio::sync::{broadcast, oneshot};

use crate::auth::Identity;
use crate::resolver::{Resolver, ResolverError, ResolverRequest};
use crate::scalars;
use crate::schema::{SchemaModel, AWS_SCALARS};
use crate::store::Store;

/// The error extension that carries a resolver error's path to `finish`.
const PATH_EXT: &str = "appsyncLocalPath";

/// A mutation's result, offered to the subscriptions it triggers.
#[derive(Clone, Debug)]
pub(crate) struct MutationEvent {
    pub mutation_field: String,
    pub value: Value,
}

/// What resolvers share.
pub(crate) struct Core {
    pub model: SchemaModel,
    pub store: Store,
    pub resolvers: HashMap<(String, String), Resolver>,
    pub events: broadcast::Sender<MutationEvent>,
}

/// The schema, ready to run operations.
pub(crate) struct Engine {
    pub core: Arc<Core>,
    schema: Schema,
}

/// Fired by a subscription field's resolver once its stream is set up (then `start_ack`).
struct Started(Mutex<Option<oneshot::Sender<()>>>);

/// Root-field arguments bound to variables the request left out (with no default). GraphQL
/// treats them as not given, so they must not filter (§3.5); async-graphql hands the resolver
/// `null` for them, which would filter for null.
struct OmittedArguments(Vec<String>);

fn type_ref(ty: &Type) -> TypeRef {
    let base = match &ty.base {
        BaseType::Named(n) => TypeRef::Named(n.to_string().into()),
        BaseType::List(inner) => TypeRef::List(Box::new(type_ref(inner))),
    };
    if ty.nullable {
        base
    } else {
        TypeRef::NonNull(Box::new(base))
    }
}

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

impl Engine {
    pub(crate) fn build(core: Core) -> Result<Engine, String> {
        let core = Arc::new(core);
        let m = &core.model;
        let mut sb = Schema::build(&m.query, m.mutation.as_deref(), m.subscription.as_deref());
        for (name, t) in &m.types {
            match &t.kind {
                TypeKind::Scalar => {
                    let n = name.clone();
                    let mut s = Scalar::new(name);
                    if AWS_SCALARS.contains(&name.as_str()) {
                        s = s.validator(move |v| scalars::valid(&n, v));
                    }
                    sb = sb.register(s);
                }
                TypeKind::Enum(e) => {
                    sb = sb.register(
                        Enum::new(name)
                            .items(e.values.iter().map(|v| v.node.value.node.to_string())),
                    );
                }
                TypeKind::InputObject(io) => {
                    let mut o = InputObject::new(name);
                    for f in &io.fields {
                        o = o.field(input_value(&f.node));
                    }
                    sb = sb.register(o);
                }
                TypeKind::Union(u) => {
                    let mut un = async_graphql::dynamic::Union::new(name);
                    for p in &u.members {
                        un = un.possible_type(p.node.to_string());
                    }
                    sb = sb.register(un);
                }
                TypeKind::Interface(i) => {
                    let mut it = Interface::new(name);
                    for f in &i.fields {
                        let mut field = InterfaceField::new(
                            f.node.name.node.to_string(),
                            type_ref(&f.node.ty.node),
                        );
                        for a in &f.node.arguments {
                            field = field.argument(input_value(&a.node));
                        }
                        it = it.field(field);
                    }
                    for imp in &i.implements {
                        it = it.implement(imp.node.to_string());
                    }
                    sb = sb.register(it);
                }
                TypeKind::Object(o) if Some(name) == m.subscription.as_ref() => {
                    let mut s = Subscription::new(name);
                    for f in &o.fields {
                        let fname = f.node.name.node.to_string();
                        let mut field = SubscriptionField::new(
                            fname.clone(),
                            type_ref(&f.node.ty.node),
                            subscription_resolver(
                                core.clone(),
                                name.clone(),
                                fname,
                                f.node.ty.node.clone(),
                            ),
                        );
                        for a in &f.node.arguments {
                            field = field.argument(input_value(&a.node));
                        }
                        s = s.field(field);
                    }
                    sb = sb.register(s);
                }
                TypeKind::Object(o) => {
                    let mut obj = Object::new(name);
                    for imp in &o.implements {
                        obj = obj.implement(imp.node.to_string());
                    }
                    for f in &o.fields {
                        let fname = f.node.name.node.to_string();
                        let mut field = Field::new(
                            fname.clone(),
                            type_ref(&f.node.ty.node),
                            field_resolver(
                                core.clone(),
                                name.clone(),
                                fname,
                                f.node.ty.node.clone(),
                            ),
                        );
                        for a in &f.node.arguments {
                            field = field.argument(input_value(&a.node));
                        }
                        obj = obj.field(field);
                    }
                    sb = sb.register(obj);
                }
            }
        }
        let schema = sb.finish().map_err(|e| format!("schema: {e}"))?;
        Ok(Engine { core, schema })
    }

    /// Runs a query or mutation for an identity; returns AppSync's JSON answer (always HTTP 200).
    pub(crate) async fn execute(
        &self,
        query: &str,
        variables: Value,
        operation_name: Option<&str>,
        identity: Identity,
    ) -> Value {
        let doc = match async_graphql::parser::parse_query(query) {
            Ok(d) => d,
            Err(e) => {
                let pos = e.positions().next();
                return json!({"data": null, "errors": [{
                    "path": null,
                    "locations": pos.map(|p| json!([{"line": p.line, "column": p.column, "sourceName": null}])).unwrap_or(Value::Null),
                    "message": format!("Validation error of type InvalidSyntax: {e}"),
                }]});
            }
        };
        let roots = root_fields(&doc, operation_name);
        if let Some((OperationType::Subscription, _)) = roots {
            return json!({"data": null, "errors": [{"path": null, "locations": null,
                "message": "Subscriptions are served over the realtime WebSocket endpoint, not HTTP."}]});
        }
        if let Some(e) = invalid_variable(&self.core.model, &doc, operation_name, &variables) {
            return json!({"data": null, "errors": [e]});
        }
        let mut req = Request::new(query)
            .variables(Variables::from_json(variables))
            .data(identity);
        if let Some(op) = operation_name {
            req = req.operation_name(op);
        }
        let resp = self.schema.execute(req).await;
        let body = finish(&self.core.model, &doc, operation_name, resp);
        if let Some((OperationType::Mutation, fields)) = roots {
            self.publish(&fields, &body);
        }
        body
    }

    fn publish(&self, fields: &[(String, String)], body: &Value) {
        let errors: Vec<&str> = body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["path"][0].as_str()).collect())
            .unwrap_or_default();
        for (key, field) in fields {
            let triggers = self
                .core
                .model
                .subscribe
                .values()
                .any(|ms| ms.contains(field));
            let value = &body["data"][key.as_str()];
            if triggers && !value.is_null() && !errors.contains(&key.as_str()) {
                // No receiver is fine: nobody is subscribed.
                let _ = self.core.events.send(MutationEvent {
                    mutation_field: field.clone(),
                    value: value.clone(),
                });
            }
        }
    }

    /// Starts a subscription. `Ok` once the subscription field's resolver accepted it, with the
    /// stream of `{"data": …, "errors": …}` payloads; `Err` with AppSync-shaped error entries.
    pub(crate) async fn subscribe(
        &self,
        query: &str,
        variables: Value,
        operation_name: Option<&str>,
        identity: Identity,
    ) -> Result<BoxStream<'static, Value>, Vec<Value>> {
        let doc = async_graphql::parser::parse_query(query).map_err(|e| {
            vec![json!({"message": format!("Validation error of type InvalidSyntax: {e}")})]
        })?;
        match root_fields(&doc, operation_name) {
            Some((OperationType::Subscription, f)) if f.len() == 1 => {}
            Some((OperationType::Subscription, _)) => {
                return Err(vec![
                    json!({"message": "A subscription must select exactly one root field."}),
                ])
            }
            _ => {
                return Err(vec![
                    json!({"message": "Validation error: the operation is not a subscription."}),
                ])
            }
        }
        if let Some(e) = invalid_variable(&self.core.model, &doc, operation_name, &variables) {
            return Err(vec![e]);
        }
        let omitted = omitted_arguments(&doc, operation_name, &variables);
        let (tx, rx) = oneshot::channel();
        let mut req = Request::new(query)
            .variables(Variables::from_json(variables))
            .data(identity)
            .data(Started(Mutex::new(Some(tx))))
            .data(OmittedArguments(omitted));
        if let Some(op) = operation_name {
            req = req.operation_name(op);
        }
        let mut stream = self.schema.execute_stream(req);
        // The resolver runs when the stream is first polled: it either fires `Started` (then
        // the subscription is accepted) or the stream yields its error.
        let mut rx = rx;
        tokio::select! {
            biased;
            ok = &mut rx => {
                if ok.is_ok() {
                    let core = self.core.clone();
                    let op = operation_name.map(str::to_owned);
                    let doc = Arc::new(doc);
                    return Ok(stream
                        .map(move |r| finish(&core.model, &doc, op.as_deref(), r))
                        .boxed());
                }
                // The resolver dropped the signal without firing it: wait for its error.
                let first = stream.next().await;
                Err(first.map(error_entries).unwrap_or_default())
            }
            first = stream.next() => match first {
                Some(r) if !r.errors.is_empty() => Err(error_entries(r)),
                Some(_) | None => Err(vec![json!({"message": "the subscription ended before it started"})]),
            }
        }
    }
}

/// The root fields' arguments that are a bare `$variable` missing from `variables` and without
/// a default value in the operation.
fn omitted_arguments(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Value,
) -> Vec<String> {
    let Some(op) = selected_operation(doc, operation_name) else {
        return Vec::new();
    };
    let given = |var: &str| {
        variables.get(var).is_some()
            || op
                .node
                .variable_definitions
                .iter()
                .any(|d| d.node.name.node.as_str() == var && d.node.default_value.is_some())
    };
    let mut out = Vec::new();
    for s in &op.node.selection_set.node.items {
        if let Selection::Field(f) = &s.node {
            for (name, value) in &f.node.arguments {
                // A bare variable prints as `$name`; literals and lists never do.
                if let Some(var) = value.node.to_string().strip_prefix('$') {
                    if !given(var) {
                        out.push(name.node.to_string());
                    }
                }
            }
        }
    }
    out
}

fn error_entries(resp: async_graphql::Response) -> Vec<Value> {
    resp.errors.into_iter().map(error_json).collect()
}

fn input_value(def: &async_graphql::parser::types::InputValueDefinition) -> InputValue {
    let mut iv = InputValue::new(def.name.node.to_string(), type_ref(&def.ty.node));
    if let Some(d) = &def.default_value {
        iv = iv.default_value(d.node.clone());
    }
    iv
}

/// The operation a request runs: the one named, else the first (async-graphql reports a
/// missing or ambiguous one itself).
fn selected_operation<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d async_graphql::Positioned<async_graphql::parser::types::OperationDefinition>> {
    match name {
        Some(n) => doc
            .operations
            .iter()
            .find(|(on, _)| on.map(|x| x.as_str()) == Some(n))
            .map(|(_, op)| op),
        None => doc.operations.iter().next().map(|(_, op)| op),
    }
}

/// AppSync's error for the first variable holding an invalid AWS scalar (at any depth of
/// lists and input objects): `Variable 'd' has an invalid value. Unable to parse `…` as a
/// valid date.`, located at the variable's definition. async-graphql would refuse the value
/// too, but in its own words and without the value.
fn invalid_variable(
    model: &SchemaModel,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Value,
) -> Option<Value> {
    /// The innermost field (or variable) name and the value that failed, as AppSync names them.
    fn check<'v>(
        model: &SchemaModel,
        name: &'v str,
        ty: &Type,
        v: &'v Value,
        depth: usize,
    ) -> Option<(&'v str, &'v Value, &'static str)> {
        if v.is_null() || depth > 64 {
            return None;
        }
        match (&ty.base, v) {
            (BaseType::List(inner), Value::Array(items)) => items
                .iter()
                .find_map(|i| check(model, name, inner, i, depth + 1)),
            (BaseType::List(inner), single) => check(model, name, inner, single, depth + 1),
            (BaseType::Named(n), _) if AWS_SCALARS.contains(&n.as_str()) => {
                let gv = GqlValue::from_json(v.clone()).ok()?;
                (!scalars::valid(n, &gv)).then(|| (name, v, scalars::what(n)))
            }
            (BaseType::Named(n), Value::Object(fields)) => {
                let Some(TypeKind::InputObject(io)) = model.types.get(n.as_str()).map(|t| &t.kind)
                else {
                    return None;
                };
                io.fields.iter().find_map(|f| {
                    let (k, fv) = fields.get_key_value(f.node.name.node.as_str())?;
                    check(model, k, &f.node.ty.node, fv, depth + 1)
                })
            }
            _ => None,
        }
    }
    let op = selected_operation(doc, operation_name)?;
    op.node.variable_definitions.iter().find_map(|d| {
        let (name, value) = variables.as_object()?.get_key_value(d.node.name.node.as_str())?;
        let (field, bad, what) = check(model, name, &d.node.var_type.node, value, 0)?;
        let shown = bad.as_str().map_or_else(|| bad.to_string(), str::to_owned);
        Some(json!({
            "path": null,
            "locations": [{"line": d.pos.line, "column": d.pos.column, "sourceName": null}],
            "message": format!(
                "Variable '{field}' has an invalid value. Unable to parse `{shown}` as a valid {what}."
            ),
        }))
    })
}

/// The selected operation's type and its root fields as (response key, field name).
fn root_fields(
    doc: &ExecutableDocument,
    name: Option<&str>,
) -> Option<(OperationType, Vec<(String, String)>)> {
    let op = selected_operation(doc, name)?;
    let mut out = Vec::new();
    collect_fields(doc, &op.node.selection_set.node.items, &mut out);
    Some((op.node.ty, out))
}

fn collect_fields(
    doc: &ExecutableDocument,
    items: &[async_graphql::Positioned<Selection>],
    out: &mut Vec<(String, String)>,
) {
    for s in items {
        match &s.node {
            Selection::Field(f) => {
                let name = f.node.name.node.to_string();
                let key = f
                    .node
                    .alias
                    .as_ref()
                    .map(|a| a.node.to_string())
                    .unwrap_or_else(|| name.clone());
                out.push((key, name));
            }
            Selection::InlineFragment(i) => {
                collect_fields(doc, &i.node.selection_set.node.items, out)
            }
            Selection::FragmentSpread(fs) => {
                if let Some(fragment) = doc.fragments.get(&fs.node.fragment_name.node) {
                    collect_fields(doc, &fragment.node.selection_set.node.items, out);
                }
            }
        }
    }
}

fn field_resolver(
    core: Arc<Core>,
    type_name: String,
    field: String,
    ret: Type,
) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let core = core.clone();
        let type_name = type_name.clone();
        let field = field.clone();
        let ret = ret.clone();
        FieldFuture::new(async move {
            let result = resolve_field(&core, &ctx, &type_name, &field, &ret).await;
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
    core: &Core,
    ctx: &ResolverContext<'_>,
    type_name: &str,
    field: &str,
    ret: &Type,
) -> async_graphql::Result<Option<FieldValue<'static>>> {
    {
        {
            let (type_name, field, ret) = (type_name.to_owned(), field.to_owned(), ret.clone());
            let identity = ctx.data::<Identity>()?;
            if !core.model.admits(&type_name, &field, identity) {
                return Err(unauthorized(&field, &type_name));
            }
            let is_query = type_name == core.model.query;
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
                core.store
                    .resolve_root(&core.model, is_mutation, &field, &ret, &args_json(ctx))
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
            to_field_value(&core.model, &ret, value)
        }
    }
}

fn subscription_resolver(
    core: Arc<Core>,
    type_name: String,
    field: String,
    ret: Type,
) -> impl for<'a> Fn(ResolverContext<'a>) -> SubscriptionFieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let core = core.clone();
        let type_name = type_name.clone();
        let field = field.clone();
        let ret = ret.clone();
        SubscriptionFieldFuture::new(async move {
            let identity = ctx.data::<Identity>()?;
            if !core.model.admits(&type_name, &field, identity) {
                return Err(unauthorized(&field, &type_name));
            }
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

/// AppSync's answer from async-graphql's: errors in AppSync's shape, and the nulls GraphQL requires
/// where fields failed (async-graphql drops a failed field from its parent instead, and turns a
/// parent whose fields all failed into null), propagated up through non-null fields.
pub(crate) fn finish(
    model: &SchemaModel,
    doc: &ExecutableDocument,
    operation: Option<&str>,
    resp: async_graphql::Response,
) -> Value {
    let mut data = resp.data.into_json().unwrap_or(Value::Null);
    let errors: Vec<Value> = resp.errors.into_iter().map(error_json).collect();
    if let Some((root, items)) = operation_root(model, doc, operation) {
        let mut targets: Vec<Vec<Value>> = Vec::new();
        for e in &errors {
            let Some(path) = e["path"].as_array().filter(|p| !p.is_empty()) else {
                continue;
            };
            let non_null = nullability(model, doc, &root, items, path);
            let mut k = path.len();
            while k > 0 && non_null[k - 1] {
                k -= 1;
            }
            targets.push(path[..k].to_vec());
        }
        targets.sort_by_key(Vec::len);
        let mut nulled: Vec<Vec<Value>> = Vec::new();
        for t in targets {
            if nulled.iter().any(|n| t.starts_with(n)) {
                continue;
            }
            if t.is_empty() {
                data = Value::Null;
            } else {
                if data.is_null() {
                    data = Value::Object(Map::new());
                }
                set_null(&mut data, &t);
            }
            nulled.push(t);
        }
    }
    let mut out = Map::new();
    out.insert("data".into(), data);
    if !errors.is_empty() {
        out.insert("errors".into(), Value::Array(errors));
    }
    Value::Object(out)
}

/// Sets `null` at a path, making the objects on the way that async-graphql collapsed to null.
fn set_null(data: &mut Value, path: &[Value]) {
    let mut cur = data;
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        cur = match seg {
            Value::String(k) => {
                if !cur.is_object() {
                    *cur = Value::Object(Map::new());
                }
                let Value::Object(o) = cur else { return };
                if last {
                    o.insert(k.clone(), Value::Null);
                    return;
                }
                o.entry(k.clone()).or_insert(Value::Null)
            }
            Value::Number(n) => {
                let (Value::Array(a), Some(i)) = (cur, n.as_u64()) else {
                    return;
                };
                let Some(item) = a.get_mut(i as usize) else {
                    return;
                };
                if last {
                    *item = Value::Null;
                    return;
                }
                item
            }
            _ => return,
        };
    }
}

type Items = [async_graphql::Positioned<Selection>];

fn operation_root<'d>(
    model: &SchemaModel,
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<(String, &'d Items)> {
    let op = selected_operation(doc, name)?;
    let root = match op.node.ty {
        OperationType::Query => Some(model.query.clone()),
        OperationType::Mutation => model.mutation.clone(),
        OperationType::Subscription => model.subscription.clone(),
    }?;
    Some((root, &op.node.selection_set.node.items))
}

/// For each prefix of an error path: whether the value there is non-null in the schema
/// (unknown counts as nullable, so nothing is propagated on a guess).
fn nullability(
    model: &SchemaModel,
    doc: &ExecutableDocument,
    root: &str,
    items: &Items,
    path: &[Value],
) -> Vec<bool> {
    let mut out = Vec::with_capacity(path.len());
    let mut type_name = root.to_owned();
    let mut items: &Items = items;
    let mut cur: Option<Type> = None;
    for seg in path {
        let non_null = match seg {
            Value::String(key) => {
                let found = find_field(doc, items, key, None).and_then(|(f, cond)| {
                    let owner = cond.unwrap_or_else(|| type_name.clone());
                    let fname = f.node.name.node.as_str();
                    let def = model.field(&owner, fname).or_else(|| {
                        model
                            .possible_types(&owner)
                            .iter()
                            .find_map(|t| model.field(t, fname))
                    })?;
                    Some((f, def.ty.node.clone()))
                });
                match found {
                    Some((f, ty)) => {
                        type_name = crate::schema::named_type(&ty).to_owned();
                        items = &f.node.selection_set.node.items;
                        let nn = !ty.nullable;
                        cur = Some(ty);
                        nn
                    }
                    None => {
                        cur = None;
                        false
                    }
                }
            }
            _ => match cur.take() {
                Some(Type {
                    base: BaseType::List(inner),
                    ..
                }) => {
                    let nn = !inner.nullable;
                    cur = Some(*inner);
                    nn
                }
                _ => false,
            },
        };
        out.push(non_null);
    }
    out
}

/// The field selected under a response key, looking into fragments; with the fragment's type
/// condition, if it came from one.
fn find_field<'d>(
    doc: &'d ExecutableDocument,
    items: &'d Items,
    key: &str,
    cond: Option<String>,
) -> Option<(
    &'d async_graphql::Positioned<async_graphql::parser::types::Field>,
    Option<String>,
)> {
    for s in items {
        let found = match &s.node {
            Selection::Field(f) if f.node.response_key().node == key => {
                return Some((f, cond.clone()))
            }
            Selection::Field(_) => None,
            Selection::InlineFragment(i) => {
                let c = i
                    .node
                    .type_condition
                    .as_ref()
                    .map(|t| t.node.on.node.to_string())
                    .or(cond.clone());
                find_field(doc, &i.node.selection_set.node.items, key, c)
            }
            Selection::FragmentSpread(fs) => doc
                .fragments
                .get(&fs.node.fragment_name.node)
                .and_then(|fr| {
                    let c = Some(fr.node.type_condition.node.on.node.to_string());
                    find_field(doc, &fr.node.selection_set.node.items, key, c)
                }),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

fn error_json(e: ServerError) -> Value {
    let ext = |k: &str| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get(k))
            .map(|v| v.clone().into_json().unwrap_or(Value::Null))
    };
    let error_type = ext("errorType");
    let path = if e.path.is_empty() {
        ext(PATH_EXT)
            .filter(|p| p.is_array())
            .unwrap_or(Value::Null)
    } else {
        Value::Array(
            e.path
                .iter()
                .map(|p| match p {
                    PathSegment::Field(f) => Value::String(f.clone()),
                    PathSegment::Index(i) => json!(i),
                })
                .collect(),
        )
    };
    let mut m = Map::new();
    m.insert("path".into(), path.clone());
    if !path.is_null() {
        m.insert("data".into(), ext("data").unwrap_or(Value::Null));
    }
    if let Some(t) = error_type {
        m.insert("errorType".into(), t);
    }
    if !path.is_null() {
        m.insert("errorInfo".into(), ext("errorInfo").unwrap_or(Value::Null));
    }
    m.insert(
        "locations".into(),
        Value::Array(
            e.locations
                .iter()
                .map(|l| json!({"line": l.line, "column": l.column, "sourceName": null}))
                .collect(),
        ),
    );
    let message = if let Some(m) = wrong_type(&e.message) {
        m
    } else if path.is_null() && error_type_is_none(&m) && !e.message.starts_with("Validation error")
    {
        format!("Validation error: {}", e.message)
    } else {
        e.message
    };
    m.insert("message".into(), Value::String(message));
    Value::Object(m)
}

/// async-graphql's `Invalid value for argument "a", expected type "T"` (a literal of the wrong
/// type or format) in AppSync's words (graphql-java's `WrongType`).
fn wrong_type(message: &str) -> Option<String> {
    let (argument, ty) = message
        .strip_prefix("Invalid value for argument \"")?
        .strip_suffix('"')?
        .split_once("\", expected type \"")?;
    Some(format!(
        "Validation error of type WrongType: argument '{argument}' is not a valid '{ty}'"
    ))
}

fn error_type_is_none(m: &Map<String, Value>) -> bool {
    !m.contains_key("errorType")
}
