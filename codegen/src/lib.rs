//! Build-time generator of typed operations (and their allowed auth modes) for AWS AppSync.
//!
//! Give it the API's schema and your `.graphql` operations; it validates them against the
//! schema (with AppSync's implicit scalars and `@aws_*` directives, the "AWS prelude", added),
//! reports every problem at once as `file:line:col: message`, and writes one Rust file with:
//!
//! - one module per operation (`Variables`, the response types, the document and its name)
//!   and a type per operation implementing `graphql_client::GraphQLQuery` and
//!   `appsync_client::Operation` (its kind and the auth modes that reach every field it
//!   selects, from the schema's `@aws_*` directives);
//! - the schema's enums and input types (those the operations use), shared by all operations;
//! - a type per named fragment.
//!
//! ```no_run
//! // build.rs, in `fn main()`:
//! let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("notes.rs");
//! appsync_codegen::Builder::new()
//!     .schema("schema/notes/schema.graphql")
//!     .operations("schema/notes/operations")
//!     .default_auth_mode(appsync_codegen::AuthMode::ApiKey)
//!     .generate(out)
//!     .unwrap_or_else(|e| e.fail_build());
//! ```
//!
//! ```text
//! // src/lib.rs
//! appsync_client::include_operations!(pub mod notes, "notes.rs");
//!
//! let vars = notes::get_note::Variables { id: "n1".into() };
//! let r = client.operation::<notes::GetNote>(vars).send().await?;
//! ```
//!
//! An operation that no auth mode can send (the modes its fields allow do not meet) is a
//! warning, printed as `cargo:warning=` from a build script and listed in
//! [`Analysis::warnings`]; [`Builder::deny_operations_without_auth_mode`] makes it an error.
//! Auth directives on interfaces and unions are accepted, as AppSync accepts them, and grant
//! nothing by themselves: every field is checked on the object type a value really has.
//!
//! See `codegen/README.md` for scalars, nullable inputs, auth metadata and statement generation.

mod auth;
mod error;
mod gen;
mod names;
mod statements;
#[doc(hidden)]
pub mod testing;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use auth::{Analysis, AuthMode, AuthSource, FieldAuth, OperationInfo, OperationKind};
pub use error::{Error, Errors};
pub use statements::MAX_DEPTH as MAX_STATEMENT_DEPTH;

/// The AWS prelude: the scalars and `@aws_*` directives that AppSync declares implicitly. It is
/// added to every schema (definitions the schema makes itself are kept instead).
pub const AWS_PRELUDE: &str = appsync_types::AWS_PRELUDE;

/// The name of the prelude in error messages.
const PRELUDE_PATH: &str = "<aws-prelude>.graphql";
/// The name of generated statements in error messages.
const STATEMENTS_PATH: &str = "<statements>.graphql";

/// One input: a file read from disk, or text given directly.
#[derive(Clone, Debug)]
enum Input {
    Path(PathBuf),
    Text { name: String, text: String },
}

/// Sets up and runs the generator. Every setter takes and returns the builder.
#[derive(Clone, Debug)]
pub struct Builder {
    schemas: Vec<Input>,
    operations: Vec<Input>,
    scalars: BTreeMap<String, String>,
    default_auth_mode: Option<AuthMode>,
    additional_auth_modes: Option<Vec<AuthMode>>,
    time_types: bool,
    client_crate: String,
    statements: Option<u32>,
    all_types: bool,
    rerun_if_changed: Option<bool>,
    settings_errors: Vec<String>,
    serde_both_ways: bool,
    deny_unsendable: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

/// What reading and validating the inputs gives: the valid schema, the valid document, and the
/// source texts by path (for operation comments).
pub(crate) struct Loaded {
    pub schema: apollo_compiler::validation::Valid<apollo_compiler::Schema>,
    pub doc: apollo_compiler::ExecutableDocument,
    pub texts: BTreeMap<String, String>,
    pub auth: auth::AuthModel,
    /// Problems that do not stop generation: operations no auth mode can send.
    pub warnings: Vec<Error>,
}

impl Builder {
    /// A builder with no inputs, AWS scalar defaults, and `::appsync_client` as the runtime.
    pub fn new() -> Self {
        Builder {
            schemas: Vec::new(),
            operations: Vec::new(),
            scalars: BTreeMap::new(),
            default_auth_mode: None,
            additional_auth_modes: None,
            time_types: false,
            client_crate: "::appsync_client".to_owned(),
            statements: None,
            all_types: false,
            rerun_if_changed: None,
            settings_errors: Vec::new(),
            serde_both_ways: false,
            deny_unsendable: false,
        }
    }

