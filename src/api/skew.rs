//! Clock skew: the service refuses a signature whose timestamp is more than five minutes off
//! (`AuthFailure.SignatureExpire`), and its answer's `Date` header says what time it is. From
//! the two the client learns how far the runner's clock is off, and signs with the service's
//! time from then on.

use time::{Date, Month, PrimitiveDateTime, Time};

/// Seconds since the epoch of an HTTP `Date` header in the IMF-fixdate form every server sends
/// (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_weekday, day, month, year, clock, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = match *month {
        "Jan" => Month::January,
        "Feb" => Month::February,
        "Mar" => Month::March,
        "Apr" => Month::April,
        "May" => Month::May,
        "Jun" => Month::June,
        "Jul" => Month::July,
        "Aug" => Month::August,
        "Sep" => Month::September,
        "Oct" => Month::October,
        "Nov" => Month::November,
        "Dec" => Month::December,
        _ => return None,
    };
    let date = Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    let mut hms = clock.split(':').map(|n| n.parse::<u8>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() {
        return None;
    }
    let time = Time::from_hms(h, m, s).ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    )
}

/// How the skew reads in a log line: "10m 3s behind".
pub fn describe_offset(offset: i64) -> String {
    let direction = if offset > 0 { "behind" } else { "ahead of" };
    let secs = offset.unsigned_abs();
    let amount = crate::duration::format(std::time::Duration::from_secs(secs));
    format!("{amount} {direction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_imf_fixdate() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784111777)
        );
        assert_eq!(
            parse_http_date("Sat, 28 Nov 2026 19:30:42 GMT"),
            Some(1795894242)
        );
    }

    #[test]
    fn rejects_other_forms() {
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn offsets_read_naturally() {
        assert_eq!(describe_offset(603), "10m3s behind");
        assert_eq!(describe_offset(-3600), "1h ahead of");
    }
}
