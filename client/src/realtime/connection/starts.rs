//! A subscription's `start`s: the authorization made beside the loop, the frame sent, a
//! refusal or a missing `start_ack` retried later or ending the subscription.

use super::*;

impl Actor {
    /// Starts making the authorization of a queued subscription's `start`, beside the loop;
    /// [`Actor::authorized`] sends it.
    pub(super) fn start(&mut self, key: u64) {
        if !self.conn.is_ready() {
            return;
        }
        let epoch = self.epoch;
        let Some(sub) = self.subs.get_mut(&key) else {
            return;
        };
        sub.state = SubState::Authorizing { epoch };
        let (data, headers) = (sub.data.clone(), sub.headers.clone());
        let auth = self.auth.clone();
        let limit = self.config.auth_timeout;
        let dialect = self.config.dialect;
        self.authorizing.push(Box::pin(async move {
            let r = within(
                limit,
                "a start's authorization",
                auth.start_auth(&dialect.signed_start_body(&data), &headers),
            )
            .await;
            (key, epoch, r)
        }));
    }

    /// A start's authorization is made: send the `start` (if the subscription still waits for
    /// it on this socket).
    pub(super) async fn authorized(&mut self, key: u64, epoch: u64, result: Result<AuthObject>) {
        if self.is_publish(key) {
            return self.publish_authorized(key, epoch, result).await;
        }
        if epoch != self.epoch || !self.conn.is_ready() {
            return;
        }
        let Some(sub) = self.subs.get_mut(&key) else {
            return;
        };
        if !matches!(sub.state, SubState::Authorizing { epoch: e } if e == epoch) {
            return;
        }
        sub.state = SubState::Queued;
        let object = match result {
            Ok(o) => o,
            Err(e) => {
                self.start_refused(key, e, false);
                return;
            }
        };
        let data = sub.data.clone();
        let id = self.new_id();
        let frame = self.config.dialect.start(&id, &data, &object);
        if let Err(e) = self.send(frame).await {
            self.socket_lost(Failure::new(format!("the socket failed: {e}")))
                .await;
            return;
        }
        if let Some(sub) = self.subs.get_mut(&key) {
            sub.state = SubState::Pending {
                id: id.clone(),
                deadline: Instant::now() + self.config.start_ack_timeout,
            };
            self.ids.insert(&id, key);
        }
    }

    /// A start could not be made or was not acknowledged: a first start fails; a restart is
    /// retried later (with `retry_later`, or when credentials or a provider failed) up to
    /// [`MAX_START_RETRIES`] times, else ends.
    pub(super) fn start_refused(&mut self, key: u64, error: Error, retry_later: bool) {
        let Some(sub) = self.subs.get_mut(&key) else {
            return;
        };
        let transient =
            (retry_later || error.is_auth() || error.is_timeout()) && !is_permanent(&error);
        if sub.established() && transient && sub.retries < MAX_START_RETRIES {
            let delay = self.config.reconnect.delay(sub.retries);
            sub.retries += 1;
            sub.state = SubState::Backoff {
                until: Instant::now() + delay,
            };
            tracing::debug!(key, retries = sub.retries, ?delay, error = %error, "start retried later");
            return;
        }
        self.fail(key, error);
    }

    /// Ends a subscription with an error (its caller gets it, or its stream does).
    pub(super) fn fail(&mut self, key: u64, error: Error) {
        let Some(sub) = self.subs.remove(&key) else {
            return;
        };
        if let Some(id) = sub.wire_id() {
            self.ids.remove(id);
        }
        self.full.store(false, Ordering::SeqCst);
        tracing::debug!(key, error = %error, "subscription ended with an error");
        match sub.reply {
            Some(r) => {
                let _ = r.send(Reply::Failed(error));
            }
            None => self.finish(sub.shared, Some(error)),
        }
        self.note_idle();
    }

    pub(super) async fn start_timed_out(&mut self, key: u64) {
        let Some(id) = self
            .subs
            .get(&key)
            .and_then(|s| s.wire_id())
            .map(str::to_owned)
        else {
            return;
        };
        self.ids.remove(&id);
        // In case it is registered after all.
        if let Err(e) = self.send(self.config.dialect.stop(&id)).await {
            self.socket_lost(Failure::new(format!("the socket failed: {e}")))
                .await;
            return;
        }
        if let Some(s) = self.subs.get_mut(&key) {
            s.state = SubState::Queued;
        }
        let t = self.config.start_ack_timeout;
        let e = Error::timeout(format!("no start_ack within {t:?}"));
        self.start_refused(key, e, true);
    }
}