    /// Adds a schema file (several files make one schema; `extend type` works across them).
    pub fn schema(mut self, path: impl AsRef<Path>) -> Self {
        self.schemas.push(Input::Path(path.as_ref().to_owned()));
        self
    }

    /// Adds schema text; `name` stands for its file in messages.
    pub fn schema_str(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.schemas.push(Input::Text {
            name: name.into(),
            text: text.into(),
        });
        self
    }

    /// Adds operations: a `.graphql` file, or a folder whose `.graphql` and `.gql` files (in
    /// subfolders too, in name order) are read. All files form one document, so a fragment can
    /// be defined in one file and used in another; operation names must be unique.
    pub fn operations(mut self, path: impl AsRef<Path>) -> Self {
        self.operations.push(Input::Path(path.as_ref().to_owned()));
        self
    }

    /// The same as [`operations`](Self::operations), for a folder.
    pub fn operations_dir(self, path: impl AsRef<Path>) -> Self {
        self.operations(path)
    }

    /// Adds operation text; `name` stands for its file in messages.
    pub fn operations_str(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.operations.push(Input::Text {
            name: name.into(),
            text: text.into(),
        });
        self
    }

    /// Maps a scalar to a Rust type path (e.g. `"AWSURL"`, `"url::Url"`). The type must
    /// implement `Debug`, `Clone`, `PartialEq`, `Serialize` and `Deserialize` for the scalar's
    /// wire form; for `AWSJSON` the wire form stays a JSON string and the type must implement
    /// `appsync_client::types::AwsJsonValue` (an empty marker trait).
    pub fn scalar(mut self, graphql_name: impl Into<String>, rust_type: impl Into<String>) -> Self {
        self.scalars.insert(graphql_name.into(), rust_type.into());
        self
    }

    /// The API's default auth mode: the mode of every field where neither the field nor its
    /// type has an `@aws_*` auth directive. Required when the schema has such a field (the
    /// schema alone does not say which mode is the default).
    pub fn default_auth_mode(mut self, mode: AuthMode) -> Self {
        self.default_auth_mode = Some(mode);
        self
    }

    /// The API's additional auth modes. When set, allowed modes are limited to the enabled
    /// ones (default and additional), and `@aws_auth` counts only if user pools is the sole
    /// mode. When not set, `@aws_auth` counts if the default mode is user pools.
    pub fn additional_auth_modes(mut self, modes: impl IntoIterator<Item = AuthMode>) -> Self {
        self.additional_auth_modes = Some(modes.into_iter().collect());
        self
    }

    /// Reads the default and additional auth modes of the first GraphQL API from an Amplify
    /// config file: Gen2 `amplify_outputs.json` (`data.default_authorization_type`,
    /// `data.authorization_types`) or Gen1 `amplifyconfiguration.json` (the `awsAPIPlugin`
    /// GraphQL entry, and its `AppSync` entries). A problem is reported when generating.
    pub fn auth_modes_from_config(mut self, path: impl AsRef<Path>) -> Self {
        match read_auth_modes(path.as_ref()) {
            Ok((default, additional)) => {
                self.default_auth_mode = Some(default);
                self.additional_auth_modes = Some(additional);
            }
            Err(e) => self.settings_errors.push(e),
        }
        self
    }

    /// Maps `AWSDateTime`, `AWSDate` and `AWSTime` to `time::OffsetDateTime`, `time::Date` and
    /// `time::Time` (through `appsync_client`'s `time` feature, which must then be enabled)
    /// instead of `String`.
    pub fn time_types(mut self, yes: bool) -> Self {
        self.time_types = yes;
        self
    }

