//! The outcome rules of docs/outcomes.md, one test row per rule on a real capture (Docker 20.10,
//! and Docker 26.1 + buildx 0.13 with a registry cache), plus the properties the rules promise:
//! printed sub-second times never flip an outcome, and identical builds get identical outcomes.

use std::collections::BTreeMap;

use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use collector::model::{Build, BuildStatus, Outcome};

const CE: &str = "current-engine/containerd-store/";

fn text(rel: &str) -> String {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sample-traces")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(name: &str, text: &str) -> Build {
    let mut b = read_builds(name, text.as_bytes(), None, &AssembleOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .builds;
    assert_eq!(b.len(), 1, "{name} holds one build");
    b.remove(0)
}

fn build(rel: &str) -> Build {
    parse(rel, &text(rel))
}

/// `(outcome, lazy_miss)` of the step whose name starts with `prefix`.
fn outcome_of(b: &Build, prefix: &str) -> (Outcome, bool) {
    let s = b
        .steps
        .iter()
        .find(|s| s.name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no step {prefix:?} in {}", b.source));
    (s.outcome, s.lazy_miss)
}

use Outcome::{Cached, Canceled, Executed, Failed, Pulled};

/// One row per rule: (rule, capture, step name prefix, outcome, lazy miss).
const ROWS: &[(&str, &str, &str, Outcome, bool)] = &[
    // R2: the import of a cache ref that does not exist fails its vertex, not the build.
    (
        "R2",
        "current-engine/containerd-store/066-branch-cold-feature-x-rawjson-r1-src.rawjson",
        "importing cache manifest from 127.0.0.1:5000/proj:cache-feature-x",
        Failed,
        false,
    ),
    (
        "R2",
        "current-engine/containerd-store/069-branch-cold-feature-x-plain-r1-src.plain.log",
        "importing cache manifest from 127.0.0.1:5000/proj:cache-feature-x",
        Failed,
        false,
    ),
    // R3 / R4: a failing RUN and the sibling BuildKit cancels, in each format.
    (
        "R3",
        "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.rawjson.txt",
        "[ok 1/1]",
        Canceled,
        false,
    ),
    (
        "R3",
        "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.plain.txt",
        "[ok 1/1]",
        Canceled,
        false,
    ),
    (
        "R4",
        "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.rawjson.txt",
        "[bad 2/2]",
        Failed,
        false,
    ),
    (
        "R4",
        "current-engine/containerd-store/084-local-fail-cold-main-plain-r1-fail.plain.log",
        "[deps 2/2] RUN",
        Failed,
        false,
    ),
    // R6: a base image reported cached; a base image resolved and pulled in the build.
    (
        "R6",
        "app1-series/018-min-src-iter5.rawjson",
        "[web 1/3] FROM",
        Cached,
        false,
    ),
    (
        "R6",
        "app1-series/001-max-src-iter1.rawjson",
        "[deps 1/4] FROM",
        Executed,
        false,
    ),
    // R8: an exec interval; output in a plain log; a cached report, then an exec interval.
    (
        "R8",
        "app1-series/001-max-src-iter1.rawjson",
        "[deps 2/4] RUN python3 -m venv",
        Executed,
        false,
    ),
    (
        "R8",
        "current-engine/containerd-store/009-max-cold-main-plain-r1-seed.plain.log",
        "[deps 2/2] RUN",
        Executed,
        false,
    ),
    (
        "R8",
        "app1-series/010-min-web-iter3.rawjson",
        "[deps 2/4] RUN python3 -m venv",
        Executed,
        true,
    ),
    // R10: layers fetched under the vertex after its cached report, in each shape.
    (
        "R10",
        "app1-series/009-max-web-iter3.rawjson",
        "[runtime 2/5] COPY --from=deps",
        Pulled,
        false,
    ),
    (
        "R10",
        "current-engine/containerd-store/011-max-cold-main-plain-r1-config.plain.log",
        "[final 4/5] RUN",
        Pulled,
        false,
    ),
    (
        "R10",
        "current-engine/containerd-store/004-max-cold-main-rawjson-r1-base.rawjson",
        "[final 2/5] COPY --link",
        Pulled,
        false,
    ),
    (
        "R10",
        "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_cache-import-registry.rawjson.txt",
        "[final 3/3]",
        Pulled,
        false,
    ),
    (
        "R10",
        "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_cache-import-registry.plain.txt",
        "[final 3/3]",
        Pulled,
        false,
    ),
    // R11: plain `CACHED`, then a `DONE` with nothing but time: it ran.
    (
        "R11",
        "app1-series/006-min-src-iter2.plain.log",
        "[deps 3/4] COPY requirements.txt",
        Executed,
        true,
    ),
    // R12: plain `DONE` only.
    (
        "R12",
        "app1-series/005-max-src-iter2.plain.log",
        "[runtime 4/5] COPY src /app",
        Executed,
        false,
    ),
    // R13: cached and nothing else, in each format.
    (
        "R13",
        "app1-series/004-local-src-iter1.rawjson",
        "[deps 2/4] RUN python3 -m venv",
        Cached,
        false,
    ),
    (
        "R13",
        "current-engine/containerd-store/010-max-cold-main-plain-r1-src.plain.log",
        "[deps 2/2] RUN",
        Cached,
        false,
    ),
    // R15: the merge member of `COPY --link` follows its copy: it ran with it on a cold build,
    // fetched layers when the copy hit remotely, and is a hit when nothing was fetched; a merge
    // never reported cached ran although its copy hit: the base image update below it (004).
    (
        "R15",
        "current-engine/containerd-store/001-max-cold-main-rawjson-r1-seed.rawjson",
        "[final 2/5] LINK COPY",
        Executed,
        false,
    ),
    (
        "R15",
        "current-engine/containerd-store/002-max-cold-main-rawjson-r1-src.rawjson",
        "[final 2/5] LINK COPY",
        Pulled,
        false,
    ),
    (
        "R15",
        "current-engine/containerd-store/003-max-cold-main-rawjson-r1-config.rawjson",
        "[final 2/5] LINK COPY",
        Cached,
        false,
    ),
    (
        "R15",
        "current-engine/containerd-store/004-max-cold-main-rawjson-r1-base.rawjson",
        "[final 2/5] LINK COPY",
        Executed,
        false,
    ),
    (
        "R15",
        "current-engine/containerd-store/004-max-cold-main-rawjson-r1-base.rawjson",
        "[final 2/5] COPY --link",
        Pulled,
        false,
    ),
    // The same on a second project (two `COPY --link` on a base image that changed): both
    // merges ran, the context copy itself hit.
    (
        "R15",
        "current-engine/link-project/s4-rawjson-local-d-base.rawjson",
        "[final 3/4] LINK COPY",
        Executed,
        false,
    ),
    (
        "R15",
        "current-engine/link-project/s4-rawjson-local-d-base.rawjson",
        "[final 3/4] COPY --link",
        Cached,
        false,
    ),
];

#[test]
fn every_rule_on_a_real_capture() {
    let mut failures = Vec::new();
    for (rule, file, prefix, outcome, lazy) in ROWS {
        let got = outcome_of(&build(file), prefix);
        if got != (*outcome, *lazy) {
            failures.push(format!(
                "{rule} {file} {prefix}: got {got:?}, want {:?}",
                (outcome, lazy)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_failed_cache_import_leaves_the_build_succeeded_in_both_formats() {
    for f in [
        "066-branch-cold-feature-x-rawjson-r1-src.rawjson",
        "069-branch-cold-feature-x-plain-r1-src.plain.log",
    ] {
        let b = build(&format!("{CE}{f}"));
        assert_eq!(b.status, BuildStatus::Succeeded, "{f}");
        assert_eq!(b.failed_step().map(|s| s.name.clone()), None, "{f}");
        let failed = b.failed_cache_imports();
        assert_eq!(failed.len(), 1, "{f}");
        assert_eq!(failed[0].0, "127.0.0.1:5000/proj:cache-feature-x");
        assert!(failed[0].1.ends_with(": not found"), "{f}: {}", failed[0].1);
    }
}

/// `text` with the `DONE` lines of vertex `#n` set to `done`.
fn with_done(text: &str, n: u32, done: &str) -> String {
    let prefix = format!("#{n} DONE ");
    text.lines()
        .map(|l| {
            if l.starts_with(&prefix) {
                format!("{prefix}{done}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

#[test]
fn printed_sub_second_times_never_flip_an_outcome() {
    // `#15 [final 4/5] RUN echo "compiling"`: CACHED, then only layer lines (about 0.1 s of
    // them) and DONE 0.3s / 0.4s / 0.4s. Pulled whatever DONE says below the 5 s margin (R10);
    // executed beyond it (R9).
    let file = format!("{CE}011-max-cold-main-plain-r1-config.plain.log");
    let original = text(&file);
    for done in ["0.0s", "0.1s", "0.4s", "0.9s", "4.9s"] {
        let b = parse(&file, &with_done(&original, 15, done));
        assert_eq!(
            outcome_of(&b, "[final 4/5] RUN"),
            (Pulled, false),
            "DONE {done}"
        );
    }
    let b = parse(&file, &with_done(&original, 15, "6.0s"));
    assert_eq!(
        outcome_of(&b, "[final 4/5] RUN"),
        (Executed, true),
        "DONE 6.0s (R9)"
    );
}

/// Per step name: outcome and lazy miss.
fn outcomes(b: &Build) -> BTreeMap<String, (Outcome, bool)> {
    b.steps
        .iter()
        .map(|s| (s.name.clone(), (s.outcome, s.lazy_miss)))
        .collect()
}

#[test]
fn identical_builds_get_identical_outcomes() {
    // The capture matrix ran every max and min sequence twice on a freshly pruned builder.
    for strategy in ["max", "min"] {
        for (format, ext) in [("rawjson", "rawjson"), ("plain", "plain.log")] {
            for (n, change) in ["seed", "src", "config", "base"].iter().enumerate() {
                let first = match (strategy, format) {
                    ("max", "rawjson") => 1,
                    ("max", _) => 9,
                    (_, "rawjson") => 17,
                    _ => 25,
                } + n;
                let r1 = format!("{CE}{first:03}-{strategy}-cold-main-{format}-r1-{change}.{ext}");
                let r2 = format!(
                    "{CE}{:03}-{strategy}-cold-main-{format}-r2-{change}.{ext}",
                    first + 4
                );
                let (a, b) = (build(&r1), build(&r2));
                let (oa, ob) = (outcomes(&a), outcomes(&b));
                assert_eq!(
                    oa.keys().collect::<Vec<_>>(),
                    ob.keys().collect::<Vec<_>>(),
                    "{r1}"
                );
                for (name, o) in &oa {
                    if ob[name] == *o {
                        continue;
                    }
                    // The one difference is not one of outcome rules but of shapes: in r2 the
                    // COPY --link group fetched its layer (layer lines), in r1 it only merged.
                    let lines = |t: &str| t.lines().filter(|l| l.contains("sha256:")).count();
                    let block = |file: &str| {
                        let t = text(file);
                        let n = t
                            .lines()
                            .find(|l| l.ends_with(name.as_str()))
                            .and_then(|l| l.split_whitespace().next())
                            .unwrap()
                            .to_string();
                        t.lines()
                            .filter(|l| l.starts_with(&format!("{n} ")))
                            .collect::<Vec<_>>()
                            .join("\n")
                    };
                    let (ba, bb) = (block(&r1), block(&r2));
                    assert!(
                        lines(&ba) != lines(&bb),
                        "{r1} vs {r2}: {name}: {o:?} vs {:?} with the same shape:\n{ba}\n--\n{bb}",
                        ob[name]
                    );
                }
            }
        }
    }
}
