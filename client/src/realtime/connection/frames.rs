//! What the server sends: acks, `data` routed by id, `complete`, invalidation, and the error
//! frames of one subscription or of the whole connection.

use super::*;

impl Actor {
    /// Handles a text frame; `false` when nothing but `last_heard` changed (a `data` frame on
    /// a socket whose keep-alive was not late), so the timer need not be set again.
    pub(super) async fn on_text(&mut self, frame: TextFrame) -> bool {
        let mut moved = false;
        if let Conn::Ready {
            last_heard, missed, ..
        } = &mut self.conn
        {
            *last_heard = Instant::now();
            if std::mem::take(missed) {
                moved = true;
                self.emit(ConnectionState::Connected);
            }
        }
        // The frame that comes by the thousand: routed by its id, its text handed over whole.
        if let Some(id) = protocol::data_id(frame.as_str()) {
            match self.ids.get(id) {
                Some(key) => return self.on_data(key, frame) || moved,
                None => tracing::debug!(id = %id, "data for an unknown id"),
            }
            return moved;
        }
        self.on_message(frame).await;
        true
    }

    pub(super) async fn on_message(&mut self, frame: TextFrame) {
        let message = match self.config.dialect.parse(frame.as_str()) {
            Ok(m) => m,
            Err(bad) => {
                tracing::debug!(problem = bad.0, "ignoring a bad frame");
                return;
            }
        };
        match message {
            ServerMessage::ConnectionAck { timeout } => self.acked(timeout),
            ServerMessage::KeepAlive | ServerMessage::Other => {}
            ServerMessage::StartAck { id } => self.start_acked(&id).await,
            ServerMessage::Data { id } => match self.ids.get(&id) {
                Some(key) => {
                    self.on_data(key, frame);
                }
                None => tracing::debug!(id, "data for an unknown id"),
            },
            ServerMessage::Complete { id } => {
                if let Some(key) = self.ids.remove(&id) {
                    self.completed(key);
                }
            }
            ServerMessage::SubscriptionComplete => {
                tracing::debug!("the server invalidated the socket's subscriptions");
                let keys: Vec<u64> = self.subs.keys().copied().collect();
                for key in keys {
                    self.completed(key);
                }
                // The server closes the socket: nothing is left to restart on it.
                self.exit = true;
            }
            ServerMessage::Error {
                id: Some(id),
                errors,
            } => match self.ids.get(&id) {
                Some(key) if self.is_publish(key) => {
                    self.published(&id, Err(errors));
                }
                Some(key) => self.sub_error(key, &id, errors).await,
                None => tracing::debug!(id, "an error for an unknown id"),
            },
            ServerMessage::Error { id: None, errors } => self.connection_level_error(errors).await,
            // Events: the frame goes to the reader, which reports its errors; the subscription
            // goes on.
            ServerMessage::BroadcastError { id, .. } => match self.ids.get(&id) {
                Some(key) => {
                    self.on_data(key, frame);
                }
                None => tracing::debug!(id, "a broadcast_error for an unknown id"),
            },
            ServerMessage::Published { id, outcome } => self.published(&id, outcome),
            ServerMessage::ConnectionError { errors } => {
                let f = Failure::from_errors("the server refused the connection", errors);
                self.socket_lost(f).await;
            }
        }
    }

    /// The server ended a subscription cleanly.
    pub(super) fn completed(&mut self, key: u64) {
        let Some(sub) = self.subs.remove(&key) else {
            return;
        };
        if let Some(id) = sub.wire_id() {
            self.ids.remove(id);
        }
        tracing::debug!(key, "the server completed the subscription");
        self.full.store(false, Ordering::SeqCst);
        match sub.reply {
            Some(r) => {
                let _ = r.send(Reply::Failed(Error::realtime(
                    "the server completed the subscription before acknowledging it",
                )));
            }
            None => self.finish(sub.shared, None),
        }
        self.note_idle();
    }

    /// A `data` frame for the subscription of `key`; `true` when it stopped the reading.
    pub(super) fn on_data(&mut self, key: u64, frame: TextFrame) -> bool {
        if let Some(sub) = self.subs.get(&key) {
            sub.shared.push_data(frame);
        }
        self.maybe_pause()
    }