    /// The path of the runtime crate in generated code (default `::appsync_client`), for a
    /// renamed dependency or a re-export.
    pub fn client_crate(mut self, path: impl Into<String>) -> Self {
        self.client_crate = path.into();
        self
    }

    /// Also generates an operation for every root field of `Query`, `Mutation` and
    /// `Subscription`, selecting `depth` levels (1 to [`MAX_STATEMENT_DEPTH`]; Amplify's
    /// default is 2), like `amplify codegen statements`. They are typed like hand-written ones.
    pub fn statements(mut self, depth: u32) -> Self {
        self.statements = Some(depth);
        self
    }

    /// Also derives `Serialize` on response types and `Deserialize` on variables and input
    /// types (to cache responses, write fixtures, or test), and not only the direction each is
    /// used in. Off by default: it roughly doubles the serde code the crate compiles.
    pub fn serde_both_ways(mut self, yes: bool) -> Self {
        self.serde_both_ways = yes;
        self
    }

    /// Generates every enum and input type of the schema, not only those the operations use.
    pub fn all_types(mut self, yes: bool) -> Self {
        self.all_types = yes;
        self
    }

    /// Whether [`generate`](Self::generate) prints `cargo:rerun-if-changed` for every input
    /// file and folder. Default: when run by Cargo as a build script (`OUT_DIR` is set).
    pub fn rerun_if_changed(mut self, yes: bool) -> Self {
        self.rerun_if_changed = Some(yes);
        self
    }

    /// Whether an operation that no auth mode can send (the modes allowed by the fields it
    /// selects do not meet, so the client refuses every call of it) fails generation. By
    /// default it is a warning: [`generate`](Self::generate) prints it as
    /// `cargo:warning=` from a build script, and [`analyze`](Self::analyze) lists it in
    /// [`Analysis::warnings`].
    pub fn deny_operations_without_auth_mode(mut self, deny: bool) -> Self {
        self.deny_unsendable = deny;
        self
    }

