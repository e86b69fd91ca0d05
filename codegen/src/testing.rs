//! Generated inputs for tests and benchmarks: a large schema and many operations on it.
//!
//! Not a stable API: used by appsync-codegen's tests, the `bench/` crate and
//! `bench/codegen-compile.sh`.

use std::fmt::Write;

/// A schema with `types` object types `T0`…, each with scalar, enum, AWS scalar, nested and
/// list fields, an input type per object, and `getT<i>` / `updateT<i>` root fields. Types with
/// an even index carry `@aws_api_key @aws_iam`, odd ones `@aws_iam @aws_cognito_user_pools`.
pub fn large_schema(types: usize) -> String {
    let n = types.max(1);
    let mut s = String::from("enum Status {\n  ACTIVE\n  ARCHIVED\n  DELETED\n}\n\n");
    for i in 0..n {
        let auth = if i % 2 == 0 {
            "@aws_api_key @aws_iam"
        } else {
            "@aws_iam @aws_cognito_user_pools"
        };
        let _ = write!(
            s,
            "\"\"\"Object type number {i}.\"\"\"\ntype T{i} {auth} {{\n  id: ID!\n  name: String\n  \
             count: Int\n  score: Float\n  flag: Boolean!\n  status: Status\n  meta: AWSJSON\n  \
             at: AWSDateTime\n  next: T{next}\n  items: [T{item}!]\n}}\n\n\
             input T{i}Input {{\n  id: ID!\n  name: String\n  status: Status\n  meta: AWSJSON\n}}\n\n",
            next = (i + 1) % n,
            item = (i + 7) % n,
        );
    }
    s.push_str("type Query {\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "  getT{i}(id: ID!): T{i} @aws_api_key @aws_iam @aws_cognito_user_pools"
        );
    }
    s.push_str("}\n\ntype Mutation {\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "  updateT{i}(input: T{i}Input!): T{i} @aws_iam @aws_cognito_user_pools"
        );
    }
    s.push_str("}\n");
    s
}

/// `count` operations on [`large_schema`]`(types)`, as `(file name, document)`: operation `k`
/// is a query `GetT<k>` or mutation `UpdateT<k>` (alternating) on type `k / 2 % types`, with
/// nested and list selections.
pub fn large_operations(types: usize, count: usize) -> Vec<(String, String)> {
    let n = types.max(1);
    (0..count)
        .map(|k| {
            let i = (k / 2) % n;
            let body = "id name count score flag status meta at next { id name status } items { id flag meta }";
            let doc = if k % 2 == 0 {
                format!("query GetT{k}($id: ID!) {{\n  getT{i}(id: $id) {{ {body} }}\n}}\n")
            } else {
                format!(
                    "mutation UpdateT{k}($input: T{i}Input!) {{\n  updateT{i}(input: $input) {{ {body} }}\n}}\n"
                )
            };
            (format!("op{k}.graphql"), doc)
        })
        .collect()
}
