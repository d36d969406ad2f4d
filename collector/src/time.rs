//! Timestamp parsing and formatting: RFC 3339 text to and from Unix nanoseconds, and the time
//! arguments people give (`7d`, `24h`, `2024-05-01`).

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::event::Nanos;

/// Parses an RFC 3339 timestamp (any number of fractional digits, `Z` or an offset).
/// Go's zero time (`0001-01-01T00:00:00Z`) means "not set" and yields `None`.
pub fn parse_rfc3339(s: &str) -> Option<Nanos> {
    if s.starts_with("0001-01-01") {
        return None;
    }
    if let Some(ns) = parse_utc(s.as_bytes()) {
        return Some(ns);
    }
    let dt = DateTime::parse_from_rfc3339(s).ok()?;
    dt.timestamp_nanos_opt()
}

/// The form BuildKit and buildx write (Go's `RFC3339Nano` in UTC):
/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with at most 9 fractional digits. Anything else (offsets,
/// lowercase separators, leap seconds, out-of-range values) gives `None` and is left to chrono.
fn parse_utc(b: &[u8]) -> Option<Nanos> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[b.len() - 1] != b'Z'
    {
        return None;
    }
    let num = |digits: &[u8]| {
        digits.iter().try_fold(0i64, |v, c| {
            c.is_ascii_digit().then(|| v * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (hour, minute, second) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let fraction = &b[19..b.len() - 1];
    let nanos = match fraction {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            num(digits)? * 10i64.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (years counted from March, so
/// the leap day ends a year; 400-year eras of 146,097 days).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Formats nanoseconds as RFC 3339 UTC with millisecond precision.
pub fn format_rfc3339(ns: Nanos) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// RFC 3339 in UTC with all nine fractional digits (exports: nothing lost).
pub fn format_rfc3339_nanos(ns: Nanos) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Nanoseconds to whole milliseconds, rounded half up (how every `*_ms` integer of buildprof's
/// JSON is made from a stored duration).
pub fn ns_to_ms(ns: i64) -> i64 {
    (ns + 500_000) / 1_000_000
}

/// Now, in Unix nanoseconds.
pub fn now_ns() -> Nanos {
    Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

/// A time argument that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    #[error("cannot read time {0:?}: use 7d, 24h, 30m, 2024-05-01 or an RFC 3339 time")]
    Unreadable(String),
    #[error("time {0:?} is out of range (1677-09-21 to 2262-04-11)")]
    OutOfRange(String),
    #[error("--since must be before --until (the period is empty)")]
    EmptyPeriod,
}

/// Resolves a `--since`/`--until` argument to Unix nanoseconds: an RFC 3339 time, a date
/// (midnight UTC), or a span back from `now_ns` (`2w`, `7d`, `24h`, `30m`, `10s`).
pub fn parse_when(s: &str, now_ns: Nanos) -> Result<Nanos, WhenError> {
    let s = s.trim();
    if let Some(ns) = parse_rfc3339(s) {
        return Ok(ns);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let dt = d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        return dt
            .timestamp_nanos_opt()
            .ok_or_else(|| WhenError::OutOfRange(s.to_string()));
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let unreadable = || WhenError::Unreadable(s.to_string());
    let n: i64 = num.parse().map_err(|_| unreadable())?;
    let secs = match unit {
        "w" => n * 7 * 86_400,
        "d" => n * 86_400,
        "h" => n * 3_600,
        "m" => n * 60,
        "s" => n,
        _ => return Err(unreadable()),
    };
    Ok(now_ns - secs * 1_000_000_000)
}

/// The period `[since, until)` of a report: `until` is now when not given, and a relative
/// `since` (`7d`) counts back from `until`.
pub fn parse_period(
    since: &str,
    until: Option<&str>,
    now_ns: Nanos,
) -> Result<(Nanos, Nanos), WhenError> {
    let until = parse_when_opt(until, now_ns)?.unwrap_or(now_ns);
    let since = parse_when(since, until)?;
    match since < until {
        true => Ok((since, until)),
        false => Err(WhenError::EmptyPeriod),
    }
}

/// [`parse_when`] of an optional argument.
pub fn parse_when_opt(s: Option<&str>, now_ns: Nanos) -> Result<Option<Nanos>, WhenError> {
    s.map(|s| parse_when(s, now_ns)).transpose()
}

/// A positive duration of at most a day: `10s`, `2.5s`, `500ms`, or plain seconds (`--otlp-timeout`).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let (number, unit) = match t.strip_suffix("ms") {
        Some(n) => (n, 0.001),
        None => (t.strip_suffix('s').unwrap_or(t), 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && n * unit <= 86_400.0 => {
            Ok(std::time::Duration::from_secs_f64(n * unit))
        }
        _ => Err(format!(
            "{text:?} is not a duration such as 10s, 2.5s or 500ms (more than 0, at most a day)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_since_counts_back_from_until() {
        let day = 86_400 * 1_000_000_000;
        let until = parse_when("2026-05-08", 0).unwrap();
        assert_eq!(
            parse_period("7d", Some("2026-05-08"), 0),
            Ok((until - 7 * day, until))
        );
        assert_eq!(parse_period("1d", None, until), Ok((until - day, until)));
        let since = parse_when("2026-05-01", 0).unwrap();
        assert_eq!(
            parse_period("2026-05-01", Some("2026-05-08"), 0),
            Ok((since, until))
        );
        assert_eq!(
            parse_period("2026-05-08", Some("2026-05-01"), 0),
            Err(WhenError::EmptyPeriod)
        );
    }

    #[test]
    fn durations_take_seconds_and_milliseconds() {
        use std::time::Duration;
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration(" 2.5s"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        for bad in ["0s", "-1s", "2d", "inf", "86401", ""] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

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

    fn by_chrono(s: &str) -> Option<Nanos> {
        DateTime::parse_from_rfc3339(s).ok()?.timestamp_nanos_opt()
    }

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in [
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999999999Z",
            "2000-02-29T12:00:00.5Z",
            "2024-02-29T23:59:59.000000001Z",
            "2026-11-22T03:23:40.21139179Z",
            "2100-03-01T00:00:00Z",
            "2262-04-11T23:47:16.854775807Z",
            "9999-12-31T23:59:59Z",
            "1600-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(s), by_chrono(s), "{s}");
        }
        // Not for the fast path: chrono decides.
        for s in [
            "2023-02-29T00:00:00Z",
            "2026-11-22T03:23:60Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22t03:23:40Z",
            "2026-11-22T03:23:40.Z",
            "2026-11-22T03:23:40.1234567891Z",
            "2026-11-22T03:23:40+01:00",
            "2026-11-22T03:23:4xZ",
            "+2026-11-22T03:23:40Z",
        ] {
            assert_eq!(parse_utc(s.as_bytes()), None, "{s}");
            assert_eq!(parse_rfc3339(s), by_chrono(s), "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_path_matches_chrono_everywhere(
            days in -106_000i64..106_000,
            second in 0i64..86_400,
            digits in 0usize..=9,
            fraction in 0u32..1_000_000_000,
        ) {
            let t = DateTime::<Utc>::from_timestamp(days * 86_400 + second, 0).unwrap();
            let mut s = t.format("%Y-%m-%dT%H:%M:%S").to_string();
            if digits > 0 {
                let f = format!("{fraction:09}");
                s.push('.');
                s.push_str(&f[..digits]);
            }
            s.push('Z');
            proptest::prop_assert_eq!(parse_utc(s.as_bytes()), by_chrono(&s), "{}", s);
        }
    }

    #[test]
    fn relative_and_absolute_times() {
        let now = 10 * 86_400 * 1_000_000_000;
        assert_eq!(parse_when("7d", now).unwrap(), 3 * 86_400 * 1_000_000_000);
        assert_eq!(
            parse_when("1970-01-02", now).unwrap(),
            86_400 * 1_000_000_000
        );
        assert!(parse_when("soon", now).is_err());
        assert!(parse_when("2999-01-01", now).is_err());
    }
}