    /// Generates and writes the file (only when its content changed, so dependents are not
    /// rebuilt for nothing). Warnings are printed: as `cargo:warning=` lines when run by
    /// Cargo as a build script (`OUT_DIR` is set), else on stderr.
    pub fn generate(&self, out: impl AsRef<Path>) -> Result<(), Errors> {
        let out = out.as_ref();
        if self
            .rerun_if_changed
            .unwrap_or_else(|| std::env::var_os("OUT_DIR").is_some())
        {
            for input in self.schemas.iter().chain(&self.operations) {
                if let Input::Path(p) = input {
                    println!("cargo:rerun-if-changed={}", p.display());
                }
            }
        }
        let (code, warnings) = self.run(|b| {
            let loaded = b.load()?;
            Ok((gen::generate(b, &loaded)?, loaded.warnings))
        })?;
        let in_build_script = std::env::var_os("OUT_DIR").is_some();
        for w in &warnings {
            if in_build_script {
                println!("cargo:warning={w}");
            } else {
                eprintln!("warning: {w}");
            }
        }
        if std::fs::read_to_string(out).ok().as_deref() == Some(code.as_str()) {
            return Ok(());
        }
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Errors::new(vec![Error::in_file(
                    dir.display().to_string(),
                    format!("cannot create the folder: {e}"),
                )])
            })?;
        }
        std::fs::write(out, code).map_err(|e| {
            Errors::new(vec![Error::in_file(
                out.display().to_string(),
                format!("cannot write the generated code: {e}"),
            )])
        })
    }

    /// Generates the Rust code (warnings are not reported: see [`analyze`](Self::analyze)).
    pub fn generate_to_string(&self) -> Result<String, Errors> {
        self.run(|b| {
            let loaded = b.load()?;
            gen::generate(b, &loaded)
        })
    }

    /// Validates and computes the auth metadata, without generating code.
    pub fn analyze(&self) -> Result<Analysis, Errors> {
        self.run(|b| {
            let loaded = b.load()?;
            Ok(gen::analyze(b, &loaded))
        })
    }

    /// The statement documents [`statements`](Self::statements) adds (an empty string when it
    /// is not set), for writing them out as `.graphql` files.
    pub fn statements_to_string(&self) -> Result<String, Errors> {
        self.run(|b| {
            let Some(depth) = b.statements else {
                return Ok(String::new());
            };
            let (schema, _) = b.load_schema()?;
            Ok(statements::generate(&schema, depth))
        })
    }

    /// Runs `f` on a thread with a large stack, turning a panic into an error: no input makes
    /// the generator panic or overflow the caller's stack.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Builder) -> Result<T, Errors> + Send + 'static,
    ) -> Result<T, Errors> {
        let b = self.clone();
        let handle = std::thread::Builder::new()
            .name("appsync-codegen".into())
            .stack_size(256 << 20)
            .spawn(move || f(&b));
        let internal = |what: String| {
            Errors::new(vec![Error::settings(format!(
                "internal error in appsync-codegen ({what}); please report it with the input"
            ))])
        };
        match handle {
            Ok(h) => h.join().unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(internal(format!("panic: {msg}")))
            }),
            Err(e) => Err(internal(format!("cannot start a thread: {e}"))),
        }
    }

    fn read_inputs(
        inputs: &[Input],
        dirs_ok: bool,
        errors: &mut Vec<Error>,
    ) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for input in inputs {
            match input {
                Input::Text { name, text } => out.push((name.clone(), text.clone())),
                Input::Path(p) if dirs_ok && p.is_dir() => {
                    let mut files = Vec::new();
                    collect_graphql_files(p, &mut files, errors, 0);
                    files.sort();
                    if files.is_empty() {
                        errors.push(Error::in_file(
                            p.display().to_string(),
                            "the folder has no .graphql or .gql file",
                        ));
                    }
                    for f in files {
                        read_file(&f, &mut out, errors);
                    }
                }
                Input::Path(p) => read_file(p, &mut out, errors),
            }
        }
        out
    }

    fn parser() -> apollo_compiler::parser::Parser {
        apollo_compiler::parser::Parser::new()
            .recursion_limit(256)
            .token_limit(50_000_000)
    }

    /// Reads and validates the schema (with the prelude).
    fn load_schema(
        &self,
    ) -> Result<
        (
            apollo_compiler::validation::Valid<apollo_compiler::Schema>,
            BTreeMap<String, String>,
        ),
        Errors,
    > {
        let mut errors = Vec::new();
        let files = Self::read_inputs(&self.schemas, false, &mut errors);
        if files.is_empty() && errors.is_empty() {
            errors.push(Error::settings(
                "no schema: give one with Builder::schema(path) or Builder::schema_str(name, text)",
            ));
        }
        let mut texts = BTreeMap::new();
        let mut asts = Vec::new();
        let mut defined = std::collections::HashSet::new();
        for (name, text) in &files {
            texts.insert(name.clone(), text.clone());
            let ast = match Self::parser().parse_ast(text.as_str(), name) {
                Ok(ast) => ast,
                Err(e) => {
                    diagnostics(&e.errors, &mut errors);
                    e.partial
                }
            };
            for def in &ast.definitions {
                if !def.is_extension_definition() {
                    if let Some(n) = def.name() {
                        defined.insert(n.to_string());
                    }
                }
            }
            asts.push(ast);
        }
        if !errors.is_empty() {
            return Err(Errors::new(errors));
        }
        let mut builder = apollo_compiler::Schema::builder();
        match Self::parser().parse_ast(AWS_PRELUDE, PRELUDE_PATH) {
            Ok(mut prelude) => {
                prelude
                    .definitions
                    .retain(|d| d.name().is_none_or(|n| !defined.contains(n.as_str())));
                builder = builder.add_ast(&prelude);
            }
            Err(e) => diagnostics(&e.errors, &mut errors),
        }
        for ast in &asts {
            builder = builder.add_ast(ast);
        }
        let schema = match builder.build() {
            Ok(s) => s,
            Err(e) => {
                diagnostics(&e.errors, &mut errors);
                return Err(Errors::new(errors));
            }
        };
        match schema.validate() {
            Ok(valid) if errors.is_empty() => Ok((valid, texts)),
            Ok(_) => Err(Errors::new(errors)),
            Err(e) => {
                diagnostics(&e.errors, &mut errors);
                Err(Errors::new(errors))
            }
        }
    }

    /// Reads and validates everything.
    fn load(&self) -> Result<Loaded, Errors> {
        let mut errors: Vec<Error> = self
            .settings_errors
            .iter()
            .map(|e| Error::settings(e.as_str()))
            .collect();
        // Settings first, so that they are reported even when the inputs have problems.
        let client_ok = syn::parse_str::<syn::Path>(&self.client_crate).is_ok();
        if !client_ok {
            errors.push(Error::settings(format!(
                "client_crate({:?}) is not a Rust path",
                self.client_crate
            )));
        }
        for (scalar, ty) in &self.scalars {
            if syn::parse_str::<syn::Type>(ty).is_err() {
                errors.push(Error::settings(format!(
                    "scalar({scalar:?}, {ty:?}): {ty:?} is not a Rust type"
                )));
            }
        }
        if let Some(d) = self.statements {
            if !(1..=statements::MAX_DEPTH).contains(&d) {
                errors.push(Error::settings(format!(
                    "statements({d}): the depth must be 1 to {}",
                    statements::MAX_DEPTH
                )));
            }
        }
        let schema = self.load_schema();
        let mut ops = Self::read_inputs(&self.operations, true, &mut errors);
        let (schema, mut texts) = match schema {
            Ok(s) => s,
            Err(e) => {
                // Still report syntax errors in the operations.
                for (name, text) in &ops {
                    if let Err(e) = Self::parser().parse_ast(text.as_str(), name) {
                        errors.extend(first_syntax_error(&e.errors));
                    }
                }
                let mut all = e.into_vec();
                all.extend(errors);
                return Err(Errors::new(all));
            }
        };
        let mut asts = Vec::new();
        let mut names = std::collections::HashSet::new();
        // A document with a syntax error reports that error alone: what the parser recovered
        // is still added (other documents may use its fragments), but problems found in it
        // after the first syntax error would mostly be echoes of that error.
        let mut failed = std::collections::HashSet::new();
        let mut syntax = Vec::new();
        let mut first_seen = std::collections::HashMap::new();
        for (name, text) in &ops {
            texts.insert(name.clone(), text.clone());
            let ast = match Self::parser().parse_ast(text.as_str(), name) {
                Ok(ast) => ast,
                Err(e) => {
                    failed.insert(name.clone());
                    syntax.extend(first_syntax_error(&e.errors));
                    e.partial
                }
            };
            duplicate_definitions(&ast, &mut first_seen, &mut errors);
            names.extend(
                ast.definitions
                    .iter()
                    .filter_map(|d| d.as_operation_definition()?.name.clone()),
            );
            asts.push(ast);
        }
        if let Some(depth) = self.statements {
            // Hand-written operations win over statements of the same name.
            let text = statements::join(
                statements::generate_each(&schema, depth)
                    .into_iter()
                    .filter(|(name, _)| !names.contains(name.as_str()))
                    .map(|(_, text)| text),
            );
            match Self::parser().parse_ast(text.as_str(), STATEMENTS_PATH) {
                Ok(ast) => asts.push(ast),
                Err(e) => diagnostics(&e.errors, &mut errors),
            }
            texts.insert(STATEMENTS_PATH.to_owned(), text);
            ops.push((STATEMENTS_PATH.to_owned(), String::new()));
        }
        if ops.is_empty() && errors.is_empty() {
            errors.push(Error::settings(
                "no operations: give a file or folder with Builder::operations(path), text with \
                 Builder::operations_str(name, text), or ask for Builder::statements(depth)",
            ));
        }
        let auth = auth::AuthModel::new(
            &schema,
            self.default_auth_mode,
            self.additional_auth_modes.as_deref(),
        );
        if self.default_auth_mode.is_none() {
            missing_default_mode(&schema, &auth, &mut errors);
        }
        let mut diag = apollo_compiler::validation::DiagnosticList::new(Default::default());
        let mut builder = apollo_compiler::ExecutableDocument::builder(Some(&schema), &mut diag);
        for ast in &asts {
            builder.add_ast_document(ast, true);
        }
        let doc = builder.build();
        diagnostics(&diag, &mut errors);
        // Validation reports what building could not (every operation, not only the first
        // problem); the same problem found twice is shown once.
        let validated = doc.validate(&schema);
        if let Err(e) = &validated {
            diagnostics(&e.errors, &mut errors);
        }
        // Duplicate names are reported by `duplicate_definitions`, with both places.
        errors.retain(|e| {
            !failed.contains(&e.file)
                && !((e.message.starts_with("the operation `")
                    || e.message.starts_with("the fragment `"))
                    && e.message
                        .ends_with("is defined multiple times in the document"))
        });
        // Syntax errors first: in file order, the broken document comes before what it breaks.
        syntax.append(&mut errors);
        let mut errors = syntax;
        let doc = match validated {
            Ok(d) if errors.is_empty() => d.into_inner(),
            _ => return Err(Errors::new(errors)),
        };
        if let Some(op) = &doc.operations.anonymous {
            let (file, line, column) = gen::locate(&doc.sources, op.location());
            errors.push(Error::at(
                file,
                line,
                column,
                "give the operation a name: codegen names its Rust types after it",
            ));
            return Err(Errors::new(errors));
        }
        let warnings = unsendable_operations(&schema, &doc, &auth);
        if self.deny_unsendable && !warnings.is_empty() {
            return Err(Errors::new(warnings));
        }
        Ok(Loaded {
            schema,
            doc,
            texts,
            auth,
            warnings,
        })
    }
}

