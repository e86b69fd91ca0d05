//! `appsync codegen`: appsync-codegen from the command line. Problems and warnings are printed
//! on stderr as `file:line:col: error: message`, as compilers print them.

use std::path::Path;

use appsync_codegen::Builder;

use crate::args::CodegenArgs;
use crate::exit::{Failure, GRAPHQL_ERRORS, OK};
use crate::input;
use crate::output::Ui;
use crate::setup::DEFAULT_FILES;

/// Validates, then writes the Rust code and the statements asked for.
pub(crate) fn run(args: CodegenArgs, ui: Ui) -> Result<u8, Failure> {
    let mut b = Builder::new().rerun_if_changed(false);
    for s in &args.schema {
        b = b.schema(s);
    }
    for o in &args.operations {
        b = b.operations(o);
    }
    if let Some(depth) = args.statements {
        b = b.statements(depth);
    }
    match (args.default_auth_mode, &args.config) {
        (Some(mode), _) => b = b.default_auth_mode(mode),
        (None, Some(path)) => b = b.auth_modes_from_config(path),
        (None, None) => {
            if let Some(found) = DEFAULT_FILES.iter().map(Path::new).find(|p| p.is_file()) {
                ui.status(format!("auth modes from {}", found.display()));
                b = b.auth_modes_from_config(found);
            }
        }
    }
    if !args.additional_auth_modes.is_empty() {
        b = b.additional_auth_modes(args.additional_auth_modes.iter().copied());
    }
    for (name, rust) in input::pairs(&args.scalar, "--scalar")? {
        b = b.scalar(name, rust);
    }
    if let Some(c) = &args.client_crate {
        b = b.client_crate(c.clone());
    }
    b = b
        .time_types(args.time_types)
        .all_types(args.all_types)
        .serde_both_ways(args.serde_both_ways)
        .deny_operations_without_auth_mode(args.deny_unsendable);

    let analysis = match b.analyze() {
        Ok(a) => a,
        Err(errors) => return Ok(problems(&errors, ui)),
    };
    for w in &analysis.warnings {
        print_problem(w, "warning");
    }
    let rust_to = match (&args.out, &args.statements_out) {
        (Some(p), _) if p.as_os_str() == "-" => Some(None),
        (Some(p), _) => Some(Some(p.as_path())),
        (None, None) => Some(None),
        (None, Some(_)) => None,
    };
    if let Some(to) = rust_to {
        let code = match b.generate_to_string() {
            Ok(c) => c,
            Err(errors) => return Ok(problems(&errors, ui)),
        };
        match to {
            None => ui.bytes(code.as_bytes())?,
            Some(path) => {
                write_if_changed(path, &code)?;
                ui.status(format!(
                    "wrote {} ({} operation{})",
                    path.display(),
                    analysis.operations.len(),
                    if analysis.operations.len() == 1 {
                        ""
                    } else {
                        "s"
                    }
                ));
            }
        }
    }
    if let Some(path) = &args.statements_out {
        let text = match b.statements_to_string() {
            Ok(t) => t,
            Err(errors) => return Ok(problems(&errors, ui)),
        };
        write_if_changed(path, &text)?;
        ui.status(format!("wrote the statements to {}", path.display()));
    }
    Ok(OK)
}

/// Prints every problem and a count; codegen problems exit 1.
fn problems(errors: &appsync_codegen::Errors, ui: Ui) -> u8 {
    for e in errors {
        print_problem(e, "error");
    }
    ui.status(format!(
        "appsync-codegen found {} problem{}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    ));
    GRAPHQL_ERRORS
}

/// `file:line:col: error: message` (or `file: error: …`, or `error: …` for settings).
fn print_problem(e: &appsync_codegen::Error, severity: &str) {
    use std::io::Write;
    let line = match (e.file.is_empty(), e.line) {
        (true, _) => format!("{severity}: {}", e.message),
        (false, 0) => format!("{}: {severity}: {}", e.file, e.message),
        (false, l) => format!("{}:{l}:{}: {severity}: {}", e.file, e.column, e.message),
    };
    let _ = writeln!(std::io::stderr().lock(), "{}", line.replace('\n', " "));
}

/// Writes `text` unless the file already holds it (so builds that watch it do not rerun).
fn write_if_changed(path: &Path, text: &str) -> Result<(), Failure> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::usage(format!("cannot create the folder {}: {e}", dir.display()))
        })?;
    }
    std::fs::write(path, text)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))
}
