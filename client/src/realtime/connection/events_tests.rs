//! The actor in the Events dialect: subscribe by channel, publishes over the socket matched
//! with their answers, throttled publishes sent again; on the harness of `tests.rs`.

use super::*;

fn events_config() -> ActorConfig {
    ActorConfig {
        dialect: Dialect::Events,
        ..config()
    }
}

impl Harness {
    /// Events: a subscription to `channel` (its `data` is the channel).
    fn subscribe_channel(&mut self, channel: &str) -> Pending {
        self.next_key += 1;
        let (tx, reply) = oneshot::channel();
        let shared = Arc::new(Shared::new(None));
        let req = SubRequest {
            key: self.next_key,
            data: channel.into(),
            headers: Vec::new().into(),
            shared: shared.clone(),
            reply: tx,
        };
        let handle = self.send_first(Command::Subscribe(req));
        Pending {
            reply,
            shared,
            key: self.next_key,
            tx: handle.tx,
        }
    }

    /// Events: a publish of `events` to `channel`; the receiver gets the answer.
    fn publish(&mut self, channel: &str, events: &[Value]) -> oneshot::Receiver<PubReply> {
        self.next_key += 1;
        let (tx, reply) = oneshot::channel();
        let req = PublishRequest {
            key: self.next_key,
            channel: channel.into(),
            events: events
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .into(),
            headers: Vec::new().into(),
            reply: tx,
        };
        self.send_first(Command::Publish(req));
        reply
    }

    fn send_first(&mut self, c: Command) -> Handle {
        match &self.handle {
            Some(h) => {
                assert!(h.tx.send(c).is_ok(), "the actor is gone");
                h.clone()
            }
            None => {
                let h = spawn(
                    self.config.clone(),
                    self.connector.clone(),
                    self.auth.clone(),
                    self.states_tx.clone(),
                    c,
                    tracing::Span::none(),
                );
                self.handle = Some(h.clone());
                h
            }
        }
    }
}

async fn events_ack(server: &mut ServerEnd) {
    server
        .recv_type("connection_init")
        .await
        .expect("connection_init");
    // Events puts the timeout at the top level.
    server.send(json!({"type": "connection_ack", "connectionTimeoutMs": 300_000}));
}

