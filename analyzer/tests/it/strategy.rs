//! The strategy series (registry cache mode=max vs mode=min on cold builders, inline, warm
//! local): the analyzer's comparison and step statistics against values computed here from the
//! assembled builds.

use crate::common::{app1_series, counted, is_hit, label, median};
use analyzer::compare::{compare, CompareOptions, Metric};
use analyzer::steps::{step_stats, StepsOptions};
use analyzer::Scope;
use collector::model::{Build, Outcome};

fn group<'a>(builds: &'a [Build], strategy: &str) -> Vec<&'a Build> {
    builds
        .iter()
        .filter(|b| label(b, "strategy") == Some(strategy))
        .collect()
}

#[test]
fn min_builds_rerun_the_deps_stage_that_max_builds_pull() {
    let (store, builds) = app1_series();
    // Independently: deps-stage instructions per outcome, per strategy.
    let deps = |strategy: &str, want: &dyn Fn(&collector::model::Step) -> bool| -> usize {
        group(&builds, strategy)
            .iter()
            .flat_map(|b| &b.steps)
            .filter(|s| counted(s) && s.stage.as_deref() == Some("deps") && want(s))
            .count()
    };
    let ran = |s: &collector::model::Step| s.outcome == Outcome::Executed;
    let pulled = |s: &collector::model::Step| s.outcome == Outcome::Pulled;
    let hit = |s: &collector::model::Step| is_hit(s);
    let (min_ran, max_ran) = (deps("min", &ran), deps("max", &ran));
    let (min_hit, max_hit) = (deps("min", &hit), deps("max", &hit));
    // The scenario: max imports the deps stage (hits, some pulled); min re-runs it.
    assert!(
        min_ran > max_ran,
        "min ran {min_ran} deps steps, max {max_ran}"
    );
    assert!(
        max_hit > min_hit,
        "max hit {max_hit} deps steps, min {min_hit}"
    );
    assert!(deps("max", &pulled) > 0);

    // The analyzer's per-step view agrees, step identity by step identity.
    for strategy in ["min", "max"] {
        let scope = Scope::default().with_label("strategy", strategy);
        let stats = step_stats(store.connection(), &scope, &StepsOptions::default()).unwrap();
        assert_eq!(stats.builds, 6);
        let deps_rows: Vec<_> = stats
            .steps
            .iter()
            .filter(|r| r.stage.as_deref() == Some("deps"))
            .collect();
        assert_eq!(deps_rows.len(), 3, "{strategy}: venv, requirements, pip");
        for r in deps_rows {
            let mine: Vec<&collector::model::Step> = group(&builds, strategy)
                .iter()
                .flat_map(|b| &b.steps)
                .filter(|s| {
                    counted(s)
                        && s.stage.as_deref() == Some("deps")
                        && s.instruction == r.instruction
                })
                .collect();
            let n = mine.len() as f64;
            assert_eq!(r.runs as usize, mine.len(), "{strategy} {}", r.instruction);
            let hits = mine.iter().filter(|s| is_hit(s)).count() as f64;
            assert!(
                (r.hit_rate - hits / n).abs() < 1e-6,
                "{strategy} {}",
                r.instruction
            );
            let pulls = mine.iter().filter(|s| s.outcome == Outcome::Pulled).count() as f64;
            assert!((r.pulled_share - pulls / n).abs() < 1e-6);
            let clean: Vec<f64> = mine
                .iter()
                .filter(|s| s.outcome == Outcome::Executed)
                .map(|s| s.duration_ns as f64)
                .collect();
            assert_eq!(r.executed_runs as usize, clean.len());
            if !clean.is_empty() {
                let want = median(clean) / 1e6;
                assert!((r.median_executed_ms.unwrap() - want).abs() < 0.001);
            }
            let total: i64 = mine.iter().map(|s| s.duration_ns).sum();
            assert!((r.total_ms - total as f64 / 1e6).abs() < 0.001);
            // The trend compares like with like: nanosecond runs (rawjson iterations) when both
            // halves of the window have some, else 0.1 s-resolution ones (plain iterations).
            let starts: Vec<i64> = group(&builds, strategy)
                .iter()
                .filter_map(|b| b.started_at)
                .collect();
            let mid = starts.iter().min().unwrap()
                + (starts.iter().max().unwrap() - starts.iter().min().unwrap()) / 2;
            let half = |late: bool, coarse: bool| -> Option<f64> {
                let d: Vec<f64> = group(&builds, strategy)
                    .iter()
                    .filter(|b| b.started_at.is_some_and(|t| (t >= mid) == late))
                    .flat_map(|b| &b.steps)
                    .filter(|s| {
                        counted(s)
                            && s.stage.as_deref() == Some("deps")
                            && s.instruction == r.instruction
                            && s.outcome == Outcome::Executed
                            && (s.duration_ns % 100_000_000 == 0) == coarse
                    })
                    .map(|s| s.duration_ns as f64)
                    .collect();
                (!d.is_empty()).then(|| median(d))
            };
            let pair = half(false, false)
                .zip(half(true, false))
                .or_else(|| half(false, true).zip(half(true, true)));
            let want = pair.and_then(|(e, l)| (e > 0.0).then(|| l / e - 1.0));
            match (r.trend, want) {
                (Some(t), Some(w)) => assert!((t - w).abs() < 1e-5, "{strategy} {}", r.instruction),
                (t, w) => assert_eq!(t, w, "{strategy} {}", r.instruction),
            }
        }
    }
}

