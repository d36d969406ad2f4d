//! Assembly on the real sample traces: outcomes, durations and build status as BuildKit meant
//! them, checked against facts read from the traces independently of the decoders.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use collector::assemble::AssembleOptions;
use collector::ingest::read_builds;
use collector::model::{Build, BuildStatus, Format, Outcome, Step, StepKind};

fn sample(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sample-traces")
        .join(rel)
}

fn builds(rel: &str) -> Vec<Build> {
    let path = sample(rel);
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    read_builds(rel, f, None, &AssembleOptions::default())
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .builds
}

fn build(rel: &str) -> Build {
    let mut b = builds(rel);
    assert_eq!(b.len(), 1, "{rel} holds one build");
    b.remove(0)
}

fn step<'a>(b: &'a Build, name_prefix: &str) -> &'a Step {
    b.steps
        .iter()
        .find(|s| s.name.starts_with(name_prefix))
        .unwrap_or_else(|| panic!("no step {name_prefix:?} in {}", b.source))
}

#[test]
fn lazy_miss_in_min_mode_rawjson_is_executed_not_a_hit() {
    // 010: `[deps 2/4] RUN python3 -m venv` is reported cached at 03:23:44.003745118 and then
    // runs from 44.005673742 to 48.894786077.
    let b = build("app1-series/010-min-web-iter3.rawjson");
    let venv = step(&b, "[deps 2/4] RUN python3 -m venv");
    assert_eq!(venv.outcome, Outcome::Executed);
    assert!(venv.lazy_miss);
    assert_eq!(venv.duration_ns, 48_894_786_077 - 44_005_673_742);
    for name in [
        "[deps 3/4] COPY requirements.txt",
        "[deps 4/4] RUN /venv/bin/pip install",
    ] {
        let s = step(&b, name);
        assert_eq!(
            (s.outcome, s.lazy_miss),
            (Outcome::Executed, true),
            "{name}"
        );
    }
    assert_eq!(step(&b, "[deps 4/4]").log_lines, 20);
    assert_eq!(b.counts().lazy_miss, 3);
    assert_eq!(b.status, BuildStatus::Succeeded);
}

#[test]
fn remote_hit_in_max_mode_rawjson_is_pulled_with_its_cost() {
    // 009: `[runtime 2/5] COPY --from=deps` is cached at 33.752, then pull intervals until 34.824.
    let b = build("app1-series/009-max-web-iter3.rawjson");
    let s = step(&b, "[runtime 2/5] COPY --from=deps");
    assert_eq!(s.outcome, Outcome::Pulled);
    assert!(!s.lazy_miss);
    assert_eq!(
        s.finished_at,
        collector::time::parse_rfc3339("2026-11-22T03:23:34.824175274Z")
    );
    assert!(
        s.pulled_bytes > 7_000_000,
        "pulled {} bytes",
        s.pulled_bytes
    );
    assert!(s.pull_ns > 0 && s.pull_ns <= s.duration_ns);
    assert!(s.log_lines == 0);
    // No step of a mode=max import re-ran the deps stage.
    assert!(b.steps.iter().all(|s| !s.lazy_miss));
}

#[test]
fn lazy_miss_and_pull_in_plain_logs() {
    // 006 (min, plain): `#6 [deps 4/4]` prints CACHED, then its header again with pip's log and
    // `DONE 2.1s`; `#12 [runtime 3/5]` is CACHED then pulls layers (`DONE 0.9s` at the end).
    let b = build("app1-series/006-min-src-iter2.plain.log");
    let pip = step(&b, "[deps 4/4]");
    assert_eq!((pip.outcome, pip.lazy_miss), (Outcome::Executed, true));
    assert_eq!(pip.duration_ns, 2_100_000_000);
    assert_eq!(pip.log_lines, 20);
    let web = step(&b, "[runtime 3/5] COPY --from=web");
    assert_eq!(web.outcome, Outcome::Pulled);
    assert_eq!(web.duration_ns, 900_000_000);
    assert_eq!(web.pulled_bytes, 180 + 8_970_000);
    // 005 (max, plain): `#12 [deps 4/4]` prints no CACHED line at all, only pulls.
    let b = build("app1-series/005-max-src-iter2.plain.log");
    let pip = step(&b, "[deps 4/4]");
    assert_eq!(pip.outcome, Outcome::Pulled);
    assert_eq!(pip.log_lines, 0);
}

