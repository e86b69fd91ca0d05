//! One module and one marker type per operation (its variables, response types, document,
//! auth metadata and trait impls), the fragment types, and the document text each sends.

use std::collections::BTreeSet;

use apollo_compiler::ast::OperationType;
use apollo_compiler::executable::{ExecutableDocument, Operation, Selection, SelectionSet};
use apollo_compiler::parser::SourceSpan;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Node};
use proc_macro2::TokenStream;
use quote::quote;

use crate::auth::{operation_info, OperationKind};
use crate::names::{field_name, ident, Scope};
use crate::span::file_of;

use super::docs::doc_attrs;
use super::objects::Part;
use super::render::RField;
use super::{Gen, Ns};

impl<'a> Gen<'a> {
    /// The fragment types.
    pub(super) fn fragments(&mut self) -> Vec<TokenStream> {
        let mut fragment_items = Vec::new();
        let fragments: Vec<(Name, String)> = self
            .doc
            .fragments
            .keys()
            .filter_map(|n| self.fragment_names.get(n).map(|r| (n.clone(), r.clone())))
            .collect();
        for (name, rust) in fragments {
            let Some(frag) = self.doc.fragments.get(&name) else {
                continue;
            };
            let types = self.auth.possible(frag.type_condition()).to_vec();
            let mut docs = vec![format!(
                "The fragment `{name}` on `{}`.",
                frag.type_condition()
            )];
            if let Some(d) = self
                .schema
                .types
                .get(frag.type_condition())
                .and_then(|t| t.description())
            {
                docs.push(String::new());
                docs.push(d.to_string());
            }
            let mut top = std::mem::take(&mut self.top);
            self.struct_for(
                &mut fragment_items,
                &mut top,
                Ns::Top,
                rust.clone(),
                rust,
                docs,
                vec![Part::Set(&frag.selection_set, false)],
                types,
                false,
            );
            self.top = top;
        }
        fragment_items
    }

