//! The `@aws_*` directive rules (appsync-protocol.md §3.3) evaluated at build time: who may
//! reach each field, and which modes reach every field an operation selects.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use apollo_compiler::ast::{Directive, OperationType, Value};
use apollo_compiler::executable::{ExecutableDocument, Operation, SelectionSet};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Node, Schema};

use crate::error::Error;
use crate::span::file_of;

pub use appsync_types::{AuthMode, OperationKind};

/// The variant name of `appsync_client::AuthMode` for a mode (generated code names it).
pub(crate) fn variant(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::ApiKey => "ApiKey",
        AuthMode::Iam => "Iam",
        AuthMode::UserPools => "UserPools",
        AuthMode::Oidc => "Oidc",
        AuthMode::Lambda => "Lambda",
        // Schemas name AppSync's five modes only.
        _ => "None",
    }
}

/// Where a field's rule came from (§3.3: the field's directives replace the type's, and the
/// default mode counts only where neither has any).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthSource {
    /// Auth directives on the field.
    Field,
    /// Auth directives on its type (the field has none).
    Type,
    /// Neither has any: the API's default mode.
    Default,
}

/// Who may reach one `Type.field`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldAuth {
    /// The modes allowed, in [`AuthMode::APPSYNC`] order.
    pub modes: Vec<AuthMode>,
    /// For user pools: only callers in one of these groups (`cognito_groups`). The mode is still
    /// allowed; the group check happens at call time.
    pub cognito_groups: Option<Vec<String>>,
    /// Where the rule came from.
    pub source: AuthSource,
}

/// Who may reach every field of one operation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationInfo {
    /// The operation's name.
    pub name: String,
    /// Its kind.
    pub kind: OperationKind,
    /// The modes that reach every selected field (§3.6), in [`AuthMode::APPSYNC`] order. A mode
    /// whose user-pool groups are restricted still counts: see `user_pool_groups`.
    pub allowed_auth_modes: Vec<AuthMode>,
    /// Group requirements met along the way, for user pools: a caller needs, for each inner
    /// list, at least one of its groups. Empty when user pools is not allowed or nothing
    /// restricts groups.
    pub user_pool_groups: Vec<Vec<String>>,
    /// The file the operation came from.
    pub file: String,
}

/// What the builder found, without generating code: per-field rules and per-operation modes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Analysis {
    /// The API's default mode, as set on the builder.
    pub default_auth_mode: Option<AuthMode>,
    /// Every operation (from files and generated statements), in document order.
    pub operations: Vec<OperationInfo>,
    /// `(type, field)` → the rule, for every field of every object type of the schema.
    pub fields: BTreeMap<(String, String), FieldAuth>,
    /// Problems that do not stop generation: each operation that no auth mode can send, at
    /// the operation, naming the fields whose modes do not meet and their schema lines.
    pub warnings: Vec<Error>,
}

impl Analysis {
    /// The operation of that name.
    pub fn operation(&self, name: &str) -> Option<&OperationInfo> {
        self.operations.iter().find(|o| o.name == name)
    }

    /// The rule of `Type.field`.
    pub fn field(&self, type_name: &str, field: &str) -> Option<&FieldAuth> {
        self.fields.get(&(type_name.to_owned(), field.to_owned()))
    }
}

/// The auth metadata of every operation and field.
pub(crate) fn analyze(
    schema: &Schema,
    doc: &ExecutableDocument,
    auth: &AuthModel,
    warnings: Vec<Error>,
) -> Analysis {
    let mut fields = BTreeMap::new();
    for (name, ty) in &schema.types {
        if let ExtendedType::Object(o) = ty {
            if ty.is_built_in() {
                continue;
            }
            for f in o.fields.keys() {
                fields.insert((name.to_string(), f.to_string()), auth.field_auth(name, f));
            }
        }
    }
    let operations = doc
        .operations
        .named
        .values()
        .map(|op| operation_info(doc, auth, op))
        .collect();
    Analysis {
        default_auth_mode: auth.default,
        operations,
        fields,
        warnings,
    }
}

