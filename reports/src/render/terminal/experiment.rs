//! The end of `buildprof experiment`: the per-variant medians of the builds it recorded.

use analyzer::experiment::ExperimentMedians;

use crate::render::fmt::UNKNOWN;
use crate::render::table::{Align, Table};

/// The end of an experiment: how many builds it recorded, the medians table, and how to list
/// its builds.
pub fn experiment_summary(m: &ExperimentMedians, recorded: usize, planned: usize) -> String {
    let id = &m.experiment;
    let cut = if m.interrupted { " (interrupted)" } else { "" };
    format!(
        "experiment {id}: {recorded} of {planned} builds recorded{cut}\n{}all builds: buildprof builds --label experiment={id}\n",
        medians_table(m)
    )
}

/// One row per variant: builds, succeeded, median wall time, executed and cached steps.
pub fn medians_table(m: &ExperimentMedians) -> String {
    let mut t = Table::new(&[
        ("variant", Align::Left),
        ("builds", Align::Right),
        ("succeeded", Align::Right),
        ("median wall", Align::Right),
        ("executed", Align::Right),
        ("cached", Align::Right),
    ]);
    let num = |v: Option<f64>| v.map_or(UNKNOWN.to_string(), |x| format!("{x:.1}"));
    for v in &m.variants {
        t.push(vec![
            v.variant.clone(),
            v.builds.to_string(),
            v.succeeded.to_string(),
            v.median_wall_s
                .map_or(UNKNOWN.to_string(), |s| format!("{s:.2}s")),
            num(v.median_executed),
            num(v.median_cached),
        ]);
    }
    t.to_text()
}