#[test]
fn missing_cache_to_import_fails_its_vertex_not_the_build() {
    for rel in [
        "app1-series/001-max-src-iter1.rawjson",
        "app1-series/002-min-src-iter1.rawjson",
        "app1-series/003-inline-src-iter1.rawjson",
    ] {
        let b = build(rel);
        assert_eq!(b.status, BuildStatus::Succeeded, "{rel}");
        let import = b
            .steps
            .iter()
            .find(|s| s.kind == StepKind::CacheImport)
            .unwrap_or_else(|| panic!("{rel}: no import step"));
        assert_eq!(import.outcome, Outcome::Failed);
        assert!(import.error.as_deref().unwrap().ends_with("not found"));
        assert!(b.failed_step().is_none());
        assert_eq!(b.cache_imports.len(), 1);
    }
}

#[test]
fn failure_with_canceled_sibling_in_each_format() {
    for rel in [
        "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.rawjson.txt",
        "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.plain.txt",
        "busybox-buildx0.13/local-moby20.10.24_api-build-version2_error.jsonstream",
    ] {
        let b = build(rel);
        assert_eq!(b.status, BuildStatus::Failed, "{rel}");
        assert!(
            b.error.as_deref().unwrap().contains("exit code: 3"),
            "{rel}"
        );
        let bad = step(&b, "[bad 2/2] RUN");
        assert_eq!(bad.outcome, Outcome::Failed, "{rel}");
        assert_eq!(b.failed_step().map(|s| s.seq), Some(bad.seq), "{rel}");
        assert_eq!(bad.log_lines, 2, "{rel}");
        assert!(bad.log_tail.contains("failure detail"), "{rel}");
        let sibling = step(&b, "[ok 1/1] RUN");
        assert_eq!(sibling.outcome, Outcome::Canceled, "{rel}");
    }
}

#[test]
fn failures_of_the_docker_20_10_cli() {
    let b = build("engine-20.10/05-test-failure.ci.log");
    assert_eq!(b.status, BuildStatus::Failed);
    assert_eq!(step(&b, "[test 3/3]").outcome, Outcome::Failed);
    assert!(b
        .error
        .as_deref()
        .unwrap()
        .starts_with("executor failed running"));
    let b = build("engine-20.10/00-fail-pip-tls.ci.log");
    assert_eq!(b.status, BuildStatus::Failed);
    assert_eq!(step(&b, "[deps 4/4]").outcome, Outcome::Failed);
    // The parallel web stage finished before the failure.
    assert_eq!(step(&b, "[web 3/3]").outcome, Outcome::Executed);
}

/// `#N DONE x.xs` and `#N CACHED`, read with nothing but string splitting.
fn printed_results(text: &str) -> (HashMap<String, i64>, HashMap<String, bool>) {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut done = HashMap::new();
    let mut cached = HashMap::new();
    for line in text.lines() {
        let line = match line.find(" #") {
            Some(i) if line.starts_with("20") => &line[i + 1..],
            _ => line,
        };
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        let Some((n, body)) = rest.split_once(' ') else {
            continue;
        };
        if !names.contains_key(n) && n != "0" {
            names.insert(n.to_string(), body.to_string());
            continue;
        }
        let Some(name) = names.get(n) else { continue };
        if let Some(d) = body.strip_prefix("DONE ").and_then(|d| d.strip_suffix('s')) {
            let ns = (d.parse::<f64>().unwrap() * 1e9).round() as i64;
            done.insert(name.clone(), ns);
        } else if body == "CACHED" {
            cached.insert(name.clone(), true);
        }
    }
    (done, cached)
}