/// One problem per operation that no auth mode can send, at the operation, naming the
/// fields whose rules do not meet.
fn unsendable_operations(
    schema: &apollo_compiler::Schema,
    doc: &apollo_compiler::ExecutableDocument,
    auth: &auth::AuthModel,
) -> Vec<Error> {
    let mut out = Vec::new();
    for (name, op) in &doc.operations.named {
        let Some(conflict) = auth.operation(doc, &op.selection_set).conflict else {
            continue;
        };
        let (file, line, column) = gen::locate(&doc.sources, op.location());
        let generated = if file == STATEMENTS_PATH {
            " (a generated statement)"
        } else {
            ""
        };
        out.push(Error::at(
            file,
            line,
            column,
            format!(
                "operation `{name}`{generated} can never be sent: no auth mode reaches every \
                 field it selects: {}. The client refuses every call of it",
                conflict.explain(schema)
            ),
        ));
    }
    out
}

/// One error per object type with fields that no directive covers, when no default is set.
fn missing_default_mode(
    schema: &apollo_compiler::Schema,
    auth: &auth::AuthModel,
    errors: &mut Vec<Error>,
) {
    for (name, ty) in &schema.types {
        let apollo_compiler::schema::ExtendedType::Object(o) = ty else {
            continue;
        };
        if ty.is_built_in() {
            continue;
        }
        let bare: Vec<&str> = o
            .fields
            .keys()
            .filter(|f| !auth.has_rule(name, f))
            .map(|f| f.as_str())
            .collect();
        if bare.is_empty() {
            continue;
        }
        let (file, line, column) = gen::locate(&schema.sources, o.location());
        let shown = if bare.len() > 5 {
            format!("{}, … ({} fields)", bare[..5].join(", "), bare.len())
        } else {
            bare.join(", ")
        };
        errors.push(Error::at(
            file,
            line,
            column,
            format!(
                "type {name} has fields with no auth directive ({shown}), and neither has the \
                 type: they use the API's default auth mode; set it with \
                 Builder::default_auth_mode(..)"
            ),
        ));
    }
}

