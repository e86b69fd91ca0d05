//! A loopback stand-in for Cognito's identity pools (`GetId`, `GetCredentialsForIdentity`) for
//! the flow tests against appsync-local: unlike moto, it hands out different credentials to the
//! guest and to the signed-in user, so that the two roles can be told apart. A `Logins` value
//! must be an unexpired ID token of the user pool the `Logins` key names (its claims are read,
//! not its signature: the user pool, moto, signed it). Every request is recorded.
//!
//! It stands in for moto only where moto cannot: moto gives one fixed set of credentials to
//! both roles and does not check `Logins`. The user pool itself is moto's.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The credentials the fake gives guests.
pub const GUEST_AKID: &str = "AKIDGUESTROLE";
pub const GUEST_SECRET: &str = "guest/secret";
pub const GUEST_SESSION: &str = "guest-session-token";
/// The credentials the fake gives the signed-in user.
pub const USER_AKID: &str = "AKIDSIGNEDINROLE";
pub const USER_SECRET: &str = "signed-in/secret";
pub const USER_SESSION: &str = "signed-in-session-token";

#[derive(Default)]
struct State {
    /// Every request: (target, body).
    requests: Vec<(String, Value)>,
    identities: usize,
}

/// The running fake.
pub struct FakeCognito {
    pub url: String,
    logins_key: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeCognito {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn error(code: &str, message: &str) -> Response {
    (
        axum::http::StatusCode::BAD_REQUEST,
        [("content-type", "application/x-amz-json-1.1")],
        json!({"__type": format!("com.amazonaws.cognito#{code}"), "message": message}).to_string(),
    )
        .into_response()
}

fn ok(v: Value) -> Response {
    (
        [("content-type", "application/x-amz-json-1.1")],
        v.to_string(),
    )
        .into_response()
}

impl FakeCognito {
    /// Serves on 127.0.0.1:0; `logins_key` (`cognito-idp.<region>.amazonaws.com/<pool id>`)
    /// is the only `Logins` key accepted.
    pub async fn start(logins_key: String) -> FakeCognito {
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        let key = logins_key.clone();
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let s = s.clone();
                let key = key.clone();
                async move { handle(&s, &key, &headers, &body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeCognito {
            url: format!("http://{addr}/"),
            logins_key,
            state,
            task,
        }
    }

    /// The requests so far: (operation, body).
    pub fn requests(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The requests of one operation.
    pub fn requests_of(&self, op: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|(o, _)| o == op)
            .map(|(_, b)| b)
            .collect()
    }
}

fn handle(state: &Mutex<State>, logins_key: &str, headers: &HeaderMap, body: &str) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let Ok(body) = serde_json::from_str::<Value>(body) else {
        return error("SerializationException", "not JSON");
    };
    let op = target.rsplit('.').next().unwrap_or_default().to_owned();
    let mut st = state.lock().unwrap();
    st.requests.push((op.clone(), body.clone()));
    match target.as_str() {
        "AWSCognitoIdentityService.GetId" => {
            st.identities += 1;
            ok(json!({"IdentityId": format!("us-east-1:0000-{:04}", st.identities)}))
        }
        "AWSCognitoIdentityService.GetCredentialsForIdentity" => {
            let Some(id) = body["IdentityId"].as_str() else {
                return error("InvalidParameterException", "no IdentityId");
            };
            let exp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 3600;
            let signed_in = match body.get("Logins") {
                None => false,
                Some(l) => {
                    let token = l[logins_key].as_str().unwrap_or_default();
                    if !is_id_token_of(token, logins_key, exp - 3600) {
                        return error("NotAuthorizedException", "Invalid login token.");
                    }
                    true
                }
            };
            let (akid, secret, session) = if signed_in {
                (USER_AKID, USER_SECRET, USER_SESSION)
            } else {
                (GUEST_AKID, GUEST_SECRET, GUEST_SESSION)
            };
            ok(json!({"IdentityId": id, "Credentials": {
                "AccessKeyId": akid, "SecretKey": secret, "SessionToken": session, "Expiration": exp}}))
        }
        _ => error("UnknownOperationException", "not in the fake"),
    }
}

/// Whether `token`'s claims are those of an unexpired ID token issued by
/// `https://<logins_key>`.
fn is_id_token_of(token: &str, logins_key: &str, now: u64) -> bool {
    use base64::Engine;
    let Some(payload) = token.split('.').nth(1) else {
        return false;
    };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else {
        return false;
    };
    let Ok(claims) = serde_json::from_slice::<Value>(&bytes) else {
        return false;
    };
    claims["token_use"] == "id"
        && claims["iss"] == format!("https://{logins_key}").as_str()
        && claims["exp"].as_u64().is_some_and(|e| e > now)
}
