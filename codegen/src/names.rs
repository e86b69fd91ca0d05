//! GraphQL names to Rust names: case conversion, keywords, and unique names per scope.

use std::collections::HashSet;

use proc_macro2::{Ident, Span};

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static",
    "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn",
    "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
    "virtual", "yield", "try", "gen",
];

/// Names that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Type names the generated code itself refers to unqualified.
const RESERVED_TYPES: &[&str] = &[
    "Option", "Vec", "Box", "String", "Result", "Some", "None", "Ok", "Err", "Default", "Self",
];

fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if !cur.is_empty() && c.is_ascii_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                words.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// `getNote` → `get_note`, `URLValue` → `url_value`; leading underscores are kept
/// (`_version` → `_version`).
pub(crate) fn snake(s: &str) -> String {
    let lead = s.len() - s.trim_start_matches('_').len();
    let body = words(s)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    format!("{}{body}", "_".repeat(lead))
}

/// `getNote` → `GetNote`, `IN_PROGRESS` → `InProgress`.
pub(crate) fn pascal(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect()
}

/// A field or module name: snake case, valid as an identifier.
pub(crate) fn field_name(s: &str) -> String {
    if s == "__typename" {
        return "typename".to_owned();
    }
    let mut n = snake(s);
    if n.is_empty() || n.chars().all(|c| c == '_') {
        n.push_str("field");
    }
    if n.starts_with(|c: char| c.is_ascii_digit()) {
        n.insert(0, '_');
    }
    if NOT_RAW.contains(&n.as_str()) {
        n.push('_');
    }
    n
}

/// A type name derived from GraphQL words: Pascal case, valid, not a name the code uses.
pub(crate) fn type_name(s: &str) -> String {
    let mut n = pascal(s);
    if n.is_empty() {
        n.push_str("Type");
    }
    if n.starts_with(|c: char| c.is_ascii_digit()) {
        n.insert(0, 'T');
    }
    reserve_type(n)
}

/// A schema type kept as written (e.g. `CreateNoteInput`), unless Rust needs another name.
pub(crate) fn schema_type_name(s: &str) -> String {
    let mut n = s.to_owned();
    if n.chars().all(|c| c == '_') {
        n.push_str("Type");
    }
    reserve_type(n)
}

fn reserve_type(mut n: String) -> String {
    if RESERVED_TYPES.contains(&n.as_str()) || NOT_RAW.contains(&n.as_str()) {
        n.push('_');
    }
    n
}

/// An identifier for a name made by the functions above (raw for keywords).
pub(crate) fn ident(s: &str) -> Ident {
    if KEYWORDS.contains(&s) {
        Ident::new_raw(s, Span::call_site())
    } else {
        Ident::new(s, Span::call_site())
    }
}

/// Names already used in one Rust scope; a clash gets a numeric suffix.
#[derive(Default)]
pub(crate) struct Scope {
    used: HashSet<String>,
}

impl Scope {
    pub(crate) fn with(names: &[&str]) -> Scope {
        Scope {
            used: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub(crate) fn unique(&mut self, base: &str) -> String {
        if self.used.insert(base.to_owned()) {
            return base.to_owned();
        }
        let sep = if base.ends_with(|c: char| c.is_ascii_digit()) {
            "_"
        } else {
            ""
        };
        let mut i = 2u64;
        loop {
            let n = format!("{base}{sep}{i}");
            if self.used.insert(n.clone()) {
                return n;
            }
            i += 1;
        }
    }

    /// Claims a name as is; false when it is taken.
    pub(crate) fn claim(&mut self, name: &str) -> bool {
        self.used.insert(name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_case() {
        assert_eq!(snake("getNote"), "get_note");
        assert_eq!(snake("URLValue"), "url_value");
        assert_eq!(snake("_lastChangedAt"), "_last_changed_at");
        assert_eq!(snake("note2Id"), "note2_id");
        assert_eq!(pascal("IN_PROGRESS"), "InProgress");
        assert_eq!(pascal("getNote"), "GetNote");
        assert_eq!(field_name("type"), "type");
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(field_name("self"), "self_");
        assert_eq!(field_name("_"), "_field");
        assert_eq!(field_name("__typename"), "typename");
        assert_eq!(type_name("_1"), "T1");
        assert_eq!(schema_type_name("Option"), "Option_");
        let mut s = Scope::default();
        assert_eq!(s.unique("A"), "A");
        assert_eq!(s.unique("A"), "A2");
        assert_eq!(s.unique("A2"), "A2_2");
    }
}
