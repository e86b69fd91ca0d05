//! Rust code for a validated schema and document: shared enums and input types, fragment
//! types, and one module plus one marker type per operation.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use apollo_compiler::ast::{DirectiveList, OperationType, Type};
use apollo_compiler::executable::{ExecutableDocument, Operation, Selection, SelectionSet};
use apollo_compiler::parser::{SourceMap, SourceSpan};
use apollo_compiler::schema::{ExtendedType, FieldDefinition};
use apollo_compiler::{Name, Node, Schema};
use proc_macro2::TokenStream;
use quote::quote;

use crate::auth::{Analysis, AuthModel, OperationInfo, OperationKind};
use crate::error::{Error, Errors};
use crate::names::{field_name, ident, schema_type_name, type_name, Scope};
use crate::{Builder, Loaded};

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

/// The auth metadata of every operation and field.
pub(crate) fn analyze(b: &Builder, l: &Loaded) -> Analysis {
    let mut fields = BTreeMap::new();
    for (name, ty) in &l.schema.types {
        if let ExtendedType::Object(o) = ty {
            if ty.is_built_in() {
                continue;
            }
            for f in o.fields.keys() {
                fields.insert(
                    (name.to_string(), f.to_string()),
                    l.auth.field_auth(name, f),
                );
            }
        }
    }
    let operations = l
        .doc
        .operations
        .named
        .values()
        .map(|op| operation_info(&l.doc, &l.auth, op))
        .collect();
    Analysis {
        default_auth_mode: b.default_auth_mode,
        operations,
        fields,
        warnings: l.warnings.clone(),
    }
}

