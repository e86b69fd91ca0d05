//! AppSync's scalars and their wire rules (§4): what appsync-local accepts as input.

use async_graphql::Value;

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `Z`, `±hh:mm` or `±hh:mm:ss`.
fn offset(s: &str) -> bool {
    if s == "Z" {
        return true;
    }
    let Some(rest) = s.strip_prefix('+').or_else(|| s.strip_prefix('-')) else {
        return false;
    };
    let parts: Vec<&str> = rest.split(':').collect();
    match parts.as_slice() {
        [h, m] => digits(h, 2) && digits(m, 2),
        [h, m, sec] => digits(h, 2) && digits(m, 2) && digits(sec, 2),
        _ => false,
    }
}

/// Splits a trailing offset (`Z` or `±…`) off a time or date; the sign is looked for from
/// byte `search_from` on. The input is the caller's: `search_from` may fall inside a
/// multi-byte character, so the split point comes from `char_indices`, never from slicing at
/// `search_from` itself.
fn split_offset(s: &str, search_from: usize) -> (&str, Option<&str>) {
    if let Some(stripped) = s.strip_suffix('Z') {
        return (stripped, Some("Z"));
    }
    match s
        .char_indices()
        .find(|&(i, c)| i >= search_from && (c == '+' || c == '-'))
    {
        Some((i, _)) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    }
}

fn date(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let p: Vec<&str> = s.split('-').collect();
    matches!(p.as_slice(), [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2)
        && (1..=12).contains(&m.parse::<u32>().unwrap_or(0)) && (1..=31).contains(&d.parse::<u32>().unwrap_or(0)))
}

fn time(s: &str) -> bool {
    let (hms, frac) = match s.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (s, None),
    };
    let p: Vec<&str> = hms.split(':').collect();
    let ok = match p.as_slice() {
        [h, m] => frac.is_none() && digits(h, 2) && digits(m, 2),
        [h, m, sec] => digits(h, 2) && digits(m, 2) && digits(sec, 2),
        _ => false,
    };
    ok && frac.is_none_or(|f| (1..=9).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()))
}

/// What an AWS scalar holds, in AppSync's "Unable to parse `…` as a valid …" message.
pub(crate) fn what(name: &str) -> &'static str {
    match name {
        "AWSDate" => "date",
        "AWSTime" => "time",
        "AWSDateTime" => "DateTime Object",
        "AWSTimestamp" => "timestamp",
        "AWSEmail" => "email address",
        "AWSJSON" => "JSON",
        "AWSURL" => "URL",
        "AWSPhone" => "phone number",
        "AWSIPAddress" => "IP address",
        _ => "value",
    }
}

