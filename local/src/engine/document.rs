//! What a request's document selects (its operation, root fields, arguments left to omitted
//! variables) and AppSync's check of AWS scalars in its variables.

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationType, Selection, Type, TypeKind,
};
use async_graphql::Value as GqlValue;
use serde_json::{json, Value};

use crate::scalars;
use crate::schema::{SchemaModel, AWS_SCALARS};

/// The operation a request runs: the one named, else the first (async-graphql reports a
/// missing or ambiguous one itself).
pub(super) fn selected_operation<'d>(
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

/// The selected operation's type and its root fields as (response key, field name).
pub(super) fn root_fields(
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

/// The root fields' arguments that are a bare `$variable` missing from `variables` and without
/// a default value in the operation.
pub(super) fn omitted_arguments(
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

/// AppSync's error for the first variable holding an invalid AWS scalar (at any depth of
/// lists and input objects): `Variable 'd' has an invalid value. Unable to parse `…` as a
/// valid date.`, located at the variable's definition. async-graphql would refuse the value
/// too, but in its own words and without the value.
pub(super) fn invalid_variable(
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
