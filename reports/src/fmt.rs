//! Formatting helpers: durations, byte counts, timestamps for people.

/// `850ms`, `4.2s`, `3m12s`, `1h04m`.
pub fn duration_ns(ns: i64) -> String {
    let neg = ns < 0;
    let ns = ns.unsigned_abs();
    let ms = ns as f64 / 1e6;
    let s = if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else if ms < 60_000.0 {
        format!("{:.1}s", ms / 1000.0)
    } else if ms < 3_600_000.0 {
        let total = (ms / 1000.0).round() as u64;
        format!("{}m{:02}s", total / 60, total % 60)
    } else {
        let total = (ms / 60_000.0).round() as u64;
        format!("{}h{:02}m", total / 60, total % 60)
    };
    if neg {
        format!("-{s}")
    } else {
        s
    }
}

/// Optional duration, `-` when unknown.
pub fn opt_duration_ns(ns: Option<i64>) -> String {
    ns.map_or_else(|| "-".to_string(), duration_ns)
}

/// Decimal byte counts as BuildKit prints them: `2B`, `38.9kB`, `1.98MB`.
pub fn bytes(n: i64) -> String {
    let v = n as f64;
    if v < 1e3 {
        format!("{n}B")
    } else if v < 1e6 {
        format!("{:.1}kB", v / 1e3)
    } else if v < 1e9 {
        format!("{:.2}MB", v / 1e6)
    } else {
        format!("{:.2}GB", v / 1e9)
    }
}

/// RFC 3339 with seconds, for tables.
pub fn timestamp(ns: Option<i64>) -> String {
    match ns {
        Some(ns) => collector::time::format_rfc3339(ns),
        None => "-".into(),
    }
}

/// Replaces control characters (ANSI escapes, NUL, newlines) so untrusted text cannot steer a
/// terminal or break a table row.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Cuts `s` to `max` characters, marking the cut with `…`.
pub fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ns(850_000_000), "850ms");
        assert_eq!(duration_ns(4_200_000_000), "4.2s");
        assert_eq!(duration_ns(192_000_000_000), "3m12s");
        assert_eq!(duration_ns(3_840_000_000_000), "1h04m");
        assert_eq!(bytes(8_970_180), "8.97MB");
        assert_eq!(printable("a\u{1b}[31mb\0c\n"), "a [31mb c ");
    }
}