/// Two-sided exact Mann–Whitney p by enumerating every split of the pooled values.
fn brute_force_p(x: &[f64], y: &[f64]) -> f64 {
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let (n, k) = (pooled.len(), x.len());
    let u_of = |xs: &[f64], ys: &[f64]| -> f64 {
        xs.iter()
            .map(|a| {
                ys.iter()
                    .map(|b| {
                        if a > b {
                            1.0
                        } else if a == b {
                            0.5
                        } else {
                            0.0
                        }
                    })
                    .sum::<f64>()
            })
            .sum()
    };
    let observed = u_of(x, y);
    let (mut le, mut ge, mut total) = (0u64, 0u64, 0u64);
    for mask in 0u32..(1 << n) {
        if mask.count_ones() as usize != k {
            continue;
        }
        let (a, b): (Vec<_>, Vec<_>) = (0..n).partition(|i| mask & (1 << i) != 0);
        let xs: Vec<f64> = a.iter().map(|&i| pooled[i]).collect();
        let ys: Vec<f64> = b.iter().map(|&i| pooled[i]).collect();
        let u = u_of(&xs, &ys);
        total += 1;
        le += (u <= observed) as u64;
        ge += (u >= observed) as u64;
    }
    (2.0 * le.min(ge) as f64 / total as f64).min(1.0)
}

#[test]
fn compare_by_strategy_says_min_is_slower_than_max() {
    let (store, builds) = app1_series();
    let walls = |s: &str| -> Vec<f64> {
        group(&builds, s)
            .iter()
            .map(|b| b.duration_ns.expect("wall") as f64)
            .collect()
    };
    let (min_w, max_w) = (walls("min"), walls("max"));
    let want_diff_ms = (median(min_w.clone()) - median(max_w.clone())) / 1e6;
    assert!(
        want_diff_ms > 0.0,
        "the traces: min's median wall is above max's"
    );

    let mut opts = CompareOptions::new("strategy");
    opts.baseline = Some("max".into());
    let c = compare(store.connection(), &Scope::default(), &opts).unwrap();
    assert_eq!(c.baseline, "max");
    assert_eq!(c.groups[0].value, "max", "the baseline comes first");
    let min = c.groups.iter().find(|g| g.value == "min").unwrap();
    assert_eq!(min.n, 6);
    assert!((min.median - median(min_w.clone()) / 1e6).abs() < 0.001);
    let vs = min.vs_baseline.as_ref().unwrap();
    assert!(
        (vs.diff_median - want_diff_ms).abs() < 0.001,
        "{} vs {want_diff_ms}",
        vs.diff_median
    );
    let (lo, hi) = (vs.ci_low.unwrap(), vs.ci_high.unwrap());
    assert!(
        lo <= vs.diff_median && vs.diff_median <= hi,
        "CI {lo}..{hi}"
    );
    let p = brute_force_p(&min_w, &max_w);
    assert!(
        (vs.p_value.unwrap() - p).abs() < 1e-6,
        "p {} vs {p}",
        vs.p_value.unwrap()
    );
    // Six builds each cannot show this difference clearly; the verdict says so with the sign.
    assert!(
        vs.verdict.contains("min is") && vs.verdict.contains("slower than max"),
        "{}",
        vs.verdict
    );
    assert!(vs.verdict.contains("n=6 vs 6"), "{}", vs.verdict);
    if p >= 0.05 {
        assert!(
            vs.verdict
                .starts_with("no clear difference between min and max"),
            "{}",
            vs.verdict
        );
    }
    // The warm local builder is faster than max in every build: a clear verdict.
    let local = c.groups.iter().find(|g| g.value == "local").unwrap();
    let lv = local.vs_baseline.as_ref().unwrap();
    assert!(
        lv.verdict.starts_with("local is ") && lv.verdict.contains("faster than max (95% CI"),
        "{}",
        lv.verdict
    );
    assert_eq!(
        lv.effect_size,
        Some(-1.0),
        "every local build is faster than every max build"
    );
}

