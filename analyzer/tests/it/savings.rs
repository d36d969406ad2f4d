//! Avoidance savings and per-build metrics on real traces, checked against sums computed here.

use std::collections::HashMap;

use crate::common::{counted, is_hit, store_of};
use analyzer::metrics::{build_metrics, MetricsOptions};
use analyzer::Scope;
use collector::model::Outcome;

#[test]
fn fully_cached_rebuild_saves_what_the_cold_build_spent_on_the_same_steps() {
    let files = [
        "engine-20.10/11-cold.api.jsonl".to_string(),
        "engine-20.10/12-warm-nochange.api.jsonl".to_string(),
    ];
    let (store, builds) = store_of(&files);
    let (cold, warm) = (&builds[0], &builds[1]);
    // The cold build ran every instruction; the rebuild hit every one.
    assert!(cold
        .steps
        .iter()
        .filter(|s| counted(s))
        .all(|s| s.outcome == Outcome::Executed));
    let warm_hits: Vec<_> = warm
        .steps
        .iter()
        .filter(|s| counted(s) && is_hit(s))
        .collect();
    assert_eq!(
        warm_hits.len(),
        warm.steps.iter().filter(|s| counted(s)).count()
    );
    assert!(!warm_hits.is_empty());
    // Independently: the cold build's duration of each step the rebuild hit.
    let cold_by_step: HashMap<(Option<&str>, &str), i64> = cold
        .steps
        .iter()
        .filter(|s| counted(s))
        .map(|s| ((s.stage.as_deref(), s.instruction.as_str()), s.duration_ns))
        .collect();
    let want_ns: i64 = warm_hits
        .iter()
        .map(|s| cold_by_step[&(s.stage.as_deref(), s.instruction.as_str())])
        .sum();
    assert!(
        want_ns > 4_000_000_000,
        "the cold build spent {want_ns} ns on them"
    );

    let all = build_metrics(
        store.connection(),
        &Scope::default(),
        &MetricsOptions::default(),
    )
    .unwrap();
    let m = all.iter().find(|m| m.id == warm.id).unwrap();
    assert!(
        (m.saved_ms - want_ns as f64 / 1e6).abs() < 0.001,
        "{} vs {}",
        m.saved_ms,
        want_ns as f64 / 1e6
    );
    assert_eq!(m.hits_without_history, 0);
    assert_eq!(m.hits as usize, warm_hits.len());
    assert_eq!(m.hit_ratio, Some(1.0));
    assert_eq!(m.hit_ratio_time, Some(1.0), "nothing ran");
    assert_eq!(m.executed_ms, 0.0);
    // The cold build hit nothing and saved nothing; its running time is its instructions'.
    let c = all.iter().find(|m| m.id == cold.id).unwrap();
    assert_eq!((c.hits, c.saved_ms, c.hit_ratio), (0, 0.0, Some(0.0)));
    let ran: i64 = cold
        .steps
        .iter()
        .filter(|s| counted(s))
        .map(|s| s.duration_ns)
        .sum();
    assert!((c.executed_ms - ran as f64 / 1e6).abs() < 0.001);
    // Without the cold build in the window, the rebuild's hits have no history.
    let only_warm = Scope {
        ids: vec![warm.id.clone()],
        ..Scope::default()
    };
    let w = build_metrics(store.connection(), &only_warm, &MetricsOptions::default()).unwrap();
    assert_eq!(w[0].saved_ms, 0.0);
    assert_eq!(w[0].hits_without_history as usize, warm_hits.len());
}

#[test]
fn per_build_pull_and_cache_io_match_the_steps() {
    let (store, builds) = crate::common::app1_series();
    let all = build_metrics(
        store.connection(),
        &Scope::default(),
        &MetricsOptions::default(),
    )
    .unwrap();
    assert_eq!(all.len(), 24);
    for b in &builds {
        let m = all.iter().find(|m| m.id == b.id).unwrap();
        let pull: i64 = b
            .steps
            .iter()
            .filter(|s| counted(s))
            .map(|s| s.pull_ns)
            .sum();
        assert!(
            (m.pull_ms - pull as f64 / 1e6).abs() < 0.001,
            "{}",
            b.source
        );
        let export: i64 = b
            .steps
            .iter()
            .filter(|s| s.kind == collector::model::StepKind::CacheExport)
            .map(|s| s.duration_ns)
            .sum();
        assert!(
            (m.cache_export_ms - export as f64 / 1e6).abs() < 0.001,
            "{}",
            b.source
        );
        let sum: i64 = b.steps.iter().map(|s| s.duration_ns).sum();
        let wall = b.duration_ns.unwrap() as f64;
        assert!(
            (m.parallelism.unwrap() - sum as f64 / wall).abs() < 1e-5,
            "{}",
            b.source
        );
        let counted_n = b.steps.iter().filter(|s| counted(s)).count();
        assert_eq!(m.instruction_steps as usize, counted_n);
        let pulled = b
            .steps
            .iter()
            .filter(|s| counted(s) && s.outcome == Outcome::Pulled)
            .count();
        assert_eq!(m.pulled as usize, pulled);
    }
    // mode=max cold builds pull what they hit; min builds re-run the deps stage instead.
    let sum_pull = |strategy: &str| -> f64 {
        all.iter()
            .filter(|m| {
                builds
                    .iter()
                    .any(|b| b.id == m.id && crate::common::label(b, "strategy") == Some(strategy))
            })
            .map(|m| m.pull_ms)
            .sum()
    };
    assert!(sum_pull("max") > sum_pull("min"));
}

/// Savings of a warm build in the strategy series: every hit is worth the median clean run of
/// the same step in the 24 builds, by digest where the digest is a real one that ran, else by
/// stage + instruction (plain logs carry no digests).
#[test]
fn savings_use_the_median_run_of_the_same_step() {
    let (store, builds) = crate::common::app1_series();
    let all = build_metrics(
        store.connection(),
        &Scope::default(),
        &MetricsOptions::default(),
    )
    .unwrap();
    let clean_runs = |pick: &dyn Fn(&collector::model::Step) -> bool| -> Vec<f64> {
        builds
            .iter()
            .flat_map(|b| &b.steps)
            .filter(|s| counted(s) && s.outcome == Outcome::Executed && pick(s))
            .map(|s| s.duration_ns as f64)
            .collect()
    };
    for file in [
        "app1-series/024-local-none-iter6.plain.log",
        "app1-series/020-local-src-iter5.rawjson",
        "app1-series/021-max-none-iter6.plain.log",
    ] {
        let b = builds.iter().find(|b| b.source == file).unwrap();
        let mut want = 0.0;
        let mut no_history = 0;
        for s in b.steps.iter().filter(|s| counted(s) && is_hit(s)) {
            let by_digest = if s.digest.starts_with("sha256:") {
                clean_runs(&|r| r.digest == s.digest)
            } else {
                Vec::new()
            };
            let runs = if by_digest.is_empty() {
                clean_runs(&|r| r.stage == s.stage && r.instruction == s.instruction)
            } else {
                by_digest
            };
            if runs.is_empty() {
                no_history += 1;
            } else {
                want += crate::common::median(runs);
            }
        }
        let m = all.iter().find(|m| m.id == b.id).unwrap();
        assert!(want > 0.0);
        assert!(
            (m.saved_ms - want / 1e6).abs() < 0.001,
            "{file}: {} vs {}",
            m.saved_ms,
            want / 1e6
        );
        assert_eq!(m.hits_without_history, no_history, "{file}");
    }
}
