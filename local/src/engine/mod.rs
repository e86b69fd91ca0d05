//! Execution: the async-graphql dynamic schema built from the SDL (`build`), with per-field
//! auth (§3.3), default and user resolvers (`resolve`), AppSync-shaped responses (`response`),
//! and mutation events for subscriptions.

mod build;
mod document;
mod resolve;
mod response;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::dynamic::Schema;
use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Variables};
use futures_util::stream::{BoxStream, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{broadcast, oneshot};

use crate::auth::Identity;
use crate::resolver::Resolver;
use crate::schema::SchemaModel;
use crate::store::Store;

use document::{invalid_variable, omitted_arguments, root_fields};
use resolve::{OmittedArguments, Started};
use response::{error_entries, finish};

/// A mutation's result, offered to the subscriptions it triggers.
#[derive(Clone, Debug)]
pub(crate) struct MutationEvent {
    pub mutation_field: String,
    pub value: Value,
}

/// What resolvers share.
pub(crate) struct Core {
    pub model: SchemaModel,
    pub store: Store,
    pub resolvers: HashMap<(String, String), Resolver>,
    pub events: broadcast::Sender<MutationEvent>,
}

/// The schema, ready to run operations.
pub(crate) struct Engine {
    pub core: Arc<Core>,
    schema: Schema,
}

impl Engine {
    /// Builds the executable schema; an `Err` says what async-graphql refused.
    pub(crate) fn build(core: Core) -> Result<Engine, String> {
        let core = Arc::new(core);
        let schema = build::schema(&core)?;
        Ok(Engine { core, schema })
    }

    /// Runs a query or mutation for an identity; returns AppSync's JSON answer (always HTTP 200).
    pub(crate) async fn execute(
        &self,
        query: &str,
        variables: Value,
        operation_name: Option<&str>,
        identity: Identity,
    ) -> Value {
        let doc = match async_graphql::parser::parse_query(query) {
            Ok(d) => d,
            Err(e) => {
                let pos = e.positions().next();
                return json!({"data": null, "errors": [{
                    "path": null,
                    "locations": pos.map(|p| json!([{"line": p.line, "column": p.column, "sourceName": null}])).unwrap_or(Value::Null),
                    "message": format!("Validation error of type InvalidSyntax: {e}"),
                }]});
            }
        };
        let roots = root_fields(&doc, operation_name);
        if let Some((OperationType::Subscription, _)) = roots {
            return json!({"data": null, "errors": [{"path": null, "locations": null,
                "message": "Subscriptions are served over the realtime WebSocket endpoint, not HTTP."}]});
        }
        if let Some(e) = invalid_variable(&self.core.model, &doc, operation_name, &variables) {
            return json!({"data": null, "errors": [e]});
        }
        let mut req = Request::new(query)
            .variables(Variables::from_json(variables))
            .data(identity);
        if let Some(op) = operation_name {
            req = req.operation_name(op);
        }
        let resp = self.schema.execute(req).await;
        let body = finish(&self.core.model, &doc, operation_name, resp);
        if let Some((OperationType::Mutation, fields)) = roots {
            self.publish(&fields, &body);
        }
        body
    }

    fn publish(&self, fields: &[(String, String)], body: &Value) {
        let errors: Vec<&str> = body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["path"][0].as_str()).collect())
            .unwrap_or_default();
        for (key, field) in fields {
            let triggers = self
                .core
                .model
                .subscribe
                .values()
                .any(|ms| ms.contains(field));
            let value = &body["data"][key.as_str()];
            if triggers && !value.is_null() && !errors.contains(&key.as_str()) {
                // No receiver is fine: nobody is subscribed.
                let _ = self.core.events.send(MutationEvent {
                    mutation_field: field.clone(),
                    value: value.clone(),
                });
            }
        }
    }

    /// Starts a subscription. `Ok` once the subscription field's resolver accepted it, with the
    /// stream of `{"data": …, "errors": …}` payloads; `Err` with AppSync-shaped error entries.
    pub(crate) async fn subscribe(
        &self,
        query: &str,
        variables: Value,
        operation_name: Option<&str>,
        identity: Identity,
    ) -> Result<BoxStream<'static, Value>, Vec<Value>> {
        let doc = async_graphql::parser::parse_query(query).map_err(|e| {
            vec![json!({"message": format!("Validation error of type InvalidSyntax: {e}")})]
        })?;
        match root_fields(&doc, operation_name) {
            Some((OperationType::Subscription, f)) if f.len() == 1 => {}
            Some((OperationType::Subscription, _)) => {
                return Err(vec![
                    json!({"message": "A subscription must select exactly one root field."}),
                ])
            }
            _ => {
                return Err(vec![
                    json!({"message": "Validation error: the operation is not a subscription."}),
                ])
            }
        }
        if let Some(e) = invalid_variable(&self.core.model, &doc, operation_name, &variables) {
            return Err(vec![e]);
        }
        let omitted = omitted_arguments(&doc, operation_name, &variables);
        let (tx, rx) = oneshot::channel();
        let mut req = Request::new(query)
            .variables(Variables::from_json(variables))
            .data(identity)
            .data(Started(Mutex::new(Some(tx))))
            .data(OmittedArguments(omitted));
        if let Some(op) = operation_name {
            req = req.operation_name(op);
        }
        let mut stream = self.schema.execute_stream(req);
        // The resolver runs when the stream is first polled: it either fires `Started` (then
        // the subscription is accepted) or the stream yields its error.
        let mut rx = rx;
        tokio::select! {
            biased;
            ok = &mut rx => {
                if ok.is_ok() {
                    let core = self.core.clone();
                    let op = operation_name.map(str::to_owned);
                    let doc = Arc::new(doc);
                    return Ok(stream
                        .map(move |r| finish(&core.model, &doc, op.as_deref(), r))
                        .boxed());
                }
                // The resolver dropped the signal without firing it: wait for its error.
                let first = stream.next().await;
                Err(first.map(error_entries).unwrap_or_default())
            }
            first = stream.next() => match first {
                Some(r) if !r.errors.is_empty() => Err(error_entries(r)),
                Some(_) | None => Err(vec![json!({"message": "the subscription ended before it started"})]),
            }
        }
    }
}
