//! Timestamp parsing and formatting: RFC 3339 text to and from Unix nanoseconds.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::event::Nanos;

/// Parses an RFC 3339 timestamp (any number of fractional digits, `Z` or an offset).
/// Go's zero time (`0001-01-01T00:00:00Z`) means "not set" and yields `None`.
pub fn parse_rfc3339(s: &str) -> Option<Nanos> {
    if s.starts_with("0001-01-01") {
        return None;
    }
    let dt = DateTime::parse_from_rfc3339(s).ok()?;
    dt.timestamp_nanos_opt()
}

/// Formats nanoseconds as RFC 3339 UTC with millisecond precision.
pub fn format_rfc3339(ns: Nanos) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// RFC 3339 in UTC with all nine fractional digits (exports: nothing lost).
pub fn format_rfc3339_nanos(ns: Nanos) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_fraction_widths_and_offsets() {
        let a = parse_rfc3339("2026-11-22T03:23:40.21139179Z").unwrap();
        let b = parse_rfc3339("2026-11-22T03:23:40.211391790Z").unwrap();
        assert_eq!(a, b);
        let c = parse_rfc3339("2026-11-22T04:23:40.21139179+01:00").unwrap();
        assert_eq!(a, c);
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(format_rfc3339(a), "2026-11-22T03:23:40.211Z");
    }
}
