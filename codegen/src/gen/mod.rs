//! Rust code for a validated schema and document: the [`Gen`] state shared by the emitters
//! below, name assignment, formatting (with text templates), and [`generate`], which runs the
//! operations on several threads.
//!
//! - `operations`: one module and one marker type per operation, and the fragment types;
//! - `objects`: the response structs of a selection (and enums for type conditions);
//! - `types`: the schema's enums and input types that are used, shared by all operations;
//! - `render`: struct declarations and their field types; `serde_impls`: their compact serde
//!   impls, written as text; `scalars`: Rust types of scalars; `docs`: doc comments.

mod docs;
mod objects;
mod operations;
mod render;
mod scalars;
mod serde_impls;
mod types;

use std::collections::{BTreeMap, HashMap, HashSet};

use apollo_compiler::executable::{ExecutableDocument, Operation};
use apollo_compiler::parser::SourceSpan;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Node, Schema};
use proc_macro2::TokenStream;
use quote::quote;

use crate::auth::AuthModel;
use crate::error::{Error, Errors};
use crate::load::Loaded;
use crate::names::{field_name, ident, schema_type_name, type_name, Scope};
use crate::settings::Settings;

use scalars::Leaf;

/// Formats items as Rust source, putting each template's text (already formatted, see
/// [`Gen::template`]) where its placeholder item is.
fn format(code: TokenStream, templates: &[String]) -> Result<String, Errors> {
    let file: syn::File = syn::parse2(code).map_err(|e| {
        Errors::new(vec![Error::settings(format!(
            "internal error in appsync-codegen: the generated code does not parse ({e}); \
             please report it with the input"
        ))])
    })?;
    let text = prettyplease::unparse(&file);
    if templates.is_empty() {
        return Ok(text);
    }
    let mut out =
        String::with_capacity(text.len() + templates.iter().map(String::len).sum::<usize>() * 2);
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let template = trimmed
            .strip_prefix(PLACEHOLDER)
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| templates.get(n));
        match template {
            Some(t) => {
                let indent = &line[..line.len() - trimmed.len()];
                for l in t.lines() {
                    if !l.is_empty() {
                        out.push_str(indent);
                        out.push_str(l);
                    }
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    Ok(out)
}

/// The item that stands for a template until formatting is done.
const PLACEHOLDER: &str = "const __APPSYNC_CODEGEN_TEMPLATE_";

/// The generated file. Operations are generated and formatted on several threads (each one
/// is independent once names are assigned); the shared types come last, once every use is
/// known, and are written first.
pub(crate) fn generate(s: &Settings, l: &Loaded) -> Result<String, Errors> {
    let mut g = Gen::new(s, l);
    let ops = g.assign_names();
    let fragments = g.fragments();
    if !g.errors.is_empty() {
        return Err(Errors::new(g.errors));
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(ops.len().div_ceil(32).max(1));
    let chunk = ops.len().div_ceil(threads).max(1);
    let type_names = &g.type_names;
    let fragment_names = &g.fragment_names;
    let work = |part: &[(&Node<Operation>, String, String)]| {
        let mut w = Gen::new(s, l);
        w.type_names = type_names.clone();
        w.fragment_names = fragment_names.clone();
        let mut text = String::new();
        for (op, marker, module) in part {
            let code = w.operation(op, marker, module);
            text.push_str(&format(code, &w.templates.borrow())?);
            w.templates.borrow_mut().clear();
        }
        Ok::<_, Errors>((text, w.enums_used, w.inputs_used))
    };
    let results: Vec<Result<_, Errors>> = if threads <= 1 {
        vec![work(&ops)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = ops
                .chunks(chunk)
                .map(|part| {
                    std::thread::Builder::new()
                        .name("appsync-codegen".into())
                        .stack_size(64 << 20)
                        .spawn_scoped(scope, move || work(part))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h {
                    Ok(h) => h.join().unwrap_or_else(|_| {
                        Err(Errors::new(vec![Error::settings(
                            "internal error in appsync-codegen: a worker thread panicked; \
                             please report it with the input",
                        )]))
                    }),
                    Err(e) => Err(Errors::new(vec![Error::settings(format!(
                        "cannot start a thread: {e}"
                    ))])),
                })
                .collect()
        })
    };
    let mut op_text = String::new();
    for r in results {
        let (text, enums, inputs) = r?;
        op_text.push_str(&text);
        g.enums_used.extend(enums);
        g.inputs_used.extend(inputs);
    }
    let shared = g.shared();
    let head = format(quote!(#shared #(#fragments)*), &g.templates.borrow())?;
    Ok(format!(
        "// @generated by appsync-codegen {}. Do not edit: change the schema or the operations.\n\n{head}{op_text}",
        env!("CARGO_PKG_VERSION"),
    ))
}

/// Where shared types are, seen from the code being generated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// The file's top level (fragments, inputs).
    Top,
    /// An operation module.
    Module,
}

impl Ns {
    fn path(self, name: &str) -> TokenStream {
        let id = ident(name);
        match self {
            Ns::Top => quote!(#id),
            Ns::Module => quote!(super::#id),
        }
    }
}

struct Gen<'a> {
    s: &'a Settings,
    schema: &'a Schema,
    doc: &'a ExecutableDocument,
    texts: &'a BTreeMap<String, String>,
    auth: &'a AuthModel,
    scalars: HashMap<String, Leaf>,
    enums_used: HashSet<Name>,
    inputs_used: HashSet<Name>,
    /// Schema enums and input types → Rust names.
    type_names: HashMap<Name, String>,
    fragment_names: HashMap<Name, String>,
    top: Scope,
    errors: Vec<Error>,
    /// Line indexes of the documents and of the schema, built on first use.
    doc_lines: crate::span::Locator<'a>,
    schema_lines: std::cell::RefCell<crate::span::Locator<'a>>,
    box_memo: HashMap<Name, HashSet<Name>>,
    /// Impls written as text (compact serde impls): formatting them through syn and
    /// prettyplease would cost most of the generation time.
    templates: std::cell::RefCell<Vec<String>>,
}

impl<'a> Gen<'a> {
    fn new(s: &'a Settings, l: &'a Loaded) -> Self {
        Gen {
            s,
            schema: &l.schema,
            doc: &l.doc,
            texts: &l.texts,
            auth: &l.auth,
            scalars: scalars::scalar_types(s),
            enums_used: HashSet::new(),
            inputs_used: HashSet::new(),
            type_names: HashMap::new(),
            fragment_names: HashMap::new(),
            top: Scope::with(&["_appsync", "_serde"]),
            errors: Vec::new(),
            doc_lines: crate::span::Locator::new(&l.doc.sources),
            schema_lines: std::cell::RefCell::new(crate::span::Locator::new(&l.schema.sources)),
            box_memo: HashMap::new(),
            templates: Default::default(),
        }
    }

    /// The Rust name of a schema enum or input type.
    fn rust_name(&self, name: &Name) -> String {
        self.type_names
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    fn error_at(&mut self, span: Option<SourceSpan>, msg: String) {
        let (file, line, column) = self.doc_lines.locate(span);
        self.errors.push(Error::at(file, line, column, msg));
    }

    /// Names: schema enums and inputs as written, then operations, then fragments. Returns
    /// the operations with their marker type and module names.
    fn assign_names(&mut self) -> Vec<(&'a Node<Operation>, String, String)> {
        for (name, ty) in &self.schema.types {
            if matches!(ty, ExtendedType::Enum(_) | ExtendedType::InputObject(_))
                && !ty.is_built_in()
            {
                let rust = self.top.unique(&schema_type_name(name));
                self.type_names.insert(name.clone(), rust);
            }
        }
        let mut ops = Vec::new();
        for (name, op) in &self.doc.operations.named {
            let marker = type_name(name);
            let module = field_name(name);
            let ok_marker = self.top.claim(&marker);
            let ok_module = self.top.claim(&module);
            if !ok_marker || !ok_module {
                let clash = if ok_marker { &module } else { &marker };
                self.error_at(
                    op.location(),
                    format!(
                        "operation {name}: its Rust name `{clash}` is already used by a schema \
                         type, a fragment or another operation; rename the operation"
                    ),
                );
                continue;
            }
            ops.push((op, marker, module));
        }
        for (name, frag) in &self.doc.fragments {
            let rust = schema_type_name(name);
            if !self.top.claim(&rust) {
                self.error_at(
                    frag.location(),
                    format!(
                        "fragment {name}: its Rust name `{rust}` is already used by a schema \
                         type or an operation; rename the fragment"
                    ),
                );
                continue;
            }
            self.fragment_names.insert(name.clone(), rust);
        }
        ops
    }

    fn narrow(&self, types: &[Name], cond: &str) -> Vec<Name> {
        let p = self.auth.possible(cond);
        types.iter().filter(|t| p.contains(t)).cloned().collect()
    }

    /// A placeholder item for text that is already formatted (at indentation 0).
    fn template(&self, text: String) -> TokenStream {
        let mut t = self.templates.borrow_mut();
        let id = proc_macro2::Ident::new(
            &format!("{}{}", PLACEHOLDER.trim_start_matches("const "), t.len()),
            proc_macro2::Span::call_site(),
        );
        t.push(text);
        quote!(const #id: () = ();)
    }
}
