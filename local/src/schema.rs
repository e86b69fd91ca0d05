//! The schema as appsync-local reads it: SDL plus the AWS prelude, merged extensions, the auth
//! rules of every type and field (§3.3) and the `@aws_subscribe` wiring (§3.5).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use appsync_types::directives;
use async_graphql::parser::types::{
    BaseType, ConstDirective, FieldDefinition, ServiceDocument, Type, TypeDefinition, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::parser::Positioned;
use async_graphql::Value as GqlValue;

use crate::auth::{AuthMode, Identity};

/// The AWS prelude: scalars and `@aws_*` directives AppSync declares implicitly.
pub const AWS_PRELUDE: &str = appsync_types::AWS_PRELUDE;

/// The AWS scalars.
pub(crate) const AWS_SCALARS: [&str; 9] = [
    "AWSDate",
    "AWSTime",
    "AWSDateTime",
    "AWSTimestamp",
    "AWSEmail",
    "AWSJSON",
    "AWSURL",
    "AWSPhone",
    "AWSIPAddress",
];

/// Who may reach a type or field: modes, and for user pools optionally only some groups.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Allow {
    pub modes: BTreeSet<AuthMode>,
    /// `cognito_groups` of the user-pools directive, if it lists any.
    pub groups: Option<Vec<String>>,
}

impl Allow {
    fn from_directives(
        directives: &[Positioned<ConstDirective>],
        sole_user_pools: bool,
    ) -> Option<Allow> {
        let mut allow = Allow::default();
        let mut any = false;
        for d in directives {
            let d = &d.node;
            let name = d.name.node.as_str();
            let mode = match AuthMode::from_directive(name) {
                Some(m) => m,
                // Legacy: meaningful only when user pools is the only mode (§3.2).
                None if name == directives::AUTH && sole_user_pools => AuthMode::UserPools,
                None => continue,
            };
            any = true;
            allow.modes.insert(mode);
            if mode == AuthMode::UserPools {
                if let Some((_, v)) = d
                    .arguments
                    .iter()
                    .find(|(n, _)| n.node == directives::COGNITO_GROUPS)
                {
                    if let GqlValue::List(items) = &v.node {
                        let groups = allow.groups.get_or_insert_with(Vec::new);
                        groups.extend(items.iter().filter_map(|i| match i {
                            GqlValue::String(s) => Some(s.clone()),
                            _ => None,
                        }));
                    }
                }
            }
        }
        any.then_some(allow)
    }

    /// Whether the identity gets through.
    pub(crate) fn admits(&self, id: &Identity) -> bool {
        if !self.modes.contains(&id.mode) {
            return false;
        }
        match (&self.groups, id.mode) {
            (Some(groups), AuthMode::UserPools) => groups.iter().any(|g| id.groups.contains(g)),
            _ => true,
        }
    }
}

/// The parsed schema with what appsync-local needs to serve it.
#[derive(Debug)]
pub(crate) struct SchemaModel {
    pub query: String,
    pub mutation: Option<String>,
    pub subscription: Option<String>,
    /// Every type, by name, extensions merged.
    pub types: BTreeMap<String, TypeDefinition>,
    /// The default mode, allowed where no directive applies.
    pub default_mode: AuthMode,
    type_allow: HashMap<String, Allow>,
    field_allow: HashMap<(String, String), Allow>,
    /// Subscription field → the mutation fields that trigger it.
    pub subscribe: BTreeMap<String, Vec<String>>,
}

