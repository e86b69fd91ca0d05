//! The Rust types of scalars: GraphQL's, AppSync's (`AWSJSON` as JSON through a codec, the date
//! and time scalars as `String` or, with `time_types`, `time` types), the ones the builder maps,
//! and the type of any named leaf or input type.

use std::collections::HashMap;

use apollo_compiler::schema::ExtendedType;
use apollo_compiler::Name;
use proc_macro2::TokenStream;
use quote::quote;

use crate::settings::Settings;

use super::{Gen, Ns};

/// A scalar's Rust type and the serde `with` module it needs, if any.
#[derive(Clone)]
pub(super) struct Leaf {
    pub(super) ty: TokenStream,
    pub(super) codec: Option<&'static str>,
}

/// The Rust type of every scalar the settings know: GraphQL's, AppSync's, and the mapped ones.
pub(super) fn scalar_types(s: &Settings) -> HashMap<String, Leaf> {
    let mut scalars = HashMap::new();
    let plain = |t: TokenStream| Leaf { ty: t, codec: None };
    for n in [
        "ID",
        "String",
        "AWSEmail",
        "AWSURL",
        "AWSPhone",
        "AWSIPAddress",
        "AWSDate",
        "AWSTime",
        "AWSDateTime",
    ] {
        scalars.insert(n.to_owned(), plain(quote!(String)));
    }
    scalars.insert("Int".to_owned(), plain(quote!(i32)));
    scalars.insert("Float".to_owned(), plain(quote!(f64)));
    scalars.insert("Boolean".to_owned(), plain(quote!(bool)));
    scalars.insert("AWSTimestamp".to_owned(), plain(quote!(i64)));
    scalars.insert(
        "AWSJSON".to_owned(),
        Leaf {
            ty: quote!(_appsync::types::JsonValue),
            codec: Some("_appsync::types::aws_json"),
        },
    );
    if s.time_types {
        for (n, ty, codec) in [
            (
                "AWSDateTime",
                quote!(_appsync::types::time::OffsetDateTime),
                "_appsync::types::aws_date_time",
            ),
            (
                "AWSDate",
                quote!(_appsync::types::time::Date),
                "_appsync::types::aws_date",
            ),
            (
                "AWSTime",
                quote!(_appsync::types::time::Time),
                "_appsync::types::aws_time",
            ),
        ] {
            scalars.insert(
                n.to_owned(),
                Leaf {
                    ty,
                    codec: Some(codec),
                },
            );
        }
    }
    for (n, ty) in &s.scalars {
        if let Ok(t) = syn::parse_str::<syn::Type>(ty) {
            let codec = (n == "AWSJSON").then_some("_appsync::types::aws_json");
            scalars.insert(
                n.clone(),
                Leaf {
                    ty: quote!(#t),
                    codec,
                },
            );
        }
    }
    scalars
}

impl<'a> Gen<'a> {
    /// The Rust type of a named leaf or input type.
    pub(super) fn named_leaf(&mut self, name: &Name, ns: Ns) -> Leaf {
        match self.schema.types.get(name) {
            Some(ExtendedType::Scalar(_)) => {
                self.scalars.get(name.as_str()).cloned().unwrap_or(Leaf {
                    // AppSync has no custom scalars; a schema that declares one gets raw JSON.
                    ty: quote!(_appsync::types::JsonValue),
                    codec: None,
                })
            }
            Some(t @ (ExtendedType::Enum(_) | ExtendedType::InputObject(_))) => {
                let used = if t.is_enum() {
                    &mut self.enums_used
                } else {
                    &mut self.inputs_used
                };
                used.insert(name.clone());
                Leaf {
                    ty: ns.path(&self.rust_name(name)),
                    codec: None,
                }
            }
            _ => Leaf {
                ty: quote!(_appsync::types::JsonValue),
                codec: None,
            },
        }
    }
}

/// The codec marker type of a `with` module path, as text.
pub(super) fn codec_marker_text(module: &str) -> &'static str {
    match module.rsplit("::").next() {
        Some("aws_date_time") => "_appsync::types::DateTime",
        Some("aws_date") => "_appsync::types::Date",
        Some("aws_time") => "_appsync::types::Time",
        _ => "_appsync::types::Json",
    }
}

/// The codec marker type of a `with` module path.
pub(super) fn codec_marker(module: &str) -> TokenStream {
    let path = syn::parse_str::<syn::Path>(codec_marker_text(module));
    path.map(|p| quote!(#p)).unwrap_or_default()
}
