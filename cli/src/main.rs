//! The `appsync` command-line tool: query, mutate, subscribe, rest, config, codegen, serve and
//! completions, over appsync-client, appsync-codegen and appsync-local.
//!
//! Output contract: results on stdout (JSON, or the REST body), everything else (status,
//! progress, `-v` lines, errors) on stderr, each error on one line. Exit codes: 0 ok, 1 GraphQL
//! errors (or a REST error status), 2 usage or config errors, 3 transport or auth failures.

mod args;
mod commands;
mod credentials;
mod exit;
mod input;
mod output;
mod setup;
mod tokens;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use appsync_client::OperationKind;
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use crate::args::{Cli, Command};
use crate::exit::{clap_one_line, Failure};
use crate::output::Ui;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(clap_exit(&e)),
    };
    let ui = Ui::new(&cli);
    if cli.verbose >= 2 {
        init_logging(cli.verbose);
    }
    let result = match cli.command {
        // No runtime needed.
        Command::Codegen(a) => commands::codegen::run(a, ui),
        Command::Completions(a) => {
            let mut cmd = Cli::command();
            let mut out = Vec::new();
            clap_complete::generate(a.shell, &mut cmd, "appsync", &mut out);
            ui.bytes(&out).map(|()| exit::OK)
        }
        command => run_async(command, ui),
    };
    let code = match result {
        Ok(code) => code,
        Err(f) => {
            if !f.quiet {
                let _ = writeln!(std::io::stderr().lock(), "error: {}", f.message);
            }
            f.code
        }
    };
    ExitCode::from(code)
}

/// Runs a command that needs the async runtime, then stops the runtime without waiting long
/// for stragglers (a socket's last frames).
fn run_async(command: Command, ui: Ui) -> Result<u8, Failure> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::broken(format!("cannot start the async runtime: {e}")))?;
    let result = rt.block_on(async move {
        match command {
            Command::Query(a) => commands::graphql::run(a, OperationKind::Query, ui).await,
            Command::Mutate(a) => commands::graphql::run(a, OperationKind::Mutation, ui).await,
            Command::Subscribe(a) => commands::subscribe::run(a, ui).await,
            Command::Rest(a) => commands::rest::run(a, ui).await,
            Command::Events(a) => commands::events::run(a, ui).await,
            Command::Config(a) => commands::config::run(a, ui).await,
            Command::Serve(a) => commands::serve::run(a, ui).await,
            Command::Codegen(_) | Command::Completions(_) => Ok(exit::OK),
        }
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}

/// Prints a clap outcome: help and version as clap lays them out (exit 0), a usage error on
/// one line (exit 2).
fn clap_exit(e: &clap::Error) -> u8 {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            exit::OK
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            exit::USAGE
        }
        _ => {
            // The subcommand typed, for the pointer to its help.
            let names: Vec<String> = Cli::command()
                .get_subcommands()
                .map(|c| c.get_name().to_owned())
                .collect();
            // `args_os`: an argument that is not Unicode must not make this panic.
            let typed = std::env::args_os()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .find(|a| names.iter().any(|n| n == a))
                .unwrap_or_default();
            let _ = writeln!(
                std::io::stderr().lock(),
                "error: {}",
                clap_one_line(e, &typed)
            );
            exit::USAGE
        }
    }
}

/// `-vv`: the client's (and the AWS chain's) debug log on stderr; `-vvv`: trace. The client
/// redacts every secret at every level.
fn init_logging(verbose: u8) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level = if verbose >= 3 {
        LevelFilter::TRACE
    } else {
        LevelFilter::DEBUG
    };
    let targets = Targets::new()
        .with_target("appsync_client", level)
        .with_target("appsync_local", level)
        .with_target("aws_config", LevelFilter::DEBUG);
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(level)
        .finish()
        .with(targets)
        .try_init();
}
