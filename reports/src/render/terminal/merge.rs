//! What `buildprof merge` says: a line per job database and one for the whole merge.

use collector::store::MergeStats;

use crate::render::fmt::printable;

/// `merged JOB.db: 3 builds added (60 steps), 0 already present`.
pub fn merged_line(path: &str, s: &MergeStats) -> String {
    let conflicts = if s.label_conflicts > 0 {
        format!(
            ", {} labels differ (the team database keeps its values)",
            s.label_conflicts
        )
    } else {
        String::new()
    };
    format!(
        "merged {}: {} builds added ({} steps), {} already present{conflicts}",
        printable(path),
        s.builds_added,
        s.steps_added,
        s.builds_present,
    )
}

/// Totals of a merge: `2 databases merged into team.db: 5 builds added (...)`.
pub struct MergeTotals<'a> {
    pub into: &'a str,
    pub merged: u64,
    pub failed: u64,
    pub builds_added: u64,
    pub steps_added: u64,
    pub builds_present: u64,
}

/// The closing line of a merge.
pub fn totals_line(t: &MergeTotals<'_>) -> String {
    let failed = if t.failed > 0 {
        format!("; {} failed", t.failed)
    } else {
        String::new()
    };
    format!(
        "{} databases merged into {}: {} builds added ({} steps), {} already present{failed}",
        t.merged,
        printable(t.into),
        t.builds_added,
        t.steps_added,
        t.builds_present,
    )
}
