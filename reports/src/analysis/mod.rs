//! Terminal rendering of the analyzer's results (`compare`, `steps`, `trends`, `busts`,
//! `metrics`): plain text built from [`crate::table::Table`] and [`crate::fmt`].

pub mod busts;
pub mod compare;
pub mod metrics;
pub mod steps;
pub mod trends;

use crate::fmt::duration_ns;

/// Milliseconds (as the analyzer reports them) for people: `850ms`, `4.2s`, `3m12s`.
pub fn ms(v: f64) -> String {
    duration_ns((v * 1e6).round() as i64)
}

/// Optional milliseconds, `-` when unknown.
pub fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), ms)
}

/// A signed difference in milliseconds: `+4.0s`, `−850ms`.
pub fn signed_ms(v: f64) -> String {
    if v < 0.0 {
        format!("−{}", ms(-v))
    } else {
        format!("+{}", ms(v))
    }
}

/// A ratio as a percentage: `42%`.
pub fn pct(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

/// Optional ratio as a percentage, `-` when unknown.
pub fn opt_pct(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), pct)
}

/// `[stage] instruction` (or the instruction alone).
pub fn step_label(stage: Option<&str>, instruction: &str) -> String {
    match stage {
        Some(s) => format!("[{s}] {instruction}"),
        None => instruction.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(ms(4200.0), "4.2s");
        assert_eq!(signed_ms(-850.0), "−850ms");
        assert_eq!(pct(0.425), "42%");
        assert_eq!(usd(0.0123), "$0.0123");
        assert_eq!(usd(-12.5), "−$12.50");
        assert_eq!(step_label(Some("deps"), "RUN x"), "[deps] RUN x");
    }
}