#[test]
fn compare_json_has_the_documented_keys() {
    let (store, _) = app1_series();
    let mut opts = CompareOptions::new("strategy");
    opts.baseline = Some("max".into());
    let v = serde_json::to_value(compare(store.connection(), &Scope::default(), &opts).unwrap())
        .unwrap();
    assert_eq!(v["by"], "strategy");
    assert_eq!(v["metric"], "wall");
    assert_eq!(v["baseline"], "max");
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 4);
    for g in groups {
        for k in ["value", "n", "median_ms", "p90_ms", "mean_ms"] {
            assert!(g.get(k).is_some(), "{k} in {g}");
        }
        let base = g["value"] == "max";
        for k in [
            "diff_median_ms",
            "ci_low_ms",
            "ci_high_ms",
            "p_value",
            "verdict",
        ] {
            assert_eq!(g.get(k).is_some(), !base, "{k} in {g}");
        }
    }
    // Non-time metrics drop the suffix.
    opts.metric = Metric::HitRatio;
    let v = serde_json::to_value(compare(store.connection(), &Scope::default(), &opts).unwrap())
        .unwrap();
    let g = &v["groups"][1];
    for k in [
        "median",
        "p90",
        "mean",
        "diff_median",
        "ci_low",
        "ci_high",
        "p_value",
        "verdict",
    ] {
        assert!(g.get(k).is_some(), "{k} in {g}");
    }
    assert!(g.get("median_ms").is_none());
}

#[test]
fn hit_ratio_comparison_matches_counts_from_the_builds() {
    let (store, builds) = app1_series();
    let mut opts = CompareOptions::new("strategy");
    opts.metric = Metric::HitRatio;
    opts.baseline = Some("min".into());
    let c = compare(store.connection(), &Scope::default(), &opts).unwrap();
    for g in &c.groups {
        let ratios: Vec<f64> = group(&builds, &g.value)
            .iter()
            .map(|b| {
                let counted: Vec<_> = b.steps.iter().filter(|s| counted(s)).collect();
                counted.iter().filter(|s| is_hit(s)).count() as f64 / counted.len() as f64
            })
            .collect();
        assert!((g.median - median(ratios)).abs() < 1e-6, "{}", g.value);
    }
    // Default baseline: the largest group, ties by name (all have 6: inline).
    opts.baseline = None;
    let c = compare(store.connection(), &Scope::default(), &opts).unwrap();
    assert_eq!(c.baseline, "inline");
    // An unknown baseline is an error naming the values seen.
    opts.baseline = Some("nope".into());
    let e = compare(store.connection(), &Scope::default(), &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("inline, local, max, min"), "{e}");
}

#[test]
fn too_few_builds_to_tell() {
    let (store, _) = app1_series();
    // Only iteration 1 and 2 builds of each strategy (change=src appears in iterations 1, 2, 5).
    let scope = Scope::default().with_label("change", "src");
    let mut opts = CompareOptions::new("strategy");
    opts.baseline = Some("max".into());
    let c = compare(store.connection(), &scope, &opts).unwrap();
    let min = c.groups.iter().find(|g| g.value == "min").unwrap();
    assert_eq!(min.n, 3);
    let scope = Scope::default().with_label("change", "web");
    let c = compare(store.connection(), &scope, &opts).unwrap();
    let min = c.groups.iter().find(|g| g.value == "min").unwrap();
    assert_eq!(min.n, 1);
    assert_eq!(
        min.vs_baseline.as_ref().unwrap().verdict,
        "too few builds to tell: need more than n=2 (n=1 vs 1)"
    );
}

#[test]
fn a_group_pooling_two_scenarios_is_reported_with_each_part() {
    // The app1 series and the current-engine captures both label builds strategy=max/min, in
    // different scenarios: grouped by strategy, each group mixes the two projects.
    let mut files = crate::common::files("app1-series/");
    files.extend(
        crate::common::files("current-engine/containerd-store/")
            .into_iter()
            .filter(|f| f.ends_with(".rawjson")),
    );
    let (store, builds) = crate::common::store_of(&files);
    let c = compare(
        store.connection(),
        &Scope::default(),
        &CompareOptions::new("strategy"),
    )
    .unwrap();
    let max = c
        .pooled
        .iter()
        .find(|p| p.group == "max" && p.label == "scenario")
        .unwrap_or_else(|| panic!("{:#?}", c.pooled));
    let names: Vec<&str> = max.parts.iter().map(|p| p.value.as_str()).collect();
    assert_eq!(names, ["current-engine", "strategy-series"]);
    for part in &max.parts {
        let walls: Vec<f64> = builds
            .iter()
            .filter(|b| {
                label(b, "strategy") == Some("max") && label(b, "scenario") == Some(&part.value)
            })
            .filter(|b| b.status == collector::model::BuildStatus::Succeeded)
            .filter_map(|b| b.duration_ns)
            .map(|d| d as f64 / 1e6)
            .collect();
        assert_eq!(part.n, walls.len(), "{}", part.value);
        assert!((part.median - median(walls)).abs() < 0.01, "{}", part.value);
    }
    // One scenario alone pools nothing.
    let one = compare(
        store.connection(),
        &Scope::default().with_label("scenario", "strategy-series"),
        &CompareOptions::new("strategy"),
    )
    .unwrap();
    assert!(one.pooled.is_empty(), "{:#?}", one.pooled);
}