impl SchemaModel {
    /// Parses the SDL, adds the prelude, merges `extend`, and checks AppSync's rules. Every
    /// problem is reported, one per line.
    pub(crate) fn parse(
        sdl: &str,
        default_mode: AuthMode,
        sole_user_pools: bool,
    ) -> Result<SchemaModel, String> {
        let doc = async_graphql::parser::parse_schema(sdl).map_err(|e| format!("schema: {e}"))?;
        let prelude = async_graphql::parser::parse_schema(AWS_PRELUDE)
            .map_err(|e| format!("AWS prelude: {e}"))?;
        let mut problems = Vec::new();
        let mut types: BTreeMap<String, TypeDefinition> = BTreeMap::new();
        let mut extensions: Vec<TypeDefinition> = Vec::new();
        let (mut query, mut mutation, mut subscription) = (None, None, None);
        for def in doc.definitions {
            match def {
                TypeSystemDefinition::Schema(s) => {
                    query = s.node.query.map(|n| n.node.to_string()).or(query);
                    mutation = s.node.mutation.map(|n| n.node.to_string()).or(mutation);
                    subscription = s
                        .node
                        .subscription
                        .map(|n| n.node.to_string())
                        .or(subscription);
                }
                TypeSystemDefinition::Type(t) => {
                    let t = t.node;
                    let name = t.name.node.to_string();
                    if t.extend {
                        extensions.push(t);
                        continue;
                    }
                    if let TypeKind::Scalar = t.kind {
                        if AWS_SCALARS.contains(&name.as_str()) {
                            continue; // a redeclared AWS scalar: the prelude has it.
                        }
                        problems.push(format!(
                            "{}:{}: custom scalar {name} is not allowed by AppSync; use an AWS scalar",
                            t.name.pos.line, t.name.pos.column
                        ));
                        continue;
                    }
                    if name.starts_with("AWS") {
                        problems.push(format!(
                            "{}:{}: the AWS prefix is reserved for AppSync's own types: {name}",
                            t.name.pos.line, t.name.pos.column
                        ));
                    }
                    if types.insert(name.clone(), t).is_some() {
                        problems.push(format!("type {name} is defined twice"));
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        let _: &ServiceDocument = &prelude;
        for def in prelude.definitions {
            if let TypeSystemDefinition::Type(t) = def {
                types.entry(t.node.name.node.to_string()).or_insert(t.node);
            }
        }
        for ext in extensions {
            let name = ext.name.node.to_string();
            let Some(base) = types.get_mut(&name) else {
                problems.push(format!("extend type {name}: no type {name} to extend"));
                continue;
            };
            base.directives.extend(ext.directives);
            match (&mut base.kind, ext.kind) {
                (TypeKind::Object(b), TypeKind::Object(e)) => {
                    b.fields.extend(e.fields);
                    b.implements.extend(e.implements);
                }
                (TypeKind::InputObject(b), TypeKind::InputObject(e)) => b.fields.extend(e.fields),
                (TypeKind::Enum(b), TypeKind::Enum(e)) => b.values.extend(e.values),
                (TypeKind::Interface(b), TypeKind::Interface(e)) => b.fields.extend(e.fields),
                (TypeKind::Union(b), TypeKind::Union(e)) => b.members.extend(e.members),
                _ => problems.push(format!(
                    "extend type {name}: kind differs from the definition"
                )),
            }
        }
        let query = query.unwrap_or_else(|| "Query".to_owned());
        let mutation = mutation.or_else(|| {
            types
                .contains_key("Mutation")
                .then(|| "Mutation".to_owned())
        });
        let subscription = subscription.or_else(|| {
            types
                .contains_key("Subscription")
                .then(|| "Subscription".to_owned())
        });
        if !types.contains_key(&query) {
            problems.push(format!("the schema has no {query} type"));
        }

        let mut type_allow = HashMap::new();
        let mut field_allow = HashMap::new();
        let mut subscribe = BTreeMap::new();
        for (name, t) in &types {
            if let Some(a) = Allow::from_directives(&t.directives, sole_user_pools) {
                type_allow.insert(name.clone(), a);
            }
            let fields: &[Positioned<FieldDefinition>] = match &t.kind {
                TypeKind::Object(o) => &o.fields,
                TypeKind::Interface(i) => &i.fields,
                _ => &[],
            };
            for f in fields {
                let fname = f.node.name.node.to_string();
                if let Some(a) = Allow::from_directives(&f.node.directives, sole_user_pools) {
                    field_allow.insert((name.clone(), fname.clone()), a);
                }
                if let Some(d) = f
                    .node
                    .directives
                    .iter()
                    .find(|d| d.node.name.node == directives::SUBSCRIBE)
                {
                    if Some(name) != subscription.as_ref() {
                        problems.push(format!(
                            "{name}.{fname}: @aws_subscribe is only for Subscription fields"
                        ));
                    }
                    let mutations: Vec<String> = d
                        .node
                        .arguments
                        .iter()
                        .find(|(n, _)| n.node == "mutations")
                        .and_then(|(_, v)| match &v.node {
                            GqlValue::List(l) => Some(
                                l.iter()
                                    .filter_map(|i| match i {
                                        GqlValue::String(s) => Some(s.clone()),
                                        _ => None,
                                    })
                                    .collect(),
                            ),
                            _ => None,
                        })
                        .unwrap_or_default();
                    let mfields = mutation
                        .as_ref()
                        .and_then(|m| types.get(m))
                        .map(object_fields)
                        .unwrap_or_default();
                    for m in &mutations {
                        match mfields.iter().find(|f| f.node.name.node == m.as_str()) {
                            None => problems.push(format!(
                                "{name}.{fname}: @aws_subscribe names mutation {m:?}, which the schema does not have"
                            )),
                            Some(mf) if named_type(&mf.node.ty.node) != named_type(&f.node.ty.node) => {
                                problems.push(format!(
                                    "{name}.{fname}: returns {} but mutation {m} returns {}; they must be the same type",
                                    named_type(&f.node.ty.node),
                                    named_type(&mf.node.ty.node)
                                ))
                            }
                            Some(_) => {}
                        }
                    }
                    subscribe.insert(fname, mutations);
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        Ok(SchemaModel {
            query,
            mutation,
            subscription,
            types,
            default_mode,
            type_allow,
            field_allow,
            subscribe,
        })
    }

    /// Who may reach `Type.field`: the field's directives, else the type's, else the default mode.
    pub(crate) fn allow(&self, type_name: &str, field: &str) -> Allow {
        if let Some(a) = self
            .field_allow
            .get(&(type_name.to_owned(), field.to_owned()))
        {
            return a.clone();
        }
        if let Some(a) = self.type_allow.get(type_name) {
            return a.clone();
        }
        Allow {
            modes: [self.default_mode].into(),
            groups: None,
        }
    }

    /// Whether the identity may reach `Type.field` (directives, groups, Lambda `deniedFields`).
    pub(crate) fn admits(&self, type_name: &str, field: &str, id: &Identity) -> bool {
        self.allow(type_name, field).admits(id) && !id.denies(type_name, field)
    }

    /// The fields of an object or interface type.
    pub(crate) fn fields(&self, type_name: &str) -> &[Positioned<FieldDefinition>] {
        self.types
            .get(type_name)
            .map(object_fields)
            .unwrap_or_default()
    }

    /// The definition of `Type.field`.
    pub(crate) fn field(&self, type_name: &str, field: &str) -> Option<&FieldDefinition> {
        self.fields(type_name)
            .iter()
            .find(|f| f.node.name.node == field)
            .map(|f| &f.node)
    }

    pub(crate) fn is_abstract(&self, type_name: &str) -> bool {
        matches!(
            self.types.get(type_name).map(|t| &t.kind),
            Some(TypeKind::Interface(_) | TypeKind::Union(_))
        )
    }

    pub(crate) fn is_enum(&self, type_name: &str) -> bool {
        matches!(
            self.types.get(type_name).map(|t| &t.kind),
            Some(TypeKind::Enum(_))
        )
    }

    /// The object types that can stand for an abstract type.
    pub(crate) fn possible_types(&self, type_name: &str) -> Vec<String> {
        match self.types.get(type_name).map(|t| &t.kind) {
            Some(TypeKind::Union(u)) => u.members.iter().map(|m| m.node.to_string()).collect(),
            Some(TypeKind::Interface(_)) => self
                .types
                .iter()
                .filter(|(_, t)| match &t.kind {
                    TypeKind::Object(o) => o.implements.iter().any(|i| i.node == type_name),
                    _ => false,
                })
                .map(|(n, _)| n.clone())
                .collect(),
            _ => vec![type_name.to_owned()],
        }
    }
}

fn object_fields(t: &TypeDefinition) -> &[Positioned<FieldDefinition>] {
    match &t.kind {
        TypeKind::Object(o) => &o.fields,
        TypeKind::Interface(i) => &i.fields,
        _ => &[],
    }
}

/// The innermost named type of a type reference.
pub(crate) fn named_type(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named_type(inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        type Post @aws_api_key @aws_iam { id: ID! secret: String @aws_iam author: Author }
        type Author { name: String }
        type Query {
            getPost(id: ID!): Post @aws_api_key @aws_iam
            open: String
            admins: String @aws_cognito_user_pools(cognito_groups: ["admin"])
        }
        type Mutation { createPost(id: ID!): Post @aws_api_key }
        type Subscription { onCreatePost(id: ID): Post @aws_subscribe(mutations: ["createPost"]) @aws_api_key }
    "#;

    fn id(mode: AuthMode, groups: &[&str]) -> Identity {
        let mut i = Identity::new(mode);
        i.groups = groups.iter().map(|g| g.to_string()).collect();
        i
    }

    #[test]
    fn directive_rules() {
        let m = SchemaModel::parse(SDL, AuthMode::UserPools, false).unwrap();
        let (key, iam, up) = (
            id(AuthMode::ApiKey, &[]),
            id(AuthMode::Iam, &[]),
            id(AuthMode::UserPools, &[]),
        );
        // The field directive replaces the type's.
        assert!(m.admits("Post", "id", &key) && !m.admits("Post", "secret", &key));
        assert!(m.admits("Post", "secret", &iam));
        // Directives are exclusive: the default mode is not implied.
        assert!(!m.admits("Post", "id", &up));
        // No directive: the default mode only, nested types too.
        assert!(m.admits("Query", "open", &up) && !m.admits("Query", "open", &key));
        assert!(!m.admits("Author", "name", &key) && m.admits("Author", "name", &up));
        // Groups.
        assert!(!m.admits("Query", "admins", &up));
        assert!(m.admits("Query", "admins", &id(AuthMode::UserPools, &["admin"])));
        assert_eq!(m.subscribe["onCreatePost"], vec!["createPost".to_owned()]);
    }

    #[test]
    fn appsync_rules_are_enforced() {
        let e = SchemaModel::parse(
            "scalar Money type Query { a: Money }",
            AuthMode::ApiKey,
            false,
        )
        .unwrap_err();
        assert!(e.contains("custom scalar Money"), "{e}");
        let e = SchemaModel::parse(
            "type Query { a: Int } type Mutation { m: Int } type Subscription { s: String @aws_subscribe(mutations: [\"m\", \"x\"]) }",
            AuthMode::ApiKey,
            false,
        )
        .unwrap_err();
        assert!(
            e.contains("does not have") && e.contains("must be the same type"),
            "{e}"
        );
    }
}
