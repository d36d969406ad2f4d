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