fn operation_info(
    doc: &ExecutableDocument,
    auth: &AuthModel,
    op: &Node<Operation>,
) -> OperationInfo {
    let crate::auth::OperationAuth {
        modes: allowed_auth_modes,
        groups: user_pool_groups,
        ..
    } = auth.operation(doc, &op.selection_set);
    let file = file_of(&doc.sources, op.location());
    OperationInfo {
        name: op.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        kind: match op.operation_type {
            OperationType::Query => OperationKind::Query,
            OperationType::Mutation => OperationKind::Mutation,
            OperationType::Subscription => OperationKind::Subscription,
        },
        allowed_auth_modes,
        user_pool_groups,
        file,
    }
}

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
pub(crate) fn generate(b: &Builder, l: &Loaded) -> Result<String, Errors> {
    let mut g = Gen::new(b, l);
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
        let mut w = Gen::new(b, l);
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

/// A scalar's Rust type and the serde `with` module it needs, if any.
#[derive(Clone)]
struct Leaf {
    ty: TokenStream,
    codec: Option<&'static str>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Wrap {
    Option,
    Nullable,
    Vec,
    Box,
}

#[derive(Clone)]
struct FieldTy {
    /// Outermost first.
    wraps: Vec<Wrap>,
    leaf: TokenStream,
    codec: Option<&'static str>,
}

impl FieldTy {
    fn tokens(&self) -> TokenStream {
        let mut t = self.leaf.clone();
        for w in self.wraps.iter().rev() {
            t = match w {
                Wrap::Option => quote!(Option<#t>),
                Wrap::Nullable => quote!(_appsync::types::Nullable<#t>),
                Wrap::Vec => quote!(Vec<#t>),
                Wrap::Box => quote!(Box<#t>),
            };
        }
        t
    }
}

/// A struct field to render.
struct RField {
    name: String,
    wire: String,
    ty: FieldTy,
    docs: Vec<String>,
    deprecated: Option<String>,
    /// A fragment spread or the type-specific part: read from the whole object.
    flatten: bool,
    /// A flattened part under `@include`/`@skip`.
    optional_part: bool,
    /// A response field that may be missing (under `@include`/`@skip`).
    may_be_missing: bool,
    input: bool,
}

impl RField {
    fn serde_attr(&self) -> TokenStream {
        if self.flatten {
            return quote!(#[serde(flatten)]);
        }
        let mut parts: Vec<TokenStream> = Vec::new();
        if self.name.trim_start_matches("r#") != self.wire {
            let w = &self.wire;
            parts.push(quote!(rename = #w));
        }
        match self.ty.wraps.first() {
            Some(Wrap::Nullable) => {
                parts.push(quote!(default));
                parts.push(quote!(
                    skip_serializing_if = "_appsync::types::Nullable::is_absent"
                ));
            }
            Some(Wrap::Option) if self.input => {
                parts.push(quote!(default));
                parts.push(quote!(skip_serializing_if = "Option::is_none"));
            }
            Some(Wrap::Option) if self.ty.codec.is_some() || self.may_be_missing => {
                parts.push(quote!(default));
            }
            _ => {}
        }
        if let Some(c) = self.ty.codec {
            parts.push(quote!(with = #c));
        }
        if parts.is_empty() {
            quote!()
        } else {
            quote!(#[serde(#(#parts),*)])
        }
    }
}

fn doc_attrs(lines: &[String]) -> TokenStream {
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

fn deprecation(directives: &DirectiveList) -> Option<String> {
    let d = directives.get("deprecated")?;
    let reason = d
        .specified_argument_by_name("reason")
        .and_then(|v| v.as_str())
        .unwrap_or("No longer supported");
    // One line: the note must not split the formatted file's lines in unexpected places.
    Some(reason.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn is_conditional(directives: &DirectiveList) -> bool {
    directives.get("include").is_some() || directives.get("skip").is_some()
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

#[derive(Clone, Copy)]
enum Part<'d> {
    Set(&'d SelectionSet, bool),
    Spread(&'d Name, bool),
}

struct Group<'d> {
    key: Name,
    def: &'d Node<FieldDefinition>,
    sets: Vec<&'d SelectionSet>,
    always: bool,
}

#[derive(Default)]
struct Collected<'d> {
    fields: Vec<Group<'d>>,
    spreads: Vec<(&'d Name, bool)>,
    conditional: Vec<(Vec<Name>, Part<'d>)>,
}

struct Gen<'a> {
    b: &'a Builder,
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
    box_memo: HashMap<Name, HashSet<Name>>,
    /// Impls written as text (compact serde impls): formatting them through syn and
    /// prettyplease would cost most of the generation time.
    templates: std::cell::RefCell<Vec<String>>,
}

impl<'a> Gen<'a> {
    fn new(b: &'a Builder, l: &'a Loaded) -> Self {
        let mut scalars = HashMap::new();
        let s = |t: TokenStream| Leaf { ty: t, codec: None };
        for n in [
            "ID",
            "String",
            "AWSEmail",
            "AWSURL",
            "AWSPhone",
            "AWSIPAddress",
        ] {
            scalars.insert(n.to_owned(), s(quote!(String)));
        }
        for n in ["AWSDate", "AWSTime", "AWSDateTime"] {
            scalars.insert(n.to_owned(), s(quote!(String)));
        }
        scalars.insert("Int".to_owned(), s(quote!(i32)));
        scalars.insert("Float".to_owned(), s(quote!(f64)));
        scalars.insert("Boolean".to_owned(), s(quote!(bool)));
        scalars.insert("AWSTimestamp".to_owned(), s(quote!(i64)));
        scalars.insert(
            "AWSJSON".to_owned(),
            Leaf {
                ty: quote!(_appsync::types::JsonValue),
                codec: Some("_appsync::types::aws_json"),
            },
        );
        if b.time_types {
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
        for (n, ty) in &b.scalars {
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
        Gen {
            b,
            schema: &l.schema,
            doc: &l.doc,
            texts: &l.texts,
            auth: &l.auth,
            scalars,
            enums_used: HashSet::new(),
            inputs_used: HashSet::new(),
            type_names: HashMap::new(),
            fragment_names: HashMap::new(),
            top: Scope::with(&["_appsync", "_serde"]),
            errors: Vec::new(),
            box_memo: HashMap::new(),
            templates: Default::default(),
        }
    }

    fn error_at(&mut self, span: Option<SourceSpan>, msg: String) {
        let (file, line, column) = locate(&self.doc.sources, span);
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

    /// The fragment types.
    fn fragments(&mut self) -> Vec<TokenStream> {
        let mut fragment_items = Vec::new();
        let fragments: Vec<(Name, String)> = self
            .doc
            .fragments
            .keys()
            .filter_map(|n| self.fragment_names.get(n).map(|r| (n.clone(), r.clone())))
            .collect();
        for (name, rust) in fragments {
            let Some(frag) = self.doc.fragments.get(&name) else {
                continue;
            };
            let types = self.auth.possible(frag.type_condition()).to_vec();
            let mut docs = vec![format!(
                "The fragment `{name}` on `{}`.",
                frag.type_condition()
            )];
            if let Some(d) = self
                .schema
                .types
                .get(frag.type_condition())
                .and_then(|t| t.description())
            {
                docs.push(String::new());
                docs.push(d.to_string());
            }
            let mut top = std::mem::take(&mut self.top);
            self.struct_for(
                &mut fragment_items,
                &mut top,
                Ns::Top,
                rust.clone(),
                rust,
                docs,
                vec![Part::Set(&frag.selection_set, false)],
                types,
                false,
            );
            self.top = top;
        }
        fragment_items
    }

    /// The `use` aliases, and the enums and input types in use.
    fn shared(&mut self) -> TokenStream {
        let mut worklist: Vec<Name> = self.inputs_used.iter().cloned().collect();
        if self.b.all_types {
            for (n, t) in &self.schema.types {
                if t.is_enum() && !t.is_built_in() {
                    self.enums_used.insert(n.clone());
                }
                if t.is_input_object() {
                    worklist.push(n.clone());
                }
            }
        }
        while let Some(n) = worklist.pop() {
            self.inputs_used.insert(n.clone());
            if let Some(ExtendedType::InputObject(i)) = self.schema.types.get(&n) {
                for f in i.fields.values() {
                    let inner = f.ty.inner_named_type();
                    match self.schema.types.get(inner) {
                        Some(ExtendedType::InputObject(_)) if !self.inputs_used.contains(inner) => {
                            self.inputs_used.insert(inner.clone());
                            worklist.push(inner.clone());
                        }
                        Some(ExtendedType::Enum(_)) => {
                            self.enums_used.insert(inner.clone());
                        }
                        _ => {}
                    }
                }
            }
        }
        let mut shared = Vec::new();
        let types: Vec<(Name, ExtendedType)> = self
            .schema
            .types
            .iter()
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect();
        for (name, ty) in &types {
            if let ExtendedType::Enum(e) = ty {
                if self.enums_used.contains(name) {
                    shared.push(self.enum_item(name, e));
                }
            }
        }
        for (name, ty) in &types {
            if let ExtendedType::InputObject(i) = ty {
                if self.inputs_used.contains(name) {
                    shared.push(self.input_item(name, i));
                }
            }
        }

        let client: TokenStream = syn::parse_str::<syn::Path>(&self.b.client_crate)
            .map(|p| quote!(#p))
            .unwrap_or_else(|_| quote!(::appsync_client));
        quote! {
            #[allow(unused_imports)]
            use #client as _appsync;
            #[allow(unused_imports)]
            use #client::types::__private::serde as _serde;
            #(#shared)*
        }
    }

    fn enum_item(&mut self, name: &Name, e: &apollo_compiler::schema::EnumType) -> TokenStream {
        let rust = ident(
            self.type_names
                .get(name)
                .map(String::as_str)
                .unwrap_or(name.as_str()),
        );
        let mut scope = Scope::default();
        let mut variants = Vec::new();
        let mut to_str = Vec::new();
        let mut from_str = Vec::new();
        for (value, def) in &e.values {
            let v = ident(&scope.unique(&type_name(value)));
            let wire = value.as_str();
            let mut docs = Vec::new();
            if let Some(d) = &def.description {
                docs.push(d.to_string());
            } else {
                docs.push(format!("`{wire}`."));
            }
            let docs = doc_attrs(&docs);
            let dep = deprecation(&def.directives).map(|r| quote!(#[deprecated(note = #r)]));
            variants.push(quote!(#docs #dep #v,));
            to_str.push(quote!(Self::#v => #wire,));
            from_str.push(quote!(#wire => Self::#v,));
        }
        let other = ident(&scope.unique("Other"));
        let mut docs = Vec::new();
        if let Some(d) = &e.description {
            docs.push(d.to_string());
        } else {
            docs.push(format!("The enum `{name}`."));
        }
        let docs = doc_attrs(&docs);
        quote! {
            #docs
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            pub enum #rust {
                #(#variants)*
                /// A value this code does not know (the schema gained it later).
                #other(String),
            }
            #[allow(deprecated)]
            impl #rust {
                /// The value as GraphQL writes it.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(#to_str)*
                        Self::#other(value) => value.as_str(),
                    }
                }
            }
            impl _serde::Serialize for #rust {
                fn serialize<S: _serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }
            #[allow(deprecated)]
            impl<'de> _serde::Deserialize<'de> for #rust {
                fn deserialize<D: _serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let value = <String as _serde::Deserialize>::deserialize(deserializer)?;
                    Ok(match value.as_str() {
                        #(#from_str)*
                        _ => Self::#other(value),
                    })
                }
            }
        }
    }

    fn input_item(
        &mut self,
        name: &Name,
        i: &apollo_compiler::schema::InputObjectType,
    ) -> TokenStream {
        let rust = self
            .type_names
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string());
        let mut scope = Scope::default();
        let mut fields = Vec::new();
        for (fname, def) in &i.fields {
            let ty = self.input_type(&def.ty, def.default_value.is_some(), Ns::Top, Some(name));
            let mut docs = Vec::new();
            if let Some(d) = &def.description {
                docs.push(d.to_string());
            } else {
                docs.push(format!("`{fname}: {}`.", def.ty));
            }
            if let Some(v) = &def.default_value {
                if !docs.is_empty() {
                    docs.push(String::new());
                }
                docs.push(format!("Default: `{v}`."));
            }
            fields.push(RField {
                name: scope.unique(&field_name(fname)),
                wire: fname.to_string(),
                ty,
                docs,
                deprecated: deprecation(&def.directives),
                flatten: false,
                optional_part: false,
                may_be_missing: false,
                input: true,
            });
        }
        let mut docs = Vec::new();
        if let Some(d) = &i.description {
            docs.push(d.to_string());
        } else {
            docs.push(format!("The input type `{name}`."));
        }
        self.render_struct(&rust, &docs, &fields, true)
    }

    /// The Rust type of a variable or input field.
    fn input_type(
        &mut self,
        ty: &Type,
        has_default: bool,
        ns: Ns,
        parent: Option<&Name>,
    ) -> FieldTy {
        fn wraps(ty: &Type, has_default: bool, top: bool, out: &mut Vec<Wrap>) {
            match ty {
                Type::Named(_) => out.push(if top { Wrap::Nullable } else { Wrap::Option }),
                Type::NonNullNamed(_) => {
                    if top && has_default {
                        out.push(Wrap::Option);
                    }
                }
                Type::List(inner) => {
                    out.push(if top { Wrap::Nullable } else { Wrap::Option });
                    out.push(Wrap::Vec);
                    wraps(inner, false, false, out);
                }
                Type::NonNullList(inner) => {
                    if top && has_default {
                        out.push(Wrap::Option);
                    }
                    out.push(Wrap::Vec);
                    wraps(inner, false, false, out);
                }
            }
        }
        let mut w = Vec::new();
        wraps(ty, has_default, true, &mut w);
        let inner = ty.inner_named_type();
        let leaf = self.named_leaf(inner, ns);
        if let Some(p) = parent {
            if !w.contains(&Wrap::Vec) && self.reaches(inner, p) {
                w.push(Wrap::Box);
            }
        }
        FieldTy {
            wraps: w,
            leaf: leaf.ty,
            codec: leaf.codec,
        }
    }

    /// Whether input type `from` leads back to `to` without a list in between (a field of type
    /// `from` inside `to` then needs a `Box`).
    fn reaches(&mut self, from: &Name, to: &Name) -> bool {
        if !matches!(
            self.schema.types.get(from),
            Some(ExtendedType::InputObject(_))
        ) {
            return false;
        }
        if from == to {
            return true;
        }
        if !self.box_memo.contains_key(from) {
            let mut seen = HashSet::new();
            let mut stack = vec![from.clone()];
            while let Some(n) = stack.pop() {
                if let Some(ExtendedType::InputObject(i)) = self.schema.types.get(&n) {
                    for f in i.fields.values() {
                        if matches!(&*f.ty, Type::List(_) | Type::NonNullList(_)) {
                            continue;
                        }
                        let t = f.ty.inner_named_type();
                        if self
                            .schema
                            .types
                            .get(t)
                            .is_some_and(|t| t.is_input_object())
                            && seen.insert(t.clone())
                        {
                            stack.push(t.clone());
                        }
                    }
                }
            }
            self.box_memo.insert(from.clone(), seen);
        }
        self.box_memo.get(from).is_some_and(|s| s.contains(to))
    }

    /// The Rust type of a named leaf or input type.
    fn named_leaf(&mut self, name: &Name, ns: Ns) -> Leaf {
        match self.schema.types.get(name) {
            Some(ExtendedType::Scalar(_)) => {
                self.scalars.get(name.as_str()).cloned().unwrap_or(Leaf {
                    // AppSync has no custom scalars; a schema that declares one gets raw JSON.
                    ty: quote!(_appsync::types::JsonValue),
                    codec: None,
                })
            }
            Some(ExtendedType::Enum(_)) => {
                self.enums_used.insert(name.clone());
                let rust = self
                    .type_names
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| name.to_string());
                Leaf {
                    ty: ns.path(&rust),
                    codec: None,
                }
            }
            Some(ExtendedType::InputObject(_)) => {
                self.inputs_used.insert(name.clone());
                let rust = self
                    .type_names
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| name.to_string());
                Leaf {
                    ty: ns.path(&rust),
                    codec: None,
                }
            }
            _ => Leaf {
                ty: quote!(_appsync::types::JsonValue),
                codec: None,
            },
        }
    }

    fn narrow(&self, types: &[Name], cond: &str) -> Vec<Name> {
        let p = self.auth.possible(cond);
        types.iter().filter(|t| p.contains(t)).cloned().collect()
    }

    fn collect<'d>(
        &self,
        parts: &[Part<'d>],
        types: &[Name],
        in_variant: bool,
        out: &mut Collected<'d>,
    ) where
        'a: 'd,
    {
        for part in parts {
            match *part {
                Part::Spread(name, opt) => add_spread(out, name, opt),
                Part::Set(set, opt) => {
                    for sel in &set.selections {
                        match sel {
                            Selection::Field(f) => {
                                let key = f.response_key();
                                if in_variant && key == "__typename" {
                                    continue;
                                }
                                let o = opt || is_conditional(&f.directives);
                                let sub = (!f.selection_set.selections.is_empty())
                                    .then_some(&f.selection_set);
                                if let Some(g) = out.fields.iter_mut().find(|g| g.key == *key) {
                                    g.always |= !o;
                                    g.sets.extend(sub);
                                } else {
                                    out.fields.push(Group {
                                        key: key.clone(),
                                        def: &f.definition,
                                        sets: sub.into_iter().collect(),
                                        always: !o,
                                    });
                                }
                            }
                            Selection::InlineFragment(i) => {
                                let cond = i.type_condition.as_ref().unwrap_or(&set.ty);
                                let o = opt || is_conditional(&i.directives);
                                let narrowed = self.narrow(types, cond);
                                if narrowed.is_empty() {
                                    continue;
                                }
                                let part = Part::Set(&i.selection_set, o);
                                if narrowed.len() == types.len() {
                                    self.collect(&[part], types, in_variant, out);
                                } else {
                                    out.conditional.push((narrowed, part));
                                }
                            }
                            Selection::FragmentSpread(s) => {
                                let Some(frag) = self.doc.fragments.get(&s.fragment_name) else {
                                    continue;
                                };
                                let o = opt || is_conditional(&s.directives);
                                let narrowed = self.narrow(types, frag.type_condition());
                                if narrowed.is_empty() {
                                    continue;
                                }
                                if narrowed.len() == types.len() {
                                    add_spread(out, &frag.name, o);
                                } else {
                                    out.conditional
                                        .push((narrowed, Part::Spread(&frag.name, o)));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Generates the struct `name` for a selection (and the types below it) into `items`.
    #[allow(clippy::too_many_arguments)]
    fn struct_for(
        &mut self,
        items: &mut Vec<TokenStream>,
        scope: &mut Scope,
        ns: Ns,
        name: String,
        path: String,
        docs: Vec<String>,
        parts: Vec<Part<'a>>,
        types: Vec<Name>,
        in_variant: bool,
    ) {
        let slot = items.len();
        items.push(TokenStream::new());
        let mut c = Collected::default();
        self.collect(&parts, &types, in_variant, &mut c);
        let mut fscope = Scope::default();
        let mut fields = Vec::new();
        for g in &c.fields {
            let def = g.def;
            let rust = fscope.unique(&field_name(&g.key));
            let inner = def.ty.inner_named_type();
            let (leaf, codec) = if def.name == "__typename" {
                (quote!(String), None)
            } else {
                match self.schema.types.get(inner) {
                    Some(
                        ExtendedType::Object(_)
                        | ExtendedType::Interface(_)
                        | ExtendedType::Union(_),
                    ) => {
                        let child = scope.unique(&format!("{path}{}", type_name(&g.key)));
                        let mut cdocs = vec![format!("The `{}` selection (a `{inner}`).", g.key)];
                        if let Some(d) = self.schema.types.get(inner).and_then(|t| t.description())
                        {
                            cdocs.push(String::new());
                            cdocs.push(d.to_string());
                        }
                        let parts = g.sets.iter().map(|s| Part::Set(s, false)).collect();
                        let types = self.auth.possible(inner).to_vec();
                        self.struct_for(
                            items,
                            scope,
                            ns,
                            child.clone(),
                            child.clone(),
                            cdocs,
                            parts,
                            types,
                            false,
                        );
                        let id = ident(&child);
                        (quote!(#id), None)
                    }
                    _ => {
                        let l = self.named_leaf(inner, ns);
                        (l.ty, l.codec)
                    }
                }
            };
            let mut wraps = Vec::new();
            output_wraps(&def.ty, &mut wraps);
            if def.name == "__typename" {
                wraps.clear();
            }
            let may_be_missing = !g.always;
            if may_be_missing && wraps.first() != Some(&Wrap::Option) {
                wraps.insert(0, Wrap::Option);
            }
            let mut fdocs = Vec::new();
            if let Some(d) = &def.description {
                fdocs.push(d.to_string());
            } else if def.name == "__typename" {
                fdocs.push("The object's type name.".to_owned());
            } else {
                fdocs.push(format!("`{}`.", g.key));
            }
            if may_be_missing {
                fdocs.push(String::new());
                fdocs.push("`None` when `@include`/`@skip` left it out.".to_owned());
            }
            fields.push(RField {
                name: rust,
                wire: g.key.to_string(),
                ty: FieldTy { wraps, leaf, codec },
                docs: fdocs,
                deprecated: deprecation(&def.directives),
                flatten: false,
                optional_part: false,
                may_be_missing,
                input: false,
            });
        }
        for (frag, opt) in &c.spreads {
            let Some(rust) = self.fragment_names.get(*frag).cloned() else {
                continue;
            };
            let mut wraps = Vec::new();
            if *opt {
                wraps.push(Wrap::Option);
            }
            fields.push(RField {
                name: fscope.unique(&field_name(frag)),
                wire: frag.to_string(),
                ty: FieldTy {
                    wraps,
                    leaf: ns.path(&rust),
                    codec: None,
                },
                docs: vec![format!("The fragment `{frag}`.")],
                deprecated: None,
                flatten: true,
                optional_part: *opt,
                may_be_missing: false,
                input: false,
            });
        }
        if !c.conditional.is_empty() {
            let on_name = scope.unique(&format!("{path}On"));
            let mut vscope = Scope::default();
            let mut variants = Vec::new();
            for t in &types {
                let v = vscope.unique(&schema_type_name(t));
                let vid = ident(&v);
                let wire = t.as_str();
                let rename = (v != wire).then(|| quote!(#[serde(rename = #wire)]));
                let vdoc = format!(" A `{t}`.");
                let parts: Vec<Part<'a>> = c
                    .conditional
                    .iter()
                    .filter(|(ts, _)| ts.contains(t))
                    .map(|(_, p)| *p)
                    .collect();
                if parts.is_empty() {
                    variants.push(quote!(#[doc = #vdoc] #rename #vid,));
                } else {
                    let sname = scope.unique(&format!("{on_name}{}", type_name(t)));
                    let sid = ident(&sname);
                    let sdocs = vec![format!("The fields selected on `{t}`.")];
                    self.struct_for(
                        items,
                        scope,
                        ns,
                        sname.clone(),
                        sname,
                        sdocs,
                        parts,
                        vec![t.clone()],
                        true,
                    );
                    variants.push(quote!(#[doc = #vdoc] #rename #vid(#sid),));
                }
            }
            let other = ident(&vscope.unique("Other"));
            let on_id = ident(&on_name);
            let on_doc =
                format!(" What `{path}` holds depending on the object's type (its `__typename`).");
            let ser = self.b.serde_both_ways.then(|| quote!(_serde::Serialize,));
            items.push(quote! {
                #[doc = #on_doc]
                #[derive(Debug, Clone, PartialEq, #ser _serde::Deserialize)]
                #[serde(crate = "_serde", tag = "__typename")]
                #[allow(clippy::large_enum_variant)]
                pub enum #on_id {
                    #(#variants)*
                    /// An object type this code does not know.
                    #[serde(other)]
                    #other,
                }
            });
            fields.push(RField {
                name: fscope.unique("on"),
                wire: "__typename".to_owned(),
                ty: FieldTy {
                    wraps: Vec::new(),
                    leaf: {
                        let id = ident(&on_name);
                        quote!(#id)
                    },
                    codec: None,
                },
                docs: vec!["The fields that depend on the object's type.".to_owned()],
                deprecated: None,
                flatten: true,
                optional_part: false,
                may_be_missing: false,
                input: false,
            });
        }
        items[slot] = self.render_struct(&name, &docs, &fields, false);
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

    fn render_struct(
        &self,
        name: &str,
        docs: &[String],
        fields: &[RField],
        input: bool,
    ) -> TokenStream {
        let id = ident(name);
        let docs = doc_attrs(docs);
        let both = self.b.serde_both_ways;
        let buffered = fields.iter().any(|f| f.flatten);
        // The direction each struct is used in is written by hand, compactly: responses
        // deserialize with a map visitor (structs with fragments through `Buffered`), variables
        // and inputs serialize as maps. serde's derives are larger (and `with` adds two helper
        // types per field), which the crate pays for in compile time. The other direction is
        // derived, with `serde_both_ways`.
        let ser = (!input && both).then(|| quote!(_serde::Serialize,));
        let de = (input && both).then(|| quote!(_serde::Deserialize,));
        let serde_derived = ser.is_some() || de.is_some();
        let decls: Vec<TokenStream> = fields
            .iter()
            .map(|f| {
                let fid = ident(&f.name);
                let ty = f.ty.tokens();
                let docs = doc_attrs(&f.docs);
                let dep = f
                    .deprecated
                    .as_ref()
                    .map(|r| quote!(#[deprecated(note = #r)]));
                let serde = serde_derived.then(|| f.serde_attr());
                quote!(#docs #dep #serde pub #fid: #ty,)
            })
            .collect();
        let default = input
            && fields
                .iter()
                .all(|f| matches!(f.ty.wraps.first(), Some(Wrap::Nullable | Wrap::Option)));
        let default = default.then(|| quote!(Default,));
        let serde_crate = serde_derived.then(|| quote!(#[serde(crate = "_serde")]));
        let decl = quote! {
            #docs
            #[derive(Debug, Clone, PartialEq, #default #ser #de)]
            #serde_crate
            pub struct #id {
                #(#decls)*
            }
        };
        if input {
            let ser = self.template(serialize_impl(name, fields));
            return quote!(#decl #ser);
        }
        if !buffered {
            let de = self.template(deserialize_impl(name, fields));
            return quote!(#decl #de);
        }
        let plain: Vec<&RField> = fields.iter().filter(|f| !f.flatten).collect();
        let wire_decls: Vec<TokenStream> = plain.iter().map(|f| wire_field(f)).collect();
        let plain_values: Vec<TokenStream> = plain
            .iter()
            .map(|f| {
                let fid = ident(&f.name);
                if f.ty.codec.is_some() {
                    quote!(#fid: wire.#fid.0,)
                } else {
                    quote!(#fid: wire.#fid,)
                }
            })
            .collect();
        let wire_struct = (!plain.is_empty()).then(|| {
            quote! {
                #[derive(_serde::Deserialize)]
                #[serde(crate = "_serde")]
                struct Wire {
                    #(#wire_decls)*
                }
            }
        });
        let body = {
            let parts: Vec<TokenStream> = fields
                .iter()
                .filter(|f| f.flatten)
                .map(|f| {
                    let fid = ident(&f.name);
                    if f.optional_part {
                        quote!(#fid: buffered.optional_part(),)
                    } else {
                        quote!(#fid: buffered.part()?,)
                    }
                })
                .collect();
            let read = (!plain.is_empty()).then(|| quote!(let wire: Wire = buffered.part()?;));
            quote! {
                #wire_struct
                let buffered = _appsync::types::__private::Buffered::read(deserializer)?;
                #read
                Ok(#id {
                    #(#plain_values)*
                    #(#parts)*
                })
            }
        };
        quote! {
            #decl
            #[allow(deprecated)]
            impl<'de> _serde::Deserialize<'de> for #id {
                fn deserialize<D: _serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    #body
                }
            }
        }
    }

    fn operation(&mut self, op: &'a Node<Operation>, marker: &str, module: &str) -> TokenStream {
        let name = op.name.as_ref().map(|n| n.as_str()).unwrap_or_default();
        let info = operation_info(self.doc, self.auth, op);
        let mut items = Vec::new();
        let mut scope = Scope::with(&["Variables", "ResponseData", "_appsync", "_serde"]);

        // Variables.
        let mut vscope = Scope::default();
        let mut vars = Vec::new();
        for v in &op.variables {
            let ty = self.input_type(&v.ty, v.default_value.is_some(), Ns::Module, None);
            let mut docs = vec![format!("`${}: {}`.", v.name, v.ty)];
            if let Some(d) = &v.default_value {
                docs.push(format!("Default: `{d}`."));
            }
            vars.push(RField {
                name: vscope.unique(&field_name(&v.name)),
                wire: v.name.to_string(),
                ty,
                docs,
                deprecated: None,
                flatten: false,
                optional_part: false,
                may_be_missing: false,
                input: true,
            });
        }
        let vdocs = vec![format!("The variables of `{name}`.")];
        let variables = self.render_struct("Variables", &vdocs, &vars, true);

        // Response.
        let root = op.selection_set.ty.clone();
        let types = self.auth.possible(&root).to_vec();
        let rdocs = vec![format!("The `data` of a `{name}` response.")];
        self.struct_for(
            &mut items,
            &mut scope,
            Ns::Module,
            "ResponseData".to_owned(),
            String::new(),
            rdocs,
            vec![Part::Set(&op.selection_set, false)],
            types,
            false,
        );

        let query = self.document_text(op);
        let file = file_of(&self.doc.sources, op.location());
        let comments = self.leading_comments(op.location());
        let keyword = match op.operation_type {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        };
        let modes: Vec<&str> = info.allowed_auth_modes.iter().map(|m| m.as_str()).collect();
        let mut mdocs = comments.clone();
        if !mdocs.is_empty() {
            mdocs.push(String::new());
        }
        mdocs.push(format!("The {keyword} `{name}` (from `{file}`)."));
        mdocs.push(String::new());
        mdocs.push(format!(
            "Allowed auth modes: {}.",
            if modes.is_empty() {
                let why = self
                    .auth
                    .operation(self.doc, &op.selection_set)
                    .conflict
                    .map(|c| c.explain(self.schema))
                    .unwrap_or_default();
                format!(
                    "none. No mode reaches every field it selects: {why}. The client refuses \
                     every call of it"
                )
            } else {
                modes
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        if !info.user_pool_groups.is_empty() {
            mdocs.push(format!(
                "User pools callers must also be in: {}.",
                info.user_pool_groups
                    .iter()
                    .map(|g| g.join(" or "))
                    .collect::<Vec<_>>()
                    .join("; and ")
            ));
        }
        let mod_doc = doc_attrs(&{
            let mut d = comments;
            if !d.is_empty() {
                d.push(String::new());
            }
            d.push(format!(
                "Types of the {keyword} `{name}`: see [`{marker}`](super::{marker})."
            ));
            d
        });
        let marker_docs = doc_attrs(&mdocs);
        let mid = ident(module);
        let marker_id = ident(marker);
        let kind = match info.kind {
            OperationKind::Query => quote!(Query),
            OperationKind::Mutation => quote!(Mutation),
            OperationKind::Subscription => quote!(Subscription),
        };
        let mode_ids: Vec<TokenStream> = info
            .allowed_auth_modes
            .iter()
            .map(|m| {
                let v = ident(crate::auth::variant(*m));
                quote!(_appsync::AuthMode::#v)
            })
            .collect();
        let groups: Vec<TokenStream> = info
            .user_pool_groups
            .iter()
            .map(|g| quote!(&[#(#g),*]))
            .collect();
        quote! {
            #mod_doc
            pub mod #mid {
                #[allow(unused_imports)]
                use super::{_appsync, _serde};
                /// The operation's name.
                pub const OPERATION_NAME: &str = #name;
                /// The document sent.
                pub const QUERY: &str = #query;
                /// User-pool group requirements: a caller in user pools mode needs, for each
                /// list, at least one of its groups (`cognito_groups` on selected fields).
                pub const USER_POOL_GROUPS: &[&[&str]] = &[#(#groups),*];
                #variables
                #(#items)*
            }
            #marker_docs
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
            pub struct #marker_id;
            impl _appsync::graphql_client::GraphQLQuery for #marker_id {
                type Variables = #mid::Variables;
                type ResponseData = #mid::ResponseData;
                fn build_query(variables: Self::Variables) -> _appsync::graphql_client::QueryBody<Self::Variables> {
                    _appsync::graphql_client::QueryBody {
                        variables,
                        query: #mid::QUERY,
                        operation_name: #mid::OPERATION_NAME,
                    }
                }
            }
            impl _appsync::Operation for #marker_id {
                const KIND: _appsync::OperationKind = _appsync::OperationKind::#kind;
                const ALLOWED_AUTH_MODES: &'static [_appsync::AuthMode] = &[#(#mode_ids),*];
            }
        }
    }

    /// The `#` comment lines right above a definition.
    fn leading_comments(&self, span: Option<SourceSpan>) -> Vec<String> {
        let Some(span) = span else {
            return Vec::new();
        };
        let Some(file) = self.doc.sources.get(&span.file_id()) else {
            return Vec::new();
        };
        let path = file.path().display().to_string();
        let Some(text) = self.texts.get(&path) else {
            return Vec::new();
        };
        let before = text.get(..span.offset()).unwrap_or("");
        let mut lines: Vec<String> = Vec::new();
        for line in before.lines().rev() {
            let t = line.trim();
            match t.strip_prefix('#') {
                Some(c) => lines.push(c.trim().to_owned()),
                None if t.is_empty() && lines.is_empty() => continue,
                None => break,
            }
        }
        lines.reverse();
        lines
    }

    /// The operation and the fragments it uses, with `__typename` added where the types need
    /// it, on one line.
    fn document_text(&self, op: &Node<Operation>) -> String {
        let mut used = BTreeSet::new();
        let mut stack = vec![&op.selection_set];
        while let Some(set) = stack.pop() {
            spreads_in(set, &mut |name| {
                if used.insert(name.clone()) {
                    if let Some(f) = self.doc.fragments.get(name) {
                        stack.push(&f.selection_set);
                    }
                }
            });
        }
        let mut doc = ExecutableDocument::new();
        let mut o = (**op).clone();
        self.add_typenames(&mut o.selection_set);
        doc.operations.insert(o);
        for (name, f) in &self.doc.fragments {
            if used.contains(name) {
                let mut f = (**f).clone();
                self.add_typenames(&mut f.selection_set);
                doc.fragments.insert(name.clone(), Node::new(f));
            }
        }
        doc.serialize().no_indent().to_string()
    }

    fn add_typenames(&self, set: &mut SelectionSet) {
        for sel in &mut set.selections {
            match sel {
                Selection::Field(f) => self.add_typenames(&mut f.make_mut().selection_set),
                Selection::InlineFragment(i) => self.add_typenames(&mut i.make_mut().selection_set),
                Selection::FragmentSpread(_) => {}
            }
        }
        let abstract_ = matches!(
            self.schema.types.get(&set.ty),
            Some(ExtendedType::Interface(_) | ExtendedType::Union(_))
        );
        if !abstract_ {
            return;
        }
        let has = set.selections.iter().any(
            |s| matches!(s, Selection::Field(f) if f.alias.is_none() && f.name == "__typename"),
        );
        let types = self.auth.possible(&set.ty).to_vec();
        if !has && self.has_conditional(set, &types) {
            if let Ok(f) = set.new_field(self.schema, apollo_compiler::name!("__typename")) {
                set.selections.insert(0, Selection::Field(Node::new(f)));
            }
        }
    }

    fn has_conditional(&self, set: &SelectionSet, types: &[Name]) -> bool {
        set.selections.iter().any(|s| {
            let (cond, sub) = match s {
                Selection::Field(_) => return false,
                Selection::InlineFragment(i) => (
                    i.type_condition.as_ref().unwrap_or(&set.ty).clone(),
                    Some(&i.selection_set),
                ),
                Selection::FragmentSpread(s) => match self.doc.fragments.get(&s.fragment_name) {
                    Some(f) => (f.type_condition().clone(), None),
                    None => return false,
                },
            };
            let n = self.narrow(types, &cond);
            if n.is_empty() {
                false
            } else if n.len() < types.len() {
                true
            } else {
                sub.is_some_and(|sub| self.has_conditional(sub, types))
            }
        })
    }
}

/// A compact `Serialize` for variables and inputs: a map, leaving out absent values.
fn serialize_impl(name: &str, fields: &[RField]) -> String {
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
fn deserialize_impl(name: &str, fields: &[RField]) -> String {
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

/// The codec marker type of a `with` module path, as text.
fn codec_marker_text(module: &str) -> &'static str {
    match module.rsplit("::").next() {
        Some("aws_date_time") => "_appsync::types::DateTime",
        Some("aws_date") => "_appsync::types::Date",
        Some("aws_time") => "_appsync::types::Time",
        _ => "_appsync::types::Json",
    }
}

/// A field of a private wire struct: coded scalars in `Coded<T, Codec>` instead of `with`.
fn wire_field(f: &RField) -> TokenStream {
    let fid = ident(&f.name);
    let Some(codec) = f.ty.codec else {
        let ty = f.ty.tokens();
        let serde = f.serde_attr();
        return quote!(#serde #fid: #ty,);
    };
    let ty = f.ty.tokens();
    let marker = codec_marker(codec);
    let mut parts: Vec<TokenStream> = Vec::new();
    if f.name.trim_start_matches("r#") != f.wire {
        let w = &f.wire;
        parts.push(quote!(rename = #w));
    }
    if f.ty.wraps.first() == Some(&Wrap::Option) {
        parts.push(quote!(default));
    }
    let attr = (!parts.is_empty()).then(|| quote!(#[serde(#(#parts),*)]));
    quote!(#attr #fid: _appsync::types::__private::Coded<#ty, #marker>,)
}

/// The codec marker type of a `with` module path.
fn codec_marker(module: &str) -> TokenStream {
    match module.rsplit("::").next() {
        Some("aws_date_time") => quote!(_appsync::types::DateTime),
        Some("aws_date") => quote!(_appsync::types::Date),
        Some("aws_time") => quote!(_appsync::types::Time),
        _ => quote!(_appsync::types::Json),
    }
}

fn add_spread<'d>(out: &mut Collected<'d>, name: &'d Name, opt: bool) {
    if let Some(s) = out.spreads.iter_mut().find(|(n, _)| *n == name) {
        s.1 &= opt;
    } else {
        out.spreads.push((name, opt));
    }
}

fn spreads_in(set: &SelectionSet, f: &mut dyn FnMut(&Name)) {
    for sel in &set.selections {
        match sel {
            Selection::Field(x) => spreads_in(&x.selection_set, f),
            Selection::InlineFragment(i) => spreads_in(&i.selection_set, f),
            Selection::FragmentSpread(s) => f(&s.fragment_name),
        }
    }
}

fn output_wraps(ty: &Type, out: &mut Vec<Wrap>) {
    match ty {
        Type::Named(_) => out.push(Wrap::Option),
        Type::NonNullNamed(_) => {}
        Type::List(inner) => {
            out.push(Wrap::Option);
            out.push(Wrap::Vec);
            output_wraps(inner, out);
        }
        Type::NonNullList(inner) => {
            out.push(Wrap::Vec);
            output_wraps(inner, out);
        }
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