/// The kind and allowed auth modes of one operation.
pub(crate) fn operation_info(
    doc: &ExecutableDocument,
    auth: &AuthModel,
    op: &Node<Operation>,
) -> OperationInfo {
    let OperationAuth {
        modes: allowed_auth_modes,
        groups: user_pool_groups,
        ..
    } = auth.operation(doc, &op.selection_set);
    let file = file_of(&doc.sources, op.location());
    OperationInfo {
        name: op.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        kind: match op.operation_type {
            OperationType::Query => OperationKind::Query,
            OperationType::Mutation => OperationKind::Mutation,
            OperationType::Subscription => OperationKind::Subscription,
        },
        allowed_auth_modes,
        user_pool_groups,
        file,
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Allow {
    pub modes: BTreeSet<AuthMode>,
    pub groups: Option<Vec<String>>,
}

impl Allow {
    fn from_directives<'a>(
        directives: impl Iterator<Item = &'a Directive>,
        sole_user_pools: bool,
    ) -> Option<Allow> {
        let mut allow = Allow::default();
        let mut any = false;
        for d in directives {
            let mode = match AuthMode::from_directive(&d.name) {
                Some(m) => m,
                // Legacy: meaningful only when user pools is the only mode (§3.2).
                None if d.name == "aws_auth" && sole_user_pools => AuthMode::UserPools,
                None => continue,
            };
            any = true;
            allow.modes.insert(mode);
            if mode == AuthMode::UserPools {
                if let Some(Value::List(items)) = d
                    .specified_argument_by_name("cognito_groups")
                    .map(|v| v.as_ref())
                {
                    let groups = allow.groups.get_or_insert_with(Vec::new);
                    groups.extend(items.iter().filter_map(|i| i.as_str().map(str::to_owned)));
                }
            }
        }
        any.then_some(allow)
    }
}

/// The rules of one schema.
pub(crate) struct AuthModel {
    pub default: Option<AuthMode>,
    pub enabled: Option<BTreeSet<AuthMode>>,
    type_allow: HashMap<Name, Allow>,
    field_allow: HashMap<(Name, Name), Allow>,
    /// Abstract type → its object types, in schema order; object type → itself.
    possible: HashMap<Name, Vec<Name>>,
}

impl AuthModel {
    pub(crate) fn new(
        schema: &Schema,
        default: Option<AuthMode>,
        additional: Option<&[AuthMode]>,
    ) -> AuthModel {
        let sole_user_pools =
            default == Some(AuthMode::UserPools) && additional.is_none_or(|a| a.is_empty());
        let enabled = additional.map(|a| a.iter().copied().chain(default).collect());
        let mut type_allow = HashMap::new();
        let mut field_allow = HashMap::new();
        for (name, ty) in &schema.types {
            if let ExtendedType::Object(o) = ty {
                if let Some(a) =
                    Allow::from_directives(o.directives.iter().map(|d| &*d.node), sole_user_pools)
                {
                    type_allow.insert(name.clone(), a);
                }
                for (fname, f) in &o.fields {
                    if let Some(a) =
                        Allow::from_directives(f.directives.iter().map(|d| &**d), sole_user_pools)
                    {
                        field_allow.insert((name.clone(), fname.clone()), a);
                    }
                }
            }
        }
        AuthModel {
            default,
            enabled,
            type_allow,
            field_allow,
            possible: possible_types(schema),
        }
    }

    /// §3.3: the field's directives, else its type's, else the default mode.
    pub(crate) fn rule(&self, ty: &str, field: &str) -> (Allow, AuthSource) {
        let key = (Name::new_unchecked(ty), Name::new_unchecked(field));
        if let Some(a) = self.field_allow.get(&key) {
            return (a.clone(), AuthSource::Field);
        }
        if let Some(a) = self.type_allow.get(ty) {
            return (a.clone(), AuthSource::Type);
        }
        let modes = self.default.into_iter().collect();
        (
            Allow {
                modes,
                groups: None,
            },
            AuthSource::Default,
        )
    }

    pub(crate) fn has_rule(&self, ty: &str, field: &str) -> bool {
        self.type_allow.contains_key(ty)
            || self
                .field_allow
                .contains_key(&(Name::new_unchecked(ty), Name::new_unchecked(field)))
    }

    pub(crate) fn field_auth(&self, ty: &str, field: &str) -> FieldAuth {
        let (a, source) = self.rule(ty, field);
        FieldAuth {
            modes: ordered(&a.modes),
            cognito_groups: a.groups,
            source,
        }
    }

    pub(crate) fn possible(&self, ty: &str) -> &[Name] {
        self.possible.get(ty).map(Vec::as_slice).unwrap_or_default()
    }

    /// The modes that reach every field of the selection (intersection along the tree), the
    /// user-pool group requirements met, and, when no mode is left, the fields that left none.
    pub(crate) fn operation(&self, doc: &ExecutableDocument, root: &SelectionSet) -> OperationAuth {
        let mut w = Walk {
            modes: match &self.enabled {
                Some(e) => e.clone(),
                None => AuthMode::APPSYNC.iter().copied().collect(),
            },
            groups: BTreeSet::new(),
            narrowed_by: Vec::new(),
            conflict: None,
            budget: 0,
        };
        let start = self.possible(&root.ty).to_vec();
        self.walk(doc, root, &start, &mut w);
        let groups = if w.modes.contains(&AuthMode::UserPools) {
            w.groups.into_iter().collect()
        } else {
            Vec::new()
        };
        let conflict = w.conflict.map(|c| Conflict {
            enabled: self.enabled.clone(),
            ..c
        });
        OperationAuth {
            modes: ordered(&w.modes),
            groups,
            conflict,
        }
    }

    fn walk(&self, doc: &ExecutableDocument, set: &SelectionSet, types: &[Name], w: &mut Walk) {
        // Fragments can be spread many times; a document is acyclic after validation, but an
        // adversarial one could still be exponential. Bound the work.
        w.budget += 1;
        if w.budget > 1_000_000 {
            return;
        }
        use apollo_compiler::executable::Selection;
        for sel in &set.selections {
            match sel {
                Selection::Field(f) => {
                    if f.name.starts_with("__") {
                        continue;
                    }
                    for t in types {
                        let (a, source) = self.rule(t, &f.name);
                        w.apply(t, &f.name, a, source);
                    }
                    if !f.selection_set.selections.is_empty() {
                        let child = self.possible(f.ty().inner_named_type()).to_vec();
                        self.walk(doc, &f.selection_set, &child, w);
                    }
                }
                Selection::InlineFragment(i) => {
                    let cond = i.type_condition.as_ref().unwrap_or(&set.ty);
                    let narrowed = self.narrow(types, cond);
                    if !narrowed.is_empty() {
                        self.walk(doc, &i.selection_set, &narrowed, w);
                    }
                }
                Selection::FragmentSpread(s) => {
                    if let Some(frag) = doc.fragments.get(&s.fragment_name) {
                        let narrowed = self.narrow(types, frag.type_condition());
                        if !narrowed.is_empty() {
                            self.walk(doc, &frag.selection_set, &narrowed, w);
                        }
                    }
                }
            }
        }
    }

    fn narrow(&self, types: &[Name], cond: &str) -> Vec<Name> {
        let p = self.possible(cond);
        types.iter().filter(|t| p.contains(t)).cloned().collect()
    }
}

/// What an operation's selection allows.
pub(crate) struct OperationAuth {
    /// The modes that reach every selected field, in [`AuthMode::APPSYNC`] order.
    pub modes: Vec<AuthMode>,
    /// User-pool group requirements (empty unless user pools is allowed).
    pub groups: Vec<Vec<String>>,
    /// Why no mode is left, when none is.
    pub conflict: Option<Conflict>,
}

/// One field's rule as an operation's walk applied it.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub ty: Name,
    pub field: Name,
    pub modes: BTreeSet<AuthMode>,
    pub source: AuthSource,
}

