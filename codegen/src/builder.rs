//! [`Builder`]: the generator's settings, set one call at a time, and its entry points
//! (generate to a file or a string, analyze, write statements), each run on a thread of its
//! own so that no input can panic or overflow the caller's stack.

use std::path::Path;

use crate::auth::{self, Analysis, AuthMode};
use crate::error::{Error, Errors};
use crate::gen;
use crate::load::{load, load_schema};
use crate::settings::{read_auth_modes, Input, Settings};
use crate::statements;

/// Sets up and runs the generator. Every setter takes and returns the builder.
#[derive(Clone, Debug)]
pub struct Builder {
    settings: Settings,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with no inputs, AWS scalar defaults, and `::appsync_client` as the runtime.
    pub fn new() -> Self {
        Builder {
            settings: Settings::default(),
        }
    }

    /// Adds a schema file (several files make one schema; `extend type` works across them).
    pub fn schema(mut self, path: impl AsRef<Path>) -> Self {
        self.settings
            .schemas
            .push(Input::Path(path.as_ref().to_owned()));
        self
    }

    /// Adds schema text; `name` stands for its file in messages.
    pub fn schema_str(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.settings.schemas.push(Input::Text {
            name: name.into(),
            text: text.into(),
        });
        self
    }

    /// Adds operations: a `.graphql` file, or a folder whose `.graphql` and `.gql` files (in
    /// subfolders too, in name order) are read. All files form one document, so a fragment can
    /// be defined in one file and used in another; operation names must be unique.
    pub fn operations(mut self, path: impl AsRef<Path>) -> Self {
        self.settings
            .operations
            .push(Input::Path(path.as_ref().to_owned()));
        self
    }

    /// The same as [`operations`](Self::operations), for a folder.
    pub fn operations_dir(self, path: impl AsRef<Path>) -> Self {
        self.operations(path)
    }