#[test]
fn plain_durations_are_the_last_printed_done() {
    for rel in [
        "app1-series/005-max-src-iter2.plain.log",
        "app1-series/006-min-src-iter2.plain.log",
        "app1-series/014-min-deps-iter4.plain.log",
        "engine-20.10/04-warm-deps-change.ci.log",
        "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_nocache-parallel.plain.txt",
    ] {
        let text = std::fs::read_to_string(sample(rel)).unwrap();
        let (done, cached) = printed_results(&text);
        let b = build(rel);
        assert_eq!(
            b.steps.len(),
            done.len() + cached.keys().filter(|k| !done.contains_key(*k)).count(),
            "{rel}"
        );
        for s in &b.steps {
            if let Some(ns) = done.get(&s.name) {
                assert_eq!(s.duration_ns, *ns, "{rel}: {}", s.name);
            } else {
                assert!(
                    cached.contains_key(&s.name),
                    "{rel}: {} neither done nor cached",
                    s.name
                );
                assert_eq!(s.outcome, Outcome::Cached, "{rel}: {}", s.name);
            }
        }
    }
}

/// Sum of merged `[started, completed]` intervals per digest, computed from the raw JSON.
fn merged_durations(text: &str) -> BTreeMap<String, i64> {
    let mut intervals: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
    let de = serde_json::Deserializer::from_str(text.split("\nERROR").next().unwrap());
    for v in de.into_iter::<serde_json::Value>() {
        let v = v.unwrap();
        for vx in v["vertexes"].as_array().into_iter().flatten() {
            let ts = |k: &str| vx[k].as_str().and_then(chrono_ns);
            if let (Some(s), Some(c)) = (ts("started"), ts("completed")) {
                intervals
                    .entry(vx["digest"].as_str().unwrap().to_string())
                    .or_default()
                    .insert(s, c);
            }
        }
    }
    intervals
        .into_iter()
        .map(|(d, iv)| {
            let mut total = 0;
            let mut cur: Option<(i64, i64)> = None;
            for (s, e) in iv {
                match cur {
                    Some((cs, ce)) if s <= ce => cur = Some((cs, ce.max(e))),
                    Some((cs, ce)) => {
                        total += ce - cs;
                        cur = Some((s, e));
                    }
                    None => cur = Some((s, e)),
                }
            }
            if let Some((cs, ce)) = cur {
                total += ce - cs;
            }
            (d, total)
        })
        .collect()
}

fn chrono_ns(t: &str) -> Option<i64> {
    // 2026-11-22T03:23:44.003745118Z: date part to days, fraction padded to 9 digits.
    let (date, time) = t.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().unwrap());
    let (y, m, day) = (d.next()?, d.next()?, d.next()?);
    let time = time.strip_suffix('Z')?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut p = hms.split(':').map(|x| x.parse::<i64>().unwrap());
    let (h, mi, s) = (p.next()?, p.next()?, p.next()?);
    let frac: i64 = format!("{frac:0<9}")[..9].parse().ok()?;
    // days from civil (Howard Hinnant's algorithm)
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000_000) + frac)
}

#[test]
fn rawjson_durations_are_merged_intervals() {
    let dir = sample("app1-series");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rawjson") {
            continue;
        }
        let rel = format!(
            "app1-series/{}",
            path.file_name().unwrap().to_str().unwrap()
        );
        let expected = merged_durations(&std::fs::read_to_string(&path).unwrap());
        let b = build(&rel);
        for s in &b.steps {
            if let Some(ns) = expected.get(&s.digest) {
                assert_eq!(s.duration_ns, *ns, "{rel}: {}", s.name);
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "checked {checked} steps");
}

