//! Where output goes: JSON on stdout (compact or indented, coloured on a terminal), status and
//! verbose lines on stderr, never mixed. Writing never panics: a closed stdout ends the command
//! quietly, a closed stderr is ignored.

use std::io::{IsTerminal, Write};

use serde_json::Value;

use crate::args::{Cli, ColorWhen, OutputFormat};
use crate::exit::Failure;

/// ANSI styles, close to jq's: keys bold blue, strings green, numbers cyan, booleans yellow,
/// null grey.
const KEY: &str = "\x1b[1;34m";
const STRING: &str = "\x1b[32m";
const NUMBER: &str = "\x1b[36m";
const BOOL: &str = "\x1b[33m";
const NULL: &str = "\x1b[90m";
const RESET: &str = "\x1b[0m";

/// The terminal settings of this run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ui {
    /// Colour the JSON on stdout.
    pub color: bool,
    /// Stdout is a terminal (JSON is indented by default).
    pub stdout_tty: bool,
    /// No status lines.
    pub quiet: bool,
    /// `-v` count.
    pub verbose: u8,
}

impl Ui {
    /// Settings from the flags, the environment (`NO_COLOR`, `TERM`) and the terminal.
    pub(crate) fn new(cli: &Cli) -> Ui {
        let stdout_tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
            || std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Ui {
            color: match cli.color {
                ColorWhen::Always => true,
                ColorWhen::Never => false,
                ColorWhen::Auto => stdout_tty && !no_color,
            },
            stdout_tty,
            quiet: cli.quiet,
            verbose: cli.verbose,
        }
    }

    /// Whether JSON is indented: as asked, else on a terminal.
    pub(crate) fn pretty(&self, format: Option<OutputFormat>) -> bool {
        match format {
            Some(OutputFormat::Pretty) => true,
            Some(OutputFormat::Json) => false,
            None => self.stdout_tty,
        }
    }

    /// A status line on stderr (not with `-q`).
    pub(crate) fn status(&self, message: impl std::fmt::Display) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{message}");
        }
    }

    /// A line on stderr with `-v`.
    pub(crate) fn verbose(&self, message: impl std::fmt::Display) {
        if self.verbose > 0 {
            let _ = writeln!(std::io::stderr().lock(), "{message}");
        }
    }

    /// One JSON value on stdout, then a newline, flushed.
    pub(crate) fn json(&self, value: &Value, pretty: bool) -> Result<(), Failure> {
        let mut out = std::io::stdout().lock();
        let mut buf = Vec::with_capacity(256);
        write_json(&mut buf, value, pretty.then_some(0), self.color)?;
        buf.push(b'\n');
        out.write_all(&buf)?;
        out.flush()?;
        Ok(())
    }

    /// Raw bytes on stdout, flushed.
    pub(crate) fn bytes(&self, bytes: &[u8]) -> Result<(), Failure> {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()?;
        Ok(())
    }
}

/// Writes `v`; `indent` is the current depth when indenting, `None` for one compact line.
pub(crate) fn write_json(
    out: &mut Vec<u8>,
    v: &Value,
    indent: Option<usize>,
    color: bool,
) -> std::io::Result<()> {
    let paint = |out: &mut Vec<u8>, style: &str, text: &str| -> std::io::Result<()> {
        if color {
            write!(out, "{style}{text}{RESET}")
        } else {
            out.write_all(text.as_bytes())
        }
    };
    let newline = |out: &mut Vec<u8>, depth: usize| -> std::io::Result<()> {
        out.push(b'\n');
        out.write_all(&b"  ".repeat(depth))
    };
    match v {
        Value::Null => paint(out, NULL, "null"),
        Value::Bool(b) => paint(out, BOOL, if *b { "true" } else { "false" }),
        Value::Number(n) => paint(out, NUMBER, &n.to_string()),
        Value::String(s) => paint(out, STRING, &quoted(s)),
        Value::Array(items) if items.is_empty() => out.write_all(b"[]"),
        Value::Object(map) if map.is_empty() => out.write_all(b"{}"),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if let Some(d) = indent {
                    newline(out, d + 1)?;
                }
                write_json(out, item, indent.map(|d| d + 1), color)?;
            }
            if let Some(d) = indent {
                newline(out, d)?;
            }
            out.push(b']');
            Ok(())
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if let Some(d) = indent {
                    newline(out, d + 1)?;
                }
                paint(out, KEY, &quoted(k))?;
                out.write_all(if indent.is_some() { b": " } else { b":" })?;
                write_json(out, item, indent.map(|d| d + 1), color)?;
            }
            if let Some(d) = indent {
                newline(out, d)?;
            }
            out.push(b'}');
            Ok(())
        }
    }
}

/// A JSON string literal, escaped as serde_json escapes it.
fn quoted(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(v: &Value, pretty: bool, color: bool) -> String {
        let mut out = Vec::new();
        write_json(&mut out, v, pretty.then_some(0), color).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn compact_is_serde_json() {
        let v = json!({"a": [1, "x\"\n", null, true, {}], "b": {"c": []}, "é": 1.5});
        assert_eq!(render(&v, false, false), v.to_string());
    }

    #[test]
    fn pretty_is_serde_json_pretty() {
        let v = json!({"a": [1, "x", null, {"d": false}], "b": {}, "c": []});
        assert_eq!(
            render(&v, true, false),
            serde_json::to_string_pretty(&v).unwrap()
        );
    }

    #[test]
    fn colours_wrap_tokens() {
        let s = render(&json!({"k": "v"}), false, true);
        assert_eq!(s, "{\x1b[1;34m\"k\"\x1b[0m:\x1b[32m\"v\"\x1b[0m}");
    }
}