async fn channel_next(
    s: &mut crate::realtime::ChannelSubscription<Value>,
) -> crate::realtime::ChannelEvent<Value> {
    s.next()
        .await
        .expect("an event")
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn channel_sub(p: Pending) -> crate::realtime::ChannelSubscription<Value> {
    match p.reply.await.expect("the actor replies") {
        Reply::Started => crate::realtime::ChannelSubscription::new(
            (p.shared, p.key, p.tx),
            "notes".into(),
            AuthMode::Oidc,
            "/default/*".into(),
        ),
        other => panic!("expected Started, got {other:?}"),
    }
}

async fn published(reply: oneshot::Receiver<PubReply>) -> Result<crate::channel::PublishResult> {
    match reply.await.expect("the actor replies") {
        PubReply::Done(r) => r,
        PubReply::Retry => panic!("expected an answer, got Retry"),
    }
}

#[tokio::test(start_paused = true)]
async fn events_subscribe_by_channel_decode_each_event_and_report_broadcast_errors() {
    use crate::realtime::ChannelEvent;
    let mut h = Harness::new(events_config());
    let p = h.subscribe_channel("/default/*");
    let mut server = h.accept().await;
    events_ack(&mut server).await;
    let f = server.recv_type("subscribe").await.expect("a subscribe");
    assert_eq!(f["channel"], "/default/*");
    assert_eq!(f["authorization"]["Authorization"], "token-0");
    let id = f["id"].as_str().unwrap().to_owned();
    // What IAM signs for a subscribe: the channel as JSON.
    assert_eq!(
        h.auth.signed.lock().unwrap()[0],
        r#"{"channel":"/default/*"}"#
    );
    server.send(json!({"type": "subscribe_success", "id": id}));
    let mut s = channel_sub(p).await;
    server.send(json!({"type": "data", "id": id, "event": "{\"n\":1}"}));
    server.send(json!({"type": "broadcast_error", "id": id,
        "errors": [{"errorType": "BroadcastError", "message": "too big"}]}));
    server.send(json!({"type": "data", "id": id, "event": "\"text\""}));
    assert_eq!(
        channel_next(&mut s).await,
        ChannelEvent::Event(json!({"n": 1}))
    );
    match channel_next(&mut s).await {
        ChannelEvent::BroadcastError { errors } => assert_eq!(errors[0].message, "too big"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        channel_next(&mut s).await,
        ChannelEvent::Event(json!("text"))
    );
    // Dropping it unsubscribes.
    drop(s);
    let f = server
        .recv_type("unsubscribe")
        .await
        .expect("an unsubscribe");
    assert_eq!(f["id"], id.as_str());
}

#[tokio::test(start_paused = true)]
async fn events_subscribe_error_fails_the_start_with_the_servers_errors() {
    let mut h = Harness::new(events_config());
    let p = h.subscribe_channel("/secret/x");
    let mut server = h.accept().await;
    events_ack(&mut server).await;
    // A refusal of the credentials is retried once with fresh ones, then ends the start.
    for _ in 0..2 {
        let f = server.recv_type("subscribe").await.unwrap();
        server.send(json!({"type": "subscribe_error", "id": f["id"],
            "errors": [{"errorType": "UnauthorizedException", "message": "no"}]}));
    }
    let e = p.failed().await;
    assert_eq!(h.auth.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(e.error_type(), Some("UnauthorizedException"), "{e:?}");
}

#[tokio::test(start_paused = true)]
async fn events_publishes_wait_for_the_ack_then_are_matched_with_their_answers_by_id() {
    let mut h = Harness::new(events_config());
    // Two publishes before the socket exists: one socket, both sent after the ack.
    let a = h.publish("/default/a", &[json!({"n": 1}), json!({"n": 2})]);
    let b = h.publish("/default/b", &[json!("x")]);
    let mut server = h.accept().await;
    events_ack(&mut server).await;
    let fa = server.recv_type("publish").await.unwrap();
    let fb = server.recv_type("publish").await.unwrap();
    assert_eq!(fa["channel"], "/default/a");
    assert_eq!(
        fa["events"],
        json!([r#"{"n":1}"#, r#"{"n":2}"#]),
        "each event a JSON text"
    );
    assert_eq!(fa["authorization"]["host"], "api.example.com");
    assert_ne!(fa["id"], fb["id"]);
    assert_eq!(
        h.auth.signed.lock().unwrap()[0],
        r#"{"channel":"/default/a","events":["{\"n\":1}","{\"n\":2}"]}"#,
        "what IAM signs for a publish"
    );
    // Answered out of order.
    server.send(json!({"type": "publish_error", "id": fb["id"],
        "errors": [{"errorType": "UnauthorizedException", "message": "no"}]}));
    server.send(json!({"type": "publish_success", "id": fa["id"],
        "successful": [{"identifier": "i0", "index": 0}],
        "failed": [{"identifier": "i1", "index": 1, "code": 400, "message": "bad"}]}));
    let e = published(b).await.unwrap_err();
    assert_eq!(e.error_type(), Some("UnauthorizedException"), "{e:?}");
    let r = published(a).await.unwrap();
    assert_eq!(r.successful[0].identifier, "i0");
    assert_eq!(r.failed[0].message.as_deref(), Some("bad"));
    assert!(!r.all_accepted());
    // With nothing left, the socket closes after the idle delay.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(h.actor_gone());
}

#[tokio::test(start_paused = true)]
async fn events_a_publish_whose_socket_is_lost_fails_and_is_never_sent_twice() {
    let mut h = Harness::new(events_config());
    let p = h.subscribe_channel("/default/*");
    let mut server = h.accept().await;
    events_ack(&mut server).await;
    let f = server.recv_type("subscribe").await.unwrap();
    server.send(json!({"type": "subscribe_success", "id": f["id"]}));
    let _s = channel_sub(p).await;
    let r = h.publish("/default/a", &[json!(1)]);
    server.recv_type("publish").await.unwrap();
    server.drop_connection();
    let e = published(r).await.unwrap_err();
    assert!(
        e.to_string().contains("may or may not have been delivered"),
        "{e}"
    );
    // The subscription comes back on the next socket; the publish is not sent there.
    let mut server2 = h.accept().await;
    events_ack(&mut server2).await;
    let f = server2.recv().await.unwrap();
    assert_eq!(f["type"], "subscribe", "{f}");
}

#[tokio::test(start_paused = true)]
async fn events_an_unanswered_publish_times_out_and_a_failed_connection_fails_publishes() {
    let mut h = Harness::new(events_config());
    let r = h.publish("/default/a", &[json!(1)]);
    let mut server = h.accept().await;
    events_ack(&mut server).await;
    server.recv_type("publish").await.unwrap();
    let t0 = Instant::now();
    let e = published(r).await.unwrap_err();
    assert_eq!(t0.elapsed(), Duration::from_secs(15));
    assert!(e.is_timeout(), "{e:?}");

    let mut h = Harness::new(events_config());
    h.connector.script([Outcome::Fail]);
    let e = published(h.publish("/default/a", &[json!(1)]))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("could not be opened"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn events_a_throttled_publish_is_sent_again_later_and_its_answer_is_kept() {
    let mut h = Harness::new(events_config());
    let r = h.publish("/default/a", &[json!(1)]);
    let mut server = h.accept().await;
    events_ack(&mut server).await;
    let f = server.recv_type("publish").await.unwrap();
    server.send(json!({"type": "publish_error", "id": f["id"],
        "errors": [{"errorType": "LimitExceededError", "message": "Rate limit exceeded"}]}));
    // Not taken: sent again, under a new id, after a backoff.
    let again = server.recv_type("publish").await.unwrap();
    assert_ne!(again["id"], f["id"]);
    assert_eq!(again["events"], f["events"]);
    server.send(json!({"type": "publish_success", "id": again["id"],
        "successful": [{"identifier": "i0", "index": 0}], "failed": []}));
    assert_eq!(published(r).await.unwrap().successful.len(), 1);
    // Throttled every time: it gives up with the server's error.
    let r = h.publish("/default/a", &[json!(2)]);
    for _ in 0..=MAX_START_RETRIES {
        let f = server.recv_type("publish").await.unwrap();
        server.send(json!({"type": "publish_error", "id": f["id"],
            "errors": [{"errorType": "LimitExceededError", "message": "Rate limit exceeded"}]}));
    }
    let e = published(r).await.unwrap_err();
    assert_eq!(e.error_type(), Some("LimitExceededError"), "{e:?}");
}
