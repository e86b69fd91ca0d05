//! `appsync rest METHOD PATH`: one API Gateway call; the body on stdout (JSON laid out like
//! GraphQL responses, anything else as it came), the status on stderr when it is not 2xx.

use appsync_client::TokenKind;
use serde_json::Value;

use crate::args::RestArgs;
use crate::exit::{client_failure, Failure, GRAPHQL_ERRORS, OK};
use crate::input;
use crate::output::Ui;
use crate::setup;

/// Sends the call and prints the answer.
pub(crate) async fn run(args: RestArgs, ui: Ui) -> Result<u8, Failure> {
    if args.target.multi_auth {
        return Err(Failure::usage(
            "--multi-auth is for GraphQL calls (query, mutate, subscribe); give REST calls \
             --auth-mode, or none for the endpoint's own",
        ));
    }
    let method =
        http::Method::from_bytes(args.method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            Failure::usage("METHOD is not an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD…)")
        })?;
    let headers = input::headers(&args.headers, "--header")?;
    let query = input::pairs(&args.query, "--query")?;
    let body = args
        .data
        .as_deref()
        .map(|d| input::json_arg(d, "--data"))
        .transpose()?;
    let (path, config) = setup::load_config(&args.target)?;
    ui.verbose(format!("config: {}", path.display()));
    let built = setup::client(config, &args.credentials, args.timeout, ui)?;
    let api = match &args.target.api_name {
        Some(n) => built.client.rest(n.clone()),
        None => built.client.rest_default(),
    };
    let mut call = api.request(method, args.path.clone());
    for s in &args.segments {
        call = call.path_segment(s.clone());
    }
    for (k, v) in query {
        call = call.query(k, v);
    }
    for (k, v) in headers {
        call = call.header(k, v);
    }
    if let Some(b) = &body {
        call = call.json(b);
    }
    if let Some(m) = args.target.auth_mode {
        call = call.auth_mode(m);
    }
    if let Some(k) = &args.credentials.api_key {
        call = call.api_key(k.clone());
    }
    if args.credentials.id_token {
        call = call.token_kind(TokenKind::Id);
    }
    let pretty = ui.pretty(args.output.output);
    match call.send().await {
        Ok(resp) => {
            ui.verbose(format!("HTTP {}", resp.status()));
            print_body(resp.bytes(), pretty, ui)?;
            Ok(OK)
        }
        Err(e) => {
            let status = e.status_code().map(|s| s.as_u16());
            // An error status is the API's answer: its body is the output, as with curl.
            if let (Some(s), Some(body)) = (status, e.body()) {
                print_body(body, pretty, ui)?;
                if !matches!(s, 401 | 403) && !e.is_redirect() {
                    let mut f = Failure::broken(e.to_string());
                    f.code = GRAPHQL_ERRORS;
                    return Err(f);
                }
            }
            Err(client_failure(&e, built.seen.context()))
        }
    }
}

/// A JSON body laid out (and coloured) like other output; any other body as it is.
fn print_body(body: &[u8], pretty: bool, ui: Ui) -> Result<(), Failure> {
    if body.is_empty() {
        return Ok(());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => ui.json(&v, pretty),
        Err(_) => {
            ui.bytes(body)?;
            if !body.ends_with(b"\n") && ui.stdout_tty {
                ui.bytes(b"\n")?;
            }
            Ok(())
        }
    }
}