#[test]
fn ci_prefixes_change_nothing_but_times() {
    for n in [
        "00-fail-pip-tls",
        "01-cold",
        "02-warm-nochange",
        "03-warm-src-change",
        "04-warm-deps-change",
        "05-test-failure",
    ] {
        let plain = build(&format!("engine-20.10/{n}.plain.log"));
        let ci = build(&format!("engine-20.10/{n}.ci.log"));
        assert_eq!(plain.status, ci.status, "{n}");
        assert!(
            plain.duration_ns.is_none(),
            "{n}: a plain log without timestamps has no wall time"
        );
        assert!(ci.duration_ns.is_some(), "{n}");
        let view = |b: &Build| {
            b.steps
                .iter()
                .map(|s| (s.digest.clone(), s.name.clone(), s.outcome, s.duration_ns))
                .collect::<Vec<_>>()
        };
        assert_eq!(view(&plain), view(&ci), "{n}");
        // Docker 20.10's plain output names every vertex by its digest.
        assert!(
            ci.steps.iter().all(|s| s.digest.starts_with("sha256:")),
            "{n}"
        );
    }
}

#[test]
fn warm_rebuild_is_all_hits_and_cold_build_executes() {
    let cold = build("engine-20.10/11-cold.api.jsonl");
    let warm = build("engine-20.10/12-warm-nochange.api.jsonl");
    let instr = |b: &Build| {
        b.steps
            .iter()
            .filter(|s| s.kind.is_instruction() && s.kind != StepKind::From)
            .map(|s| (s.name.clone(), s.outcome))
            .collect::<Vec<_>>()
    };
    assert!(instr(&cold).iter().all(|(_, o)| *o == Outcome::Executed));
    assert!(
        instr(&warm).iter().all(|(_, o)| *o == Outcome::Cached),
        "{:?}",
        instr(&warm)
    );
    assert_eq!(instr(&cold).len(), instr(&warm).len());
}

#[test]
fn source_change_reruns_exactly_the_steps_after_the_copy() {
    let b = build("engine-20.10/13-warm-src-change.api.jsonl");
    let executed: Vec<&str> = b
        .steps
        .iter()
        .filter(|s| {
            s.kind.is_instruction() && s.kind != StepKind::From && s.outcome == Outcome::Executed
        })
        .map(|s| s.instruction.as_str())
        .collect();
    let mut sorted = executed.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "COPY --from=test /app/test_app.py /app/.tested",
            "COPY src /app",
            "COPY src /app",
            "RUN /venv/bin/python test_app.py",
            "WORKDIR /app",
        ]
    );
}

#[test]
fn history_exports_match_buildkit_counters() {
    let mut records = 0;
    let mut failed = 0;
    let mut canceled = 0;
    for rel in [
        "external/docker-actions-toolkit_fixture_docker_test-docker-action_TYO4JJ_15.dockerbuild",
        "external/docker-actions-toolkit_fixture_docker_test-docker-action_SNHBPN_3.dockerbuild",
    ] {
        for b in builds(rel) {
            assert_eq!(b.format, Format::Dockerbuild);
            assert_eq!(
                Some(b.steps.len() as i64),
                b.reported_total_steps,
                "{rel} {:?}",
                b.reference
            );
            assert!(b.reference.is_some());
            records += 1;
            match b.status {
                BuildStatus::Failed => {
                    failed += 1;
                    assert!(b
                        .error
                        .as_deref()
                        .unwrap()
                        .contains("dockerfile parse error"));
                }
                BuildStatus::Canceled => canceled += 1,
                BuildStatus::Succeeded => {}
                BuildStatus::Incomplete => panic!("{rel}: incomplete record"),
            }
        }
    }
    assert_eq!((records, failed, canceled), (20, 1, 3));
}

#[test]
fn compact_rawjson_gives_the_same_build_as_indented() {
    // buildx >= 0.15 prints one compact object per line; 0.12-0.14 indent them.
    let path = sample("app1-series/010-min-web-iter3.rawjson");
    let text = std::fs::read_to_string(&path).unwrap();
    let compact: String = serde_json::Deserializer::from_str(&text)
        .into_iter::<serde_json::Value>()
        .map(|v| serde_json::to_string(&v.unwrap()).unwrap() + "\n")
        .collect();
    assert!(compact.lines().count() > 100);
    let a = read_builds("a", text.as_bytes(), None, &AssembleOptions::default())
        .unwrap()
        .builds;
    let b = read_builds("b", compact.as_bytes(), None, &AssembleOptions::default())
        .unwrap()
        .builds;
    let strip = |mut v: Vec<Build>| {
        v.iter_mut().for_each(|b| {
            b.id.clear();
            b.source.clear();
        });
        v
    };
    assert_eq!(strip(a), strip(b));
}

