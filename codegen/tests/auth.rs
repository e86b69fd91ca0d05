//! The auth metadata against the directive rules of appsync-protocol.md §3.3, case by case:
//! field over type, exclusive directives, the default mode only where no directive applies,
//! nested types, abstract types, fragments, `cognito_groups`, `@aws_auth`, enabled modes.

use appsync_codegen::{Analysis, AuthMode, AuthSource, Builder};
use AuthMode::*;

fn analyze(schema: &str, ops: &str, default: AuthMode) -> Analysis {
    Builder::new()
        .schema_str("schema.graphql", schema)
        .operations_str("ops.graphql", ops)
        .default_auth_mode(default)
        .analyze()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn modes(a: &Analysis, op: &str) -> Vec<AuthMode> {
    a.operation(op)
        .unwrap_or_else(|| panic!("no operation {op}"))
        .allowed_auth_modes
        .clone()
}

const BLOG: &str = "
type Query {
  plain: String
  keyOnly: String @aws_api_key
  getPost(id: ID!): Post @aws_api_key @aws_iam
  getOpenPost(id: ID!): OpenPost @aws_api_key @aws_iam
  search: [Result!]! @aws_api_key @aws_iam @aws_cognito_user_pools
  node: Node @aws_api_key @aws_iam @aws_cognito_user_pools
}

type Mutation @aws_iam {
  addPost(title: String!): Post
  vote: Int @aws_lambda
}

type Post {
  id: ID!
  title: String
}

type OpenPost @aws_api_key @aws_iam @aws_oidc {
  id: ID!
  title: String
  secret: String @aws_iam
  admins: String @aws_cognito_user_pools(cognito_groups: [\"admin\"]) @aws_iam
  editors: String @aws_cognito_user_pools(cognito_groups: [\"editor\", \"admin\"])
  author: Author
}

type Author {
  name: String
}

interface Node {
  id: ID!
}

type Photo implements Node @aws_api_key @aws_iam {
  id: ID!
  url: String
}

type Video implements Node @aws_iam @aws_cognito_user_pools {
  id: ID!
  length: Int
}

union Result = Photo | Video
";

#[test]
fn no_directive_means_the_default_mode() {
    let a = analyze(BLOG, "query Q { plain }", Oidc);
    assert_eq!(modes(&a, "Q"), [Oidc]);
    let f = a.field("Query", "plain").unwrap();
    assert_eq!(
        (f.modes.as_slice(), f.source),
        (&[Oidc][..], AuthSource::Default)
    );
}

#[test]
fn directives_are_exclusive_of_the_default_mode() {
    // keyOnly lists API_KEY only; the default (IAM) is not implicitly allowed.
    let a = analyze(BLOG, "query Q { keyOnly }", Iam);
    assert_eq!(modes(&a, "Q"), [ApiKey]);
    assert_eq!(
        a.field("Query", "keyOnly").unwrap().source,
        AuthSource::Field
    );
}

#[test]
fn auth_applies_to_nested_types() {
    // getPost allows API key and IAM, but Post has no directive: its fields take the default.
    let a = analyze(BLOG, "query Q { getPost(id: 1) { id title } }", Iam);
    assert_eq!(modes(&a, "Q"), [Iam]);
    let a = analyze(BLOG, "query Q { getPost(id: 1) { id title } }", UserPools);
    assert_eq!(modes(&a, "Q"), [], "no mode reaches every field");
    // Selecting only the root field still needs the root field's modes.
    let a = analyze(BLOG, "query Q { getPost(id: 1) { __typename } }", UserPools);
    assert_eq!(
        modes(&a, "Q"),
        [ApiKey, Iam],
        "__typename is never restricted"
    );
}

#[test]
fn a_field_directive_replaces_the_type_directive() {
    let a = analyze(BLOG, "query Q { getOpenPost(id: 1) { id title } }", ApiKey);
    assert_eq!(modes(&a, "Q"), [ApiKey, Iam]);
    // `secret` says IAM only: not merged with the type's API key / IAM / OIDC.
    let a = analyze(BLOG, "query Q { getOpenPost(id: 1) { id secret } }", ApiKey);
    assert_eq!(modes(&a, "Q"), [Iam]);
    let f = a.field("OpenPost", "secret").unwrap();
    assert_eq!(
        (f.modes.as_slice(), f.source),
        (&[Iam][..], AuthSource::Field)
    );
    let f = a.field("OpenPost", "title").unwrap();
    assert_eq!(
        (f.modes.as_slice(), f.source),
        (&[ApiKey, Iam, Oidc][..], AuthSource::Type)
    );
    // A nested type without directives under a type with directives: the default again.
    let a = analyze(
        BLOG,
        "query Q { getOpenPost(id: 1) { author { name } } }",
        ApiKey,
    );
    assert_eq!(modes(&a, "Q"), [ApiKey]);
    let a = analyze(
        BLOG,
        "query Q { getOpenPost(id: 1) { author { name } } }",
        Lambda,
    );
    assert_eq!(modes(&a, "Q"), []);
}

#[test]
fn cognito_groups_keep_the_mode_and_are_listed() {
    let a = analyze(BLOG, "query Q { getOpenPost(id: 1) { admins } }", ApiKey);
    let q = a.operation("Q").unwrap();
    // getOpenPost (API key, IAM) ∩ admins (user pools for `admin`, IAM).
    assert_eq!(q.allowed_auth_modes, [Iam]);
    assert!(
        q.user_pool_groups.is_empty(),
        "user pools is not allowed at all"
    );
    let f = a.field("OpenPost", "admins").unwrap();
    assert_eq!(f.modes, [Iam, UserPools]);
    assert_eq!(f.cognito_groups.as_deref(), Some(&["admin".to_owned()][..]));

    let schema = "
type Query @aws_cognito_user_pools {
  a: String @aws_cognito_user_pools(cognito_groups: [\"admin\"])
  b: String @aws_cognito_user_pools(cognito_groups: [\"editor\", \"admin\"])
  c: String
}";
    let a = analyze(schema, "query Q { a b c }", ApiKey);
    let q = a.operation("Q").unwrap();
    assert_eq!(
        q.allowed_auth_modes,
        [UserPools],
        "a group restriction still allows the mode"
    );
    assert_eq!(
        q.user_pool_groups,
        [
            vec!["admin".to_owned()],
            vec!["admin".to_owned(), "editor".to_owned()]
        ]
    );
}

#[test]
fn root_types_are_ordinary_object_types() {
    let a = analyze(BLOG, "mutation M { addPost(title: \"t\") { id } }", Iam);
    assert_eq!(
        modes(&a, "M"),
        [Iam],
        "type directive on Mutation, default on Post"
    );
    let a = analyze(BLOG, "mutation M { vote }", Iam);
    assert_eq!(
        modes(&a, "M"),
        [Lambda],
        "the field directive replaces Mutation's"
    );
}

#[test]
fn abstract_types_need_every_possible_object() {
    // A field on an interface is resolved on each implementation: all must allow the mode.
    let a = analyze(BLOG, "query Q { node { id } }", ApiKey);
    assert_eq!(modes(&a, "Q"), [Iam]);
    // A type condition narrows to one implementation.
    let a = analyze(BLOG, "query Q { node { ... on Photo { url } } }", ApiKey);
    assert_eq!(modes(&a, "Q"), [ApiKey, Iam]);
    let a = analyze(
        BLOG,
        "query Q { search { ... on Video { length } } }",
        ApiKey,
    );
    assert_eq!(modes(&a, "Q"), [Iam, UserPools]);
    let a = analyze(
        BLOG,
        "query Q { search { ... on Video { length } ... on Photo { url } } }",
        ApiKey,
    );
    assert_eq!(modes(&a, "Q"), [Iam]);
    // Only __typename: the root field alone.
    let a = analyze(BLOG, "query Q { search { __typename } }", ApiKey);
    assert_eq!(modes(&a, "Q"), [ApiKey, Iam, UserPools]);
}

#[test]
fn fragments_count() {
    let ops = "
query Q { getOpenPost(id: 1) { ...F } }
fragment F on OpenPost { id ...G }
fragment G on OpenPost { secret }
";
    let a = analyze(BLOG, ops, ApiKey);
    assert_eq!(modes(&a, "Q"), [Iam]);
    // A fragment whose condition excludes every possible type adds nothing.
    let ops = "
query Q { search { ...P } }
fragment P on Photo { url }
";
    let a = analyze(BLOG, ops, ApiKey);
    assert_eq!(modes(&a, "Q"), [ApiKey, Iam]);
}

#[test]
fn enabled_modes_limit_the_result() {
    let ops = "query Q { getOpenPost(id: 1) { id } }";
    let a = Builder::new()
        .schema_str("schema.graphql", BLOG)
        .operations_str("ops.graphql", ops)
        .default_auth_mode(ApiKey)
        .additional_auth_modes([Oidc])
        .analyze()
        .unwrap();
    assert_eq!(modes(&a, "Q"), [ApiKey], "IAM is not enabled on this API");
}

#[test]
fn legacy_aws_auth_counts_only_when_user_pools_is_the_sole_mode() {
    let schema = "
type Query @aws_api_key {
  a: String @aws_auth(cognito_groups: [\"admin\"])
}";
    let run = |b: Builder| {
        b.schema_str("schema.graphql", schema)
            .operations_str("ops.graphql", "query Q { a }")
            .analyze()
            .unwrap()
    };
    let sole = run(Builder::new()
        .default_auth_mode(UserPools)
        .additional_auth_modes([]));
    assert_eq!(modes(&sole, "Q"), [UserPools]);
    assert_eq!(
        sole.operation("Q").unwrap().user_pool_groups,
        [vec!["admin".to_owned()]]
    );
    // With additional modes it is ignored: the type's directive applies.
    let multi = run(Builder::new()
        .default_auth_mode(UserPools)
        .additional_auth_modes([ApiKey]));
    assert_eq!(modes(&multi, "Q"), [ApiKey]);
}

#[test]
fn the_notes_app() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/notes");
    let a = Builder::new()
        .schema(format!("{root}/schema.graphql"))
        .operations(format!("{root}/operations"))
        .statements(2)
        .default_auth_mode(ApiKey)
        .analyze()
        .unwrap();
    let all = [ApiKey, Iam, UserPools, Oidc, Lambda];
    assert_eq!(modes(&a, "GetNote"), all);
    assert_eq!(modes(&a, "ListNotes"), all);
    assert_eq!(modes(&a, "CreateNote"), [Iam, UserPools, Lambda]);
    assert_eq!(modes(&a, "OnCreateNote"), all);
    // Statements not shadowed by hand-written operations.
    assert_eq!(modes(&a, "UpdateNote"), [Iam, UserPools]);
    assert_eq!(modes(&a, "AdminStats"), [UserPools]);
    assert_eq!(
        a.operation("AdminStats").unwrap().user_pool_groups,
        [vec!["admins".to_owned()]]
    );
}

/// AppSync deploys auth directives on unions and interfaces (the AppSync Masterclass schema has
/// `union Notification @aws_iam @aws_cognito_user_pools = …`). They are accepted and grant
/// nothing by themselves: every field is checked on the object type the value has, by that
/// field's and that object type's directives.
const ABSTRACT: &str = "
type Query {
  feed: [Item!]! @aws_iam @aws_cognito_user_pools
  node: Node @aws_iam @aws_cognito_user_pools
}
union Item @aws_iam @aws_cognito_user_pools = Liked | Retweeted
interface Node @aws_iam @aws_api_key {
  id: ID! @aws_lambda
}
type Liked implements Node @aws_iam @aws_cognito_user_pools {
  id: ID!
  by: ID!
}
type Retweeted implements Node @aws_cognito_user_pools {
  id: ID!
  retweetId: ID!
}
";

#[test]
fn directives_on_unions_and_interfaces_are_accepted_and_member_types_decide() {
    let a = analyze(
        ABSTRACT,
        "query Both { feed { ... on Liked { by } ... on Retweeted { retweetId } } }
         query LikedOnly { feed { ... on Liked { by } } }
         query Ids { node { id } }
         query TypeNames { feed { __typename } }",
        UserPools,
    );
    // The union's directives would allow IAM; `Retweeted` does not.
    assert_eq!(modes(&a, "Both"), [UserPools]);
    assert_eq!(modes(&a, "LikedOnly"), [Iam, UserPools]);
    // Neither the interface's type directives (API key) nor its field's (Lambda) count:
    // `id` is read on `Liked` or `Retweeted`.
    assert_eq!(modes(&a, "Ids"), [UserPools]);
    assert_eq!(modes(&a, "TypeNames"), [Iam, UserPools]);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
}

/// A deployed schema from the AWS CDK's integration tests: `getTest` has no directive (the
/// default mode, user pools there) and returns `test @aws_iam`, so no mode reaches both.
const CDK_IAM: &str = "type test @aws_iam {
  id: String!
  version: String!
}

type Query {
  getTest(id: String!): test
  getTests: [ test! ]
    @aws_iam 
}
";

#[test]
fn an_operation_no_mode_can_send_is_a_warning_naming_the_fields_and_lines() {
    let ops =
        "query GetTest {\n  getTest(id: \"1\") { id }\n}\nquery GetTests { getTests { id } }\n";
    let b = Builder::new()
        .schema_str("schema.graphql", CDK_IAM)
        .operations_str("ops.graphql", ops)
        .default_auth_mode(UserPools)
        .additional_auth_modes([Iam]);
    let a = b.analyze().unwrap();
    assert!(modes(&a, "GetTest").is_empty());
    assert_eq!(modes(&a, "GetTests"), [Iam]);
    let w: Vec<String> = a.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        [
            "ops.graphql:1:1: operation `GetTest` can never be sent: no auth mode reaches every \
          field it selects: `Query.getTest` allows AMAZON_COGNITO_USER_POOLS (the default mode, \
          as neither it nor its type has a directive, schema.graphql:7:3); but `test.id` allows \
          AWS_IAM (type `test`'s directives, schema.graphql:1:1). The client refuses every call \
          of it"
        ]
    );
    // The generated docs say it too, and the code still builds.
    let code = b.generate_to_string().unwrap();
    assert!(
        code.contains(
            "/// Allowed auth modes: none. No mode reaches every field it selects: `Query.getTest`"
        ),
        "{code}"
    );
    assert!(code.contains("const ALLOWED_AUTH_MODES: &'static [_appsync::AuthMode] = &[];"));
    // A setting makes it an error.
    let e = b
        .clone()
        .deny_operations_without_auth_mode(true)
        .generate_to_string()
        .unwrap_err();
    assert_eq!(e.iter().map(|e| e.to_string()).collect::<Vec<_>>(), w);
    // A field allowing only modes the API does not enable.
    let a = Builder::new()
        .schema_str("s.graphql", "type Query { a: String @aws_oidc }")
        .operations_str("o.graphql", "query A { a }")
        .default_auth_mode(ApiKey)
        .additional_auth_modes([Iam])
        .analyze()
        .unwrap();
    assert!(
        a.warnings[0].message.ends_with(
            "`Query.a` allows OPENID_CONNECT (its own directives, s.graphql:1:14), and the API \
             enables only API_KEY, AWS_IAM. The client refuses every call of it"
        ),
        "{}",
        a.warnings[0]
    );
}

#[test]
fn statements_no_mode_can_send_are_marked_as_generated() {
    let a = Builder::new()
        .schema_str("schema.graphql", CDK_IAM)
        .default_auth_mode(UserPools)
        .statements(1)
        .analyze()
        .unwrap();
    assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
    assert!(
        a.warnings[0]
            .to_string()
            .starts_with("<statements>.graphql:3:1: operation `GetTest` (a generated statement) can never be sent"),
        "{}",
        a.warnings[0]
    );
}