/// Whether a value is valid input for the AWS scalar `name` (other names: always).
pub(crate) fn valid(name: &str, v: &Value) -> bool {
    match name {
        "AWSTimestamp" => matches!(v, Value::Number(n) if n.is_i64() || n.is_u64()),
        _ => {
            let Value::String(s) = v else { return false };
            let s = s.as_str();
            match name {
                "AWSDate" => {
                    // The offset's sign is a dash too: look for it after the date.
                    let start = if s.starts_with('-') { 11 } else { 10 };
                    let (d, off) = split_offset(s, start);
                    date(d) && off.is_none_or(offset)
                }
                "AWSTime" => {
                    let (t, off) = split_offset(s, 0);
                    time(t) && off.is_none_or(offset)
                }
                "AWSDateTime" => {
                    let Some((d, rest)) = s.split_once('T') else {
                        return false;
                    };
                    let (t, off) = split_offset(rest, 0);
                    date(d) && time(t) && off.is_some_and(offset)
                }
                "AWSEmail" => match s.split_once('@') {
                    Some((l, d)) => {
                        !l.is_empty() && !d.is_empty() && !s.contains(char::is_whitespace)
                    }
                    None => false,
                },
                "AWSJSON" => serde_json::from_str::<serde_json::Value>(s).is_ok(),
                "AWSURL" => match s.split_once(':') {
                    Some((scheme, rest)) => {
                        !scheme.is_empty()
                            && scheme
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                            && !rest.trim_start_matches("//").contains("//")
                    }
                    None => false,
                },
                "AWSPhone" => {
                    let d = s.bytes().filter(u8::is_ascii_digit).count();
                    (7..=15).contains(&d)
                        && s.bytes()
                            .all(|b| b.is_ascii_digit() || b" -+()".contains(&b))
                }
                "AWSIPAddress" => {
                    let (ip, prefix) = match s.split_once('/') {
                        Some((ip, p)) => (ip, Some(p)),
                        None => (s, None),
                    };
                    match ip.parse::<std::net::IpAddr>() {
                        Ok(addr) => prefix.is_none_or(|p| {
                            p.parse::<u8>()
                                .is_ok_and(|n| n <= if addr.is_ipv4() { 32 } else { 128 })
                        }),
                        Err(_) => false,
                    }
                }
                _ => true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    #[test]
    fn aws_scalars() {
        for ok in [
            "1970-01-01",
            "1970-01-01Z",
            "1970-01-01-07:00",
            "1970-01-01+05:30:15",
        ] {
            assert!(valid("AWSDate", &s(ok)), "{ok}");
        }
        for bad in ["1970-1-01", "1970-13-01", "01-01-1970", "1970-01-01T00:00Z"] {
            assert!(!valid("AWSDate", &s(bad)), "{bad}");
        }
        for ok in [
            "12:30",
            "12:30:00",
            "12:30:00.123456789",
            "12:30Z",
            "12:30:00-08:00",
        ] {
            assert!(valid("AWSTime", &s(ok)), "{ok}");
        }
        for bad in ["12:30.5", "12:30:00.1234567890", "1230"] {
            assert!(!valid("AWSTime", &s(bad)), "{bad}");
        }
        assert!(valid("AWSDateTime", &s("2024-05-01T12:30:00.5Z")));
        assert!(valid("AWSDateTime", &s("2024-05-01T12:30+02:00")));
        assert!(
            !valid("AWSDateTime", &s("2024-05-01T12:30:00")),
            "offset is required"
        );
        assert!(valid("AWSTimestamp", &Value::from(1_700_000_000)));
        assert!(!valid("AWSTimestamp", &s("1700000000")));
        assert!(valid("AWSJSON", &s(r#"{"a":1}"#)) && !valid("AWSJSON", &s("{a: 1}")));
        assert!(valid("AWSEmail", &s("a@b.c")) && !valid("AWSEmail", &s("ab.c")));
        assert!(valid("AWSURL", &s("mailto:a@b.c")) && valid("AWSURL", &s("https://x.y/a")));
        assert!(!valid("AWSURL", &s("no-scheme")) && !valid("AWSURL", &s("https://x.y//a")));
        assert!(valid("AWSPhone", &s("+1 206-555-0100")) && !valid("AWSPhone", &s("call me")));
        assert!(valid("AWSIPAddress", &s("10.0.0.0/8")) && valid("AWSIPAddress", &s("::1")));
        assert!(!valid("AWSIPAddress", &s("10.0.0.0/33")) && !valid("AWSIPAddress", &s("[::1]")));
    }

    /// Every way of putting a multi-byte character into a valid value: the date and time
    /// scalars refuse it (never panic), the others at least never panic.
    #[test]
    fn multi_byte_characters_anywhere_are_refused_not_a_panic() {
        let bases = [
            ("AWSDate", "2020-01-01"),
            ("AWSDate", "-2020-01-01-07:00"),
            ("AWSDate", "2020-01-01+05:30:15"),
            ("AWSTime", "12:30:00.123-08:00"),
            ("AWSTime", "12:00Z"),
            ("AWSDateTime", "2024-05-01T12:30:00.5+02:00"),
            ("AWSDateTime", "-2024-05-01T12:30Z"),
        ];
        let others = [
            ("AWSEmail", "a@b.c"),
            ("AWSJSON", "{\"a\":[1]}"),
            ("AWSURL", "https://x.y/a"),
            ("AWSPhone", "+1 206-555-0100"),
            ("AWSIPAddress", "10.0.0.0/8"),
        ];
        let odd = [
            "é",
            "\u{301}",
            "１",
            "٣",
            "😀",
            "\u{10FFFF}",
            "\u{FEFF}",
            "\u{a0}",
        ];
        for (name, base) in bases.iter().chain(&others) {
            let chars: Vec<char> = base.chars().collect();
            for o in odd {
                for at in 0..=chars.len() {
                    let mut inserted: String = chars[..at].iter().collect();
                    inserted.push_str(o);
                    inserted.extend(&chars[at..]);
                    let mut replaced: String = chars[..at].iter().collect();
                    if at < chars.len() {
                        replaced.push_str(o);
                        replaced.extend(&chars[at + 1..]);
                    }
                    for v in [inserted, replaced] {
                        let ok = valid(name, &s(&v));
                        if bases.iter().any(|(n, _)| n == name) && v != *base {
                            assert!(!ok, "{name} accepted {v:?}");
                        }
                    }
                }
            }
        }
        for bad in [
            "2020-01-0é",
            "１２:００",
            "é",
            "12:3é",
            "2020-01-01T１２:00Z",
        ] {
            for name in ["AWSDate", "AWSTime", "AWSDateTime"] {
                assert!(!valid(name, &s(bad)), "{name} accepted {bad:?}");
            }
        }
    }
}
