//! Dates and times on the wire, all through `time` and `httpdate`: `x-amz-date` values, HTTP
//! `Date` headers, `AWSDateTime` values and Unix seconds (JWT `iat`/`exp`, clock skew).

use std::time::SystemTime;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Now, in whole seconds since the Unix epoch.
pub(crate) fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// A time as `x-amz-date` wants it: `YYYYMMDD'T'HHMMSS'Z'` (UTC), e.g. to sign a request by
/// hand in a test. Times before 1970 are written as 1970-01-01, after 9999 as the last second
/// of 9999.
pub fn amz_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let t = OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or_else(|_| PrimitiveDateTime::MAX.assume_utc());
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// An `x-amz-date` value (`20150830T123600Z`) as seconds since the Unix epoch; `None` unless it
/// has that shape and names a real UTC date and time.
pub(crate) fn amz_date_seconds(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let n = |from: usize, to: usize| -> Option<u16> {
        let digits = s.get(from..to)?;
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let month = Month::try_from(u8::try_from(n(4, 6)?).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::from(n(0, 4)?), month, u8::try_from(n(6, 8)?).ok()?).ok()?;
    let [h, m, sec] =
        [n(9, 11)?, n(11, 13)?, n(13, 15)?].map(|v| u8::try_from(v).unwrap_or(u8::MAX));
    let time = Time::from_hms(h, m, sec).ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    )
}

/// Now as an HTTP `Date` value (IMF-fixdate), e.g. `Sun, 30 Aug 2015 12:36:00 GMT`.
pub(crate) fn http_date_now() -> String {
    httpdate::fmt_http_date(SystemTime::now())
}

/// Now as an `AWSDateTime` (UTC, milliseconds), e.g. `2015-08-30T12:36:00.123Z`.
pub(crate) fn aws_datetime_now() -> String {
    let t = OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn amz_dates_round_trip() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        assert_eq!(amz_date(t), "20150830T123600Z");
        assert_eq!(amz_date_seconds("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(amz_date_seconds("2015-08-30"), None);
        assert_eq!(amz_date_seconds("20151330T123600Z"), None);
        assert_eq!(
            amz_date_seconds("20150230T123600Z"),
            None,
            "no February 30th"
        );
        assert_eq!(amz_date_seconds("2015083OT1236+0Z"), None);
        assert_eq!(amz_date_seconds("20150830T1é600Z"), None);
        assert_eq!(
            amz_date(SystemTime::UNIX_EPOCH - Duration::from_secs(5)),
            "19700101T000000Z"
        );
        assert_eq!(
            amz_date(SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000)),
            "99991231T235959Z"
        );
    }

    #[test]
    fn now_has_every_shape() {
        let unix = unix_now();
        let amz = amz_date(SystemTime::now());
        let parsed = amz_date_seconds(&amz).unwrap();
        assert!((parsed - unix).abs() <= 2, "{amz} vs {unix}");
        let http = http_date_now();
        assert!(http.ends_with(" GMT") && http.len() == 29, "{http}");
        let at = aws_datetime_now();
        assert_eq!(at.len(), 24, "{at}");
        assert!(at.ends_with('Z') && at.as_bytes()[10] == b'T', "{at}");
    }

    #[test]
    fn http_dates_are_imf_fixdates() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        assert_eq!(httpdate::fmt_http_date(t), "Sun, 30 Aug 2015 12:36:00 GMT");
    }
}
