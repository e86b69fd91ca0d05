//! The `appsync` command-line tool. Its subcommands arrive with later work; today it only says so.

fn main() -> std::process::ExitCode {
    eprintln!(
        "appsync {}: the command-line tool is not built yet; use the appsync-client library",
        env!("CARGO_PKG_VERSION")
    );
    std::process::ExitCode::from(2)
}
