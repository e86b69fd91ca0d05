//! The response structs of a selection: fields grouped by response key, fragment spreads
//! flattened, type conditions as an enum by `__typename`, nested selections as their own
//! structs.

use apollo_compiler::ast::{DirectiveList, Type};
use apollo_compiler::executable::{Selection, SelectionSet};
use apollo_compiler::schema::{ExtendedType, FieldDefinition};
use apollo_compiler::{Name, Node};
use proc_macro2::TokenStream;
use quote::quote;

use crate::names::{field_name, ident, schema_type_name, type_name, Scope};

use super::docs::deprecation;
use super::render::{FieldTy, RField, Wrap};
use super::{Gen, Ns};

#[derive(Clone, Copy)]
pub(super) enum Part<'d> {
    Set(&'d SelectionSet, bool),
    Spread(&'d Name, bool),
}

pub(super) struct Group<'d> {
    pub(super) key: Name,
    pub(super) def: &'d Node<FieldDefinition>,
    pub(super) sets: Vec<&'d SelectionSet>,
    pub(super) always: bool,
}

#[derive(Default)]
pub(super) struct Collected<'d> {
    pub(super) fields: Vec<Group<'d>>,
    pub(super) spreads: Vec<(&'d Name, bool)>,
    pub(super) conditional: Vec<(Vec<Name>, Part<'d>)>,
}

pub(super) fn is_conditional(directives: &DirectiveList) -> bool {
    directives.get("include").is_some() || directives.get("skip").is_some()
}

impl<'a> Gen<'a> {
    pub(super) fn collect<'d>(
        &self,
        parts: &[Part<'d>],
        types: &[Name],
        in_variant: bool,
        out: &mut Collected<'d>,
    ) where
        'a: 'd,
    {
        for part in parts {
            match *part {
                Part::Spread(name, opt) => add_spread(out, name, opt),
                Part::Set(set, opt) => {
                    for sel in &set.selections {
                        match sel {
                            Selection::Field(f) => {
                                let key = f.response_key();
                                if in_variant && key == "__typename" {
                                    continue;
                                }
                                let o = opt || is_conditional(&f.directives);
                                let sub = (!f.selection_set.selections.is_empty())
                                    .then_some(&f.selection_set);
                                if let Some(g) = out.fields.iter_mut().find(|g| g.key == *key) {
                                    g.always |= !o;
                                    g.sets.extend(sub);
                                } else {
                                    out.fields.push(Group {
                                        key: key.clone(),
                                        def: &f.definition,
                                        sets: sub.into_iter().collect(),
                                        always: !o,
                                    });
                                }
                            }
                            Selection::InlineFragment(i) => {
                                let cond = i.type_condition.as_ref().unwrap_or(&set.ty);
                                let o = opt || is_conditional(&i.directives);
                                let narrowed = self.narrow(types, cond);
                                if narrowed.is_empty() {
                                    continue;
                                }
                                let part = Part::Set(&i.selection_set, o);
                                if narrowed.len() == types.len() {
                                    self.collect(&[part], types, in_variant, out);
                                } else {
                                    out.conditional.push((narrowed, part));
                                }
                            }
                            Selection::FragmentSpread(s) => {
                                let Some(frag) = self.doc.fragments.get(&s.fragment_name) else {
                                    continue;
                                };
                                let o = opt || is_conditional(&s.directives);
                                let narrowed = self.narrow(types, frag.type_condition());
                                if narrowed.is_empty() {
                                    continue;
                                }
                                if narrowed.len() == types.len() {
                                    add_spread(out, &frag.name, o);
                                } else {
                                    out.conditional
                                        .push((narrowed, Part::Spread(&frag.name, o)));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Generates the struct `name` for a selection (and the types below it) into `items`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn struct_for(
        &mut self,
        items: &mut Vec<TokenStream>,
        scope: &mut Scope,
        ns: Ns,
        name: String,
        path: String,
        docs: Vec<String>,
        parts: Vec<Part<'a>>,
        types: Vec<Name>,
        in_variant: bool,
    ) {
        let slot = items.len();
        items.push(TokenStream::new());
        let mut c = Collected::default();
        self.collect(&parts, &types, in_variant, &mut c);
        let mut fscope = Scope::default();
        let mut fields = Vec::new();
        for g in &c.fields {
            let def = g.def;
            let rust = fscope.unique(&field_name(&g.key));
            let inner = def.ty.inner_named_type();
            let (leaf, codec) = if def.name == "__typename" {
                (quote!(String), None)
            } else {
                match self.schema.types.get(inner) {
                    Some(
                        ExtendedType::Object(_)
                        | ExtendedType::Interface(_)
                        | ExtendedType::Union(_),
                    ) => {
                        let child = scope.unique(&format!("{path}{}", type_name(&g.key)));
                        let mut cdocs = vec![format!("The `{}` selection (a `{inner}`).", g.key)];
                        if let Some(d) = self.schema.types.get(inner).and_then(|t| t.description())
                        {
                            cdocs.push(String::new());
                            cdocs.push(d.to_string());
                        }
                        let parts = g.sets.iter().map(|s| Part::Set(s, false)).collect();
                        let types = self.auth.possible(inner).to_vec();
                        self.struct_for(
                            items,
                            scope,
                            ns,
                            child.clone(),
                            child.clone(),
                            cdocs,
                            parts,
                            types,
                            false,
                        );
                        let id = ident(&child);
                        (quote!(#id), None)
                    }
                    _ => {
                        let l = self.named_leaf(inner, ns);
                        (l.ty, l.codec)
                    }
                }
            };
            let mut wraps = Vec::new();
            output_wraps(&def.ty, &mut wraps);
            if def.name == "__typename" {
                wraps.clear();
            }
            let may_be_missing = !g.always;
            if may_be_missing && wraps.first() != Some(&Wrap::Option) {
                wraps.insert(0, Wrap::Option);
            }
            let mut fdocs = Vec::new();
            if let Some(d) = &def.description {
                fdocs.push(d.to_string());
            } else if def.name == "__typename" {
                fdocs.push("The object's type name.".to_owned());
            } else {
                fdocs.push(format!("`{}`.", g.key));
            }
            if may_be_missing {
                fdocs.push(String::new());
                fdocs.push("`None` when `@include`/`@skip` left it out.".to_owned());
            }
            fields.push(RField {
                name: rust,
                wire: g.key.to_string(),
                ty: FieldTy { wraps, leaf, codec },
                docs: fdocs,
                deprecated: deprecation(&def.directives),
                flatten: false,
                optional_part: false,
                may_be_missing,
                input: false,
            });
        }
        for (frag, opt) in &c.spreads {
            let Some(rust) = self.fragment_names.get(*frag).cloned() else {
                continue;
            };
            let mut wraps = Vec::new();
            if *opt {
                wraps.push(Wrap::Option);
            }
            fields.push(RField {
                name: fscope.unique(&field_name(frag)),
                wire: frag.to_string(),
                ty: FieldTy {
                    wraps,
                    leaf: ns.path(&rust),
                    codec: None,
                },
                docs: vec![format!("The fragment `{frag}`.")],
                deprecated: None,
                flatten: true,
                optional_part: *opt,
                may_be_missing: false,
                input: false,
            });
        }
        if !c.conditional.is_empty() {
            let on_name = scope.unique(&format!("{path}On"));
            let mut vscope = Scope::default();
            let mut variants = Vec::new();
            for t in &types {
                let v = vscope.unique(&schema_type_name(t));
                let vid = ident(&v);
                let wire = t.as_str();
                let rename = (v != wire).then(|| quote!(#[serde(rename = #wire)]));
                let vdoc = format!(" A `{t}`.");
                let parts: Vec<Part<'a>> = c
                    .conditional
                    .iter()
                    .filter(|(ts, _)| ts.contains(t))
                    .map(|(_, p)| *p)
                    .collect();
                if parts.is_empty() {
                    variants.push(quote!(#[doc = #vdoc] #rename #vid,));
                } else {
                    let sname = scope.unique(&format!("{on_name}{}", type_name(t)));
                    let sid = ident(&sname);
                    let sdocs = vec![format!("The fields selected on `{t}`.")];
                    self.struct_for(
                        items,
                        scope,
                        ns,
                        sname.clone(),
                        sname,
                        sdocs,
                        parts,
                        vec![t.clone()],
                        true,
                    );
                    variants.push(quote!(#[doc = #vdoc] #rename #vid(#sid),));
                }
            }
            let other = ident(&vscope.unique("Other"));
            let on_id = ident(&on_name);
            let on_doc =
                format!(" What `{path}` holds depending on the object's type (its `__typename`).");
            let ser = self.s.serde_both_ways.then(|| quote!(_serde::Serialize,));
            items.push(quote! {
                #[doc = #on_doc]
                #[derive(Debug, Clone, PartialEq, #ser _serde::Deserialize)]
                #[serde(crate = "_serde", tag = "__typename")]
                #[allow(clippy::large_enum_variant)]
                pub enum #on_id {
                    #(#variants)*
                    /// An object type this code does not know.
                    #[serde(other)]
                    #other,
                }
            });
            fields.push(RField {
                name: fscope.unique("on"),
                wire: "__typename".to_owned(),
                ty: FieldTy {
                    wraps: Vec::new(),
                    leaf: {
                        let id = ident(&on_name);
                        quote!(#id)
                    },
                    codec: None,
                },
                docs: vec!["The fields that depend on the object's type.".to_owned()],
                deprecated: None,
                flatten: true,
                optional_part: false,
                may_be_missing: false,
                input: false,
            });
        }
        items[slot] = self.render_struct(&name, &docs, &fields, false);
    }
}

pub(super) fn add_spread<'d>(out: &mut Collected<'d>, name: &'d Name, opt: bool) {
    if let Some(s) = out.spreads.iter_mut().find(|(n, _)| *n == name) {
        s.1 &= opt;
    } else {
        out.spreads.push((name, opt));
    }
}

pub(super) fn output_wraps(ty: &Type, out: &mut Vec<Wrap>) {
    match ty {
        Type::Named(_) => out.push(Wrap::Option),
        Type::NonNullNamed(_) => {}
        Type::List(inner) => {
            out.push(Wrap::Option);
            out.push(Wrap::Vec);
            output_wraps(inner, out);
        }
        Type::NonNullList(inner) => {
            out.push(Wrap::Vec);
            output_wraps(inner, out);
        }
    }
}
