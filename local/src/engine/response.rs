//! AppSync's response shape from async-graphql's: error entries as AppSync writes them
//! (`path`, `data`, `errorType`, `errorInfo`, `locations`, graphql-java's messages), and the
//! nulls GraphQL requires where fields failed, propagated up through non-null fields.

use async_graphql::parser::types::{BaseType, ExecutableDocument, OperationType, Selection, Type};
use async_graphql::{PathSegment, ServerError};
use serde_json::{json, Map, Value};

use crate::schema::SchemaModel;

use super::document::selected_operation;
use super::resolve::PATH_EXT;

/// AppSync's answer from async-graphql's: errors in AppSync's shape, and the nulls GraphQL requires
/// where fields failed (async-graphql drops a failed field from its parent instead, and turns a
/// parent whose fields all failed into null), propagated up through non-null fields.
pub(super) fn finish(
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

pub(super) fn error_entries(resp: async_graphql::Response) -> Vec<Value> {
    resp.errors.into_iter().map(error_json).collect()
}
