//! Human durations: `90s`, `15m`, `1h30m`, `500ms`, or bare seconds; parsed for configuration
//! and rendered back the same way in logs, so what a person wrote is what they read.

use std::time::Duration;

/// Parses `1h30m`, `90s`, `250ms` (only when `allow_millis`), or a bare number of seconds.
/// Returns `None` for anything else, including zero-length input and overflow.
pub fn parse(text: &str, allow_millis: bool) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u64>().ok().map(Duration::from_secs);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "h" => Duration::from_secs(number.checked_mul(3600)?),
            "m" => Duration::from_secs(number.checked_mul(60)?),
            "s" => Duration::from_secs(number),
            "ms" if allow_millis => Duration::from_millis(number),
            _ => return None,
        };
        total = total.checked_add(part)?;
    }
    Some(total)
}

/// Renders a duration compactly: `1h30m`, `5m`, `90s` → `1m30s`, `250ms`.
pub fn format(d: Duration) -> String {
    let millis = d.subsec_millis();
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{millis}ms");
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || millis > 0 {
        if millis > 0 {
            out.push_str(&format!("{s}.{millis:03}s"));
        } else {
            out.push_str(&format!("{s}s"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse("90s", false), Some(Duration::from_secs(90)));
        assert_eq!(parse("15m", false), Some(Duration::from_secs(900)));
        assert_eq!(parse("1h30m", false), Some(Duration::from_secs(5400)));
        assert_eq!(parse("1m30s", false), Some(Duration::from_secs(90)));
        assert_eq!(parse("600", false), Some(Duration::from_secs(600)));
        assert_eq!(parse(" 5s ", false), Some(Duration::from_secs(5)));
        assert_eq!(parse("250ms", true), Some(Duration::from_millis(250)));
        assert_eq!(parse("1s500ms", true), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "", " ", "ms", "10x", "1.5s", "-5s", "5 s", "h", "1h30", "s5", "250ms", "1d",
        ] {
            assert_eq!(parse(bad, false), None, "{bad:?} should be rejected");
        }
        assert_eq!(parse("99999999999999999999", false), None);
        assert_eq!(parse("9999999999999999999h", false), None);
        assert_eq!(parse("5 ms", true), None);
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format(Duration::from_secs(90)), "1m30s");
        assert_eq!(format(Duration::from_secs(1800)), "30m");
        assert_eq!(format(Duration::from_millis(250)), "250ms");
        assert_eq!(format(Duration::from_millis(1500)), "1.500s");
        assert_eq!(format(Duration::ZERO), "0ms");
    }
}
