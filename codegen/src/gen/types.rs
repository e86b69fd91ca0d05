//! The schema's enums and input types that the operations use (or all, with `all_types`),
//! shared by all operations, and the Rust types of variables and input fields.

use std::collections::HashSet;

use apollo_compiler::ast::Type;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::Name;
use proc_macro2::TokenStream;
use quote::quote;

use crate::names::{field_name, ident, type_name, Scope};

use super::docs::{deprecation, described, doc_attrs};
use super::render::{FieldTy, RField, Wrap};
use super::{Gen, Ns};

impl<'a> Gen<'a> {
    /// The `use` aliases, and the enums and input types in use.
    pub(super) fn shared(&mut self) -> TokenStream {
        let mut worklist: Vec<Name> = self.inputs_used.iter().cloned().collect();
        if self.s.all_types {
            for (n, t) in &self.schema.types {
                if t.is_enum() && !t.is_built_in() {
                    self.enums_used.insert(n.clone());
                }
                if t.is_input_object() {
                    worklist.push(n.clone());
                }
            }
        }
        while let Some(n) = worklist.pop() {
            self.inputs_used.insert(n.clone());
            if let Some(ExtendedType::InputObject(i)) = self.schema.types.get(&n) {
                for f in i.fields.values() {
                    let inner = f.ty.inner_named_type();
                    match self.schema.types.get(inner) {
                        Some(ExtendedType::InputObject(_)) if !self.inputs_used.contains(inner) => {
                            self.inputs_used.insert(inner.clone());
                            worklist.push(inner.clone());
                        }
                        Some(ExtendedType::Enum(_)) => {
                            self.enums_used.insert(inner.clone());
                        }
                        _ => {}
                    }
                }
            }
        }
        let mut shared = Vec::new();
        let types: Vec<(Name, ExtendedType)> = self
            .schema
            .types
            .iter()
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect();
        for (name, ty) in &types {
            if let ExtendedType::Enum(e) = ty {
                if self.enums_used.contains(name) {
                    shared.push(self.enum_item(name, e));
                }
            }
        }
        for (name, ty) in &types {
            if let ExtendedType::InputObject(i) = ty {
                if self.inputs_used.contains(name) {
                    shared.push(self.input_item(name, i));
                }
            }
        }

        let client: TokenStream = syn::parse_str::<syn::Path>(&self.s.client_crate)
            .map(|p| quote!(#p))
            .unwrap_or_else(|_| quote!(::appsync_client));
        quote! {
            #[allow(unused_imports)]
            use #client as _appsync;
            #[allow(unused_imports)]
            use #client::types::__private::serde as _serde;
            #(#shared)*
        }
    }

    pub(super) fn enum_item(
        &mut self,
        name: &Name,
        e: &apollo_compiler::schema::EnumType,
    ) -> TokenStream {
        let rust = ident(&self.rust_name(name));
        let mut scope = Scope::default();
        let mut variants = Vec::new();
        let mut to_str = Vec::new();
        let mut from_str = Vec::new();
        for (value, def) in &e.values {
            let v = ident(&scope.unique(&type_name(value)));
            let wire = value.as_str();
            let docs = doc_attrs(&described(&def.description, || format!("`{wire}`.")));
            let dep = deprecation(&def.directives).map(|r| quote!(#[deprecated(note = #r)]));
            variants.push(quote!(#docs #dep #v,));
            to_str.push(quote!(Self::#v => #wire,));
            from_str.push(quote!(#wire => Self::#v,));
        }
        let other = ident(&scope.unique("Other"));
        let docs = doc_attrs(&described(&e.description, || format!("The enum `{name}`.")));
        quote! {
            #docs
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            pub enum #rust {
                #(#variants)*
                /// A value this code does not know (the schema gained it later).
                #other(String),
            }
            #[allow(deprecated)]
            impl #rust {
                /// The value as GraphQL writes it.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(#to_str)*
                        Self::#other(value) => value.as_str(),
                    }
                }
            }
            impl _serde::Serialize for #rust {
                fn serialize<S: _serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }
            #[allow(deprecated)]
            impl<'de> _serde::Deserialize<'de> for #rust {
                fn deserialize<D: _serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let value = <String as _serde::Deserialize>::deserialize(deserializer)?;
                    Ok(match value.as_str() {
                        #(#from_str)*
                        _ => Self::#other(value),
                    })
                }
            }
        }
    }

    pub(super) fn input_item(
        &mut self,
        name: &Name,
        i: &apollo_compiler::schema::InputObjectType,
    ) -> TokenStream {
        let rust = self.rust_name(name);
        let mut scope = Scope::default();
        let mut fields = Vec::new();
        for (fname, def) in &i.fields {
            let ty = self.input_type(&def.ty, def.default_value.is_some(), Ns::Top, Some(name));
            let mut docs = described(&def.description, || format!("`{fname}: {}`.", def.ty));
            if let Some(v) = &def.default_value {
                if !docs.is_empty() {
                    docs.push(String::new());
                }
                docs.push(format!("Default: `{v}`."));
            }
            fields.push(RField {
                name: scope.unique(&field_name(fname)),
                wire: fname.to_string(),
                ty,
                docs,
                deprecated: deprecation(&def.directives),
                flatten: false,
                optional_part: false,
                may_be_missing: false,
                input: true,
            });
        }
        let docs = described(&i.description, || format!("The input type `{name}`."));
        self.render_struct(&rust, &docs, &fields, true)
    }

    /// The Rust type of a variable or input field.
    pub(super) fn input_type(
        &mut self,
        ty: &Type,
        has_default: bool,
        ns: Ns,
        parent: Option<&Name>,
    ) -> FieldTy {
        fn wraps(ty: &Type, has_default: bool, top: bool, out: &mut Vec<Wrap>) {
            match ty {
                Type::Named(_) => out.push(if top { Wrap::Nullable } else { Wrap::Option }),
                Type::NonNullNamed(_) => {
                    if top && has_default {
                        out.push(Wrap::Option);
                    }
                }
                Type::List(inner) => {
                    out.push(if top { Wrap::Nullable } else { Wrap::Option });
                    out.push(Wrap::Vec);
                    wraps(inner, false, false, out);
                }
                Type::NonNullList(inner) => {
                    if top && has_default {
                        out.push(Wrap::Option);
                    }
                    out.push(Wrap::Vec);
                    wraps(inner, false, false, out);
                }
            }
        }
        let mut w = Vec::new();
        wraps(ty, has_default, true, &mut w);
        let inner = ty.inner_named_type();
        let leaf = self.named_leaf(inner, ns);
        if let Some(p) = parent {
            if !w.contains(&Wrap::Vec) && self.reaches(inner, p) {
                w.push(Wrap::Box);
            }
        }
        FieldTy {
            wraps: w,
            leaf: leaf.ty,
            codec: leaf.codec,
        }
    }

    /// Whether input type `from` leads back to `to` without a list in between (a field of type
    /// `from` inside `to` then needs a `Box`).
    pub(super) fn reaches(&mut self, from: &Name, to: &Name) -> bool {
        if !matches!(
            self.schema.types.get(from),
            Some(ExtendedType::InputObject(_))
        ) {
            return false;
        }
        if from == to {
            return true;
        }
        if !self.box_memo.contains_key(from) {
            let mut seen = HashSet::new();
            let mut stack = vec![from.clone()];
            while let Some(n) = stack.pop() {
                if let Some(ExtendedType::InputObject(i)) = self.schema.types.get(&n) {
                    for f in i.fields.values() {
                        if matches!(&*f.ty, Type::List(_) | Type::NonNullList(_)) {
                            continue;
                        }
                        let t = f.ty.inner_named_type();
                        if self
                            .schema
                            .types
                            .get(t)
                            .is_some_and(|t| t.is_input_object())
                            && seen.insert(t.clone())
                        {
                            stack.push(t.clone());
                        }
                    }
                }
            }
            self.box_memo.insert(from.clone(), seen);
        }
        self.box_memo.get(from).is_some_and(|s| s.contains(to))
    }
}
