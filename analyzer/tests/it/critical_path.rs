//! The critical path of real traces against a longest-path search written out here.

use std::collections::HashMap;

use crate::common::store_of;
use analyzer::metrics::{build_metrics, MetricsOptions};
use analyzer::Scope;
use collector::model::Build;

/// Longest chain of durations through the input digests, by memoised recursion.
fn longest(b: &Build) -> (i64, Vec<u32>) {
    let by_digest: HashMap<&str, usize> = b
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.digest.as_str(), i))
        .collect();
    fn best(
        i: usize,
        b: &Build,
        by: &HashMap<&str, usize>,
        memo: &mut HashMap<usize, (i64, Vec<u32>)>,
    ) -> (i64, Vec<u32>) {
        if let Some(v) = memo.get(&i) {
            return v.clone();
        }
        let s = &b.steps[i];
        let mut top = (0, Vec::new());
        for input in &s.inputs {
            if let Some(&j) = by.get(input.as_str()) {
                if j != i {
                    let cand = best(j, b, by, memo);
                    if cand.0 > top.0 {
                        top = cand;
                    }
                }
            }
        }
        let mut path = top.1;
        path.push(s.seq);
        let v = (top.0 + s.duration_ns, path);
        memo.insert(i, v.clone());
        v
    }
    let mut memo = HashMap::new();
    (0..b.steps.len())
        .map(|i| best(i, b, &by_digest, &mut memo))
        .max_by_key(|v| v.0)
        .unwrap()
}

#[test]
fn critical_path_of_the_cold_engine_build() {
    let files = ["engine-20.10/11-cold.api.jsonl".to_string()];
    let (store, builds) = store_of(&files);
    let b = &builds[0];
    let (want_ns, want_path) = longest(b);
    let m = build_metrics(
        store.connection(),
        &Scope::default(),
        &MetricsOptions {
            critical_path: true,
            build: Some(b.id.clone()),
        },
    )
    .unwrap()
    .remove(0);
    assert!((m.critical_path_ms.unwrap() - want_ns as f64 / 1e6).abs() < 0.001);
    let got: Vec<u32> = m.critical_path.iter().map(|s| s.seq).collect();
    assert_eq!(got, want_path);
    // What the trace shows: the deps stage (venv, requirements, pip) feeds the runtime stage.
    let names: Vec<&str> = m.critical_path.iter().map(|s| s.name.as_str()).collect();
    for part in [
        "RUN python3 -m venv",
        "RUN /venv/bin/pip install",
        "COPY --from=deps",
        "COPY --from=test",
    ] {
        assert!(
            names.iter().any(|n| n.contains(part)),
            "{part} on {names:?}"
        );
    }
    let wall = b.duration_ns.unwrap() as f64;
    assert!((m.critical_path_share.unwrap() - want_ns as f64 / wall).abs() < 1e-5);
    assert!(m.critical_path_share.unwrap() < 1.0);
}

#[test]
fn critical_paths_of_the_strategy_series() {
    let (store, builds) = crate::common::app1_series();
    let all = build_metrics(
        store.connection(),
        &Scope::default(),
        &MetricsOptions {
            critical_path: true,
            build: None,
        },
    )
    .unwrap();
    let mut with_dag = 0;
    for b in &builds {
        let m = all.iter().find(|m| m.id == b.id).unwrap();
        if b.steps.iter().all(|s| s.inputs.is_empty()) {
            // Plain logs record no inputs: no DAG, no critical path (not the longest step).
            assert_eq!(m.critical_path_ms, None, "{}", b.source);
            assert_eq!(m.critical_path_share, None);
            continue;
        }
        with_dag += 1;
        let (want, _) = longest(b);
        assert!(
            (m.critical_path_ms.unwrap() - want as f64 / 1e6).abs() < 0.001,
            "{}",
            b.source
        );
    }
    assert_eq!(with_dag, 12, "the rawjson half of the series");
}
