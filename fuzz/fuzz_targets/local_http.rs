//! Fuzz target: appsync-local's HTTP request handling, driven in-process through its router
//! (`tower::ServiceExt::oneshot`): `POST /graphql` (and other methods and paths) with arbitrary
//! or templated bodies (documents on the notes schema, variables, operation names) and headers,
//! carrying every auth mode's credentials, valid ones (IAM signatures included) and near
//! misses. Asserts no panic and no 5xx, that every `/graphql` answer is AppSync's JSON shape
//! (an `errors` list on failure, `data` or `errors` on 200, `x-amzn-ErrorType` on 4xx), and
//! that the client's own decoder reads every 200 answer.
#![no_main]

mod common;

use axum::body::Body;
use common::{authorize, local, variables, Script, Signed, AUTHS, DOCUMENTS};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tower::ServiceExt;

const HEADER_NAMES: [&str; 10] = [
    "content-type",
    "x-api-key",
    "authorization",
    "host",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-user-agent",
    "x-forwarded-for",
    "content-encoding",
    "accept",
];

fuzz_target!(|data: &[u8]| {
    let l = local(false);
    let mut s = Script::new(data);
    let method = s.pick(&[
        "POST", "POST", "POST", "POST", "GET", "PUT", "OPTIONS", "DELETE",
    ]);
    let (path, query) = match s.byte() % 8 {
        0 => ("/graphql/realtime", ""),
        1 => ("/graphql", "x=1&header=e30="),
        2 => ("/us-east-1_fuzz/.well-known/jwks.json", ""),
        3 => ("/oidc/.well-known/jwks.json", ""),
        4 => ("/nowhere", ""),
        _ => ("/graphql", ""),
    };
    let body: Vec<u8> = match s.byte() % 4 {
        0 => {
            let n = usize::from(s.u16()) % 4096;
            s.bytes(n).to_vec()
        }
        _ => {
            let query = match s.byte() % 4 {
                0 => Value::String(s.text()),
                1 => json!(42),
                _ => Value::String(s.pick(&DOCUMENTS).to_owned()),
            };
            let mut req = json!({"query": query, "variables": variables(&mut s)});
            match s.byte() % 4 {
                0 => req["operationName"] = Value::String(s.text()),
                1 => req["operationName"] = json!("CreateNote"),
                2 => req["operationName"] = json!(7),
                _ => {}
            }
            req.to_string().into_bytes()
        }
    };
    let mut headers: Vec<(String, String)> = vec![("host".to_owned(), l.host.clone())];
    if !s.byte().is_multiple_of(4) {
        headers.push(("content-type".to_owned(), "application/json".to_owned()));
    }
    for _ in 0..s.byte() % 4 {
        let name = match s.byte() % 4 {
            0 => s.text().to_ascii_lowercase(),
            _ => s.pick(&HEADER_NAMES).to_owned(),
        };
        let value = s.text();
        // Only what HTTP can carry.
        if http::HeaderName::from_bytes(name.as_bytes()).is_ok()
            && http::HeaderValue::from_str(&value).is_ok()
        {
            headers.push((name, value));
        }
    }
    let auth = s.pick(&AUTHS);
    let raw = s.text();
    if http::HeaderValue::from_str(&raw).is_ok() {
        let signed = Signed {
            method,
            path,
            query,
            body: &body,
        };
        authorize(l, auth, &raw, signed, &mut headers);
    }
    let uri = if query.is_empty() {
        format!("http://{}{path}", l.host)
    } else {
        format!("http://{}{path}?{query}", l.host)
    };
    let mut req = http::Request::builder().method(method).uri(uri);
    for (k, v) in &headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let Ok(req) = req.body(Body::from(body)) else {
        return;
    };
    let (status, errortype, body) = l.rt.block_on(async {
        let response = l.router.clone().oneshot(req).await.expect("infallible");
        let status = response.status();
        let errortype = response.headers().contains_key("x-amzn-errortype");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        (status, errortype, body)
    });
    l.clear_store();
    assert!(
        !status.is_server_error(),
        "{status}: {}",
        String::from_utf8_lossy(&body)
    );
    if path != "/graphql" || !matches!(method, "POST" | "GET") {
        return;
    }
    let answer: Value = serde_json::from_slice(&body).expect("a JSON answer");
    if status == 200 {
        assert!(
            answer.get("data").is_some() || answer.get("errors").is_some(),
            "{answer}"
        );
        if let Err(e) = appsync_client::Response::<Value>::from_slice(&body) {
            panic!("the client cannot read a 200 answer: {e}: {answer}");
        }
    } else {
        assert!(errortype, "{status} without x-amzn-ErrorType");
        let errors = answer["errors"].as_array().expect("an errors list");
        assert!(!errors.is_empty());
        for e in errors {
            assert!(
                e["errorType"].is_string() && e["message"].is_string(),
                "{e}"
            );
        }
    }
});
