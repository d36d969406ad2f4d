//! Time arguments: `7d`, `24h`, `30m`, `2024-05-01`, or an RFC 3339 time.

use anyhow::{bail, Result};
use chrono::{NaiveDate, Utc};

/// Resolves a `--since`/`--until` argument to Unix nanoseconds, relative to `now_ns`.
pub fn parse_when(s: &str, now_ns: i64) -> Result<i64> {
    let s = s.trim();
    if let Some(ns) = collector::time::parse_rfc3339(s) {
        return Ok(ns);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let dt = d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        return match dt.timestamp_nanos_opt() {
            Some(ns) => Ok(ns),
            None => bail!("time {s:?} is out of range (1677-09-21 to 2262-04-11)"),
        };
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = match num.parse() {
        Ok(n) => n,
        Err(_) => bail!("cannot read time {s:?}: use 7d, 24h, 30m, 2024-05-01 or an RFC 3339 time"),
    };
    let secs = match unit {
        "w" => n * 7 * 86_400,
        "d" => n * 86_400,
        "h" => n * 3_600,
        "m" => n * 60,
        "s" => n,
        _ => bail!("cannot read time {s:?}: use 7d, 24h, 30m, 2024-05-01 or an RFC 3339 time"),
    };
    Ok(now_ns - secs * 1_000_000_000)
}

/// Resolves an optional `--since`/`--until` argument relative to `now_ns`.
pub fn parse_when_opt(s: Option<&str>, now_ns: i64) -> Result<Option<i64>> {
    s.map(|s| parse_when(s, now_ns)).transpose()
}

/// The store's build filter from `--label`, `--since` and `--until` arguments.
pub fn build_filter(
    labels: &[String],
    since: Option<&str>,
    until: Option<&str>,
    limit: Option<usize>,
) -> Result<collector::store::BuildFilter> {
    let now = now_ns();
    Ok(collector::store::BuildFilter {
        labels: crate::labels::parse_labels(labels)?,
        since: parse_when_opt(since, now)?,
        until: parse_when_opt(until, now)?,
        limit,
    })
}

/// Now, in Unix nanoseconds.
pub fn now_ns() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute() {
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
