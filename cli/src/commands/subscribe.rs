//! `appsync subscribe`: one JSON line per event on stdout until Ctrl-C, `--count` or
//! `--timeout`; connection states on stderr.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use appsync_client::{
    ConnectionState, ConnectionStates, Disruption, OperationKind, SubscriptionEvent, TokenKind,
};
use futures_util::StreamExt;
use serde_json::{json, Map, Value};

use crate::args::SubscribeArgs;
use crate::commands::{graphql, human, interrupted};
use crate::exit::{client_failure, one_line, CallContext, Failure, GRAPHQL_ERRORS, OK};
use crate::input;
use crate::output::Ui;
use crate::setup;

/// Runs the subscription until it ends, the count is reached, time is up or the user stops it.
pub(crate) async fn run(args: SubscribeArgs, ui: Ui) -> Result<u8, Failure> {
    let request = graphql::request(
        &args.document,
        args.operation_name.as_deref(),
        args.variables.as_deref(),
        &args.vars,
        OperationKind::Subscription,
    )?;
    let headers = input::headers(&args.headers, "--header")?;
    let (path, config) = setup::load_config(&args.target)?;
    ui.verbose(format!("config: {}", path.display()));
    let built = setup::client(config, &args.credentials, None, ui)?;
    // Made before the start, to see the first `connecting`.
    let mut states = built.client.connection_states();
    let mut call = built.client.subscribe_graphql(request);
    if let Some(n) = &args.target.api_name {
        call = call.api_name(n.clone());
    }
    if let Some(m) = args.target.auth_mode {
        call = call.auth_mode(m);
    }
    if args.target.multi_auth {
        call = call.auth_strategy(appsync_client::AuthStrategy::Multi);
    }
    for (k, v) in headers {
        call = call.header(k, v);
    }
    if let Some(k) = &args.credentials.api_key {
        call = call.api_key(k.clone());
    }
    if args.credentials.id_token {
        call = call.token_kind(TokenKind::Id);
    }

    let timeout = args.timeout;
    let deadline = tokio::time::sleep(timeout.unwrap_or(Duration::from_secs(366 * 86400)));
    tokio::pin!(deadline);
    let stop = interrupted();
    tokio::pin!(stop);
    let mut printer = StatePrinter::new(ui);
    ui.status("subscribing (Ctrl-C to stop)…");
    let start = call.start();
    tokio::pin!(start);
    let mut sub = match wait_for_start(
        start,
        &mut states,
        &mut printer,
        stop.as_mut(),
        deadline.as_mut(),
        timeout,
    )
    .await?
    {
        StartWait::Started(s) => s,
        StartWait::Refused(e) => return Err(stream_failure(&e, built.seen.context(), ui)?),
        StartWait::Interrupted => {
            ui.status("interrupted");
            return Ok(OK);
        }
    };
    ui.status(format!(
        "subscribed on endpoint {:?} with {}; waiting for events",
        sub.api_name(),
        sub.auth_mode()
    ));
    let mut data_events = 0u64;
    let mut had_errors = false;
    if args.count == Some(0) {
        return Ok(OK);
    }
    loop {
        tokio::select! {
            event = sub.next() => match event {
                Some(Ok(event)) => {
                    let Some((line, is_data, errors)) = event_json(event) else { continue };
                    ui.json(&line, false)?;
                    if is_data {
                        data_events += 1;
                        had_errors |= errors;
                        if args.count.is_some_and(|n| data_events >= n) {
                            break;
                        }
                    }
                }
                Some(Err(e)) if e.is_decode() => {
                    ui.status(one_line(&format!("an event could not be decoded and was skipped: {e}")));
                }
                Some(Err(e)) => return Err(stream_failure(&e, CallContext { mode: Some(sub.auth_mode()) }, ui)?),
                None => {
                    ui.status("the server ended the subscription");
                    break;
                }
            },
            Some((api, mode, state)) = states.next() => printer.print(&api, mode, &state),
            _ = &mut stop => {
                ui.status("interrupted");
                break;
            }
            _ = &mut deadline, if timeout.is_some() => {
                if let Some(n) = args.count.filter(|n| data_events < *n) {
                    return Err(Failure::broken(format!(
                        "--timeout {} passed with {data_events} of {n} events",
                        human(timeout.unwrap_or_default())
                    )));
                }
                break;
            }
        }
    }
    Ok(if had_errors { GRAPHQL_ERRORS } else { OK })
}

/// An event as its JSON line, whether it is a data event, and whether it carried errors.
/// `None` for kinds of events this version does not know.
fn event_json(event: SubscriptionEvent<Value>) -> Option<(Value, bool, bool)> {
    Some(match event {
        SubscriptionEvent::Data(r) => {
            let mut line = Map::new();
            line.insert("type".into(), json!("data"));
            if let Value::Object(body) = graphql::response_json(&r) {
                line.extend(body);
            }
            (Value::Object(line), true, !r.errors.is_empty())
        }
        SubscriptionEvent::Resumed { gap } => (
            json!({"type": "resumed", "gap_ms": u64::try_from(gap.as_millis()).unwrap_or(u64::MAX)}),
            false,
            false,
        ),
        SubscriptionEvent::Lagged { missed } => {
            (json!({"type": "lagged", "missed": missed}), false, false)
        }
        SubscriptionEvent::Failing { failures, cause } => {
            let mut line = json!({"type": "failing", "failures": failures});
            if let (Value::Object(l), Value::Object(c)) = (&mut line, disruption_json(&cause)) {
                l.extend(c);
            }
            (line, false, false)
        }
        _ => return None,
    })
}

