//! Build-time generator of typed operations for AWS AppSync schemas.
//!
//! This crate is being built: it will read an AppSync schema (with the AWS prelude of scalars and
//! `@aws_*` directives from `schema/aws-prelude.graphql`) and `.graphql` operation documents, and
//! emit typed operations for `appsync-client`. See the project README for its status.

/// The AWS prelude: the scalars and `@aws_*` directives that AppSync declares implicitly.
pub const AWS_PRELUDE: &str = include_str!("../../schema/aws-prelude.graphql");
