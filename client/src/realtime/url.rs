//! The realtime (WebSocket) URL of a GraphQL or Events endpoint (`appsync-protocol.md` §2.1,
//! §2.9), and the handshake's query-string form (§2.4, method 1).

use base64::Engine;
use url::Url;

use crate::config::EndpointConfig;
use crate::error::{Error, Result};

/// Whether `host` is an AppSync-managed API host: `<id>.appsync-api.<region>.amazonaws.com`
/// (or `.com.cn`). Anything else is a custom domain.
fn is_aws_host(host: &str) -> bool {
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"));
    let Some(rest) = rest else { return false };
    let mut parts = rest.split('.');
    let (Some(id), Some("appsync-api"), Some(region), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let id_ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    id_ok && region_ok
}

/// Derives the realtime URL from the GraphQL URL: on an AppSync host, `appsync-api` becomes
/// `appsync-realtime-api` and the path stays; on a custom domain (or a local server)
/// `/realtime` is appended to the path. `https` maps to `wss` and `http` to `ws` (amplify-js
/// maps `http` to `wss`, which breaks plain local servers). The query is kept.
pub(crate) fn derive(graphql: &Url) -> Result<Url> {
    derive_for(graphql, false)
}

/// [`derive`] for an Events URL (`…/event`): the host swaps the same way, and the path always
/// gains `/realtime` (`/event/realtime`, on AWS hosts and custom domains alike).
pub(crate) fn derive_events(events: &Url) -> Result<Url> {
    derive_for(events, true)
}

fn derive_for(graphql: &Url, events: bool) -> Result<Url> {
    let scheme = match graphql.scheme() {
        "https" => "wss",
        "http" => "ws",
        other => {
            return Err(Error::config(format!(
                "cannot derive a realtime URL from a {other:?} GraphQL URL; set realtimeEndpoint"
            )))
        }
    };
    let host = graphql.host_str().unwrap_or_default().to_ascii_lowercase();
    let mut url = graphql.clone();
    // `set_scheme` refuses special-to-non-special changes (http -> ws is special to special
    // and works); rebuilding the string keeps this independent of `url`'s rules.
    let rebuilt = format!("{scheme}{}", &url.as_str()[graphql.scheme().len()..]);
    url = Url::parse(&rebuilt).map_err(|e| {
        Error::config(format!("the derived realtime URL is invalid: {e}")).with_source(e)
    })?;
    let aws = is_aws_host(&host);
    if aws {
        let realtime_host = host.replacen(".appsync-api.", ".appsync-realtime-api.", 1);
        url.set_host(Some(&realtime_host)).map_err(|e| {
            Error::config(format!("the derived realtime host is invalid: {e}")).with_source(e)
        })?;
    }
    if events || !aws {
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{path}/realtime"));
    }
    Ok(url)
}

/// The URL the socket connects to for an endpoint: the client's proxy URL, else the
/// endpoint's explicit realtime URL, else the derived one.
pub(crate) fn connect_url(endpoint: &EndpointConfig, proxy: Option<&Url>) -> Result<Url> {
    if let Some(p) = proxy {
        return Ok(p.clone());
    }
    match endpoint.realtime_url() {
        Some(u) => Ok(u.clone()),
        None if endpoint.endpoint_type() == crate::config::EndpointType::Events => {
            derive_events(endpoint.url())
        }
        None => derive(endpoint.url()),
    }
}

/// The URL for the query-string handshake: the existing query kept, plus
/// `header=<standard base64 of the object>&payload=e30=`, percent-encoded (so that `+`, `/`
/// and `=` survive servers that decode the query as a form). The result holds credentials:
/// it must never be logged or put in an error.
pub(crate) fn with_auth_query(url: &Url, header_json: &str) -> Url {
    let mut url = url.clone();
    let header = base64::engine::general_purpose::STANDARD.encode(header_json);
    url.query_pairs_mut()
        .append_pair("header", &header)
        .append_pair("payload", "e30=");
    url
}

/// The URL without its query, fragment and user info: safe to log (the query may carry the
/// handshake's credentials).
pub(crate) fn redacted(url: &Url) -> String {
    crate::config::redacted_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> String {
        derive(&Url::parse(s).unwrap()).unwrap().to_string()
    }

    #[test]
    fn events_urls_gain_realtime_on_every_host() {
        let e = |s: &str| derive_events(&Url::parse(s).unwrap()).unwrap().to_string();
        assert_eq!(
            e("https://abcdefghijklmnopqrstuvwxyz.appsync-api.us-east-1.amazonaws.com/event"),
            "wss://abcdefghijklmnopqrstuvwxyz.appsync-realtime-api.us-east-1.amazonaws.com/event/realtime"
        );
        assert_eq!(
            e("https://events.example.com/event"),
            "wss://events.example.com/event/realtime"
        );
        assert_eq!(
            e("http://127.0.0.1:9/event"),
            "ws://127.0.0.1:9/event/realtime"
        );
    }

    #[test]
    fn aws_hosts_swap_to_the_realtime_host() {
        assert_eq!(
            d("https://abcdefghijklmnopqrstuvwxyz.appsync-api.us-east-1.amazonaws.com/graphql"),
            "wss://abcdefghijklmnopqrstuvwxyz.appsync-realtime-api.us-east-1.amazonaws.com/graphql"
        );
        assert_eq!(
            d("https://abc.appsync-api.cn-north-1.amazonaws.com.cn/graphql"),
            "wss://abc.appsync-realtime-api.cn-north-1.amazonaws.com.cn/graphql"
        );
    }

    #[test]
    fn custom_domains_and_local_servers_get_realtime_appended() {
        assert_eq!(
            d("https://api.example.com/graphql"),
            "wss://api.example.com/graphql/realtime"
        );
        assert_eq!(
            d("https://api.example.com/graphql/"),
            "wss://api.example.com/graphql/realtime"
        );
        assert_eq!(
            d("http://127.0.0.1:4000/graphql"),
            "ws://127.0.0.1:4000/graphql/realtime"
        );
        assert_eq!(
            d("https://api.example.com:8443/graphql?stage=dev"),
            "wss://api.example.com:8443/graphql/realtime?stage=dev"
        );
        // Not an AppSync host: too many labels, or another service.
        assert_eq!(
            d("https://x.y.appsync-api.us-east-1.amazonaws.com/graphql"),
            "wss://x.y.appsync-api.us-east-1.amazonaws.com/graphql/realtime"
        );
        assert!(derive(&Url::parse("ftp://a/graphql").unwrap()).is_err());
    }

    #[test]
    fn explicit_and_proxy_urls_win() {
        let e = crate::config::Config::builder()
            .endpoint(
                EndpointConfig::graphql("a", "https://api.example.com/graphql")
                    .authorization_type(crate::AuthMode::Oidc)
                    .realtime_url("wss://rt.example.com/ws"),
            )
            .build()
            .unwrap();
        let ep = &e.endpoints()[0];
        assert_eq!(
            connect_url(ep, None).unwrap().as_str(),
            "wss://rt.example.com/ws"
        );
        let proxy = Url::parse("ws://127.0.0.1:9/p").unwrap();
        assert_eq!(
            connect_url(ep, Some(&proxy)).unwrap().as_str(),
            "ws://127.0.0.1:9/p"
        );
    }

    #[test]
    fn query_handshake_is_percent_encoded_and_redacted() {
        // A JSON whose standard base64 has '+' and '/'.
        let json = r#"{"host":"h","x-api-key":"k?>?>?~"}"#;
        let u = with_auth_query(&Url::parse("ws://h/graphql/realtime?a=1").unwrap(), json);
        let q = u.query().unwrap();
        assert!(q.starts_with("a=1&header="), "{q}");
        assert!(q.ends_with("&payload=e30%3D"), "{q}");
        assert!(!q.contains('+'), "{q}");
        let header = u
            .query_pairs()
            .find(|(k, _)| k == "header")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(header)
            .unwrap();
        assert_eq!(decoded, json.as_bytes());
        let shown = redacted(&u);
        assert_eq!(shown, "ws://h/graphql/realtime?<redacted>");
        assert!(!shown.contains("header"));
    }
}
