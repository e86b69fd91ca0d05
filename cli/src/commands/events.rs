//! `appsync events publish` (the per-event answer on stdout) and `appsync events subscribe`
//! (one JSON line per item until Ctrl-C, `--count` or `--timeout`; connection states on
//! stderr).

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use appsync_client::{ChannelEvent, PublishResult, TokenKind};
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::args::{EventsCommand, EventsPublishArgs, EventsSubscribeArgs, Target};
use crate::commands::subscribe::{disruption_json, wait_for_start, StartWait, StatePrinter};
use crate::commands::{graphql, human, interrupted};
use crate::exit::{client_failure, one_line, CallContext, Failure, GRAPHQL_ERRORS, OK};
use crate::input;
use crate::output::Ui;
use crate::setup;

/// Runs `appsync events …`.
pub(crate) async fn run(command: EventsCommand, ui: Ui) -> Result<u8, Failure> {
    match command {
        EventsCommand::Publish(a) => publish(a, ui).await,
        EventsCommand::Subscribe(a) => subscribe(a, ui).await,
    }
}

fn no_multi_auth(target: &Target) -> Result<(), Failure> {
    if target.multi_auth {
        return Err(Failure::usage(
            "--multi-auth is for GraphQL calls (query, mutate, subscribe); give Events calls \
             --auth-mode, or none for the endpoint's own",
        ));
    }
    Ok(())
}

