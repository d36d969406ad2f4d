//! `ExperimentMedians`: the per-variant medians an experiment prints at the end (wall time,
//! executed and cached steps over its succeeded builds), from the builds it just recorded.
//! `compare --by variant` gives the full statistics.

use collector::model::{Build, BuildStatus};
use serde::Serialize;

use crate::stats::median_sorted;

/// The medians of one variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantMedians {
    pub variant: String,
    /// Builds recorded.
    pub builds: usize,
    pub succeeded: usize,
    /// Over succeeded builds; `None` when there are none.
    pub median_wall_s: Option<f64>,
    pub median_executed: Option<f64>,
    /// Cache hits: cached and pulled steps.
    pub median_cached: Option<f64>,
}

/// The end-of-experiment summary (`--json` prints it as is).
#[derive(Debug, Clone, Serialize)]
pub struct ExperimentMedians {
    pub experiment: String,
    pub interrupted: bool,
    pub variants: Vec<VariantMedians>,
}

impl ExperimentMedians {
    /// `recorded` holds (variant name, build) in run order; `order` lists every variant.
    pub fn of(
        experiment: &str,
        order: &[String],
        recorded: &[(String, Build)],
    ) -> ExperimentMedians {
        let variants = order
            .iter()
            .map(|name| {
                let builds: Vec<&Build> = recorded
                    .iter()
                    .filter(|(v, _)| v == name)
                    .map(|(_, b)| b)
                    .collect();
                let ok: Vec<&&Build> = builds
                    .iter()
                    .filter(|b| b.status == BuildStatus::Succeeded)
                    .collect();
                let walls = ok
                    .iter()
                    .filter_map(|b| b.duration_ns)
                    .map(|d| d as f64 / 1e9)
                    .collect();
                let executed = ok.iter().map(|b| b.counts().executed as f64).collect();
                let cached = ok
                    .iter()
                    .map(|b| {
                        let c = b.counts();
                        (c.cached + c.pulled) as f64
                    })
                    .collect();
                VariantMedians {
                    variant: name.clone(),
                    builds: builds.len(),
                    succeeded: ok.len(),
                    median_wall_s: median(walls),
                    median_executed: median(executed),
                    median_cached: median(cached),
                }
            })
            .collect();
        ExperimentMedians {
            experiment: experiment.to_string(),
            interrupted: false,
            variants,
        }
    }
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.sort_by(f64::total_cmp);
    median_sorted(&xs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn variants_without_builds_have_no_medians() {
        let m = ExperimentMedians::of("e", &["cold".to_string()], &[]);
        assert_eq!(m.variants[0].variant, "cold");
        assert_eq!(m.variants[0].median_wall_s, None);
    }
}
