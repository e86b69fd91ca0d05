//! URL helpers of the configuration: printing one safely, loopback hosts, the `host` header.

use url::Url;

/// A URL safe to print: without user info, query and fragment, which may carry credentials (a
/// realtime URL's `header=` handshake query, a `user:password@` prefix, a signed query).
pub(crate) fn redacted_url(url: &Url) -> String {
    let mut u = url.clone();
    let had_userinfo = !url.username().is_empty() || url.password().is_some();
    u.set_query(None);
    u.set_fragment(None);
    // Fails only for URLs that cannot carry user info at all.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let mut out = u.to_string();
    if had_userinfo {
        if let Some(i) = out.find("://") {
            out.insert_str(i + 3, "<redacted>@");
        }
    }
    if url.query().is_some() {
        out.push_str("?<redacted>");
    }
    if url.fragment().is_some() {
        out.push_str("#<redacted>");
    }
    out
}

/// [`redacted_url`] of a URL not parsed yet; one that does not parse shows as `<invalid>`
/// (it may be anything, a secret included).
pub(crate) fn redacted_raw_url(raw: &str) -> String {
    Url::parse(raw).map_or_else(|_| "<invalid>".to_owned(), |u| redacted_url(&u))
}

/// Whether a URL points at this machine (plain `http://` is allowed only there by default).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The `host` header value: host, plus the port when it is not the scheme's default.
pub(crate) fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}
