//! Codegen problems: each with its file, line and column, all reported together.

use std::fmt;

/// One problem in a schema, an operation document or the builder's settings.
///
/// Shown as `file:line:col: message` (or `file: message` when there is no position, or just
/// the message when there is no file).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Error {
    /// The file (as given to the builder), or empty for a settings problem.
    pub file: String,
    /// 1-based line, or 0 when unknown.
    pub line: usize,
    /// 1-based column (in characters), or 0 when unknown.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Error {
    pub(crate) fn at(
        file: impl Into<String>,
        line: usize,
        column: usize,
        msg: impl Into<String>,
    ) -> Self {
        Error {
            file: file.into(),
            line,
            column,
            message: msg.into(),
        }
    }

    pub(crate) fn in_file(file: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::at(file, 0, 0, msg)
    }

    pub(crate) fn settings(msg: impl Into<String>) -> Self {
        Error::at("", 0, 0, msg)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file.is_empty(), self.line) {
            (true, _) => f.write_str(&self.message),
            (false, 0) => write!(f, "{}: {}", self.file, self.message),
            (false, _) => write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Every problem found, in file order. `Display` and `Debug` both print one per line, so
/// `fn main() -> Result<(), Errors>` in `build.rs` fails the build with a readable list.
#[derive(Clone, PartialEq, Eq)]
pub struct Errors(Vec<Error>);

impl Errors {
    /// Drops repeats and orders by file (in order of first appearance), line and column.
    pub(crate) fn new(mut errors: Vec<Error>) -> Self {
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert(e.clone()));
        let mut files: Vec<&str> = Vec::new();
        for e in &errors {
            if !files.contains(&e.file.as_str()) {
                files.push(&e.file);
            }
        }
        let rank: std::collections::HashMap<String, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.to_string(), if f.is_empty() { 0 } else { i + 1 }))
            .collect();
        errors.sort_by_key(|e| (rank.get(&e.file).copied(), e.line, e.column));
        Errors(errors)
    }

    /// The problems.
    pub fn iter(&self) -> std::slice::Iter<'_, Error> {
        self.0.iter()
    }

    /// How many problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (never, for an `Errors` returned by the builder).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, owned.
    pub fn into_vec(self) -> Vec<Error> {
        self.0
    }

    /// For `build.rs`: prints every problem to stderr (which `cargo build` shows when the build
    /// script fails) and exits with status 1.
    pub fn fail_build(&self) -> ! {
        eprintln!("{self}");
        std::process::exit(1)
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "appsync-codegen found {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.0.iter().enumerate() {
            if i + 1 < n {
                writeln!(f, "{e}")?;
            } else {
                write!(f, "{e}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Errors {}

impl<'a> IntoIterator for &'a Errors {
    type Item = &'a Error;
    type IntoIter = std::slice::Iter<'a, Error>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Errors {
    type Item = Error;
    type IntoIter = std::vec::IntoIter<Error>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
