//! Cache-bust root causes on real traces, with costs summed here from the assembled builds.

use crate::common::{app1_series, counted};
use analyzer::busts::BustCause;
use analyzer::busts::{build_busts, bust_summary};
use analyzer::Scope;
use collector::model::{Build, Outcome};

fn by_source<'a>(builds: &'a [Build], file: &str) -> &'a Build {
    builds.iter().find(|b| b.source == file).unwrap()
}

/// Steps of `stage` from `index` on that ran, and their summed duration.
fn reran(b: &Build, stage: &str, index: u32) -> (u32, f64) {
    let ran: Vec<_> = b
        .steps
        .iter()
        .filter(|s| counted(s) && s.stage.as_deref() == Some(stage))
        .filter(|s| s.stage_index.unwrap() >= index)
        .filter(|s| {
            matches!(
                s.outcome,
                Outcome::Executed | Outcome::Failed | Outcome::Canceled
            )
        })
        .collect();
    (
        ran.len() as u32,
        ran.iter().map(|s| s.duration_ns).sum::<i64>() as f64 / 1e6,
    )
}

#[test]
fn min_mode_lazy_miss_and_web_change_in_iteration_3() {
    let (store, builds) = app1_series();
    let b = by_source(&builds, "app1-series/010-min-web-iter3.rawjson");
    let prev = by_source(&builds, "app1-series/009-max-web-iter3.rawjson");
    let r = build_busts(store.connection(), &b.id).unwrap();
    assert_eq!(
        r.previous_build.as_deref(),
        Some(prev.id.as_str()),
        "previous build on branch main"
    );
    assert_eq!(r.branch.as_deref(), Some("main"));
    assert!(!r.cold);
    // Two root causes: the deps stage re-ran from its first step (a lazy miss: the min-mode
    // cache lacked the layers), and the changed web sources. The runtime stage's
    // `COPY --from=web` re-ran because web did, which is not a root cause of its own.
    assert_eq!(r.busts.len(), 2, "{:#?}", r.busts);
    let deps = r
        .busts
        .iter()
        .find(|x| x.stage.as_deref() == Some("deps"))
        .unwrap();
    assert_eq!(deps.instruction, "RUN python3 -m venv /venv");
    assert_eq!(deps.cause, BustCause::LazyMiss);
    let (n, cost) = reran(b, "deps", 2);
    assert_eq!((deps.reran_steps, n), (3, 3));
    assert!((deps.rerun_ms - cost).abs() < 0.001);
    let web = r
        .busts
        .iter()
        .find(|x| x.stage.as_deref() == Some("web"))
        .unwrap();
    assert_eq!(
        (web.instruction.as_str(), web.cause),
        ("COPY web /web", BustCause::Changed)
    );
    let (n, cost) = reran(b, "web", 2);
    assert_eq!(web.reran_steps, n);
    assert!((web.rerun_ms - cost).abs() < 0.001);
    assert!((r.bust_ms - (deps.rerun_ms + web.rerun_ms)).abs() < 0.002);
    // Compared with the previous build of the branch: there the venv step was a hit.
    let p = deps.previous.as_ref().unwrap();
    assert_eq!(p.build_id, prev.id);
    let prev_venv = prev
        .steps
        .iter()
        .find(|s| {
            s.stage.as_deref() == Some("deps") && s.instruction == "RUN python3 -m venv /venv"
        })
        .unwrap();
    assert_eq!(p.outcome.as_deref(), Some(prev_venv.outcome.as_str()));
    assert_eq!(p.digest_changed, Some(false));
}

#[test]
fn deps_change_busts_at_the_requirements_copy_and_cold_builds_do_not_bust() {
    let (store, builds) = app1_series();
    let b = by_source(&builds, "app1-series/013-max-deps-iter4.plain.log");
    let r = build_busts(store.connection(), &b.id).unwrap();
    let deps = r
        .busts
        .iter()
        .find(|x| x.stage.as_deref() == Some("deps"))
        .unwrap();
    assert_eq!(
        deps.instruction,
        "COPY requirements.txt /tmp/requirements.txt"
    );
    assert_eq!(deps.cause, BustCause::Changed);
    let (n, cost) = reran(b, "deps", 3);
    assert_eq!(deps.reran_steps, n);
    assert!((deps.rerun_ms - cost).abs() < 0.001);
    // The first build had no cache to import: nothing hit, so nothing busted.
    let first = by_source(&builds, "app1-series/001-max-src-iter1.rawjson");
    let r = build_busts(store.connection(), &first.id).unwrap();
    assert!(r.cold && r.busts.is_empty() && r.previous_build.is_none());
    // A warm rebuild without changes hit everything.
    let warm = by_source(&builds, "app1-series/024-local-none-iter6.plain.log");
    let r = build_busts(store.connection(), &warm.id).unwrap();
    assert!(!r.cold && r.busts.is_empty());
    assert_eq!(r.hits, r.instruction_steps);
}

