//! Reading and validating the inputs: schema files with the AWS prelude, operation files and
//! folders, generated statements; every problem at once, and the warnings about operations no
//! auth mode can send.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::auth::{self, AuthModel};
use crate::error::{Error, Errors};
use crate::settings::{Input, Settings};
use crate::span::{diagnostics, first_syntax_error, locate, Locator};
use crate::statements;

/// The name of the prelude in error messages.
const PRELUDE_PATH: &str = "<aws-prelude>.graphql";
/// The name of generated statements in error messages.
const STATEMENTS_PATH: &str = "<statements>.graphql";

/// What reading and validating the inputs gives: the valid schema, the valid document, and the
/// source texts by path (for operation comments).
pub(crate) struct Loaded {
    pub schema: apollo_compiler::validation::Valid<apollo_compiler::Schema>,
    pub doc: apollo_compiler::ExecutableDocument,
    pub texts: BTreeMap<String, String>,
    pub auth: AuthModel,
    /// Problems that do not stop generation: operations no auth mode can send.
    pub warnings: Vec<Error>,
}

fn read_inputs(inputs: &[Input], dirs_ok: bool, errors: &mut Vec<Error>) -> Vec<(String, String)> {
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

/// Parses one document; on a syntax error, `failed` gets the diagnostics and what the parser
/// recovered is returned.
fn parse(
    name: &str,
    text: &str,
    failed: impl FnOnce(&apollo_compiler::validation::DiagnosticList),
) -> apollo_compiler::ast::Document {
    match parser().parse_ast(text, name) {
        Ok(ast) => ast,
        Err(e) => {
            failed(&e.errors);
            e.partial
        }
    }
}

fn parser() -> apollo_compiler::parser::Parser {
    apollo_compiler::parser::Parser::new()
        .recursion_limit(256)
        .token_limit(50_000_000)
}

/// Reads and validates the schema (with the prelude).
pub(crate) fn load_schema(
    s: &Settings,
) -> Result<
    (
        apollo_compiler::validation::Valid<apollo_compiler::Schema>,
        BTreeMap<String, String>,
    ),
    Errors,
> {
    let mut errors = Vec::new();
    let files = read_inputs(&s.schemas, false, &mut errors);
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
        let ast = parse(name, text, |e| diagnostics(e, &mut errors));
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
    match parser().parse_ast(appsync_types::AWS_PRELUDE, PRELUDE_PATH) {
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
pub(crate) fn load(s: &Settings) -> Result<Loaded, Errors> {
    let mut errors: Vec<Error> = s
        .settings_errors
        .iter()
        .map(|e| Error::settings(e.as_str()))
        .collect();
    // Settings first, so that they are reported even when the inputs have problems.
    let client_ok = syn::parse_str::<syn::Path>(&s.client_crate).is_ok();
    if !client_ok {
        errors.push(Error::settings(format!(
            "client_crate({:?}) is not a Rust path",
            s.client_crate
        )));
    }
    for (scalar, ty) in &s.scalars {
        if syn::parse_str::<syn::Type>(ty).is_err() {
            errors.push(Error::settings(format!(
                "scalar({scalar:?}, {ty:?}): {ty:?} is not a Rust type"
            )));
        }
    }
    if let Some(d) = s.statements {
        if !(1..=statements::MAX_DEPTH).contains(&d) {
            errors.push(Error::settings(format!(
                "statements({d}): the depth must be 1 to {}",
                statements::MAX_DEPTH
            )));
        }
    }
    let schema = load_schema(s);
    let mut ops = read_inputs(&s.operations, true, &mut errors);
    let (schema, mut texts) = match schema {
        Ok(s) => s,
        Err(e) => {
            // Still report syntax errors in the operations.
            for (name, text) in &ops {
                if let Err(e) = parser().parse_ast(text.as_str(), name) {
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
        let ast = parse(name, text, |e| {
            failed.insert(name.clone());
            syntax.extend(first_syntax_error(e));
        });
        duplicate_definitions(&ast, &mut first_seen, &mut errors);
        names.extend(
            ast.definitions
                .iter()
                .filter_map(|d| d.as_operation_definition()?.name.clone()),
        );
        asts.push(ast);
    }
    if let Some(depth) = s.statements {
        // Hand-written operations win over statements of the same name.
        let text = statements::join(
            statements::generate_each(&schema, depth)
                .into_iter()
                .filter(|(name, _)| !names.contains(name.as_str()))
                .map(|(_, text)| text),
        );
        match parser().parse_ast(text.as_str(), STATEMENTS_PATH) {
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
        s.default_auth_mode,
        s.additional_auth_modes.as_deref(),
    );
    if s.default_auth_mode.is_none() {
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
        let (file, line, column) = locate(&doc.sources, op.location());
        errors.push(Error::at(
            file,
            line,
            column,
            "give the operation a name: codegen names its Rust types after it",
        ));
        return Err(Errors::new(errors));
    }
    let warnings = unsendable_operations(&schema, &doc, &auth);
    if s.deny_unsendable && !warnings.is_empty() {
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

/// One problem per operation that no auth mode can send, at the operation, naming the
/// fields whose rules do not meet.
fn unsendable_operations(
    schema: &apollo_compiler::Schema,
    doc: &apollo_compiler::ExecutableDocument,
    auth: &AuthModel,
) -> Vec<Error> {
    let mut out = Vec::new();
    let mut lines = Locator::new(&doc.sources);
    let mut schema_lines = Locator::new(&schema.sources);
    for (name, op) in &doc.operations.named {
        let Some(conflict) = auth.operation(doc, &op.selection_set).conflict else {
            continue;
        };
        let (file, line, column) = lines.locate(op.location());
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
                conflict.explain(schema, &mut schema_lines)
            ),
        ));
    }
    out
}

/// One error per object type with fields that no directive covers, when no default is set.
fn missing_default_mode(
    schema: &apollo_compiler::Schema,
    auth: &AuthModel,
    errors: &mut Vec<Error>,
) {
    let mut lines = Locator::new(&schema.sources);
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
        let (file, line, column) = lines.locate(o.location());
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

/// Operations and fragments defined twice (in one document or across documents): an error at
/// the second definition naming the first.
fn duplicate_definitions(
    ast: &apollo_compiler::ast::Document,
    first_seen: &mut std::collections::HashMap<(&'static str, String), (String, usize, usize)>,
    errors: &mut Vec<Error>,
) {
    use apollo_compiler::ast::Definition;
    let mut lines = Locator::new(&ast.sources);
    for def in &ast.definitions {
        let (kind, name) = match def {
            Definition::OperationDefinition(op) => match &op.name {
                Some(n) => ("operation", n),
                None => continue,
            },
            Definition::FragmentDefinition(f) => ("fragment", &f.name),
            _ => continue,
        };
        let here = lines.locate(name.location());
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