fn collect_graphql_files(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<Error>, depth: u32) {
    if depth > 32 {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(Error::in_file(
                dir.display().to_string(),
                format!("cannot read the folder: {e}"),
            ));
            return;
        }
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_graphql_files(&p, out, errors, depth + 1);
        } else if p.extension().is_some_and(|e| e == "graphql" || e == "gql") {
            out.push(p);
        }
    }
}

fn read_file(p: &Path, out: &mut Vec<(String, String)>, errors: &mut Vec<Error>) {
    let name = p.display().to_string();
    match std::fs::read_to_string(p) {
        Ok(text) => out.push((name, text)),
        Err(e) => errors.push(Error::in_file(name, format!("cannot read the file: {e}"))),
    }
}

/// The first (in the text) of a document's syntax errors.
fn first_syntax_error(list: &apollo_compiler::validation::DiagnosticList) -> Option<Error> {
    let mut all = Vec::new();
    diagnostics(list, &mut all);
    all.into_iter().min_by_key(|e| (e.line, e.column))
}

/// Operations and fragments defined twice (in one document or across documents): an error at
/// the second definition naming the first.
fn duplicate_definitions(
    ast: &apollo_compiler::ast::Document,
    first_seen: &mut std::collections::HashMap<(&'static str, String), (String, usize, usize)>,
    errors: &mut Vec<Error>,
) {
    use apollo_compiler::ast::Definition;
    for def in &ast.definitions {
        let (kind, name) = match def {
            Definition::OperationDefinition(op) => match &op.name {
                Some(n) => ("operation", n),
                None => continue,
            },
            Definition::FragmentDefinition(f) => ("fragment", &f.name),
            _ => continue,
        };
        let here = gen::locate(&ast.sources, name.location());
        match first_seen.get(&(kind, name.to_string())) {
            Some((file, line, column)) => errors.push(Error::at(
                here.0,
                here.1,
                here.2,
                format!(
                    "the {kind} `{name}` is defined twice: here and at {file}:{line}:{column}; \
                     names must be unique across all operation files"
                ),
            )),
            None => {
                first_seen.insert((kind, name.to_string()), here);
            }
        }
    }
}

/// apollo-compiler's diagnostics as `file:line:col: message` errors.
fn diagnostics(list: &apollo_compiler::validation::DiagnosticList, errors: &mut Vec<Error>) {
    use apollo_compiler::diagnostic::ToCliReport;
    for d in list.iter() {
        let (file, line, column) = gen::locate(d.sources, d.error.location());
        errors.push(Error::at(file, line, column, d.error.to_string()));
    }
}

fn read_auth_modes(path: &Path) -> Result<(AuthMode, Vec<AuthMode>), String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{shown}: not JSON: {e}"))?;
    let mode = |v: &serde_json::Value| -> Result<AuthMode, String> {
        v.as_str()
            .ok_or_else(|| format!("{shown}: an authorization type is not a string"))?
            .parse::<AuthMode>()
            .map_err(|e| format!("{shown}: {e}"))
            .and_then(|m| {
                m.is_appsync()
                    .then_some(m)
                    .ok_or_else(|| format!("{shown}: {m} is not an AppSync authorization type"))
            })
    };
    if let Some(data) = v.get("data") {
        let default = mode(
            data.get("default_authorization_type")
                .unwrap_or(&serde_json::Value::Null),
        )?;
        let mut additional = Vec::new();
        for m in data
            .get("authorization_types")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
        {
            let m = mode(m)?;
            if m != default && !additional.contains(&m) {
                additional.push(m);
            }
        }
        return Ok((default, additional));
    }
    let apis = v
        .pointer("/api/plugins/awsAPIPlugin")
        .and_then(|a| a.as_object())
        .ok_or_else(|| {
            format!("{shown}: neither `data` (Gen2) nor `api.plugins.awsAPIPlugin` (Gen1)")
        })?;
    let api = apis
        .values()
        .find(|a| a.get("endpointType").and_then(|t| t.as_str()) == Some("GraphQL"))
        .ok_or_else(|| format!("{shown}: no GraphQL API in awsAPIPlugin"))?;
    let default = mode(
        api.get("authorizationType")
            .unwrap_or(&serde_json::Value::Null),
    )?;
    let mut additional = Vec::new();
    // Additional modes appear as `AppSync` entries with the same URL.
    let url = api.get("endpoint");
    if let Some(entries) = v
        .pointer("/auth/plugins/awsCognitoAuthPlugin/AppSync")
        .and_then(|a| a.as_object())
    {
        for e in entries.values() {
            if e.get("ApiUrl") == url {
                if let Some(m) = e.get("AuthMode") {
                    let m = mode(m)?;
                    if m != default && !additional.contains(&m) {
                        additional.push(m);
                    }
                }
            }
        }
    }
    Ok((default, additional))
}
