//! Figures over a set of builds' metrics, for reports and job summaries: [`Totals`] (count,
//! failures, median and p90 wall time of the succeeded builds, pooled hit ratio, time saved and
//! lost) and [`BaselineMedians`] (what a build is compared with on its job page).

use crate::metrics::BuildMetrics;
use crate::stats::{median_sorted, quantile_sorted};

/// The headline figures of a set of builds. Wall-time quantiles are over succeeded builds (as
/// the trends compute them) and rounded to whole milliseconds; sums are `None` for no builds.
#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    pub builds: f64,
    pub failures: f64,
    pub median_wall_ms: Option<f64>,
    pub p90_wall_ms: Option<f64>,
    /// Hits over counted instructions, pooled across the builds.
    pub hit_ratio: Option<f64>,
    pub saved_ms: Option<f64>,
    pub bust_ms: Option<f64>,
}

impl Totals {
    pub fn of(ms: &[BuildMetrics]) -> Totals {
        let walls = succeeded_walls(ms);
        let steps: u64 = ms.iter().map(|m| m.instruction_steps as u64).sum();
        let hits: u64 = ms.iter().map(|m| m.hits as u64).sum();
        let any = !ms.is_empty();
        Totals {
            builds: ms.len() as f64,
            failures: ms.iter().filter(|m| m.status == "failed").count() as f64,
            median_wall_ms: median_sorted(&walls).map(f64::round),
            p90_wall_ms: quantile_sorted(&walls, 0.9).map(f64::round),
            hit_ratio: (steps > 0).then(|| hits as f64 / steps as f64),
            saved_ms: any.then(|| ms.iter().map(|m| m.saved_ms).sum::<f64>().round()),
            bust_ms: any.then(|| ms.iter().map(|m| m.bust_ms).sum::<f64>().round()),
        }
    }
}

/// The medians of a baseline's recent builds: wall time (of the succeeded ones) and hit ratio.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineMedians {
    pub builds: usize,
    pub median_wall_ms: Option<f64>,
    pub median_hit_ratio: Option<f64>,
}

impl BaselineMedians {
    pub fn of(ms: &[BuildMetrics]) -> BaselineMedians {
        let mut ratios: Vec<f64> = ms.iter().filter_map(|m| m.hit_ratio).collect();
        ratios.sort_by(f64::total_cmp);
        BaselineMedians {
            builds: ms.len(),
            median_wall_ms: median_sorted(&succeeded_walls(ms)),
            median_hit_ratio: median_sorted(&ratios),
        }
    }
}

/// Wall times of the succeeded builds, sorted.
fn succeeded_walls(ms: &[BuildMetrics]) -> Vec<f64> {
    let mut walls: Vec<f64> = ms
        .iter()
        .filter(|m| m.status == "succeeded")
        .filter_map(|m| m.wall_ms)
        .collect();
    walls.sort_by(f64::total_cmp);
    walls
}
