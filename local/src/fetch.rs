//! One HTTP GET of a JSON document (an external user pool's JWKS, fetched once at start):
//! `http://` to a loopback host only (plain HTTP from elsewhere could hand over forged keys),
//! bounded in time and in size, every failure an error message.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// How long the whole fetch may take: connecting, the request and the body.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// The largest body read (a Cognito JWKS is about a kilobyte).
pub(crate) const MAX_BYTES: usize = 256 * 1024;

/// `url` for a message: any user info (`user:password@`) replaced by `<redacted>@`.
pub(crate) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://<redacted>{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// GETs `url` and parses the body as JSON; the answer must be 200.
pub(crate) async fn get_json(url: &str) -> Result<Value, String> {
    get_json_within(url, TIMEOUT).await
}

async fn get_json_within(url: &str, timeout: Duration) -> Result<Value, String> {
    match tokio::time::timeout(timeout, get(url)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no complete answer within {timeout:?}")),
    }
}

/// Aborts the connection's task when the fetch ends (or is dropped by the timeout).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn get(url: &str) -> Result<Value, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(
                "https:// is not fetched (appsync-local has no TLS client): fetch the \
                        JWKS yourself and pass it to user_pool_jwks"
                    .to_owned(),
            )
        }
        _ => return Err("not an http:// URL".to_owned()),
    }
    let (Some(host), Some(authority)) = (uri.host(), uri.authority()) else {
        return Err("the URL has no host".to_owned());
    };
    if authority.as_str().contains('@') {
        return Err("the URL has user info (user:password@): not sent".to_owned());
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(80);
    // Only this machine: the host must be `localhost` or a loopback address, and every address
    // it resolves to must be loopback.
    let named_loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !named_loopback {
        return Err(format!(
            "{host} is not a loopback host: http:// is fetched from localhost, 127.0.0.1 or \
             [::1] only (fetch the JWKS yourself and pass it to user_pool_jwks)"
        ));
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(format!(
            "{host} does not resolve to loopback addresses only"
        ));
    }
    let stream = tokio::net::TcpStream::connect(&addrs[..])
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    let _conn = AbortOnDrop(tokio::spawn(async move {
        let _ = conn.await;
    }));
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, authority.as_str())
        .header(hyper::header::ACCEPT, "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("bad request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("the request failed: {e}"))?;
    let status = response.status();
    if status != hyper::StatusCode::OK {
        return Err(format!("HTTP {status}"));
    }
    let body = Limited::new(response.into_body(), MAX_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                format!("the body is larger than {MAX_BYTES} bytes")
            } else {
                format!("reading the body failed: {e}")
            }
        })?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| format!("the body is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-shot server answering one connection with `response`; its URL.
    async fn serve_once(response: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                got.extend_from_slice(&buf[..n]);
            }
            let _ = s.write_all(&response).await;
            let _ = s.shutdown().await;
        });
        format!("http://{addr}/pool/.well-known/jwks.json")
    }

    fn answer(status: &str, body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    }

    #[tokio::test]
    async fn json_is_fetched_and_failures_are_messages() {
        let url = serve_once(answer("200 OK", br#"{"keys":[]}"#)).await;
        assert_eq!(
            get_json(&url).await.unwrap(),
            serde_json::json!({"keys": []})
        );

        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
        let url = serve_once(chunked.to_vec()).await;
        assert_eq!(get_json(&url).await.unwrap(), serde_json::json!({"a": 1}));

        let url = serve_once(answer("200 OK", b"[1]")).await;
        let url = url.replace("127.0.0.1", "localhost");
        assert_eq!(get_json(&url).await.unwrap(), serde_json::json!([1]));

        let url = serve_once(answer("302 Found", b"{}")).await;
        assert_eq!(get_json(&url).await.unwrap_err(), "HTTP 302 Found");

        let url = serve_once(answer("404 Not Found", b"{}")).await;
        assert_eq!(get_json(&url).await.unwrap_err(), "HTTP 404 Not Found");

        let url = serve_once(answer("200 OK", b"<html>")).await;
        assert!(get_json(&url).await.unwrap_err().contains("not JSON"));

        let big = vec![b' '; MAX_BYTES + 1];
        let url = serve_once(answer("200 OK", &big)).await;
        assert!(get_json(&url).await.unwrap_err().contains("larger than"));

        assert!(
            get_json("https://cognito-idp.us-east-1.amazonaws.com/x/.well-known/jwks.json")
                .await
                .unwrap_err()
                .contains("https:// is not fetched")
        );
        assert!(get_json("not a url").await.is_err());
        for remote in [
            "http://example.com/jwks.json",
            "http://10.0.0.1:5000/x",
            "http://[2001:db8::1]/x",
        ] {
            let e = get_json(remote).await.unwrap_err();
            assert!(e.contains("not a loopback host"), "{remote}: {e}");
        }
        let e = get_json("http://user:pw@127.0.0.1:1/x").await.unwrap_err();
        assert!(e.contains("user info") && !e.contains("pw"), "{e}");

        // Nothing listening on a port that was just free.
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        assert!(get_json(&format!("http://{addr}/"))
            .await
            .unwrap_err()
            .contains("cannot connect"));
    }

    #[test]
    fn user_info_is_redacted_from_urls_in_messages() {
        assert_eq!(
            redacted("http://u:p@127.0.0.1:5/x@y"),
            "http://<redacted>@127.0.0.1:5/x@y"
        );
        assert_eq!(redacted("http://127.0.0.1:5/a@b"), "http://127.0.0.1:5/a@b");
        assert_eq!(redacted("not a url @"), "not a url @");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The kernel accepts the connection and nothing ever answers; the listener lives until
        // the test ends.
        let e = get_json_within(&format!("http://{addr}/"), Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(e.contains("within"), "{e}");
        drop(listener);
    }
}
