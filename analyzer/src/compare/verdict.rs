//! The plain-words verdict of a comparison: "min is 7.1 s slower than max (95% CI 5.2–9.0 s,
//! n=6 vs 6)", "no clear difference ...", or "too few builds to tell: need more than n=2".

use super::metric::Metric;

/// Groups smaller than this get no verdict.
pub const MIN_BUILDS: usize = 3;
/// A difference is clear when p is below this and the 95% interval excludes zero.
pub const ALPHA: f64 = 0.05;

/// What the verdict is about.
pub struct Verdict<'a> {
    pub metric: Metric,
    pub group: &'a str,
    pub baseline: &'a str,
    pub n_group: usize,
    pub n_baseline: usize,
    /// median(group) − median(baseline), in the metric's own unit (ns for times).
    pub diff: f64,
    pub ci: Option<(f64, f64)>,
    pub p_value: Option<f64>,
}

impl Verdict<'_> {
    pub fn sentence(&self) -> String {
        let n = format!("n={} vs {}", self.n_group, self.n_baseline);
        if self.n_group < MIN_BUILDS || self.n_baseline < MIN_BUILDS {
            return format!(
                "too few builds to tell: need more than n={} ({n})",
                MIN_BUILDS - 1
            );
        }
        let unit = Unit::for_values(
            self.metric,
            &[
                self.diff,
                self.ci.map_or(0.0, |c| c.0),
                self.ci.map_or(0.0, |c| c.1),
            ],
        );
        let clear = match (self.ci, self.p_value) {
            (Some((lo, hi)), Some(p)) => p < ALPHA && (lo > 0.0 || hi < 0.0) && self.diff != 0.0,
            _ => false,
        };
        let claim = self.claim(unit);
        if clear {
            let (lo, hi) = self.ci.unwrap_or((0.0, 0.0));
            // The interval in the claim's direction, as magnitudes.
            let (a, b) = if self.diff > 0.0 {
                (lo, hi)
            } else {
                (-hi, -lo)
            };
            format!(
                "{claim} (95% CI {}–{} {}, {n})",
                unit.number(a),
                unit.number(b),
                unit.name()
            )
        } else {
            let ci = match self.ci {
                Some((lo, hi)) => format!(
                    "95% CI {} to {} {}, ",
                    unit.number(lo),
                    unit.number(hi),
                    unit.name()
                ),
                None => String::new(),
            };
            let p = self
                .p_value
                .map_or(String::new(), |p| format!("{}, ", p_text(p)));
            let what = if self.diff == 0.0 {
                "equal medians".to_string()
            } else {
                format!("{claim} at the median")
            };
            format!(
                "no clear difference between {} and {}: {what} ({ci}{p}{n})",
                self.group, self.baseline
            )
        }
    }

    /// "min is 7.1 s slower than max" and its kin, by metric and sign.
    fn claim(&self, unit: Unit) -> String {
        let (g, b) = (self.group, self.baseline);
        let m = format!("{} {}", unit.number(self.diff.abs()), unit.name());
        let up = self.diff > 0.0;
        match self.metric {
            Metric::Wall => format!(
                "{g} is {m} {} than {b}",
                if up { "slower" } else { "faster" }
            ),
            Metric::Executed => format!(
                "{g} spends {m} {} running steps than {b}",
                if up { "more" } else { "less" }
            ),
            Metric::Pull => format!(
                "{g} spends {m} {} pulling layers than {b}",
                if up { "more" } else { "less" }
            ),
            Metric::Saved => format!(
                "{g} saves {m} {} per build than {b}",
                if up { "more" } else { "less" }
            ),
            Metric::HitRatio => format!(
                "{g}'s hit ratio is {m} {} than {b}'s",
                if up { "higher" } else { "lower" }
            ),
        }
    }
}

/// `p=0.31`, `p=0.004`, `p<0.001`.
pub fn p_text(p: f64) -> String {
    if p < 0.001 {
        "p<0.001".into()
    } else if p < 0.01 {
        format!("p={p:.3}")
    } else {
        format!("p={p:.2}")
    }
}

/// The unit a verdict prints its numbers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Millis,
    Points,
}

impl Unit {
    /// Seconds unless every value is under a second; percentage points for ratios.
    pub fn for_values(metric: Metric, values: &[f64]) -> Unit {
        if !metric.is_time() {
            return Unit::Points;
        }
        if values.iter().all(|v| v.abs() < 1e9) {
            Unit::Millis
        } else {
            Unit::Seconds
        }
    }

    pub fn number(self, v: f64) -> String {
        let s = match self {
            Unit::Seconds => format!("{:.1}", v / 1e9),
            Unit::Millis => format!("{:.0}", v / 1e6),
            Unit::Points => format!("{:.1}", v * 100.0),
        };
        // Never print "-0.0".
        if s.trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.')
        {
            s.trim_start_matches('-').to_string()
        } else {
            s.replace('-', "−")
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Unit::Seconds => "s",
            Unit::Millis => "ms",
            Unit::Points => "points",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(diff_s: f64, ci: (f64, f64), p: f64, n: (usize, usize)) -> String {
        Verdict {
            metric: Metric::Wall,
            group: "min",
            baseline: "max",
            n_group: n.0,
            n_baseline: n.1,
            diff: diff_s * 1e9,
            ci: Some((ci.0 * 1e9, ci.1 * 1e9)),
            p_value: Some(p),
        }
        .sentence()
    }

    #[test]
    fn wording() {
        assert_eq!(
            v(7.1, (5.2, 9.0), 0.002, (6, 6)),
            "min is 7.1 s slower than max (95% CI 5.2–9.0 s, n=6 vs 6)"
        );
        assert_eq!(
            v(-7.1, (-9.0, -5.2), 0.002, (6, 6)),
            "min is 7.1 s faster than max (95% CI 5.2–9.0 s, n=6 vs 6)"
        );
        assert_eq!(
            v(4.0, (-1.2, 9.9), 0.31, (6, 6)),
            "no clear difference between min and max: min is 4.0 s slower than max at the median (95% CI −1.2 to 9.9 s, p=0.31, n=6 vs 6)"
        );
        assert_eq!(
            v(4.0, (1.0, 9.9), 0.31, (2, 6)),
            "too few builds to tell: need more than n=2 (n=2 vs 6)"
        );
    }
}
