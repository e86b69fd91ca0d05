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
//! ```
//! use appsync_codegen::{AuthMode, Builder};
//!
//! let builder = Builder::new()
//!     .schema_str(
//!         "schema.graphql",
//!         "type Note @aws_api_key @aws_iam { id: ID! title: String }
//!          type Query @aws_api_key @aws_iam { getNote(id: ID!): Note }",
//!     )
//!     .operations_str(
//!         "notes.graphql",
//!         "query GetNote($id: ID!) { getNote(id: $id) { id title } }",
//!     )
//!     .default_auth_mode(AuthMode::ApiKey);
//!
//! // In `build.rs`: `builder.generate(out_dir.join("notes.rs"))`, then in the crate
//! // `appsync_client::include_operations!(pub mod notes, "notes.rs");`.
//! let code = builder.generate_to_string()?;
//! assert!(code.contains("pub struct GetNote;"));
//!
//! let analysis = builder.analyze()?;
//! let get_note = analysis.operation("GetNote").unwrap();
//! assert_eq!(get_note.allowed_auth_modes, [AuthMode::ApiKey, AuthMode::Iam]);
//! # Ok::<(), appsync_codegen::Errors>(())
//! ```
//!
//! An operation that no auth mode can send (the modes its fields allow do not meet) is a
//! warning, printed as `cargo:warning=` from a build script and listed in
//! [`Analysis::warnings`]; [`Builder::deny_operations_without_auth_mode`] makes it an error.
//!
//! The guide (setup in `build.rs`, what is generated, scalars, nullable inputs, auth metadata,
//! statement generation, performance) is the
//! [appsync-rs README](https://github.com/appsync-rs/appsync-rs#codegen).

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
