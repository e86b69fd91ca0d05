//! Loopback HTTP servers for tests: one records every request and answers with a scripted
//! closure; a raw one streams a body that never ends. Also HTTP and SigV4 date strings.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Recorded {
    /// The single value of a header (case-insensitive); panics if repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut it = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        let first = it.next();
        assert!(it.next().is_none(), "header {name} sent twice");
        first
    }

    /// Every value of a header (case-insensitive), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The request as the SigV4 verifier takes it.
    pub fn signed_parts(&self) -> super::sigv4::SignedRequestParts<'_> {
        super::sigv4::SignedRequestParts {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: self.headers.clone(),
            body: &self.body,
        }
    }
}

/// What the server answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Responder = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

#[derive(Clone)]
struct Shared {
    requests: Arc<Mutex<Vec<Recorded>>>,
    responder: Arc<Responder>,
}

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Starts on 127.0.0.1:0; `responder(request, index)` answers the index-th request.
    pub async fn start(
        responder: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            requests: requests.clone(),
            responder: Arc::new(responder),
        };
        let app = Router::new().fallback(handle).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer {
            addr,
            requests,
            task,
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut hs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    // HTTP/2 carries the host in the URI's authority.
    if !hs.iter().any(|(k, _)| k == "host") {
        if let Some(a) = uri.authority() {
            hs.push(("host".into(), a.to_string()));
        }
    }
    let rec = Recorded {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        headers: hs,
        body,
    };
    let index = {
        let mut r = s.requests.lock().unwrap();
        r.push(rec.clone());
        r.len() - 1
    };
    let reply = (s.responder)(&rec, index);
    let mut resp = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (k, v) in reply.headers {
        resp.headers_mut().append(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            axum::http::HeaderValue::from_str(&v).unwrap(),
        );
    }
    resp
}

/// An unsigned JWT (`alg: none`) with these claims; enough for a client, which never verifies.
pub fn jwt(claims: serde_json::Value) -> String {
    use base64::Engine;
    let b = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.c2ln",
        b(r#"{"alg":"none","typ":"JWT"}"#),
        b(&claims.to_string())
    )
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), as a server's `Date` header.
pub fn http_date(t: std::time::SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

/// A SigV4 date (`19941106T084937Z`); these sort as the times they name.
pub fn amz_date(t: std::time::SystemTime) -> String {
    // `Sun, 06 Nov 1994 08:49:37 GMT`
    let d = http_date(t);
    let p: Vec<&str> = d.split([' ', ':']).collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == p[2])
    .unwrap()
        + 1;
    format!("{}{month:02}{}T{}{}{}Z", p[3], p[1], p[4], p[5], p[6])
}

/// Whether a SigV4 date is within `slack` of `now`.
pub fn amz_date_near(amz: &str, now: std::time::SystemTime, slack: std::time::Duration) -> bool {
    amz.len() == 16
        && amz_date(now - slack).as_str() <= amz
        && amz <= amz_date(now + slack).as_str()
}

/// A raw server whose every answer is `200` with a body that does not end: it streams zeros
/// (with `Content-Length: declared`, or chunked) until the client hangs up or `cap` bytes are
/// written, and counts what it wrote.
pub struct EndlessServer {
    pub addr: SocketAddr,
    written: Arc<std::sync::atomic::AtomicU64>,
    done: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl EndlessServer {
    pub async fn start(declared: Option<u64>, cap: u64) -> EndlessServer {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let written = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let done = Arc::new(tokio::sync::Notify::new());
        let (w, d) = (written.clone(), done.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (w, d) = (w.clone(), d.clone());
                tokio::spawn(async move {
                    // Read the request head; the body (if any) is not needed.
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|x| x == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let framing = match declared {
                        Some(n) => format!("content-length: {n}\r\n"),
                        None => "transfer-encoding: chunked\r\n".to_owned(),
                    };
                    let start = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-amzn-RequestId: endless-1\r\n{framing}\r\n"
                    );
                    if sock.write_all(start.as_bytes()).await.is_ok() {
                        let chunk = vec![b'0'; 64 * 1024];
                        let framed = {
                            let mut f = format!("{:x}\r\n", chunk.len()).into_bytes();
                            f.extend_from_slice(&chunk);
                            f.extend_from_slice(b"\r\n");
                            f
                        };
                        let piece = if declared.is_some() { &chunk } else { &framed };
                        while w.load(Ordering::SeqCst) < cap {
                            if sock.write_all(piece).await.is_err() {
                                break;
                            }
                            w.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                        }
                    }
                    d.notify_one();
                });
            }
        });
        EndlessServer {
            addr,
            written,
            done,
            task,
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Waits until a connection's writer stopped (the client hung up, or the cap was hit).
    pub async fn stopped(&self) {
        self.done.notified().await;
    }

    /// Body bytes written so far.
    pub fn written(&self) -> u64 {
        self.written.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for EndlessServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