#[test]
fn truncated_stream_is_incomplete_with_running_steps_cut_off() {
    let text = std::fs::read_to_string(sample("app1-series/010-min-web-iter3.rawjson")).unwrap();
    // Cut in the middle of pip's run: after its first log object.
    let cut = text.find("\"logs\"").unwrap() + 40;
    let out = read_builds(
        "cut",
        &text.as_bytes()[..cut],
        None,
        &AssembleOptions::default(),
    )
    .unwrap();
    assert!(out.truncated.is_some());
    let b = &out.builds[0];
    assert_eq!(b.status, BuildStatus::Incomplete);
    assert!(b.steps.iter().any(|s| s.outcome == Outcome::Canceled));
}

#[test]
fn the_same_bytes_give_the_same_id_and_different_builds_differ() {
    let a = build("app1-series/010-min-web-iter3.rawjson");
    let b = build("app1-series/010-min-web-iter3.rawjson");
    let c = build("app1-series/009-max-web-iter3.rawjson");
    assert_eq!(a.id, b.id);
    assert_ne!(a.id, c.id);
    assert_eq!(a.id.len(), 32);
}

#[test]
fn secrets_are_masked_before_storage_and_log_text_is_capped() {
    // A real failing build whose step prints a token and whose command line carries a secret.
    let text = std::fs::read_to_string(sample(
        "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.plain.txt",
    ))
    .unwrap();
    let hostile = text
        .replace("echo \"about to fail\"", "echo \"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENG\"")
        .replace("#8 0.074 about to fail", "#8 0.074 cloning https://bob:hunter2@git.example.com/repo ghp_0123456789abcdefghijklmnopqrstuvwxyz");
    let opts = AssembleOptions::default();
    let b = &read_builds("h", hostile.as_bytes(), None, &opts)
        .unwrap()
        .builds[0];
    let dump = serde_json::to_string(b).unwrap();
    for secret in ["wJalrXUtnFEMIK7MDENG", "hunter2", "ghp_0123456789"] {
        assert!(!dump.contains(secret), "{secret} leaked: {dump}");
    }
    assert!(dump.contains("AWS_SECRET_ACCESS_KEY=[redacted]"));
    // Opting out keeps the text; a user pattern masks more.
    let raw = AssembleOptions {
        redactor: std::sync::Arc::new(
            collector::redact::Redactor::new(false, &["failure detail".into()]).unwrap(),
        ),
        ..AssembleOptions::default()
    };
    let b = &read_builds("h", hostile.as_bytes(), None, &raw)
        .unwrap()
        .builds[0];
    let dump = serde_json::to_string(b).unwrap();
    assert!(dump.contains("hunter2") && !dump.contains("failure detail"));
    // A log cap of 0 keeps the counts and drops the text.
    let capped = AssembleOptions {
        log_tail_bytes: 0,
        ..AssembleOptions::default()
    };
    let b = build_with("app1-series/010-min-web-iter3.rawjson", &capped);
    let pip = step(&b, "[deps 4/4]");
    assert_eq!((pip.log_lines, pip.log_tail.as_str()), (20, ""));
    assert!(pip.log_bytes > 1000);
    let small = AssembleOptions {
        log_tail_bytes: 100,
        ..AssembleOptions::default()
    };
    let b = build_with("app1-series/010-min-web-iter3.rawjson", &small);
    assert!(b.steps.iter().all(|s| s.log_tail.len() <= 100));
    assert!(step(&b, "[deps 4/4]").log_tail.ends_with("urllib3-2.8.0\n"));
}

fn build_with(rel: &str, opts: &AssembleOptions) -> Build {
    let f = std::fs::File::open(sample(rel)).unwrap();
    read_builds(rel, f, None, opts).unwrap().builds.remove(0)
}
