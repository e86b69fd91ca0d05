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
mod builder;
mod error;
mod gen;
mod load;
mod names;
mod settings;
mod span;
mod statements;
#[doc(hidden)]
pub mod testing;

pub use auth::{Analysis, AuthMode, AuthSource, FieldAuth, OperationInfo, OperationKind};
pub use builder::Builder;
pub use error::{Error, Errors};
pub use statements::MAX_DEPTH as MAX_STATEMENT_DEPTH;

/// The AWS prelude: the scalars and `@aws_*` directives that AppSync declares implicitly. It is
/// added to every schema (definitions the schema makes itself are kept instead).
pub const AWS_PRELUDE: &str = appsync_types::AWS_PRELUDE;
