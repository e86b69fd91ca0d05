//! Writes the large generated schema and operations used by `bench/codegen-compile.sh`:
//! `cargo run -p appsync-codegen --example large_schema -- OUT_DIR [TYPES] [OPERATIONS]`.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: large_schema OUT_DIR [TYPES] [OPERATIONS]");
        std::process::exit(2);
    };
    let types = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let ops = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let write = |path: PathBuf, text: &str| {
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("{}: {e}", path.display());
            std::process::exit(1);
        }
    };
    let op_dir = out.join("operations");
    if let Err(e) = std::fs::create_dir_all(&op_dir) {
        eprintln!("{}: {e}", op_dir.display());
        std::process::exit(1);
    }
    write(
        out.join("schema.graphql"),
        &appsync_codegen::testing::large_schema(types),
    );
    for (name, text) in appsync_codegen::testing::large_operations(types, ops) {
        write(op_dir.join(name), &text);
    }
    println!(
        "wrote {types} types and {ops} operations under {}",
        out.display()
    );
}