    pub(super) async fn start_acked(&mut self, id: &str) {
        let Some(key) = self.ids.get(id) else {
            tracing::debug!(id, "start_ack for an unknown id");
            return;
        };
        let Some(sub) = self.subs.get_mut(&key) else {
            return;
        };
        if !matches!(&sub.state, SubState::Pending { id: p, .. } if p == id) {
            return;
        }
        sub.state = SubState::Active { id: id.to_owned() };
        sub.retries = 0;
        sub.fresh_retry = false;
        if let Some(reply) = sub.reply.take() {
            if reply.send(Reply::Started).is_err() {
                // The caller stopped waiting: nobody will read it.
                self.remove(key).await;
            }
            return;
        }
        if let Some(since) = sub.down_since.take() {
            let gap = Instant::now().saturating_duration_since(since);
            tracing::debug!(key, ?gap, "subscription resumed");
            sub.shared.push_resumed(gap);
        }
    }

    /// An `error` frame for one subscription.
    pub(super) async fn sub_error(&mut self, key: u64, id: &str, errors: Vec<GraphQLError>) {
        self.ids.remove(id);
        let Some(sub) = self.subs.get_mut(&key) else {
            return;
        };
        if matches!(sub.state, SubState::Active { .. }) {
            self.fail(
                key,
                Error::realtime_errors("the server ended the subscription", errors),
            );
            return;
        }
        sub.state = SubState::Queued;
        if protocol::is_max_subscriptions(&errors) {
            self.full.store(true, Ordering::SeqCst);
            if let Some(reply) = sub.reply.take() {
                // A first start goes to another socket.
                self.subs.remove(&key);
                let _ = reply.send(Reply::Retry);
                self.note_idle();
            } else {
                let e = Error::realtime_errors("the subscription cap is reached", errors);
                self.start_refused(key, e, true);
            }
        } else if protocol::is_limit_exceeded(&errors) {
            let delay = self.config.reconnect.delay(sub.retries);
            if sub.retries < MAX_START_RETRIES {
                sub.retries += 1;
                sub.state = SubState::Backoff {
                    until: Instant::now() + delay,
                };
            } else {
                self.fail(
                    key,
                    Error::realtime_errors("the subscription was throttled", errors),
                );
            }
        } else if protocol::is_credentials_refusal(&errors) && !sub.fresh_retry {
            // An expired token or a stale signature: once, with fresh credentials.
            sub.fresh_retry = true;
            let auth = self.auth.clone();
            if auth.refresh(None).await {
                self.start(key);
            } else {
                self.fail(
                    key,
                    Error::realtime_errors("the subscription was refused", errors),
                );
            }
        } else {
            self.fail(
                key,
                Error::realtime_errors("the subscription was refused", errors),
            );
        }
    }

    /// An `error` frame without an id: it concerns the connection.
    pub(super) async fn connection_level_error(&mut self, errors: Vec<GraphQLError>) {
        if protocol::is_max_subscriptions(&errors) || protocol::is_limit_exceeded(&errors) {
            // Throttling: which start it answers is unknown, so every pending start is
            // withdrawn and made again later. The socket stays.
            if protocol::is_max_subscriptions(&errors) {
                self.full.store(true, Ordering::SeqCst);
            }
            let cause = Failure::from_errors("the server throttled the connection", errors.clone());
            tracing::debug!(message = %cause.message, "throttled: pending starts are retried later");
            self.emit(ConnectionState::Throttled {
                cause: cause.disruption(),
            });
            let pending: Vec<(u64, String)> = self
                .subs
                .iter()
                .filter_map(|(k, s)| match &s.state {
                    SubState::Pending { id, .. } => Some((*k, id.clone())),
                    _ => None,
                })
                .collect();
            for (key, id) in pending {
                self.ids.remove(&id);
                if self.send(self.config.dialect.stop(&id)).await.is_err() {
                    break;
                }
                let delay = self.config.reconnect.delay(0);
                if let Some(sub) = self.subs.get_mut(&key) {
                    sub.retries += 1;
                    if sub.retries > MAX_START_RETRIES {
                        self.fail(
                            key,
                            Error::realtime_errors(
                                "the subscription was throttled",
                                errors.clone(),
                            ),
                        );
                    } else {
                        sub.state = SubState::Backoff {
                            until: Instant::now() + delay,
                        };
                    }
                }
            }
            return;
        }
        let f = Failure::from_errors("the server sent a connection error", errors);
        tracing::debug!(message = %f.message, "error without id: reconnecting");
        self.socket_lost(f).await;
    }
}
