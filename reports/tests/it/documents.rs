//! The weekly report and the job summary: figures from the store, rendered safely.

use collector::model::{BuildStatus, Outcome};
use collector::time::parse_rfc3339;
use reports::job_summary::{summarize, SummaryRequest};
use reports::render::fmt::UNKNOWN;
use reports::render::{render_summary, Images, MarkdownRenderer, Renderer};
use reports::weekly::{make_report, ReportPlan};

use crate::common::{builds, store_of};

fn plan(since: &str, until: &str) -> ReportPlan {
    ReportPlan {
        since: parse_rfc3339(since).unwrap(),
        until: parse_rfc3339(until).unwrap(),
        labels: Vec::new(),
        out: std::env::temp_dir(),
        formats: Vec::new(),
        png: false,
        baseline: None,
    }
}

#[test]
fn the_weekly_report_counts_the_period_and_compares_strategies() {
    let series = builds("app1-series/");
    let store = store_of(&series);
    let r = make_report(
        &store,
        &plan("2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z"),
        0,
    )
    .unwrap();
    // Every app1 build started that week; none the week before.
    let in_period = series.iter().filter(|b| b.started_at.is_some()).count();
    assert_eq!(r.headline.builds.current, Some(in_period as f64));
    assert_eq!(r.headline.builds.previous, Some(0.0));
    assert_eq!(r.builds.len(), in_period);
    let failed = series
        .iter()
        .filter(|b| b.status == BuildStatus::Failed)
        .count();
    assert_eq!(r.headline.failures.current, Some(failed as f64));
    // The builds carry a strategy label with four values: the table has a group for each.
    let st = r.strategies.as_ref().expect("a strategy table");
    assert_eq!(st.label, "strategy");
    let mut values: Vec<&str> = st.groups.iter().map(|g| g.value.as_str()).collect();
    values.sort();
    assert_eq!(values, ["inline", "local", "max", "min"]);
    // The slowest build is the longest one of the period.
    let longest = series.iter().filter_map(|b| b.duration_ns).max().unwrap();
    let slowest = r.slowest_build.as_ref().unwrap();
    assert_eq!(slowest.wall_ms, Some((longest + 500_000) / 1_000_000));
    // Without a previous period, what it was is unknown, and says so with one symbol.
    let md = String::from_utf8(
        MarkdownRenderer {
            images: Images::None,
        }
        .render_report(&r)
        .unwrap(),
    )
    .unwrap();
    let median = md
        .lines()
        .find(|l| l.starts_with("| Median wall time |"))
        .expect("a median wall time row");
    assert!(
        median.ends_with(&format!("| {UNKNOWN} | no earlier data |")),
        "{median}"
    );
}

#[test]
fn two_experiments_get_a_strategy_table_each_with_the_baseline_asked_for() {
    // The current-engine captures of max and min, rawjson: repetition 1 as experiment `a`,
    // repetition 2 as experiment `b` (4 builds per strategy in each).
    let mut series: Vec<_> = builds("current-engine/containerd-store/")
        .into_iter()
        .filter(|b| b.source.ends_with(".rawjson"))
        .filter(|b| ["max", "min"].contains(&b.labels["strategy"].as_str()))
        .filter(|b| b.labels["builder"] == "cold" && !b.labels.contains_key("dockerfile"))
        // 065 seeds the branch scenario's main cache: not one of the two repetitions.
        .filter(|b| !b.source.contains("/065-"))
        .collect();
    for b in &mut series {
        let experiment = if b.labels["rep"] == "1" { "a" } else { "b" };
        b.labels.insert("experiment".into(), experiment.into());
    }
    assert_eq!(series.len(), 16);
    let store = store_of(&series);
    let mut p = plan("2026-12-01T00:00:00Z", "2026-12-08T00:00:00Z");
    p.baseline = Some("min".into());
    let r = make_report(&store, &p, 0).unwrap();
    assert!(r.strategies.is_none(), "no table pooling both experiments");
    let parts: Vec<Option<&str>> = r
        .strategy_tables
        .iter()
        .map(|t| t.part.as_deref())
        .collect();
    assert_eq!(parts, [Some("experiment a"), Some("experiment b")]);
    for t in &r.strategy_tables {
        assert_eq!(t.label, "strategy");
        assert_eq!(t.baseline.as_deref(), Some("min"));
        let n: Vec<(&str, u32)> = t.groups.iter().map(|g| (g.value.as_str(), g.n)).collect();
        assert_eq!(n, [("min", 4), ("max", 4)], "{:?}", t.part);
    }
    let md = String::from_utf8(
        MarkdownRenderer {
            images: Images::None,
        }
        .render_report(&r)
        .unwrap(),
    )
    .unwrap();
    assert!(md.contains("## Strategies: experiment a"), "{md}");
    assert!(md.contains("## Strategies: experiment b"), "{md}");
}

