//! Doc comments of generated items: descriptions as rustdoc text, deprecation notes.

use apollo_compiler::ast::DirectiveList;
use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn doc_attrs(lines: &[String]) -> TokenStream {
    let mut out = TokenStream::new();
    let mut in_fence = false;
    for line in lines {
        for l in line.split('\n') {
            let t = l.trim();
            // Code in descriptions would become doc tests: fence it as text, unindent the rest.
            let text = if let Some(rest) = t.strip_prefix("```") {
                in_fence = !in_fence;
                if in_fence && (rest.is_empty() || rest == "rust") {
                    "```text".to_owned()
                } else {
                    t.to_owned()
                }
            } else if in_fence {
                l.trim_end().to_owned()
            } else {
                t.to_owned()
            };
            let text = format!(" {text}");
            out.extend(quote!(#[doc = #text]));
        }
    }
    if in_fence {
        out.extend(quote!(#[doc = " ```"]));
    }
    out
}

/// The doc lines of a schema description, or `fallback`'s line when there is none.
pub(super) fn described(
    description: &Option<impl ToString>,
    fallback: impl FnOnce() -> String,
) -> Vec<String> {
    vec![match description {
        Some(d) => d.to_string(),
        None => fallback(),
    }]
}

pub(super) fn deprecation(directives: &DirectiveList) -> Option<String> {
    let d = directives.get("deprecated")?;
    let reason = d
        .specified_argument_by_name("reason")
        .and_then(|v| v.as_str())
        .unwrap_or("No longer supported");
    // One line: the note must not split the formatted file's lines in unexpected places.
    Some(reason.split_whitespace().collect::<Vec<_>>().join(" "))
}
