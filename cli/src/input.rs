//! What users type becomes what the client takes: `@file` and `@-` arguments, variables from
//! JSON and `--var`, `NAME:VALUE` headers and `NAME=VALUE` pairs. Errors name the flag, never
//! the value (a header or a variable may hold a secret).

use std::io::Read;

use serde_json::{Map, Value};

use crate::exit::Failure;

/// The text of an argument that may be `@FILE` or `@-` (standard input); `what` names it in
/// errors. Standard input is read at most once per process.
pub(crate) fn text_arg(arg: &str, what: &str) -> Result<String, Failure> {
    match arg.strip_prefix('@') {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| {
                Failure::usage(format!("cannot read {what} from standard input: {e}"))
            })?;
            Ok(s)
        }
        Some(path) if !path.is_empty() => std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read {what} from {path}: {e}"))),
        _ => Ok(arg.to_owned()),
    }
}

/// Parses JSON given with a flag (text, `@FILE` or `@-`), saying where it is wrong.
pub(crate) fn json_arg(arg: &str, what: &str) -> Result<Value, Failure> {
    let text = text_arg(arg, what)?;
    serde_json::from_str(&text)
        .map_err(|e| Failure::usage(format!("{what} is not valid JSON ({e})")))
}

/// The variables: `--variables` (an object) and then each `--var`; `None` when neither is
/// given.
pub(crate) fn variables(json: Option<&str>, vars: &[String]) -> Result<Option<Value>, Failure> {
    let mut out = match json {
        None => None,
        Some(text) => match json_arg(text, "--variables")? {
            Value::Object(m) => Some(m),
            Value::Null => Some(Map::new()),
            _ => return Err(Failure::usage("--variables must be a JSON object")),
        },
    };
    for (i, var) in vars.iter().enumerate() {
        let map = out.get_or_insert_with(Map::new);
        set_var(map, var).map_err(|why| Failure::usage(format!("--var #{}: {why}", i + 1)))?;
    }
    Ok(out.map(Value::Object))
}

/// Applies one `NAME=text` or `NAME:=json`; a dotted name sets a nested field, making the
/// objects on its way.
fn set_var(map: &mut Map<String, Value>, var: &str) -> Result<(), String> {
    let Some((name, value)) = var.split_once('=') else {
        return Err("expected NAME=text or NAME:=json".to_owned());
    };
    let (name, value) = match name.strip_suffix(':') {
        Some(n) => (
            n,
            serde_json::from_str(value)
                .map_err(|e| format!("the value is not valid JSON ({e})"))?,
        ),
        None => (name, Value::String(value.to_owned())),
    };
    let path: Vec<&str> = name.split('.').collect();
    if path.iter().any(|p| p.is_empty()) {
        return Err("the name is empty or has an empty part".to_owned());
    }
    let (last, parents) = path.split_last().ok_or("the name is empty")?;
    let mut at = map;
    for (depth, p) in parents.iter().enumerate() {
        let slot = at
            .entry((*p).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        at = match slot {
            Value::Object(m) => m,
            _ => {
                return Err(format!(
                    "{} is already set to a value that is not an object",
                    path[..=depth].join(".")
                ))
            }
        };
    }
    at.insert((*last).to_owned(), value);
    Ok(())
}

/// `NAME:VALUE` headers (value trimmed); `flag` names them in errors.
pub(crate) fn headers(list: &[String], flag: &str) -> Result<Vec<(String, String)>, Failure> {
    list.iter()
        .enumerate()
        .map(|(i, h)| {
            let (name, value) = h
                .split_once(':')
                .ok_or_else(|| Failure::usage(format!("{flag} #{}: expected NAME:VALUE", i + 1)))?;
            let name = name.trim();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Failure::usage(format!(
                    "{flag} #{}: the name is empty or holds spaces or other characters a header \
                     name cannot",
                    i + 1
                )));
            }
            Ok((name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// `NAME=VALUE` pairs (the value may be empty); `flag` names them in errors.
pub(crate) fn pairs(list: &[String], flag: &str) -> Result<Vec<(String, String)>, Failure> {
    list.iter()
        .enumerate()
        .map(|(i, p)| {
            p.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| Failure::usage(format!("{flag} #{}: expected NAME=VALUE", i + 1)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(json: Option<&str>, list: &[&str]) -> Result<Option<Value>, String> {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        variables(json, &list).map_err(|f| f.message)
    }

    #[test]
    fn variables_merge_and_nest() {
        assert_eq!(vars(None, &[]).unwrap(), None);
        assert_eq!(
            vars(
                Some(r#"{"a": 1, "input": {"x": true}}"#),
                &[
                    "b=text",
                    "n:=10",
                    "input.content=hi",
                    "input.owner:=null",
                    "a=="
                ]
            )
            .unwrap(),
            Some(
                json!({"a": "=", "b": "text", "n": 10, "input": {"x": true, "content": "hi", "owner": null}})
            )
        );
    }

    #[test]
    fn bad_variables_are_named_not_echoed() {
        let e = vars(None, &["secret-without-equals"]).unwrap_err();
        assert_eq!(e, "--var #1: expected NAME=text or NAME:=json");
        assert!(vars(None, &["a:=nope"])
            .unwrap_err()
            .contains("not valid JSON"));
        assert!(vars(None, &["a=1", "a.b=2"])
            .unwrap_err()
            .contains("not an object"));
        assert!(vars(None, &[".a=1"]).is_err());
        assert!(vars(Some("[1]"), &[]).is_err());
        assert!(vars(Some("{"), &[]).is_err());
    }

    #[test]
    fn headers_and_pairs() {
        let h = headers(&["x-a: 1 2 ".into(), "auth:b:c".into()], "--header").unwrap();
        assert_eq!(
            h,
            vec![("x-a".into(), "1 2".into()), ("auth".into(), "b:c".into())]
        );
        let e = headers(&["Authorization secret".into()], "--header").unwrap_err();
        assert!(!e.message.contains("secret"), "{}", e.message);
        assert!(headers(&["bad name: x".into()], "--header").is_err());
        assert_eq!(
            pairs(&["a=".into(), "b=c=d".into()], "--query").unwrap(),
            vec![("a".into(), "".into()), ("b".into(), "c=d".into())]
        );
        assert!(pairs(&["=x".into()], "--query").is_err());
    }
}
