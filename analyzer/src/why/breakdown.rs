//! Re-run time by cause over many builds (the weekly report's breakdown): [`super::why_build`]
//! per build, its root causes summed by cause, and the cause that cost most per instruction.

use std::collections::HashMap;

use rusqlite::Connection;
use serde::Serialize;

use super::{why_build, Cause, WhyBust};
use crate::Result;

/// Re-run time per cause over a set of builds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CauseBreakdown {
    pub builds: usize,
    /// Re-run time of every root cause, in ms.
    pub total_ms: i64,
    /// Costliest first.
    pub causes: Vec<CauseShare>,
    /// Per (stage, instruction) that was a root cause: the cause that cost most there.
    pub by_step: Vec<StepCause>,
}

/// One cause: `source_files_changed`, or `cache_unavailable/cold_builder` with its detail.
#[derive(Debug, Clone, Serialize)]
pub struct CauseShare {
    pub cause: String,
    pub busts: u32,
    pub rerun_ms: i64,
    /// Of all re-run time, 0 to 1.
    pub share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepCause {
    pub stage: Option<String>,
    pub instruction: String,
    pub cause: String,
}

/// The key a root cause is counted under.
pub fn cause_key(b: &WhyBust) -> String {
    match (b.cause, b.detail.as_deref()) {
        (Cause::CacheUnavailable, Some(d)) => format!("cache_unavailable/{d}"),
        (c, _) => c.as_str().to_string(),
    }
}

/// The breakdown over `ids` (full build ids).
pub fn cause_breakdown(conn: &Connection, ids: &[String]) -> Result<CauseBreakdown> {
    let mut by_cause: HashMap<String, (u32, i64)> = HashMap::new();
    let mut by_step: HashMap<(Option<String>, String), HashMap<String, i64>> = HashMap::new();
    for id in ids {
        let why = why_build(conn, id, None)?;
        for b in why
            .busts
            .iter()
            .filter(|b| b.cause != Cause::UpstreamChanged)
        {
            let key = cause_key(b);
            let e = by_cause.entry(key.clone()).or_default();
            e.0 += 1;
            e.1 += b.cost_ms;
            *by_step
                .entry((b.stage.clone(), b.step.clone()))
                .or_default()
                .entry(key)
                .or_default() += b.cost_ms;
        }
    }
    let total_ms: i64 = by_cause.values().map(|v| v.1).sum();
    let mut causes: Vec<CauseShare> = by_cause
        .into_iter()
        .map(|(cause, (busts, rerun_ms))| CauseShare {
            cause,
            busts,
            rerun_ms,
            share: if total_ms > 0 {
                crate::units::round6(rerun_ms as f64 / total_ms as f64)
            } else {
                0.0
            },
        })
        .collect();
    causes.sort_by(|a, b| b.rerun_ms.cmp(&a.rerun_ms).then(a.cause.cmp(&b.cause)));
    let mut by_step: Vec<StepCause> = by_step
        .into_iter()
        .filter_map(|((stage, instruction), m)| {
            let top = m
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
            Some(StepCause {
                stage,
                instruction,
                cause: top.0,
            })
        })
        .collect();
    by_step.sort_by(|a, b| (&a.stage, &a.instruction).cmp(&(&b.stage, &b.instruction)));
    Ok(CauseBreakdown {
        builds: ids.len(),
        total_ms,
        causes,
        by_step,
    })
}
