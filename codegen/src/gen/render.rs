//! Struct declarations of generated types: field types with their wrappers (`Option`,
//! `Nullable`, `Vec`, `Box`), serde attributes, and the serde impls each struct gets.

use proc_macro2::TokenStream;
use quote::quote;

use crate::names::ident;

use super::docs::doc_attrs;
use super::scalars::codec_marker;
use super::serde_impls::{deserialize_impl, serialize_impl};
use super::Gen;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Wrap {
    Option,
    Nullable,
    Vec,
    Box,
}

#[derive(Clone)]
pub(super) struct FieldTy {
    /// Outermost first.
    pub(super) wraps: Vec<Wrap>,
    pub(super) leaf: TokenStream,
    pub(super) codec: Option<&'static str>,
}

impl FieldTy {
    pub(super) fn tokens(&self) -> TokenStream {
        let mut t = self.leaf.clone();
        for w in self.wraps.iter().rev() {
            t = match w {
                Wrap::Option => quote!(Option<#t>),
                Wrap::Nullable => quote!(_appsync::types::Nullable<#t>),
                Wrap::Vec => quote!(Vec<#t>),
                Wrap::Box => quote!(Box<#t>),
            };
        }
        t
    }
}

/// A struct field to render.
pub(super) struct RField {
    pub(super) name: String,
    pub(super) wire: String,
    pub(super) ty: FieldTy,
    pub(super) docs: Vec<String>,
    pub(super) deprecated: Option<String>,
    /// A fragment spread or the type-specific part: read from the whole object.
    pub(super) flatten: bool,
    /// A flattened part under `@include`/`@skip`.
    pub(super) optional_part: bool,
    /// A response field that may be missing (under `@include`/`@skip`).
    pub(super) may_be_missing: bool,
    pub(super) input: bool,
}

impl RField {
    pub(super) fn serde_attr(&self) -> TokenStream {
        if self.flatten {
            return quote!(#[serde(flatten)]);
        }
        let mut parts: Vec<TokenStream> = Vec::new();
        if self.name.trim_start_matches("r#") != self.wire {
            let w = &self.wire;
            parts.push(quote!(rename = #w));
        }
        match self.ty.wraps.first() {
            Some(Wrap::Nullable) => {
                parts.push(quote!(default));
                parts.push(quote!(
                    skip_serializing_if = "_appsync::types::Nullable::is_absent"
                ));
            }
            Some(Wrap::Option) if self.input => {
                parts.push(quote!(default));
                parts.push(quote!(skip_serializing_if = "Option::is_none"));
            }
            Some(Wrap::Option) if self.ty.codec.is_some() || self.may_be_missing => {
                parts.push(quote!(default));
            }
            _ => {}
        }
        if let Some(c) = self.ty.codec {
            parts.push(quote!(with = #c));
        }
        if parts.is_empty() {
            quote!()
        } else {
            quote!(#[serde(#(#parts),*)])
        }
    }
}

impl<'a> Gen<'a> {
    pub(super) fn render_struct(
        &self,
        name: &str,
        docs: &[String],
        fields: &[RField],
        input: bool,
    ) -> TokenStream {
        let id = ident(name);
        let docs = doc_attrs(docs);
        let both = self.s.serde_both_ways;
        let buffered = fields.iter().any(|f| f.flatten);
        // The direction each struct is used in is written by hand, compactly: responses
        // deserialize with a map visitor (structs with fragments through `Buffered`), variables
        // and inputs serialize as maps. serde's derives are larger (and `with` adds two helper
        // types per field), which the crate pays for in compile time. The other direction is
        // derived, with `serde_both_ways`.
        let ser = (!input && both).then(|| quote!(_serde::Serialize,));
        let de = (input && both).then(|| quote!(_serde::Deserialize,));
        let serde_derived = ser.is_some() || de.is_some();
        let decls: Vec<TokenStream> = fields
            .iter()
            .map(|f| {
                let fid = ident(&f.name);
                let ty = f.ty.tokens();
                let docs = doc_attrs(&f.docs);
                let dep = f
                    .deprecated
                    .as_ref()
                    .map(|r| quote!(#[deprecated(note = #r)]));
                let serde = serde_derived.then(|| f.serde_attr());
                quote!(#docs #dep #serde pub #fid: #ty,)
            })
            .collect();
        let default = input
            && fields
                .iter()
                .all(|f| matches!(f.ty.wraps.first(), Some(Wrap::Nullable | Wrap::Option)));
        let default = default.then(|| quote!(Default,));
        let serde_crate = serde_derived.then(|| quote!(#[serde(crate = "_serde")]));
        let decl = quote! {
            #docs
            #[derive(Debug, Clone, PartialEq, #default #ser #de)]
            #serde_crate
            pub struct #id {
                #(#decls)*
            }
        };
        if input {
            let ser = self.template(serialize_impl(name, fields));
            return quote!(#decl #ser);
        }
        if !buffered {
            let de = self.template(deserialize_impl(name, fields));
            return quote!(#decl #de);
        }
        let plain: Vec<&RField> = fields.iter().filter(|f| !f.flatten).collect();
        let wire_decls: Vec<TokenStream> = plain.iter().map(|f| wire_field(f)).collect();
        let plain_values: Vec<TokenStream> = plain
            .iter()
            .map(|f| {
                let fid = ident(&f.name);
                if f.ty.codec.is_some() {
                    quote!(#fid: wire.#fid.0,)
                } else {
                    quote!(#fid: wire.#fid,)
                }
            })
            .collect();
        let wire_struct = (!plain.is_empty()).then(|| {
            quote! {
                #[derive(_serde::Deserialize)]
                #[serde(crate = "_serde")]
                struct Wire {
                    #(#wire_decls)*
                }
            }
        });
        let body = {
            let parts: Vec<TokenStream> = fields
                .iter()
                .filter(|f| f.flatten)
                .map(|f| {
                    let fid = ident(&f.name);
                    if f.optional_part {
                        quote!(#fid: buffered.optional_part(),)
                    } else {
                        quote!(#fid: buffered.part()?,)
                    }
                })
                .collect();
            let read = (!plain.is_empty()).then(|| quote!(let wire: Wire = buffered.part()?;));
            quote! {
                #wire_struct
                let buffered = _appsync::types::__private::Buffered::read(deserializer)?;
                #read
                Ok(#id {
                    #(#plain_values)*
                    #(#parts)*
                })
            }
        };
        quote! {
            #decl
            #[allow(deprecated)]
            impl<'de> _serde::Deserialize<'de> for #id {
                fn deserialize<D: _serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    #body
                }
            }
        }
    }
}

/// A field of a private wire struct: coded scalars in `Coded<T, Codec>` instead of `with`.
pub(super) fn wire_field(f: &RField) -> TokenStream {
    let fid = ident(&f.name);
    let Some(codec) = f.ty.codec else {
        let ty = f.ty.tokens();
        let serde = f.serde_attr();
        return quote!(#serde #fid: #ty,);
    };
    let ty = f.ty.tokens();
    let marker = codec_marker(codec);
    let mut parts: Vec<TokenStream> = Vec::new();
    if f.name.trim_start_matches("r#") != f.wire {
        let w = &f.wire;
        parts.push(quote!(rename = #w));
    }
    if f.ty.wraps.first() == Some(&Wrap::Option) {
        parts.push(quote!(default));
    }
    let attr = (!parts.is_empty()).then(|| quote!(#[serde(#(#parts),*)]));
    quote!(#attr #fid: _appsync::types::__private::Coded<#ty, #marker>,)
}
