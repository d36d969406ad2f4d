//! Trends and the cost model on the sample traces, against counts made here.

use std::collections::BTreeMap;

use crate::common::{median, store_of};
use analyzer::compare::{compare, CompareOptions};
use analyzer::cost::CostOptions;
use analyzer::trends::{trends, Period, TrendsOptions};
use analyzer::Scope;
use collector::model::{BuildStatus, LayerOp, StepKind};

#[test]
fn trends_by_day_count_builds_failures_and_walls() {
    let files: Vec<String> = crate::common::manifest()
        .into_keys()
        .filter(|f| f.starts_with("engine-20.10/") || f.starts_with("external/batect"))
        .collect();
    let (store, builds) = store_of(&files);
    let t = trends(
        store.connection(),
        &Scope::default(),
        &TrendsOptions {
            period: Period::Day,
            price_per_minute: 0.01,
        },
    )
    .unwrap();
    // Independently: builds per UTC day.
    let mut days: BTreeMap<String, Vec<&collector::model::Build>> = BTreeMap::new();
    for b in builds.iter().filter(|b| b.started_at.is_some()) {
        let day = collector::time::format_rfc3339(b.started_at.unwrap())[..10].to_string();
        days.entry(day).or_default().push(b);
    }
    assert_eq!(t.periods.len(), days.len());
    assert_eq!(
        t.builds_without_start,
        builds.iter().filter(|b| b.started_at.is_none()).count()
    );
    for (row, (day, bs)) in t.periods.iter().zip(&days) {
        assert_eq!(&row.start, day);
        assert_eq!(row.builds as usize, bs.len());
        let failed = bs
            .iter()
            .filter(|b| b.status == BuildStatus::Failed)
            .count();
        assert_eq!(row.failures as usize, failed, "{day}");
        let walls: Vec<f64> = bs
            .iter()
            .filter(|b| b.status == BuildStatus::Succeeded)
            .filter_map(|b| b.duration_ns)
            .map(|w| w as f64)
            .collect();
        match row.median_wall_ms {
            Some(m) => assert!((m - median(walls) / 1e6).abs() < 0.001, "{day}"),
            None => assert!(walls.is_empty()),
        }
        assert!((row.saved_usd - row.saved_ms / 60_000.0 * 0.01).abs() < 1e-6);
    }
    // The engine traces are all on one day: the warm rebuilds saved time there.
    assert!(t.periods.iter().any(|p| p.saved_ms > 0.0));
}

#[test]
fn weeks_start_on_monday() {
    let files = vec!["engine-20.10/11-cold.api.jsonl".to_string()];
    let (store, _) = store_of(&files);
    let t = trends(
        store.connection(),
        &Scope::default(),
        &TrendsOptions {
            period: Period::Week,
            price_per_minute: 0.008,
        },
    )
    .unwrap();
    // The build ran on Sunday 2026-11-22; its ISO week began on Monday 2026-11-16.
    assert_eq!(t.periods.len(), 1);
    assert_eq!(t.periods[0].start, "2026-11-16");
}

#[test]
fn cost_model_counts_written_layers_and_never_guesses_sizes() {
    let (store, builds) = crate::common::app1_series();
    let scope = Scope::default().with_label("builder", "cold");
    let mut opts = CompareOptions::new("strategy");
    opts.baseline = Some("max".into());
    opts.cost = Some(CostOptions {
        price_per_minute: 0.01,
        builds_per_week: Some(100.0),
    });
    let c = compare(store.connection(), &scope, &opts).unwrap();
    let cost = c.cost.as_ref().unwrap();
    for g in &cost.groups {
        let group: Vec<_> = builds
            .iter()
            .filter(|b| {
                crate::common::label(b, "strategy") == Some(&g.value)
                    && crate::common::label(b, "builder") == Some("cold")
            })
            .collect();
        let exporting: Vec<_> = group
            .iter()
            .filter(|b| b.steps.iter().any(|s| s.kind == StepKind::CacheExport))
            .collect();
        assert_eq!(g.exports as usize, exporting.len(), "{}", g.value);
        let written: usize = exporting
            .iter()
            .flat_map(|b| &b.steps)
            .flat_map(|s| &s.layers)
            .filter(|l| l.op == LayerOp::Write)
            .count();
        assert_eq!(g.layers_written as usize, written, "{}", g.value);
        if g.exports > 0 {
            assert!(
                (g.layers_per_export.unwrap() - written as f64 / exporting.len() as f64).abs()
                    < 1e-6
            );
        }
        // A size is known only when some pull of the same digest reported bytes.
        let pulled_sizes: Vec<(&str, i64)> = builds
            .iter()
            .flat_map(|b| &b.steps)
            .flat_map(|s| &s.layers)
            .filter(|l| l.op == LayerOp::Pull)
            .filter_map(|l| Some((l.digest.as_str(), l.bytes?)))
            .collect();
        let sized = exporting
            .iter()
            .flat_map(|b| &b.steps)
            .flat_map(|s| &s.layers)
            .filter(|l| l.op == LayerOp::Write && pulled_sizes.iter().any(|(d, _)| *d == l.digest))
            .count();
        assert_eq!(g.layers_with_known_size as usize, sized, "{}", g.value);
        if sized == 0 {
            assert_eq!(g.known_bytes_per_export, None);
        }
        if sized < written {
            assert_eq!(
                g.bytes_per_export, None,
                "never a total with unknown layers"
            );
        }
        let walls: Vec<f64> = group
            .iter()
            .map(|b| b.duration_ns.unwrap() as f64)
            .collect();
        let minutes = median(walls) / 60e9;
        assert!((g.usd_per_build - minutes * 0.01).abs() < 1e-6);
        assert!((g.usd_per_week - minutes * 0.01 * 100.0).abs() < 1e-5);
    }
    // mode=max exports more layers than mode=min, and the sentence says so.
    let max = cost.groups.iter().find(|g| g.value == "max").unwrap();
    let min = cost.groups.iter().find(|g| g.value == "min").unwrap();
    assert!(max.layers_per_export > min.layers_per_export);
    let s = cost
        .break_even
        .iter()
        .find(|s| s.contains(" for min "))
        .unwrap();
    assert!(
        s.starts_with("strategy=max writes 12 layers per export"),
        "{s}"
    );
    assert!(s.contains("saves"), "{s}");
}