#[test]
fn summary_adds_up_the_builds() {
    let (store, builds) = app1_series();
    let s = bust_summary(store.connection(), &Scope::default(), None).unwrap();
    assert_eq!(s.builds, 24);
    let mut total = 0.0;
    let mut count = 0;
    let mut with = 0;
    for b in &builds {
        let r = build_busts(store.connection(), &b.id).unwrap();
        total += r.bust_ms;
        count += r.busts.len();
        with += (!r.busts.is_empty()) as usize;
    }
    assert_eq!(s.busts, count);
    assert_eq!(s.builds_with_busts, with);
    assert!((s.total_rerun_ms - total).abs() < 0.01);
    let by_instruction: u32 = s.instructions.iter().map(|i| i.busts).sum();
    assert_eq!(by_instruction as usize, count);
    // The costliest bust point of the series is the deps stage re-run (lazy misses in min mode).
    let top = &s.instructions[0];
    assert_eq!(
        (top.stage.as_deref(), top.instruction.as_str()),
        (Some("deps"), "RUN python3 -m venv /venv")
    );
    assert!(top.lazy_misses > 0);
    assert!(s
        .instructions
        .windows(2)
        .all(|w| w[0].total_rerun_ms >= w[1].total_rerun_ms));
}

/// A store of `files` in that order, each build with extra `labels`.
fn store_labelled(files: &[(&str, &[(&str, &str)])]) -> (collector::store::Store, Vec<Build>) {
    let mut store = collector::store::Store::open_in_memory().unwrap();
    let mut all = Vec::new();
    for (file, labels) in files {
        for mut b in crate::common::read(file) {
            for (k, v) in *labels {
                b.labels.insert(k.to_string(), v.to_string());
            }
            let src = collector::store::SourceInfo {
                path: file.to_string(),
                bytes: 0,
                ingested_at: 0,
                capture_wall_ns: None,
            };
            store.insert_build(&b, &src).unwrap();
            all.push(b);
        }
    }
    (store, all)
}

#[test]
fn an_unchanged_step_the_min_cache_lacked_is_not_in_the_imported_cache() {
    // Plain logs, iteration 2 on branch main: max (005) then min (006). The min build's deps
    // stage re-ran from `RUN python3 -m venv /venv`, whose instruction and FROM line are those
    // of the max build: nothing changed, the mode=min cache had no record of it.
    let (store, builds) = app1_series();
    let b = by_source(&builds, "app1-series/006-min-src-iter2.plain.log");
    let max = by_source(&builds, "app1-series/005-max-src-iter2.plain.log");
    let r = build_busts(store.connection(), &b.id).unwrap();
    assert_eq!(r.previous_build.as_deref(), Some(max.id.as_str()));
    assert_eq!(r.compared_by.as_deref(), Some("branch main"));
    assert_eq!(r.cache_mode.as_deref(), Some("min"));
    assert_eq!(r.cache_imports, ["127.0.0.1:5000/app1:cache-min"]);
    let venv = r
        .busts
        .iter()
        .find(|x| x.instruction == "RUN python3 -m venv /venv")
        .unwrap();
    assert_eq!(venv.cause, BustCause::NotInCache, "{venv:#?}");
    // The source copies read changed files: those stay `changed`.
    for x in r
        .busts
        .iter()
        .filter(|x| x.instruction.starts_with("COPY src"))
    {
        assert_eq!(x.cause, BustCause::Changed, "{x:#?}");
    }
}

