//! `appsync query` and `appsync mutate`: one GraphQL request, the response JSON on stdout, a
//! summary of GraphQL errors on stderr.

use appsync_client::{GraphQLError, GraphQLRequest, OperationKind, Response, TokenKind};
use serde_json::{Map, Value};

use crate::args::{GraphQLArgs, Target};
use crate::exit::{client_failure, one_line, Failure, GRAPHQL_ERRORS, OK};
use crate::input;
use crate::output::Ui;
use crate::setup;

/// Runs a query (`kind` Query) or a mutation (`kind` Mutation).
pub(crate) async fn run(args: GraphQLArgs, kind: OperationKind, ui: Ui) -> Result<u8, Failure> {
    let request = request(
        &args.document,
        args.operation_name.as_deref(),
        args.variables.as_deref(),
        &args.vars,
        kind,
    )?;
    let headers = input::headers(&args.headers, "--header")?;
    let (path, config) = setup::load_config(&args.target)?;
    ui.verbose(format!("config: {}", path.display()));
    let built = setup::client(config, &args.credentials, args.timeout, ui)?;
    let mut call = built.client.graphql(request);
    call = apply_target(call, &args.target);
    for (k, v) in headers {
        call = call.header(k, v);
    }
    if let Some(k) = &args.credentials.api_key {
        call = call.api_key(k.clone());
    }
    if args.credentials.id_token {
        call = call.token_kind(TokenKind::Id);
    }
    let response = call
        .send()
        .await
        .map_err(|e| client_failure(&e, built.seen.context()))?;
    ui.json(&response_json(&response), ui.pretty(args.output.output))?;
    Ok(report_errors(&response.errors, ui))
}

/// The request from the document and variables flags, refusing a document of another kind
/// than the command's (a mutation sent with `query` would not be retried safely, and reads
/// should not write by accident).
pub(crate) fn request(
    document: &str,
    operation_name: Option<&str>,
    variables: Option<&str>,
    vars: &[String],
    kind: OperationKind,
) -> Result<GraphQLRequest, Failure> {
    let text = input::text_arg(document, "the document")?;
    if text.trim().is_empty() {
        return Err(Failure::usage("the document is empty"));
    }
    let mut request = GraphQLRequest::new(text);
    if let Some(n) = operation_name {
        request = request.operation_name(n);
    }
    let found = request.kind();
    if found != kind {
        let command = |k: OperationKind| match k {
            OperationKind::Query => "appsync query",
            OperationKind::Mutation => "appsync mutate",
            OperationKind::Subscription => "appsync subscribe",
        };
        return Err(Failure::usage(format!(
            "the operation is a {}, not a {}: run it with `{}`",
            found.as_str(),
            kind.as_str(),
            command(found)
        )));
    }
    if let Some(v) = input::variables(variables, vars)? {
        request = request.variables(v);
    }
    Ok(request)
}

/// Sets `--api-name` and `--auth-mode` on a GraphQL call.
fn apply_target(
    mut call: appsync_client::GraphQLCall<Value>,
    target: &Target,
) -> appsync_client::GraphQLCall<Value> {
    if let Some(n) = &target.api_name {
        call = call.api_name(n.clone());
    }
    if let Some(m) = target.auth_mode {
        call = call.auth_mode(m);
    }
    if target.multi_auth {
        call = call.auth_strategy(appsync_client::AuthStrategy::Multi);
    }
    call
}

/// The response as AppSync sends it: `data`, then `errors` and `extensions` when present.
pub(crate) fn response_json(r: &Response<Value>) -> Value {
    let mut out = Map::new();
    out.insert("data".into(), r.data.clone().unwrap_or(Value::Null));
    if !r.errors.is_empty() {
        out.insert("errors".into(), errors_json(&r.errors));
    }
    if let Some(x) = &r.extensions {
        out.insert("extensions".into(), Value::Object(x.clone()));
    }
    Value::Object(out)
}

/// Error entries as JSON (every key AppSync sent).
pub(crate) fn errors_json(errors: &[GraphQLError]) -> Value {
    serde_json::to_value(errors).unwrap_or(Value::Null)
}

/// One stderr line about GraphQL errors; the exit code they mean.
pub(crate) fn report_errors(errors: &[GraphQLError], ui: Ui) -> u8 {
    match errors {
        [] => OK,
        [one] => {
            ui.status(one_line(&format!("GraphQL error: {one}")));
            GRAPHQL_ERRORS
        }
        [first, ..] => {
            ui.status(one_line(&format!(
                "{} GraphQL errors, the first: {first}",
                errors.len()
            )));
            GRAPHQL_ERRORS
        }
    }
}
