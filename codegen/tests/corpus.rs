//! Real AppSync schemas from public repositories (`tests/corpus/*`, each with its licence and
//! `SOURCE.md`) go through codegen: they validate with their real operations (or generated
//! statements where a repository keeps none), no operation is reported unsendable, and the
//! auth modes of a few operations match a reading of AppSync's rules by hand (the reasoning is
//! beside each). The roundtrip crate compiles the generated code of all of them.

use appsync_codegen::{Analysis, AuthMode, Builder, OperationKind};
use AuthMode::*;

fn path(name: &str, file: &str) -> String {
    format!("{}/tests/corpus/{name}/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// Codegen set up as the corpus entry's API is configured (see its `SOURCE.md`).
fn builder(name: &str) -> Builder {
    let b = Builder::new().schema(path(name, "schema.graphql"));
    match name {
        "appsyncmasterclass" | "idp" | "workload-discovery" => b
            .operations(path(name, "operations"))
            .default_auth_mode(UserPools)
            .additional_auth_modes([Iam]),
        "amplify-docsgen" => b
            .statements(2)
            .default_auth_mode(ApiKey)
            .additional_auth_modes([]),
        "prisma-appsync" => b.statements(2).default_auth_mode(ApiKey),
        other => panic!("no corpus entry {other}"),
    }
}

fn analyze(name: &str) -> Analysis {
    builder(name)
        .analyze()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn modes(a: &Analysis, op: &str) -> Vec<AuthMode> {
    a.operation(op)
        .unwrap_or_else(|| panic!("no operation {op}"))
        .allowed_auth_modes
        .clone()
}

#[test]
fn every_entry_validates_generates_and_has_no_unsendable_operation() {
    for (name, operations) in [
        ("appsyncmasterclass", 28),
        ("idp", 76),
        ("amplify-docsgen", 9),
        ("prisma-appsync", 97),
        ("workload-discovery", 25),
    ] {
        let a = analyze(name);
        assert_eq!(a.operations.len(), operations, "{name}");
        assert!(a.warnings.is_empty(), "{name}: {:?}", a.warnings);
        let code = builder(name)
            .generate_to_string()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            code.matches("impl _appsync::Operation for ").count(),
            operations,
            "{name}"
        );
    }
}

/// Unions and interfaces, with auth directives on a union and an interface.
#[test]
fn appsync_masterclass_modes_by_hand() {
    let a = analyze("appsyncmasterclass");
    // `Query.getMyProfile` and `MyProfile` carry no directive: the default mode only.
    assert_eq!(modes(&a, "getMyProfile"), [UserPools]);
    // `Mutation.notifyLiked @aws_iam` returns the union `Notification`; the fields are read on
    // `Liked @aws_iam @aws_cognito_user_pools`: IAM only (the field allows nothing else).
    assert_eq!(modes(&a, "notifyLiked"), [Iam]);
    // `Subscription.onNotified` has no directive (the default, user pools); every member of
    // `Notification` allows user pools too. The union's own directives add nothing.
    assert_eq!(modes(&a, "onNotified"), [UserPools]);
    assert_eq!(
        a.operation("onNotified").unwrap().kind,
        OperationKind::Subscription
    );
    // `search` selects through the union `SearchResult` (no directives anywhere): default.
    assert_eq!(modes(&a, "search"), [UserPools]);
}

/// `@aws_auth(cognito_groups: …)` on a multi-auth API, and `@aws_iam`-only types.
#[test]
fn idp_modes_by_hand() {
    let a = analyze("idp");
    // `Mutation.claimReview @aws_auth(cognito_groups: ["Admin", "Reviewer"])`: with IAM also
    // enabled `@aws_auth` does not count, so the field has no directive; `type Mutation` has
    // none: the default mode; `Document @aws_cognito_user_pools @aws_iam` allows it. No group
    // requirement is left (AppSync lets any user-pool caller through).
    assert_eq!(modes(&a, "ClaimReview"), [UserPools]);
    assert!(a
        .operation("ClaimReview")
        .unwrap()
        .user_pool_groups
        .is_empty());
    // `type Subscription @aws_cognito_user_pools @aws_iam`, but `onCreateDocument` returns
    // `CreateDocumentOutput @aws_iam`.
    assert_eq!(modes(&a, "OnCreateDocument"), [Iam]);
    // `type Query @aws_cognito_user_pools @aws_iam` and `Document` the same.
    assert_eq!(modes(&a, "GetDocument"), [Iam, UserPools]);

    // Were user pools the only mode, `@aws_auth` would count, with its groups.
    let sole = Builder::new()
        .schema(path("idp", "schema.graphql"))
        .operations(path("idp", "operations"))
        .default_auth_mode(UserPools)
        .additional_auth_modes([])
        .analyze()
        .unwrap();
    assert_eq!(modes(&sole, "ClaimReview"), [UserPools]);
    assert_eq!(
        sole.operation("ClaimReview").unwrap().user_pool_groups,
        [vec!["Admin".to_owned(), "Reviewer".to_owned()]]
    );
    // An `@aws_iam`-only type cannot be reached then: reported, with the lines.
    let w: Vec<String> = sole.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        w.iter().any(|w| w.contains("operation `OnCreateDocument` can never be sent")
            && w.contains("`CreateDocumentOutput.ObjectKey` allows AWS_IAM (type `CreateDocumentOutput`'s directives")),
        "{w:#?}"
    );
}

/// Compiled by the Amplify transformer: `@aws_api_key` on every type.
#[test]
fn amplify_compiled_modes_by_hand() {
    let a = analyze("amplify-docsgen");
    for op in ["GetTodo", "SyncTodos", "CreateTodo", "OnDeleteTodo"] {
        assert_eq!(modes(&a, op), [ApiKey], "{op}");
    }
}

/// Most types allow user pools and IAM; a few fields only one of them.
#[test]
fn workload_discovery_modes_by_hand() {
    let a = analyze("workload-discovery");
    // `Query.getResources … @aws_iam` returns `Resource @aws_cognito_user_pools @aws_iam`.
    assert_eq!(modes(&a, "GetResources"), [Iam]);
    // `Mutation.addRegions` has no directive (`type Mutation` neither): the default mode;
    // `Account` allows both.
    assert_eq!(modes(&a, "AddRegions"), [UserPools]);
    // `Mutation.addAccounts … @aws_cognito_user_pools @aws_iam`, `UnprocessedAccounts` both.
    assert_eq!(modes(&a, "AddAccounts"), [Iam, UserPools]);
}

/// A generated schema without auth directives: the default mode everywhere.
#[test]
fn prisma_appsync_modes_by_hand() {
    let a = analyze("prisma-appsync");
    assert!(a
        .operations
        .iter()
        .all(|o| o.allowed_auth_modes == [ApiKey]));
}
