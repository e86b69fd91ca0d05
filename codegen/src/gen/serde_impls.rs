//! Compact serde impls written as text (formatting them through syn and prettyplease would
//! cost most of the generation time): a map writer for variables and inputs, a one-pass map
//! visitor for response objects.

use crate::names::ident;

use super::render::{RField, Wrap};
use super::scalars::codec_marker_text;

/// A compact `Serialize` for variables and inputs: a map, leaving out absent values.
pub(super) fn serialize_impl(name: &str, fields: &[RField]) -> String {
    use std::fmt::Write;
    let id = ident(name);
    let mut t = String::new();
    if fields.iter().any(|f| f.deprecated.is_some()) {
        t.push_str("#[allow(deprecated)]\n");
    }
    let _ = writeln!(t, "impl _serde::Serialize for {id} {{");
    t.push_str(
        "    fn serialize<S: _serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {\n",
    );
    t.push_str("        use _serde::ser::SerializeMap as _;\n");
    if fields.is_empty() {
        t.push_str("        serializer.serialize_map(Some(0))?.end()\n    }\n}\n");
        return t;
    }
    t.push_str("        let mut map = serializer.serialize_map(None)?;\n");
    for f in fields {
        let fid = ident(&f.name);
        let wire = format!("{:?}", f.wire);
        let value = match f.ty.codec {
            Some(codec) => format!(
                "&_appsync::types::__private::CodedRef::<_, {}>::new(&self.{fid})",
                codec_marker_text(codec)
            ),
            None => format!("&self.{fid}"),
        };
        let entry = format!("map.serialize_entry({wire}, {value})?;");
        match f.ty.wraps.first() {
            Some(Wrap::Nullable) => {
                let _ = write!(
                    t,
                    "        if !self.{fid}.is_absent() {{\n            {entry}\n        }}\n"
                );
            }
            Some(Wrap::Option) => {
                let _ = write!(
                    t,
                    "        if self.{fid}.is_some() {{\n            {entry}\n        }}\n"
                );
            }
            _ => {
                let _ = writeln!(t, "        {entry}");
            }
        }
    }
    t.push_str("        map.end()\n    }\n}\n");
    t
}

/// A compact `Deserialize` for a response object: one pass over its keys; a missing `Option`
/// is `None`, a missing required field an error, unknown keys are skipped.
pub(super) fn deserialize_impl(name: &str, fields: &[RField]) -> String {
    use std::fmt::Write;
    let id = ident(name);
    let mut t = String::new();
    if fields.iter().any(|f| f.deprecated.is_some()) {
        t.push_str("#[allow(deprecated)]\n");
    }
    let _ = write!(
        t,
        "impl<'de> _serde::Deserialize<'de> for {id} {{
    fn deserialize<D: _serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{
        struct Visitor;
        impl<'de> _serde::de::Visitor<'de> for Visitor {{
            type Value = {id};
            fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{
                f.write_str({what:?})
            }}
            fn visit_map<A: _serde::de::MapAccess<'de>>(self, mut map: A) -> Result<{id}, A::Error> {{
",
        what = format!("a {name} object"),
    );
    if fields.is_empty() {
        t.push_str(
            "                while map.next_entry::<_serde::de::IgnoredAny, _serde::de::IgnoredAny>()?.is_some() {}\n",
        );
    } else {
        for i in 0..fields.len() {
            let _ = writeln!(t, "                let mut field{i} = None;");
        }
        t.push_str(
            "                while let Some(key) = map.next_key::<_appsync::types::__private::Key<'de>>()? {
                    match key.as_str() {
",
        );
        for (i, f) in fields.iter().enumerate() {
            let wire = format!("{:?}", f.wire);
            match f.ty.codec {
                Some(codec) => {
                    let _ = writeln!(
                        t,
                        "                        {wire} => {{
                            let value = map.next_value::<_appsync::types::__private::Coded<_, {}>>()?;
                            field{i} = Some(value.0);
                        }}",
                        codec_marker_text(codec)
                    );
                }
                None => {
                    let _ = writeln!(
                        t,
                        "                        {wire} => field{i} = Some(map.next_value()?),"
                    );
                }
            }
        }
        t.push_str(
            "                        _ => {
                            map.next_value::<_serde::de::IgnoredAny>()?;
                        }
                    }
                }
",
        );
    }
    let _ = writeln!(t, "                Ok({id} {{");
    for (i, f) in fields.iter().enumerate() {
        let fid = ident(&f.name);
        if f.ty.wraps.first() == Some(&Wrap::Option) {
            let _ = writeln!(
                t,
                "                    {fid}: field{i}.unwrap_or_default(),"
            );
        } else {
            let _ = writeln!(
                t,
                "                    {fid}: _appsync::types::__private::required(field{i}, {:?})?,",
                f.wire
            );
        }
    }
    t.push_str(
        "                })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}
",
    );
    t
}
