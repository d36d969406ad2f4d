//! Unit conversions for results: nanoseconds to milliseconds (rounded to the microsecond).

/// Nanoseconds to milliseconds, rounded to three decimals so JSON stays readable.
pub fn ms(ns: f64) -> f64 {
    (ns / 1e3).round() / 1e3
}

/// Optional nanoseconds to milliseconds.
pub fn opt_ms(ns: Option<f64>) -> Option<f64> {
    ns.map(ms)
}

/// Rounds a ratio or statistic to six decimals.
pub fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}
