//! Numbers for people, in every output (terminal, Markdown, HTML): durations, percentages, byte
//! counts, money, timestamps, and [`UNKNOWN`] for a value that is not known.

/// What every output shows for a value that is not known.
pub const UNKNOWN: &str = "-";

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

/// Optional duration, [`UNKNOWN`] when unknown.
pub fn opt_duration_ns(ns: Option<i64>) -> String {
    ns.map_or_else(|| UNKNOWN.to_string(), duration_ns)
}

/// A number of milliseconds: the analyzer's `f64` or a report's whole `i64`.
pub trait Millis: Copy {
    fn millis(self) -> f64;
}

impl Millis for f64 {
    fn millis(self) -> f64 {
        self
    }
}

impl Millis for i64 {
    fn millis(self) -> f64 {
        self as f64
    }
}

/// Milliseconds: `850ms`, `4.2s`, `3m12s`.
pub fn duration_ms(ms: impl Millis) -> String {
    duration_ns((ms.millis() * 1e6).round() as i64)
}

/// Optional milliseconds, [`UNKNOWN`] when unknown.
pub fn opt_duration_ms<M: Millis>(ms: Option<M>) -> String {
    ms.map_or_else(|| UNKNOWN.to_string(), duration_ms)
}

/// A signed difference in milliseconds: `+4.0s`, `−850ms`, `±0`.
pub fn signed_duration_ms(ms: impl Millis) -> String {
    let ms = ms.millis();
    if ms > 0.0 {
        format!("+{}", duration_ms(ms))
    } else if ms < 0.0 {
        format!("−{}", duration_ms(-ms))
    } else {
        "±0".into()
    }
}

/// A ratio as a percentage: `42%`.
pub fn percent(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

/// Optional ratio as a percentage, [`UNKNOWN`] when unknown.
pub fn opt_percent(r: Option<f64>) -> String {
    r.map_or_else(|| UNKNOWN.to_string(), percent)
}

/// A relative change as a signed percentage: `+12%`, `−3%`, `±0%` (0.12, -0.03, 0.001).
pub fn signed_percent(r: f64) -> String {
    let p = (r * 100.0).round();
    if p == 0.0 {
        "±0%".into()
    } else if p > 0.0 {
        format!("+{p:.0}%")
    } else {
        format!("−{:.0}%", -p)
    }
}

/// US dollars: cents for amounts of a dollar or more, four decimals below.
pub fn usd(v: f64) -> String {
    let sign = if v < 0.0 { "−" } else { "" };
    let a = v.abs();
    if a >= 1.0 {
        format!("{sign}${a:.2}")
    } else {
        format!("{sign}${a:.4}")
    }
}

/// `[stage] instruction` (or the instruction alone).
pub fn step_label(stage: Option<&str>, instruction: &str) -> String {
    match stage {
        Some(s) => format!("[{s}] {instruction}"),
        None => instruction.to_string(),
    }
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
        None => UNKNOWN.into(),
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
        assert_eq!(duration_ms(4200.0), "4.2s");
        assert_eq!(signed_duration_ms(-850.0), "−850ms");
        assert_eq!(signed_duration_ms(0.0), "±0");
        assert_eq!(percent(0.425), "42%");
        assert_eq!(signed_percent(-0.03), "−3%");
        assert_eq!(usd(0.0123), "$0.0123");
        assert_eq!(usd(-12.5), "−$12.50");
        assert_eq!(step_label(Some("deps"), "RUN x"), "[deps] RUN x");
    }
}
