//! Where things are: the file, line and column of apollo-compiler spans (counted as editors
//! and GraphQL count them), and apollo-compiler's diagnostics as [`Error`]s.

use apollo_compiler::parser::{SourceMap, SourceSpan};
use apollo_compiler::validation::DiagnosticList;

use crate::error::Error;

/// The file, line and column of a span.
///
/// apollo-compiler counts columns in bytes and breaks lines where its renderer does (also at
/// U+2028 and friends); editors and rustc count characters, and GraphQL ends lines only at
/// `\n`, `\r\n` and `\r`, so both are computed here from the source text.
pub(crate) fn locate(sources: &SourceMap, span: Option<SourceSpan>) -> (String, usize, usize) {
    let Some((span, source)) = span.and_then(|s| Some((s, sources.get(&s.file_id())?))) else {
        return (String::new(), 0, 0);
    };
    let (line, column) = line_column(source.source_text(), span.offset());
    (source.path().display().to_string(), line, column)
}

/// The file of a span, without counting lines.
pub(crate) fn file_of(sources: &SourceMap, span: Option<SourceSpan>) -> String {
    span.and_then(|s| sources.get(&s.file_id()))
        .map(|f| f.path().display().to_string())
        .unwrap_or_default()
}

/// The 1-based line and column (in characters) of a byte offset in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let (mut line, mut column, mut after_cr) = (1, 1, false);
    for (i, c) in text.char_indices() {
        if i >= offset {
            break;
        }
        match c {
            '\n' if after_cr => {}
            '\n' | '\r' => (line, column) = (line + 1, 1),
            _ => column += 1,
        }
        after_cr = c == '\r';
    }
    (line, column)
}

/// The first (in the text) of a document's syntax errors.
pub(crate) fn first_syntax_error(list: &DiagnosticList) -> Option<Error> {
    let mut all = Vec::new();
    diagnostics(list, &mut all);
    all.into_iter().min_by_key(|e| (e.line, e.column))
}

/// apollo-compiler's diagnostics as `file:line:col: message` errors.
pub(crate) fn diagnostics(list: &DiagnosticList, errors: &mut Vec<Error>) {
    use apollo_compiler::diagnostic::ToCliReport;
    for d in list.iter() {
        let (file, line, column) = locate(d.sources, d.error.location());
        errors.push(Error::at(file, line, column, d.error.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::line_column;

    #[test]
    fn columns_count_characters_and_lines_end_as_in_graphql() {
        let t = "a😀é b\r\nc\rd\u{2028}e";
        let at = |needle: &str| line_column(t, t.find(needle).unwrap());
        assert_eq!(at("a"), (1, 1));
        assert_eq!(at("b"), (1, 5));
        assert_eq!(at("c"), (2, 1));
        assert_eq!(at("d"), (3, 1));
        assert_eq!(at("e"), (3, 3), "U+2028 does not end a GraphQL line");
        assert_eq!(line_column(t, usize::MAX), (3, 4));
    }
}