async fn publish(args: EventsPublishArgs, ui: Ui) -> Result<u8, Failure> {
    no_multi_auth(&args.target)?;
    let events = args
        .events
        .iter()
        .map(|e| input::json_arg(e, "EVENT"))
        .collect::<Result<Vec<Value>, Failure>>()?;
    let headers = input::headers(&args.headers, "--header")?;
    let (path, config) = setup::load_config(&args.target)?;
    ui.verbose(format!("config: {}", path.display()));
    let built = setup::client(config, &args.credentials, args.timeout, ui)?;
    let api = match &args.target.api_name {
        Some(n) => built.client.events(n.clone()),
        None => built.client.events_default(),
    };
    let mut call = api.publish(args.channel.clone(), &events);
    if args.socket {
        call = call.over_socket();
    }
    if let Some(t) = args.timeout {
        call = call.timeout(t);
    }
    for (k, v) in headers {
        call = call.header(k, v);
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
    let result = call
        .send()
        .await
        .map_err(|e| events_failure(&e, built.seen.context(), &args.channel, Action::Publish))?;
    ui.json(&result_json(&result), ui.pretty(args.output.output))?;
    if result.all_accepted() {
        Ok(OK)
    } else {
        let mut f = Failure::broken(format!(
            "{} of {} events were refused",
            result.failed.len(),
            events.len()
        ));
        f.code = GRAPHQL_ERRORS;
        Err(f)
    }
}

/// What an Events call was doing, for its hints.
#[derive(Clone, Copy)]
enum Action {
    Publish,
    Subscribe,
}

/// A library error of an Events call as a failure ([`client_failure`]), with what AppSync's
/// answers leave unsaid: an unknown namespace is the channel's first segment, and a refusal
/// may be the namespace not allowing the mode, which AppSync does not tell apart from wrong
/// credentials.
fn events_failure(
    e: &appsync_client::Error,
    ctx: CallContext,
    channel: &str,
    action: Action,
) -> Failure {
    let f = client_failure(e, ctx);
    if e.is_config() || e.is_selection() || e.is_request() || e.is_auth() {
        return f;
    }
    let namespace = channel
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let types = || {
        e.error_type().into_iter().chain(
            e.graphql_errors()
                .iter()
                .filter_map(|g| g.error_type.as_deref()),
        )
    };
    let status = e.status_code().map(|s| s.as_u16());
    let not_found =
        status == Some(404) || types().any(|t| t.contains("NotFound") || t == "ResourceNotFound");
    let refused =
        matches!(status, Some(401 | 403)) || types().any(|t| t.starts_with("Unauthorized"));
    if not_found {
        f.hint(format!(
            "a channel's first segment is its namespace ({namespace:?}): check the channel, or \
             the namespaces the Event API has"
        ))
    } else if refused {
        let verb = match action {
            Action::Publish => "publish",
            Action::Subscribe => "subscribe",
        };
        let mode = ctx
            .mode
            .map_or_else(|| "this mode".to_owned(), |m| m.to_string());
        f.hint(format!(
            "or namespace {namespace:?} may not allow {mode} to {verb}: choose a mode it allows \
             with --auth-mode"
        ))
    } else {
        f
    }
}

/// The answer as printed: `successful` and `failed` as AppSync sends them.
fn result_json(r: &PublishResult) -> Value {
    json!({
        "successful": r.successful.iter().map(|e| json!({
            "identifier": e.identifier, "index": e.index,
        })).collect::<Vec<_>>(),
        "failed": r.failed.iter().map(|e| {
            let mut v = json!({"index": e.index});
            if let Some(i) = &e.identifier { v["identifier"] = json!(i); }
            if let Some(c) = &e.code { v["code"] = c.clone(); }
            if let Some(m) = &e.message { v["message"] = json!(m); }
            v
        }).collect::<Vec<_>>(),
    })
}

async fn subscribe(args: EventsSubscribeArgs, ui: Ui) -> Result<u8, Failure> {
    no_multi_auth(&args.target)?;
    let headers = input::headers(&args.headers, "--header")?;
    let (path, config) = setup::load_config(&args.target)?;
    ui.verbose(format!("config: {}", path.display()));
    let built = setup::client(config, &args.credentials, None, ui)?;
    let mut states = built.client.connection_states();
    let api = match &args.target.api_name {
        Some(n) => built.client.events(n.clone()),
        None => built.client.events_default(),
    };
    let mut call = api.subscribe::<Value>(args.channel.clone());
    if let Some(m) = args.target.auth_mode {
        call = call.auth_mode(m);
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
    let refused = |e: &appsync_client::Error| {
        events_failure(e, built.seen.context(), &args.channel, Action::Subscribe)
    };
    let start = call.start();
    tokio::pin!(start);
    // Polled once first: a bad channel or a mode the config lacks fails there, before anything
    // is sent, and is then the only line printed.
    let ready = match std::future::poll_fn(|cx| Poll::Ready(start.as_mut().poll(cx))).await {
        Poll::Ready(Ok(s)) => Some(s),
        Poll::Ready(Err(e)) => return Err(refused(&e)),
        Poll::Pending => None,
    };
    ui.status("subscribing (Ctrl-C to stop)…");
    let mut sub = if let Some(s) = ready {
        s
    } else {
        match wait_for_start(
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
            StartWait::Refused(e) => return Err(refused(&e)),
            StartWait::Interrupted => {
                ui.status("interrupted");
                return Ok(OK);
            }
        }
    };
    ui.status(format!(
        "subscribed to {} on endpoint {:?} with {}; waiting for events",
        sub.channel(),
        sub.api_name(),
        sub.auth_mode()
    ));
    let mut received = 0u64;
    if args.count == Some(0) {
        return Ok(OK);
    }
    loop {
        tokio::select! {
            item = sub.next() => match item {
                Some(Ok(item)) => {
                    let Some((line, is_event)) = item_json(item) else { continue };
                    ui.json(&line, false)?;
                    if is_event {
                        received += 1;
                        if args.count.is_some_and(|n| received >= n) {
                            break;
                        }
                    }
                }
                Some(Err(e)) if e.is_decode() => {
                    ui.status(one_line(&format!("an event could not be decoded and was skipped: {e}")));
                }
                Some(Err(e)) => {
                    let ctx = CallContext { mode: Some(sub.auth_mode()) };
                    return Err(events_failure(&e, ctx, &args.channel, Action::Subscribe));
                }
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
                if let Some(n) = args.count.filter(|n| received < *n) {
                    return Err(Failure::broken(format!(
                        "--timeout {} passed with {received} of {n} events",
                        human(timeout.unwrap_or_default())
                    )));
                }
                break;
            }
        }
    }
    Ok(OK)
}

/// An item as its JSON line, and whether it is an event. `None` for kinds of items this version
/// does not know.
fn item_json(item: ChannelEvent<Value>) -> Option<(Value, bool)> {
    Some(match item {
        ChannelEvent::Event(e) => (json!({"type": "event", "event": e}), true),
        ChannelEvent::BroadcastError { errors } => (
            json!({"type": "broadcast_error", "errors": graphql::errors_json(&errors)}),
            false,
        ),
        ChannelEvent::Resumed { gap } => (
            json!({"type": "resumed", "gap_ms": u64::try_from(gap.as_millis()).unwrap_or(u64::MAX)}),
            false,
        ),
        ChannelEvent::Lagged { missed } => (json!({"type": "lagged", "missed": missed}), false),
        ChannelEvent::Failing { failures, cause } => {
            let mut line = json!({"type": "failing", "failures": failures});
            if let (Value::Object(l), Value::Object(c)) = (&mut line, disruption_json(&cause)) {
                l.extend(c);
            }
            (line, false)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_as_lines() {
        let (line, ev) = item_json(ChannelEvent::Event(json!({"a": 1}))).unwrap();
        assert_eq!(line, json!({"type": "event", "event": {"a": 1}}));
        assert!(ev);
        let (line, ev) = item_json(ChannelEvent::Lagged { missed: 3 }).unwrap();
        assert_eq!(line, json!({"type": "lagged", "missed": 3}));
        assert!(!ev);
        let r: PublishResult = serde_json::from_value(json!({
            "successful": [{"identifier": "i", "index": 0}],
            "failed": [{"index": 1, "code": 400, "message": "m"}]}))
        .unwrap();
        assert_eq!(
            result_json(&r),
            json!({"successful": [{"identifier": "i", "index": 0}],
                   "failed": [{"index": 1, "code": 400, "message": "m"}]})
        );
    }
}
