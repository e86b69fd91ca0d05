//! `appsync codegen`: its output compiles against appsync-client (checked with the same rustc
//! and the appsync-client this test was built with), problems and warnings are printed as
//! `file:line:col: error|warning: message`, and statements are written as GraphQL.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{appsync, run, tmp_dir};

fn notes(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(file)
        .display()
        .to_string()
}

/// The newest `libappsync_client-*.rlib` beside this test binary, and its folder.
fn appsync_client_rlib() -> (PathBuf, PathBuf) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("target/debug/deps").to_owned();
    let newest = std::fs::read_dir(&deps)
        .expect("read target/debug/deps")
        .filter_map(Result::ok)
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("libappsync_client-") && n.ends_with(".rlib")
        })
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .expect("appsync-client was built for this test");
    (newest.path(), deps)
}

/// The rustc of the toolchain that built this test.
fn rustc() -> PathBuf {
    let beside_cargo = Path::new(env!("CARGO")).with_file_name("rustc");
    if beside_cargo.is_file() {
        beside_cargo
    } else {
        PathBuf::from("rustc")
    }
}

#[test]
fn codegen_output_compiles() {
    let dir = tmp_dir("codegen-compiles");
    let out = dir.join("api.rs");
    let r = run(&mut appsync(
        &dir,
        &[
            "codegen",
            "--schema",
            &notes("cli/schema/notes.graphql"),
            "--operations",
            &notes("schema/notes/operations"),
            "--statements",
            "2",
            "--all-types",
            "--default-auth-mode",
            "API_KEY",
            "--additional-auth-modes",
            "AWS_IAM,AMAZON_COGNITO_USER_POOLS,OPENID_CONNECT,AWS_LAMBDA",
            "--out",
            "api.rs",
        ],
    ));
    r.code(0);
    assert!(r.stderr.contains("wrote api.rs"), "{r:#?}");
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("pub struct GetNote"));
    // A crate using it as a build script would (include_operations! reads OUT_DIR).
    std::fs::write(
        dir.join("lib.rs"),
        r#"
appsync_client::include_operations!(pub mod api, "api.rs");

pub fn uses_it() -> (&'static [appsync_client::AuthMode], appsync_client::OperationKind) {
    let _vars = api::get_note::Variables { id: "n1".into() };
    (
        <api::GetNote as appsync_client::Operation>::ALLOWED_AUTH_MODES,
        <api::CreateNote as appsync_client::Operation>::KIND,
    )
}
"#,
    )
    .unwrap();
    let (rlib, deps) = appsync_client_rlib();
    let status = Command::new(rustc())
        .current_dir(&dir)
        .env("OUT_DIR", &dir)
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "lib",
            "--crate-name",
            "codegen_check",
        ])
        .args(["--emit", "metadata", "-o"])
        .arg(dir.join("libcodegen_check.rmeta"))
        .arg("lib.rs")
        .arg("-L")
        .arg(format!("dependency={}", deps.display()))
        .arg("--extern")
        .arg(format!("appsync_client={}", rlib.display()))
        .status()
        .expect("rustc runs");
    assert!(
        status.success(),
        "the generated code does not compile (rustc said why above)"
    );
}

#[test]
fn problems_are_printed_like_a_compiler_prints_them() {
    let dir = tmp_dir("codegen-errors");
    std::fs::write(
        dir.join("ops.graphql"),
        "query Q {\n  getNote(id: \"1\") { titel }\n}\nquery R { nope }\n",
    )
    .unwrap();
    let r = run(&mut appsync(
        &dir,
        &[
            "codegen",
            "--schema",
            &notes("cli/schema/notes.graphql"),
            "--operations",
            "ops.graphql",
            "--default-auth-mode",
            "API_KEY",
        ],
    ));
    r.code(1);
    assert_eq!(r.stdout, "", "no code on stdout when there are problems");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert!(
        lines.contains(&"ops.graphql:2:22: error: type `Note` does not have a field `titel`"),
        "{r:#?}"
    );
    assert!(
        lines.contains(&"ops.graphql:4:11: error: type `Query` does not have a field `nope`"),
        "{r:#?}"
    );
    let last = lines.last().copied().unwrap_or_default();
    assert!(
        last.starts_with("appsync-codegen found ") && last.ends_with(" problems"),
        "{r:#?}"
    );
    // An unreadable schema is a problem of that file.
    let r = run(&mut appsync(
        &dir,
        &[
            "codegen",
            "--schema",
            "missing.graphql",
            "--default-auth-mode",
            "API_KEY",
        ],
    ));
    r.code(1);
    assert!(
        r.stderr.starts_with("missing.graphql: error: cannot read"),
        "{r:#?}"
    );
}

#[test]
fn warnings_are_printed_and_deny_makes_them_errors() {
    let dir = tmp_dir("codegen-warnings");
    std::fs::write(
        dir.join("schema.graphql"),
        "type test @aws_iam { id: ID }\ntype Query { getTest: test }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("ops.graphql"),
        "query GetTest { getTest { id } }\n",
    )
    .unwrap();
    let args = [
        "codegen",
        "--schema",
        "schema.graphql",
        "--operations",
        "ops.graphql",
        "--default-auth-mode",
        "AMAZON_COGNITO_USER_POOLS",
    ];
    let r = run(&mut appsync(&dir, &args));
    r.code(0);
    assert!(
        r.stdout.contains("pub struct GetTest"),
        "the code goes to stdout without --out"
    );
    assert!(
        r.stderr
            .starts_with("ops.graphql:1:1: warning: operation `GetTest` can never be sent"),
        "{r:#?}"
    );
    let mut denied = args.to_vec();
    denied.push("--deny-unsendable");
    let r = run(&mut appsync(&dir, &denied));
    r.code(1);
    assert!(
        r.stderr
            .starts_with("ops.graphql:1:1: error: operation `GetTest`"),
        "{r:#?}"
    );
}

#[test]
fn statements_are_written_as_graphql() {
    let dir = tmp_dir("codegen-statements");
    let r = run(&mut appsync(
        &dir,
        &[
            "codegen",
            "--schema",
            &notes("cli/schema/notes.graphql"),
            "--statements",
            "1",
            "--statements-out",
            "gen/statements.graphql",
            "--default-auth-mode",
            "API_KEY",
        ],
    ));
    r.code(0);
    assert_eq!(r.stdout, "", "only the statements were asked for");
    let text = std::fs::read_to_string(dir.join("gen/statements.graphql")).unwrap();
    assert!(
        text.contains("query GetNote($id: ID!)") && text.contains("subscription OnCreateNote"),
        "{text}"
    );
    // Depth is bounded, and --statements-out needs --statements.
    let r = run(&mut appsync(
        &dir,
        &["codegen", "--schema", "s.graphql", "--statements", "11"],
    ));
    r.code(2);
    r.one_error_line();
    let r = run(&mut appsync(
        &dir,
        &["codegen", "--schema", "s.graphql", "--statements-out", "x"],
    ));
    r.code(2);
    r.one_error_line();
}
