//! Where things are: the file, line and column of apollo-compiler spans (counted as editors
//! and GraphQL count them), and apollo-compiler's diagnostics as [`Error`]s.

use std::collections::HashMap;

use apollo_compiler::parser::{FileId, SourceMap, SourceSpan};
use apollo_compiler::validation::DiagnosticList;

use crate::error::Error;

/// Finds the file, line and column of spans, indexing each file's lines once.
///
/// apollo-compiler counts columns in bytes and breaks lines where its renderer does (also at
/// U+2028 and friends); editors and rustc count characters, and GraphQL ends lines only at
/// `\n`, `\r\n` and `\r`, so both are computed here from the source text. Counting from the
/// start of the file for every span made reporting quadratic (a document with thousands of
/// definitions or errors took seconds), hence the index.
pub(crate) struct Locator<'s> {
    sources: &'s SourceMap,
    lines: HashMap<FileId, LineIndex>,
}

impl<'s> Locator<'s> {
    pub(crate) fn new(sources: &'s SourceMap) -> Self {
        Locator {
            sources,
            lines: HashMap::new(),
        }
    }

    /// The file, line and column of a span (empty and zeros when it has none).
    pub(crate) fn locate(&mut self, span: Option<SourceSpan>) -> (String, usize, usize) {
        let Some((span, source)) = span.and_then(|s| Some((s, self.sources.get(&s.file_id())?)))
        else {
            return (String::new(), 0, 0);
        };
        let text = source.source_text();
        let (line, column) = self
            .lines
            .entry(span.file_id())
            .or_insert_with(|| LineIndex::new(text))
            .line_column(text, span.offset());
        (source.path().display().to_string(), line, column)
    }
}

/// The file, line and column of one span (a [`Locator`] for several).
pub(crate) fn locate(sources: &SourceMap, span: Option<SourceSpan>) -> (String, usize, usize) {
    Locator::new(sources).locate(span)
}

/// The file of a span, without counting lines.
pub(crate) fn file_of(sources: &SourceMap, span: Option<SourceSpan>) -> String {
    span.and_then(|s| sources.get(&s.file_id()))
        .map(|f| f.path().display().to_string())
        .unwrap_or_default()
}

/// Where the lines of a text start, in bytes. After `\r\n` the line starts at the `\n`, which
/// [`LineIndex::line_column`] does not count as a column.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\r' => starts.push(i + 1),
                b'\n' if i == 0 || bytes[i - 1] != b'\r' => starts.push(i + 1),
                _ => {}
            }
        }
        LineIndex { starts }
    }

    /// The 1-based line and column (in characters) of a byte offset in `text`; an offset
    /// inside a character counts that character, one past the end is the end.
    fn line_column(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset += 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let before = &text[start..offset];
        let crlf = usize::from(before.starts_with('\n'));
        (line, 1 + before.chars().count() - crlf)
    }
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
    let mut locators: Vec<Locator<'_>> = Vec::new();
    for d in list.iter() {
        // Diagnostics of one list share their source map; compare by address to reuse its index.
        let at = match locators
            .iter()
            .position(|l| std::ptr::eq(l.sources, d.sources))
        {
            Some(i) => i,
            None => {
                locators.push(Locator::new(d.sources));
                locators.len() - 1
            }
        };
        let (file, line, column) = locators[at].locate(d.error.location());
        errors.push(Error::at(file, line, column, d.error.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    fn line_column(text: &str, offset: usize) -> (usize, usize) {
        LineIndex::new(text).line_column(text, offset)
    }

    /// Counting from the start, character by character: what the index must agree with.
    fn counted(text: &str, offset: usize) -> (usize, usize) {
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

    #[test]
    fn the_index_agrees_with_counting_at_every_offset() {
        for t in [
            "",
            "\n",
            "\r",
            "\r\n",
            "\n\r",
            "\r\r\n\n",
            "a\r\nb\n\rc\r\r\nd",
            "é😀\r\n\u{2028}x\ny\r",
            "type Q {\r\n  f: Int # é\r  g: 😀\n}\n",
        ] {
            let index = LineIndex::new(t);
            for offset in 0..=t.len() + 2 {
                assert_eq!(
                    index.line_column(t, offset),
                    counted(t, offset),
                    "{t:?} at {offset}"
                );
            }
        }
    }
}