#[test]
fn the_job_summary_of_a_lazy_miss_build_names_its_lazy_misses() {
    let series = builds("app1-series/");
    let store = store_of(&series);
    let min = series
        .iter()
        .find(|b| b.source.ends_with("010-min-web-iter3.rawjson"))
        .unwrap();
    let s = summarize(
        &store,
        &SummaryRequest {
            build: Some(min.id.clone()),
            baseline_label: ("strategy".into(), "max".into()),
            baseline_builds: 10,
        },
    )
    .unwrap();
    let lazy = min.steps.iter().filter(|s| s.lazy_miss).count() as u32;
    assert!(lazy > 0);
    assert_eq!(s.lazy_misses, lazy);
    assert_eq!(
        s.pulled,
        min.steps
            .iter()
            .filter(|s| s.outcome == Outcome::Pulled)
            .count() as u32
    );
    // The baseline is the max builds that started before this one.
    let before = series
        .iter()
        .filter(|b| b.labels.get("strategy").map(String::as_str) == Some("max"))
        .filter(|b| b.started_at < min.started_at)
        .count() as u32;
    assert_eq!(s.baseline.as_ref().unwrap().n, before);
    let md = String::from_utf8(
        render_summary(
            &MarkdownRenderer {
                images: Images::None,
            },
            &s,
        )
        .unwrap(),
    )
    .unwrap();
    assert!(
        md.contains(&format!("({lazy} reported cached but ran: lazy misses)")),
        "{md}"
    );
}

#[test]
fn the_job_summary_reads_only_its_baseline_and_gives_what_the_whole_history_gives() {
    use analyzer::metrics::{build_metrics, MetricsOptions};
    use analyzer::totals::BaselineMedians;
    use analyzer::Scope;
    use collector::store::BuildFilter;
    let series = builds("app1-series/");
    let store = store_of(&series);
    let last = series.iter().max_by_key(|b| b.started_at).unwrap();
    for n in [1, 3, 10, 100] {
        let s = summarize(
            &store,
            &SummaryRequest {
                build: Some(last.id.clone()),
                baseline_label: ("strategy".into(), "max".into()),
                baseline_builds: n,
            },
        )
        .unwrap();
        // What the summary gave before it read only its baseline: the metrics of every build of
        // the label that started before this one, the last `n` of them.
        let scope =
            Scope::of(BuildFilter::window(None, last.started_at).with_label("strategy", "max"));
        let mut all =
            build_metrics(store.connection(), &scope, &MetricsOptions::default()).unwrap();
        all.retain(|m| m.id != last.id);
        let recent = all.split_off(all.len().saturating_sub(n));
        assert!(!recent.is_empty());
        let want = BaselineMedians::of(&recent);
        let got = s.baseline.as_ref().unwrap();
        assert_eq!(got.n as usize, want.builds, "n = {n}");
        assert_eq!(got.n as usize, recent.len().min(n));
        assert_eq!(
            got.median_wall_ms,
            want.median_wall_ms.map(|v| v.round() as i64)
        );
        assert_eq!(got.median_hit_ratio, want.median_hit_ratio);
        // The build's hit ratio does not depend on the history read with it.
        let with_history = build_metrics(
            store.connection(),
            &Scope::default(),
            &MetricsOptions {
                build: Some(last.id.clone()),
                ..MetricsOptions::default()
            },
        )
        .unwrap();
        assert_eq!(s.hit_ratio, with_history[0].hit_ratio);
    }
}

#[test]
fn hostile_names_cannot_add_markup_to_a_summary() {
    let mut series = builds("busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_cold.rawjson");
    let b = &mut series[0];
    b.steps[0].name = "<img src=x onerror=alert(1)> [link](http://evil) `tick`".into();
    b.steps[0].duration_ns = 10_000_000_000;
    let store = store_of(&series);
    let s = summarize(
        &store,
        &SummaryRequest {
            build: None,
            baseline_label: ("branch".into(), "main".into()),
            baseline_builds: 10,
        },
    )
    .unwrap();
    let md = String::from_utf8(
        render_summary(
            &MarkdownRenderer {
                images: Images::None,
            },
            &s,
        )
        .unwrap(),
    )
    .unwrap();
    // Rendered as a Markdown viewer would: the name is text in a code span, never HTML or a link.
    use pulldown_cmark::{Event, Parser, Tag};
    let mut code = String::new();
    for event in Parser::new(&md) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => panic!("HTML in the summary: {h}"),
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => panic!("a link in {md}"),
            Event::Code(c) => code.push_str(&c),
            _ => {}
        }
    }
    assert!(code.contains("<img src=x onerror=alert(1)>"), "{md}");
}

/// A plain log where every step printed `DONE 0.0s` (a fully cached rebuild) has no step that
/// took measurable time: the summary leaves the slowest-steps table out rather than print an
/// empty one. The same build with its times keeps the table.
#[test]
fn a_summary_without_timed_steps_has_no_empty_slowest_steps_table() {
    let render = |series: &[collector::model::Build]| {
        let store = store_of(series);
        let s = summarize(
            &store,
            &SummaryRequest {
                build: Some(series[0].id.clone()),
                baseline_label: ("branch".into(), "main".into()),
                baseline_builds: 10,
            },
        )
        .unwrap();
        let md = render_summary(
            &MarkdownRenderer {
                images: Images::None,
            },
            &s,
        )
        .unwrap();
        (s, String::from_utf8(md).unwrap())
    };
    let timed = builds("busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_partial-cache.plain");
    let (s, md) = render(&timed);
    assert!(!s.slowest_steps.is_empty());
    assert!(md.contains("Slowest steps"), "{md}");
    let mut untimed = timed.clone();
    for step in &mut untimed[0].steps {
        step.duration_ns = 0;
    }
    let (s, md) = render(&untimed);
    assert!(s.slowest_steps.is_empty());
    assert!(!md.contains("Slowest steps"), "{md}");
}