/// What disrupted a connection: the message and what the server said.
pub(crate) fn disruption_json(d: &Disruption) -> Value {
    let mut m = Map::new();
    m.insert("cause".into(), json!(d.message()));
    if let Some(s) = d.status() {
        m.insert("status".into(), json!(s.as_u16()));
    }
    if let Some(c) = d.close_code() {
        m.insert("close_code".into(), json!(c));
    }
    if let Some(r) = d.close_reason().filter(|r| !r.is_empty()) {
        m.insert("close_reason".into(), json!(r));
    }
    if let Some(t) = d.error_type() {
        m.insert("error_type".into(), json!(t));
    }
    if let Some(id) = d.request_id() {
        m.insert("request_id".into(), json!(id));
    }
    Value::Object(m)
}

/// A subscription that failed to start or ended with an error. When the server refused the
/// operation itself with GraphQL errors (e.g. `Unauthorized` on a field), as a query would
/// get them, they are printed as `{"type":"error","errors":[…]}` and the exit code is 1;
/// refused credentials and lost connections are failures (3).
pub(crate) fn stream_failure(
    e: &appsync_client::Error,
    ctx: CallContext,
    ui: Ui,
) -> Result<Failure, Failure> {
    let errors = e.graphql_errors();
    let operation_refused = e.is_realtime()
        && e.status_code().is_none()
        && !errors.is_empty()
        && !errors.iter().any(|g| {
            g.error_type
                .as_deref()
                .is_some_and(|t| t.ends_with("UnauthorizedException"))
        });
    if operation_refused {
        ui.json(
            &json!({"type": "error", "errors": graphql::errors_json(errors)}),
            false,
        )?;
        let mut f = Failure::broken(one_line(&e.to_string()));
        f.code = GRAPHQL_ERRORS;
        return Ok(f);
    }
    Ok(client_failure(e, ctx))
}

/// How waiting for a subscription's start ended.
pub(crate) enum StartWait<S, E> {
    /// It started.
    Started(S),
    /// The client or the server refused it.
    Refused(E),
    /// Ctrl-C: the command ends quietly.
    Interrupted,
}

/// Waits for a subscription's `start` while printing the connection states, until Ctrl-C
/// (`stop`) or `--timeout` (`deadline`, armed only with a `timeout`: a failure).
pub(crate) async fn wait_for_start<S, E>(
    mut start: Pin<&mut impl Future<Output = Result<S, E>>>,
    states: &mut ConnectionStates,
    printer: &mut StatePrinter,
    mut stop: Pin<&mut impl Future<Output = ()>>,
    mut deadline: Pin<&mut tokio::time::Sleep>,
    timeout: Option<Duration>,
) -> Result<StartWait<S, E>, Failure> {
    loop {
        tokio::select! {
            r = &mut start => return Ok(match r {
                Ok(s) => StartWait::Started(s),
                Err(e) => StartWait::Refused(e),
            }),
            Some((api, mode, state)) = states.next() => printer.print(&api, mode, &state),
            _ = &mut stop => return Ok(StartWait::Interrupted),
            _ = &mut deadline, if timeout.is_some() => {
                return Err(Failure::broken(format!(
                    "the subscription did not start within --timeout {}",
                    human(timeout.unwrap_or_default())
                )));
            }
        }
    }
}

/// Prints connection states on stderr: with `-v` all of them, else those that mean waiting
/// (lost, reconnecting, failing, throttled) and the recovery after them.
pub(crate) struct StatePrinter {
    ui: Ui,
    troubled: bool,
}

impl StatePrinter {
    pub(crate) fn new(ui: Ui) -> Self {
        StatePrinter {
            ui,
            troubled: false,
        }
    }

    pub(crate) fn print(
        &mut self,
        api: &str,
        mode: appsync_client::AuthMode,
        state: &ConnectionState,
    ) {
        let waiting = matches!(
            state,
            ConnectionState::Disrupted { .. }
                | ConnectionState::Reconnecting { .. }
                | ConnectionState::Failing { .. }
                | ConnectionState::Throttled { .. }
        );
        let recovered = matches!(state, ConnectionState::Connected) && self.troubled;
        if waiting {
            self.troubled = true;
        } else if matches!(state, ConnectionState::Connected) {
            self.troubled = false;
        }
        let line = one_line(&format!("realtime {api}/{mode}: {state}"));
        if self.ui.verbose > 0 {
            self.ui.verbose(line);
        } else if waiting || recovered {
            self.ui.status(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_as_lines() {
        let (line, data, errors) = event_json(SubscriptionEvent::Resumed {
            gap: Duration::from_millis(1530),
        })
        .unwrap();
        assert_eq!(line, json!({"type": "resumed", "gap_ms": 1530}));
        assert!(!data && !errors);
        let (line, ..) = event_json(SubscriptionEvent::Lagged { missed: 12 }).unwrap();
        assert_eq!(line, json!({"type": "lagged", "missed": 12}));
        let r: appsync_client::Response<Value> =
            serde_json::from_value(json!({"data": {"a": 1}, "errors": [{"message": "m"}]}))
                .unwrap();
        let (line, data, errors) = event_json(SubscriptionEvent::Data(r)).unwrap();
        assert_eq!(
            line,
            json!({"type": "data", "data": {"a": 1}, "errors": [{"message": "m"}]})
        );
        assert!(data && errors);
    }
}
