//! `Timeline`: one build's steps laid out on a time line (the data behind the waterfall chart),
//! each step with its merged intervals and its outcome class.

use std::collections::BTreeMap;

use collector::model::{Build, Outcome, Step};
use serde::Serialize;

/// Most steps a timeline keeps: past this, the longest ones stay (a note says so).
pub const MAX_STEPS: usize = 60;

/// How a step is coloured: its outcome, with lazy misses apart from plain executions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepClass {
    Cached,
    Pulled,
    Executed,
    LazyMiss,
    Failed,
    Canceled,
}

impl StepClass {
    pub const ALL: [StepClass; 6] = [
        StepClass::Cached,
        StepClass::Pulled,
        StepClass::Executed,
        StepClass::LazyMiss,
        StepClass::Failed,
        StepClass::Canceled,
    ];

    pub fn of(step: &Step) -> StepClass {
        match step.outcome {
            Outcome::Cached => StepClass::Cached,
            Outcome::Pulled => StepClass::Pulled,
            Outcome::Executed if step.lazy_miss => StepClass::LazyMiss,
            Outcome::Executed => StepClass::Executed,
            Outcome::Failed => StepClass::Failed,
            Outcome::Canceled => StepClass::Canceled,
        }
    }

    /// The words a legend shows.
    pub fn label(self) -> &'static str {
        match self {
            StepClass::Cached => "cached",
            StepClass::Pulled => "pulled",
            StepClass::Executed => "executed",
            StepClass::LazyMiss => "lazy miss",
            StepClass::Failed => "failed",
            StepClass::Canceled => "canceled",
        }
    }
}

/// A build's steps on a time line; times are milliseconds from the build's start.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub build_id: String,
    pub source: String,
    pub status: String,
    pub started_at: Option<String>,
    pub wall_ms: Option<i64>,
    pub labels: BTreeMap<String, String>,
    /// Timed steps in the order they started.
    pub steps: Vec<TimelineStep>,
    /// Steps left out: no timing known, or beyond [`MAX_STEPS`].
    pub steps_not_shown: u32,
}

/// One step on the time line.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineStep {
    pub name: String,
    pub stage: Option<String>,
    pub kind: String,
    pub class: StepClass,
    pub start_ms: f64,
    pub end_ms: f64,
    /// The merged intervals it was active in, `[start_ms, end_ms]`.
    pub intervals: Vec<[f64; 2]>,
    pub duration_ms: f64,
}

impl Timeline {
    pub fn from_build(b: &Build) -> Timeline {
        let origin = b
            .started_at
            .or_else(|| b.steps.iter().filter_map(|s| s.started_at).min())
            .unwrap_or(0);
        let ms = |t: i64| ((t - origin) as f64 / 1e5).round() / 10.0;
        let mut steps: Vec<(i64, u32, TimelineStep)> = Vec::new();
        let mut untimed = 0u32;
        for s in &b.steps {
            let mut intervals: Vec<(i64, i64)> = s.intervals.clone();
            if intervals.is_empty() {
                if let Some(start) = s.started_at {
                    intervals.push((start, s.finished_at.unwrap_or(start)));
                }
            }
            let (Some(first), Some(last)) = (
                intervals.iter().map(|i| i.0).min(),
                intervals.iter().map(|i| i.1).max(),
            ) else {
                untimed += 1;
                continue;
            };
            steps.push((
                first,
                s.seq,
                TimelineStep {
                    name: step_title(s),
                    stage: s.stage.clone(),
                    kind: s.kind.as_str().to_string(),
                    class: StepClass::of(s),
                    start_ms: ms(first),
                    end_ms: ms(last),
                    intervals: intervals.iter().map(|&(a, z)| [ms(a), ms(z)]).collect(),
                    duration_ms: (s.duration_ns as f64 / 1e5).round() / 10.0,
                },
            ));
        }
        if steps.len() > MAX_STEPS {
            steps.sort_by(|a, b| b.2.duration_ms.total_cmp(&a.2.duration_ms));
            untimed += (steps.len() - MAX_STEPS) as u32;
            steps.truncate(MAX_STEPS);
        }
        steps.sort_by_key(|(start, seq, _)| (*start, *seq));
        Timeline {
            build_id: b.id.clone(),
            source: b.source.clone(),
            status: b.status.as_str().to_string(),
            started_at: b.started_at.map(collector::time::format_rfc3339),
            wall_ms: b.duration_ns.map(|d| (d + 500_000) / 1_000_000),
            labels: b.labels.clone(),
            steps: steps.into_iter().map(|(_, _, s)| s).collect(),
            steps_not_shown: untimed,
        }
    }

    /// The end of the last step, or the wall time when longer (ms).
    pub fn span_ms(&self) -> f64 {
        let last = self.steps.iter().map(|s| s.end_ms).fold(0.0, f64::max);
        last.max(self.wall_ms.unwrap_or(0) as f64)
    }
}

/// `[stage 2/4] RUN make` as BuildKit names it, without the platform.
pub fn step_title(s: &Step) -> String {
    match (&s.stage, s.stage_index, s.stage_total) {
        (Some(st), Some(i), Some(n)) => format!("[{st} {i}/{n}] {}", s.instruction),
        (None, Some(i), Some(n)) => format!("[{i}/{n}] {}", s.instruction),
        _ => s.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use collector::assemble::AssembleOptions;
    use collector::ingest::read_builds;

    fn sample(rel: &str) -> Build {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../sample-traces/").to_string() + rel;
        let f = std::fs::File::open(&path).unwrap();
        let mut out = read_builds(rel, f, None, &AssembleOptions::default()).unwrap();
        out.builds.remove(0)
    }

    #[test]
    fn lazy_misses_and_pulls_get_their_own_class() {
        // mode=min on a cold builder: three steps reported cached then ran, one pulled.
        let b = sample("app1-series/010-min-web-iter3.rawjson");
        let t = Timeline::from_build(&b);
        let count = |c: StepClass| t.steps.iter().filter(|s| s.class == c).count();
        assert_eq!(count(StepClass::LazyMiss), 3);
        assert_eq!(count(StepClass::Pulled), 1);
        assert_eq!(t.steps.len() + t.steps_not_shown as usize, b.steps.len());
        // In start order, from the build's start, inside the wall time.
        assert!(t.steps.windows(2).all(|w| w[0].start_ms <= w[1].start_ms));
        assert!(t.steps[0].start_ms >= 0.0);
        let wall = t.wall_ms.unwrap() as f64;
        assert!(
            t.steps.iter().all(|s| s.end_ms <= wall + 1.0),
            "steps end within the wall time"
        );
        // Every interval lies within its step's span.
        for s in &t.steps {
            for [a, z] in &s.intervals {
                assert!(s.start_ms <= *a && a <= z && *z <= s.end_ms, "{s:?}");
            }
        }
        let venv = t
            .steps
            .iter()
            .find(|s| s.name.contains("python3 -m venv"))
            .unwrap();
        assert_eq!(venv.class, StepClass::LazyMiss);
        assert_eq!(venv.name, "[deps 2/4] RUN python3 -m venv /venv");
    }

    #[test]
    fn failed_and_canceled_steps() {
        let b = sample("busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.rawjson.txt");
        let t = Timeline::from_build(&b);
        assert!(t.steps.iter().any(|s| s.class == StepClass::Failed));
        assert!(t.steps.iter().any(|s| s.class == StepClass::Canceled));
        assert_eq!(t.status, "failed");
    }
}