    pub(super) fn operation(
        &mut self,
        op: &'a Node<Operation>,
        marker: &str,
        module: &str,
    ) -> TokenStream {
        let name = op.name.as_ref().map(|n| n.as_str()).unwrap_or_default();
        let info = operation_info(self.doc, self.auth, op);
        let mut items = Vec::new();
        let mut scope = Scope::with(&["Variables", "ResponseData", "_appsync", "_serde"]);

        // Variables.
        let mut vscope = Scope::default();
        let mut vars = Vec::new();
        for v in &op.variables {
            let ty = self.input_type(&v.ty, v.default_value.is_some(), Ns::Module, None);
            let mut docs = vec![format!("`${}: {}`.", v.name, v.ty)];
            if let Some(d) = &v.default_value {
                docs.push(format!("Default: `{d}`."));
            }
            vars.push(RField {
                name: vscope.unique(&field_name(&v.name)),
                wire: v.name.to_string(),
                ty,
                docs,
                deprecated: None,
                flatten: false,
                optional_part: false,
                may_be_missing: false,
                input: true,
            });
        }
        let vdocs = vec![format!("The variables of `{name}`.")];
        let variables = self.render_struct("Variables", &vdocs, &vars, true);

        // Response.
        let root = op.selection_set.ty.clone();
        let types = self.auth.possible(&root).to_vec();
        let rdocs = vec![format!("The `data` of a `{name}` response.")];
        self.struct_for(
            &mut items,
            &mut scope,
            Ns::Module,
            "ResponseData".to_owned(),
            String::new(),
            rdocs,
            vec![Part::Set(&op.selection_set, false)],
            types,
            false,
        );

        let query = self.document_text(op);
        let file = file_of(&self.doc.sources, op.location());
        let comments = self.leading_comments(op.location());
        let keyword = match op.operation_type {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        };
        let modes: Vec<&str> = info.allowed_auth_modes.iter().map(|m| m.as_str()).collect();
        let mut mdocs = comments.clone();
        if !mdocs.is_empty() {
            mdocs.push(String::new());
        }
        mdocs.push(format!("The {keyword} `{name}` (from `{file}`)."));
        mdocs.push(String::new());
        mdocs.push(format!(
            "Allowed auth modes: {}.",
            if modes.is_empty() {
                let why = self
                    .auth
                    .operation(self.doc, &op.selection_set)
                    .conflict
                    .map(|c| c.explain(self.schema, &mut self.schema_lines.borrow_mut()))
                    .unwrap_or_default();
                format!(
                    "none. No mode reaches every field it selects: {why}. The client refuses \
                     every call of it"
                )
            } else {
                modes
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        if !info.user_pool_groups.is_empty() {
            mdocs.push(format!(
                "User pools callers must also be in: {}.",
                info.user_pool_groups
                    .iter()
                    .map(|g| g.join(" or "))
                    .collect::<Vec<_>>()
                    .join("; and ")
            ));
        }
        let mod_doc = doc_attrs(&{
            let mut d = comments;
            if !d.is_empty() {
                d.push(String::new());
            }
            d.push(format!(
                "Types of the {keyword} `{name}`: see [`{marker}`](super::{marker})."
            ));
            d
        });
        let marker_docs = doc_attrs(&mdocs);
        let mid = ident(module);
        let marker_id = ident(marker);
        let kind = match info.kind {
            OperationKind::Query => quote!(Query),
            OperationKind::Mutation => quote!(Mutation),
            OperationKind::Subscription => quote!(Subscription),
        };
        let mode_ids: Vec<TokenStream> = info
            .allowed_auth_modes
            .iter()
            .map(|m| {
                let v = ident(crate::auth::variant(*m));
                quote!(_appsync::AuthMode::#v)
            })
            .collect();
        let groups: Vec<TokenStream> = info
            .user_pool_groups
            .iter()
            .map(|g| quote!(&[#(#g),*]))
            .collect();
        quote! {
            #mod_doc
            pub mod #mid {
                #[allow(unused_imports)]
                use super::{_appsync, _serde};
                /// The operation's name.
                pub const OPERATION_NAME: &str = #name;
                /// The document sent.
                pub const QUERY: &str = #query;
                /// User-pool group requirements: a caller in user pools mode needs, for each
                /// list, at least one of its groups (`cognito_groups` on selected fields).
                pub const USER_POOL_GROUPS: &[&[&str]] = &[#(#groups),*];
                #variables
                #(#items)*
            }
            #marker_docs
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
            pub struct #marker_id;
            impl _appsync::graphql_client::GraphQLQuery for #marker_id {
                type Variables = #mid::Variables;
                type ResponseData = #mid::ResponseData;
                fn build_query(variables: Self::Variables) -> _appsync::graphql_client::QueryBody<Self::Variables> {
                    _appsync::graphql_client::QueryBody {
                        variables,
                        query: #mid::QUERY,
                        operation_name: #mid::OPERATION_NAME,
                    }
                }
            }
            impl _appsync::Operation for #marker_id {
                const KIND: _appsync::OperationKind = _appsync::OperationKind::#kind;
                const ALLOWED_AUTH_MODES: &'static [_appsync::AuthMode] = &[#(#mode_ids),*];
            }
        }
    }

    /// The `#` comment lines right above a definition.
    pub(super) fn leading_comments(&self, span: Option<SourceSpan>) -> Vec<String> {
        let Some(span) = span else {
            return Vec::new();
        };
        let Some(file) = self.doc.sources.get(&span.file_id()) else {
            return Vec::new();
        };
        let path = file.path().display().to_string();
        let Some(text) = self.texts.get(&path) else {
            return Vec::new();
        };
        let before = text.get(..span.offset()).unwrap_or("");
        let mut lines: Vec<String> = Vec::new();
        for line in before.lines().rev() {
            let t = line.trim();
            match t.strip_prefix('#') {
                Some(c) => lines.push(c.trim().to_owned()),
                None if t.is_empty() && lines.is_empty() => continue,
                None => break,
            }
        }
        lines.reverse();
        lines
    }

    /// The operation and the fragments it uses, with `__typename` added where the types need
    /// it, on one line.
    pub(super) fn document_text(&self, op: &Node<Operation>) -> String {
        let mut used = BTreeSet::new();
        let mut stack = vec![&op.selection_set];
        while let Some(set) = stack.pop() {
            spreads_in(set, &mut |name| {
                if used.insert(name.clone()) {
                    if let Some(f) = self.doc.fragments.get(name) {
                        stack.push(&f.selection_set);
                    }
                }
            });
        }
        let mut doc = ExecutableDocument::new();
        let mut o = (**op).clone();
        self.add_typenames(&mut o.selection_set);
        doc.operations.insert(o);
        for (name, f) in &self.doc.fragments {
            if used.contains(name) {
                let mut f = (**f).clone();
                self.add_typenames(&mut f.selection_set);
                doc.fragments.insert(name.clone(), Node::new(f));
            }
        }
        doc.serialize().no_indent().to_string()
    }

    pub(super) fn add_typenames(&self, set: &mut SelectionSet) {
        for sel in &mut set.selections {
            match sel {
                Selection::Field(f) => self.add_typenames(&mut f.make_mut().selection_set),
                Selection::InlineFragment(i) => self.add_typenames(&mut i.make_mut().selection_set),
                Selection::FragmentSpread(_) => {}
            }
        }
        let abstract_ = matches!(
            self.schema.types.get(&set.ty),
            Some(ExtendedType::Interface(_) | ExtendedType::Union(_))
        );
        if !abstract_ {
            return;
        }
        let has = set.selections.iter().any(
            |s| matches!(s, Selection::Field(f) if f.alias.is_none() && f.name == "__typename"),
        );
        let types = self.auth.possible(&set.ty).to_vec();
        if !has && self.has_conditional(set, &types) {
            if let Ok(f) = set.new_field(self.schema, apollo_compiler::name!("__typename")) {
                set.selections.insert(0, Selection::Field(Node::new(f)));
            }
        }
    }

    pub(super) fn has_conditional(&self, set: &SelectionSet, types: &[Name]) -> bool {
        set.selections.iter().any(|s| {
            let (cond, sub) = match s {
                Selection::Field(_) => return false,
                Selection::InlineFragment(i) => (
                    i.type_condition.as_ref().unwrap_or(&set.ty).clone(),
                    Some(&i.selection_set),
                ),
                Selection::FragmentSpread(s) => match self.doc.fragments.get(&s.fragment_name) {
                    Some(f) => (f.type_condition().clone(), None),
                    None => return false,
                },
            };
            let n = self.narrow(types, &cond);
            if n.is_empty() {
                false
            } else if n.len() < types.len() {
                true
            } else {
                sub.is_some_and(|sub| self.has_conditional(sub, types))
            }
        })
    }
}

pub(super) fn spreads_in(set: &SelectionSet, f: &mut dyn FnMut(&Name)) {
    for sel in &set.selections {
        match sel {
            Selection::Field(x) => spreads_in(&x.selection_set, f),
            Selection::InlineFragment(i) => spreads_in(&i.selection_set, f),
            Selection::FragmentSpread(s) => f(&s.fragment_name),
        }
    }
}