    /// Adds operation text; `name` stands for its file in messages.
    pub fn operations_str(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.settings.operations.push(Input::Text {
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
        self.settings
            .scalars
            .insert(graphql_name.into(), rust_type.into());
        self
    }

    /// The API's default auth mode: the mode of every field where neither the field nor its
    /// type has an `@aws_*` auth directive. Required when the schema has such a field (the
    /// schema alone does not say which mode is the default).
    pub fn default_auth_mode(mut self, mode: AuthMode) -> Self {
        self.settings.default_auth_mode = Some(mode);
        self
    }

    /// The API's additional auth modes. When set, allowed modes are limited to the enabled
    /// ones (default and additional), and `@aws_auth` counts only if user pools is the sole
    /// mode. When not set, `@aws_auth` counts if the default mode is user pools.
    pub fn additional_auth_modes(mut self, modes: impl IntoIterator<Item = AuthMode>) -> Self {
        self.settings.additional_auth_modes = Some(modes.into_iter().collect());
        self
    }

    /// Reads the default and additional auth modes of the first GraphQL API from an Amplify
    /// config file: Gen2 `amplify_outputs.json` (`data.default_authorization_type`,
    /// `data.authorization_types`) or Gen1 `amplifyconfiguration.json` (the `awsAPIPlugin`
    /// GraphQL entry, and its `AppSync` entries). A problem is reported when generating.
    pub fn auth_modes_from_config(mut self, path: impl AsRef<Path>) -> Self {
        match read_auth_modes(path.as_ref()) {
            Ok((default, additional)) => {
                self.settings.default_auth_mode = Some(default);
                self.settings.additional_auth_modes = Some(additional);
            }
            Err(e) => self.settings.settings_errors.push(e),
        }
        self
    }

    /// Maps `AWSDateTime`, `AWSDate` and `AWSTime` to `time::OffsetDateTime`, `time::Date` and
    /// `time::Time` (through `appsync_client`'s `time` feature, which must then be enabled)
    /// instead of `String`.
    pub fn time_types(mut self, yes: bool) -> Self {
        self.settings.time_types = yes;
        self
    }

    /// The path of the runtime crate in generated code (default `::appsync_client`), for a
    /// renamed dependency or a re-export.
    pub fn client_crate(mut self, path: impl Into<String>) -> Self {
        self.settings.client_crate = path.into();
        self
    }

    /// Also generates an operation for every root field of `Query`, `Mutation` and
    /// `Subscription`, selecting `depth` levels (1 to [`MAX_STATEMENT_DEPTH`](crate::MAX_STATEMENT_DEPTH); Amplify's
    /// default is 2), like `amplify codegen statements`. They are typed like hand-written ones.
    pub fn statements(mut self, depth: u32) -> Self {
        self.settings.statements = Some(depth);
        self
    }

    /// Also derives `Serialize` on response types and `Deserialize` on variables and input
    /// types (to cache responses, write fixtures, or test), and not only the direction each is
    /// used in. Off by default: it roughly doubles the serde code the crate compiles.
    pub fn serde_both_ways(mut self, yes: bool) -> Self {
        self.settings.serde_both_ways = yes;
        self
    }

    /// Generates every enum and input type of the schema, not only those the operations use.
    pub fn all_types(mut self, yes: bool) -> Self {
        self.settings.all_types = yes;
        self
    }

    /// Whether [`generate`](Self::generate) prints `cargo:rerun-if-changed` for every input
    /// file and folder. Default: when run by Cargo as a build script (`OUT_DIR` is set).
    pub fn rerun_if_changed(mut self, yes: bool) -> Self {
        self.settings.rerun_if_changed = Some(yes);
        self
    }

    /// Whether an operation that no auth mode can send (the modes allowed by the fields it
    /// selects do not meet, so the client refuses every call of it) fails generation. By
    /// default it is a warning: [`generate`](Self::generate) prints it as
    /// `cargo:warning=` from a build script, and [`analyze`](Self::analyze) lists it in
    /// [`Analysis::warnings`].
    pub fn deny_operations_without_auth_mode(mut self, deny: bool) -> Self {
        self.settings.deny_unsendable = deny;
        self
    }

    /// Generates and writes the file (only when its content changed, so dependents are not
    /// rebuilt for nothing). Warnings are printed: as `cargo:warning=` lines when run by
    /// Cargo as a build script (`OUT_DIR` is set), else on stderr.
    pub fn generate(&self, out: impl AsRef<Path>) -> Result<(), Errors> {
        let out = out.as_ref();
        if self
            .settings
            .rerun_if_changed
            .unwrap_or_else(|| std::env::var_os("OUT_DIR").is_some())
        {
            for input in self
                .settings
                .schemas
                .iter()
                .chain(&self.settings.operations)
            {
                if let Input::Path(p) = input {
                    println!("cargo:rerun-if-changed={}", p.display());
                }
            }
        }
        let (code, warnings) = self.run(|s| {
            let loaded = load(s)?;
            Ok((gen::generate(s, &loaded)?, loaded.warnings))
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
        self.run(|s| {
            let loaded = load(s)?;
            gen::generate(s, &loaded)
        })
    }

    /// Validates and computes the auth metadata, without generating code.
    pub fn analyze(&self) -> Result<Analysis, Errors> {
        self.run(|s| {
            let l = load(s)?;
            Ok(auth::analyze(&l.schema, &l.doc, &l.auth, l.warnings))
        })
    }

    /// The statement documents [`statements`](Self::statements) adds (an empty string when it
    /// is not set), for writing them out as `.graphql` files.
    pub fn statements_to_string(&self) -> Result<String, Errors> {
        self.run(|s| {
            let Some(depth) = s.statements else {
                return Ok(String::new());
            };
            let (schema, _) = load_schema(s)?;
            Ok(statements::generate(&schema, depth))
        })
    }

    /// Runs `f` on a thread with a large stack, turning a panic into an error: no input makes
    /// the generator panic or overflow the caller's stack.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Settings) -> Result<T, Errors> + Send + 'static,
    ) -> Result<T, Errors> {
        let s = self.settings.clone();
        let handle = std::thread::Builder::new()
            .name("appsync-codegen".into())
            .stack_size(256 << 20)
            .spawn(move || f(&s));
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
}