#[test]
fn a_new_base_image_is_a_change_and_experiment_builds_compare_within_their_variant() {
    // Current engine, plain, max r1: seed, src, config, then a base image update (busybox:2).
    // Interleaved with the min variant's rawjson builds, which must not be compared with.
    let max = [("experiment", "e"), ("variant", "max")];
    let min = [("experiment", "e"), ("variant", "min")];
    let dir = "current-engine/containerd-store/";
    let files: Vec<(String, &[(&str, &str)])> = vec![
        (
            format!("{dir}009-max-cold-main-plain-r1-seed.plain.log"),
            &max,
        ),
        (
            format!("{dir}017-min-cold-main-rawjson-r1-seed.rawjson"),
            &min,
        ),
        (
            format!("{dir}010-max-cold-main-plain-r1-src.plain.log"),
            &max,
        ),
        (
            format!("{dir}018-min-cold-main-rawjson-r1-src.rawjson"),
            &min,
        ),
        (
            format!("{dir}011-max-cold-main-plain-r1-config.plain.log"),
            &max,
        ),
        (
            format!("{dir}012-max-cold-main-plain-r1-base.plain.log"),
            &max,
        ),
    ];
    let refs: Vec<(&str, &[(&str, &str)])> = files.iter().map(|(f, l)| (f.as_str(), *l)).collect();
    let (store, builds) = store_labelled(&refs);
    let config = &builds[4];
    let base = &builds[5];
    let r = build_busts(store.connection(), &base.id).unwrap();
    assert_eq!(r.previous_build.as_deref(), Some(config.id.as_str()));
    assert_eq!(r.compared_by.as_deref(), Some("experiment e, variant max"));
    let mkdir = r
        .busts
        .iter()
        .find(|x| x.stage.as_deref() == Some("base"))
        .unwrap();
    assert!(mkdir.instruction.starts_with("RUN mkdir"), "{mkdir:#?}");
    assert_eq!(
        mkdir.cause,
        BustCause::Changed,
        "FROM busybox:1 became busybox:2"
    );
    // The src build of max compares with max's seed, although min's seed came in between.
    let src = build_busts(store.connection(), &builds[2].id).unwrap();
    assert_eq!(src.previous_build.as_deref(), Some(builds[0].id.as_str()));
    let min_src = build_busts(store.connection(), &builds[3].id).unwrap();
    assert_eq!(
        min_src.previous_build.as_deref(),
        Some(builds[1].id.as_str())
    );
    assert_eq!(
        min_src.compared_by.as_deref(),
        Some("experiment e, variant min")
    );
}

#[test]
fn a_link_merge_that_ran_under_a_changed_stage_is_not_a_bust_and_hides_none() {
    // Current engine, rawjson, max r1: seed, src, config, then a base image update. In the base
    // build the final stage's `COPY --from=deps` ran (deps is built on the changed base), its
    // `COPY --link` was pulled, and the merge putting that layer on the stage ran because the
    // stage below it had: the merge and `COPY src /app` after it are downstream of deps, so
    // the final stage has no bust of its own (the base stage's is the only one).
    let dir = "current-engine/containerd-store/";
    let labels: &[(&str, &str)] = &[("branch", "main")];
    let files: Vec<String> = ["seed", "src", "config", "base"]
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{dir}00{}-max-cold-main-rawjson-r1-{s}.rawjson", i + 1))
        .collect();
    let refs: Vec<(&str, &[(&str, &str)])> = files.iter().map(|f| (f.as_str(), labels)).collect();
    let (store, builds) = store_labelled(&refs);
    let base = &builds[3];
    let merge = base
        .steps
        .iter()
        .find(|s| s.name.contains("LINK COPY"))
        .unwrap();
    assert_eq!(merge.outcome, Outcome::Executed);
    let per_build = build_busts(store.connection(), &base.id).unwrap();
    let own: Vec<_> = per_build
        .busts
        .iter()
        .map(|b| (b.stage.clone(), b.instruction.clone()))
        .collect();
    assert_eq!(
        own,
        [(
            Some("base".to_string()),
            "RUN mkdir -p /opt && echo base-ready > /opt/base.txt".to_string()
        )],
        "{per_build:#?}"
    );
    // The summary over all four builds finds the same for this build: no bust in `final`.
    let summary = bust_summary(store.connection(), &Scope::default(), None).unwrap();
    let in_base_build: Vec<_> = summary
        .costliest
        .iter()
        .filter(|b| b.build_id == base.id)
        .map(|b| (b.stage.clone(), b.instruction.clone()))
        .collect();
    assert_eq!(in_base_build, own, "{summary:#?}");
}