/// The fields whose rules do not meet: those that narrowed the allowed modes, in the order
/// met, and the one that left none.
#[derive(Clone, Debug)]
pub(crate) struct Conflict {
    /// The modes the API enables, when they were set and narrowed the start already.
    pub enabled: Option<BTreeSet<AuthMode>>,
    pub narrowed_by: Vec<Step>,
    pub emptied_by: Step,
}

impl Conflict {
    /// Which fields' rules do not meet, with their schema lines, in one line of text.
    pub(crate) fn explain(&self, schema: &Schema, lines: &mut crate::span::Locator<'_>) -> String {
        let mut describe = |st: &Step| {
            let field_span = || {
                schema
                    .type_field(&st.ty, &st.field)
                    .ok()
                    .and_then(|f| f.location())
            };
            let (why, span) = match st.source {
                AuthSource::Field => ("its own directives".to_owned(), field_span()),
                AuthSource::Type => (
                    format!("type `{}`'s directives", st.ty),
                    schema.types.get(&st.ty).and_then(|t| t.location()),
                ),
                AuthSource::Default => (
                    "the default mode, as neither it nor its type has a directive".to_owned(),
                    field_span(),
                ),
            };
            let (file, line, column) = lines.locate(span);
            let modes = match ordered(&st.modes).as_slice() {
                [] => "no mode".to_owned(),
                [one] => one.as_str().to_owned(),
                [rest @ .., last] => format!(
                    "{} or {}",
                    rest.iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    last.as_str()
                ),
            };
            format!(
                "`{}.{}` allows {modes} ({why}, {file}:{line}:{column})",
                st.ty, st.field
            )
        };
        let last = describe(&self.emptied_by);
        if self.narrowed_by.is_empty() {
            return match &self.enabled {
                Some(e) => format!(
                    "{last}, and the API enables only {}",
                    ordered(e)
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => last,
            };
        }
        let before: Vec<String> = self.narrowed_by.iter().map(&mut describe).collect();
        format!("{}; but {last}", before.join("; "))
    }
}

/// The state of an operation's walk.
struct Walk {
    modes: BTreeSet<AuthMode>,
    groups: BTreeSet<Vec<String>>,
    /// Rules that removed modes so far (only kept until the set is empty).
    narrowed_by: Vec<Step>,
    conflict: Option<Conflict>,
    budget: usize,
}

impl Walk {
    fn apply(&mut self, ty: &Name, field: &Name, a: Allow, source: AuthSource) {
        if let Some(mut g) = a.groups {
            g.sort();
            g.dedup();
            self.groups.insert(g);
        }
        let before = self.modes.len();
        self.modes.retain(|m| a.modes.contains(m));
        if self.modes.len() == before || self.conflict.is_some() {
            return;
        }
        let step = Step {
            ty: ty.clone(),
            field: field.clone(),
            modes: a.modes,
            source,
        };
        if self.modes.is_empty() {
            self.conflict = Some(Conflict {
                enabled: None,
                narrowed_by: std::mem::take(&mut self.narrowed_by),
                emptied_by: step,
            });
        } else {
            self.narrowed_by.push(step);
        }
    }
}

/// For each composite type, the object types a value of it can be (schema order).
pub(crate) fn possible_types(schema: &Schema) -> HashMap<Name, Vec<Name>> {
    let mut map: HashMap<Name, Vec<Name>> = HashMap::new();
    for (name, ty) in &schema.types {
        match ty {
            ExtendedType::Object(o) => {
                map.entry(name.clone()).or_default().push(name.clone());
                for i in &o.implements_interfaces {
                    map.entry(i.name.clone()).or_default().push(name.clone());
                }
            }
            ExtendedType::Union(u) => {
                let members: Vec<Name> = schema
                    .types
                    .iter()
                    .filter(|(n, t)| t.is_object() && u.members.contains(n.as_str()))
                    .map(|(n, _)| n.clone())
                    .collect();
                map.entry(name.clone()).or_default().extend(members);
            }
            ExtendedType::Interface(_) => {
                map.entry(name.clone()).or_default();
            }
            _ => {}
        }
    }
    map
}

pub(crate) fn ordered(modes: &BTreeSet<AuthMode>) -> Vec<AuthMode> {
    AuthMode::APPSYNC
        .iter()
        .copied()
        .filter(|m| modes.contains(m))
        .collect()
}
