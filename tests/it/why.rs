//! `buildprof why` end to end without an engine: `record` around a fake `docker` that prints
//! real current-engine captures while the context (a copy of their real project) changes as it
//! did between them, and `ingest --context` of the Docker 20.10 plain series.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{assert_success, bin, json, sample};

/// A copy of `rel` (under sample-traces/) in `dir`.
fn copy_tree(rel: &str, dir: &Path) -> PathBuf {
    let to = dir.join("ctx");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(sample(rel))
        .arg(&to)
        .status()
        .unwrap();
    assert!(status.success());
    to
}

/// A `docker` that prints the trace named by `$TRACE` on stderr, as buildx does.
fn fake_docker(dir: &Path) -> PathBuf {
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let docker = bin_dir.join("docker");
    std::fs::write(&docker, "#!/bin/sh\ncat \"$TRACE\" >&2\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    docker
}

/// `record -- docker buildx build ... CTX` printing `trace`; returns the stored build's id.
fn record(db: &Path, docker: &Path, trace: &str, base: &str, ctx: &Path) -> String {
    let out = bin()
        .env("TRACE", sample(trace))
        .arg("--db")
        .arg(db)
        .args(["record", "--quiet", "--label", "branch=main", "--"])
        .arg(docker)
        .args(["buildx", "build", "--progress=plain", "--build-arg"])
        .arg(format!("BASE={base}"))
        .args(["-t", "proj:local"])
        .arg(ctx)
        .output()
        .unwrap();
    assert_success(&out);
    last_id(db)
}

fn last_id(db: &Path) -> String {
    let b = json(db, &["builds", "--json"]);
    b.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A fresh database holding `traces` (paths under sample-traces/) with `labels`, and the id of
/// the build stored last.
fn last_of(traces: &[String], labels: &[&str]) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let refs: Vec<&str> = traces.iter().map(String::as_str).collect();
    crate::common::ingest(&db, &refs, labels);
    let id = last_id(&db);
    (dir, db, id)
}

fn why(db: &Path, id: &str) -> Value {
    json(db, &["why", id, "--json"])
}

/// (step, stage, cause) of every entry.
fn causes(w: &Value) -> Vec<(String, String, String)> {
    w["busts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["step"].as_str().unwrap().to_string(),
                b["stage"].as_str().unwrap_or("").to_string(),
                b["cause"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn roots(w: &Value) -> Vec<&Value> {
    w["busts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["cause"] != "upstream_changed")
        .collect()
}

const STORE: &str = "current-engine/containerd-store";

/// The captures of `STORE` numbered `numbers`, named `NNN{kind}...{ext}` (paths under
/// sample-traces/).
fn captures(numbers: &[&str], kind: &str, ext: &str) -> Vec<String> {
    let names: Vec<String> = std::fs::read_dir(sample(STORE))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    numbers
        .iter()
        .map(|n| {
            let f = names
                .iter()
                .find(|f| f.starts_with(&format!("{n}{kind}")) && f.ends_with(ext))
                .unwrap_or_else(|| panic!("no capture {n}{kind}*{ext}"));
            format!("{STORE}/{f}")
        })
        .collect()
}
const BASE1: &str = "127.0.0.1:5000/busybox:1";

#[test]
fn record_reads_the_wrapped_command_and_why_names_the_changed_file_arg_and_base() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = copy_tree("current-engine/project", dir.path());
    let docker = fake_docker(dir.path());

    let seed = record(
        &db,
        &docker,
        &format!("{STORE}/045-local-warm-main-plain-r1-seed.plain.log"),
        BASE1,
        &ctx,
    );
    let w = why(&db, &seed);
    let r = roots(&w);
    assert_eq!(r.len(), 1, "{w:#}");
    assert_eq!(r[0]["cause"], "cache_unavailable");
    assert_eq!(r[0]["detail"], "cold_builder");
    assert_eq!(w["compared_with"], Value::Null);

    // The src change of the capture, and a change to src/debug.log, which .dockerignore hides.
    std::fs::write(ctx.join("src/main.txt"), "main v2\n").unwrap();
    std::fs::write(ctx.join("src/debug.log"), "more noise\n").unwrap();
    let src = record(
        &db,
        &docker,
        &format!("{STORE}/046-local-warm-main-plain-r1-src.plain.log"),
        BASE1,
        &ctx,
    );
    let w = why(&db, &src);
    assert_eq!(w["compared_with"]["build_id"], seed.as_str());
    let r = roots(&w);
    assert_eq!(r.len(), 1, "{w:#}");
    assert_eq!(r[0]["step"], "COPY src /app");
    assert_eq!(r[0]["cause"], "source_files_changed");
    assert_eq!(
        r[0]["changed_files"],
        serde_json::json!([{"path": "src/main.txt", "change": "modified"}])
    );
    let root_seq = r[0]["seq"].clone();
    assert_eq!(
        causes(&w)[1..],
        [
            (
                "RUN echo \"compiling\" && cat /app/*.txt | wc -c > /app/.built && cat /app/.built"
                    .into(),
                "final".into(),
                "upstream_changed".into()
            ),
            (
                "COPY config /etc/app".into(),
                "final".into(),
                "upstream_changed".into()
            ),
        ]
    );
    for b in w["busts"].as_array().unwrap().iter().skip(1) {
        assert_eq!(b["caused_by"], root_seq);
    }
    let total: i64 = w["busts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["duration_ms"].as_i64().unwrap())
        .sum();
    assert_eq!(
        r[0]["cost_ms"].as_i64().unwrap(),
        total,
        "the root carries the re-run time"
    );

    std::fs::write(ctx.join("config/app.conf"), "port=9090\n").unwrap();
    let config = record(
        &db,
        &docker,
        &format!("{STORE}/047-local-warm-main-plain-r1-config.plain.log"),
        BASE1,
        &ctx,
    );
    let w = why(&db, &config);
    assert_eq!(
        causes(&w),
        [(
            "COPY config /etc/app".into(),
            "final".into(),
            "source_files_changed".into()
        )]
    );
    assert_eq!(w["busts"][0]["changed_files"][0]["path"], "config/app.conf");

    // The base update: --build-arg BASE changed too, but the stage's base digest is the cause.
    let base = record(
        &db,
        &docker,
        &format!("{STORE}/048-local-warm-main-plain-r1-base.plain.log"),
        "127.0.0.1:5000/busybox:2",
        &ctx,
    );
    let w = why(&db, &base);
    let r = roots(&w);
    assert_eq!(r.len(), 1, "{w:#}");
    assert_eq!(
        r[0]["step"],
        "RUN mkdir -p /opt && echo base-ready > /opt/base.txt"
    );
    assert_eq!(r[0]["cause"], "base_image_changed");
    assert!(r[0]["before"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:5000/busybox:1@sha256:d5c13ca9"));
    assert!(r[0]["after"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:5000/busybox:2@sha256:ba729d35"));
    assert_eq!(w["busts"].as_array().unwrap().len(), 10);

    // The arg was stored as a keyed hash only, and the Dockerfile with its stage graph.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (value, hash): (Option<String>, String) = conn
        .query_row(
            "SELECT value, value_hash FROM build_args WHERE build_id = ?1 AND name = 'BASE'",
            [&base],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(value, None);
    assert_eq!(hash.len(), 32);
    let path: String = conn
        .query_row(
            "SELECT dockerfile_path FROM build_inputs WHERE build_id = ?1",
            [&base],
            |r| r.get(0),
        )
        .unwrap();
    assert!(path.ends_with("ctx/Dockerfile"), "{path}");

    // One step, by number; the text form says the file.
    let one = json(&db, &["why", &src, &format!("#{root_seq}"), "--json"]);
    assert_eq!(one["busts"].as_array().unwrap().len(), 1);
    let text = crate::common::ok(&db, &["why", &src]);
    assert!(
        text.contains("`COPY src /app` re-ran because `src/main.txt` changed"),
        "{text}"
    );
}

#[test]
fn ingest_context_gives_plain_logs_the_stage_graph() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = copy_tree("app1-series/context", dir.path());
    let ingest = |trace: &str| {
        let out = bin()
            .arg("--db")
            .arg(&db)
            .args(["ingest", "--quiet", "--context"])
            .arg(&ctx)
            .arg(sample(&format!("engine-20.10/{trace}")))
            .output()
            .unwrap();
        assert_success(&out);
        last_id(&db)
    };
    ingest("01-cold.ci.log");
    ingest("02-warm-nochange.ci.log");
    std::fs::write(ctx.join("src/app.py"), "print('v2')\n").unwrap();
    let src = ingest("03-warm-src-change.ci.log");
    let w = why(&db, &src);
    let r: Vec<_> = roots(&w)
        .iter()
        .map(|b| {
            (
                b["stage"].clone(),
                b["step"].clone(),
                b["changed_files"].clone(),
            )
        })
        .collect();
    let app = serde_json::json!([{"path": "src/app.py", "change": "modified"}]);
    assert_eq!(r.len(), 2, "{w:#}");
    assert!(
        r.contains(&("test".into(), "COPY src /app".into(), app.clone())),
        "{w:#}"
    );
    assert!(
        r.contains(&("runtime".into(), "COPY src /app".into(), app)),
        "{w:#}"
    );

    std::fs::write(ctx.join("requirements.txt"), "flask==3.0.0\nsix==1.16.0\n").unwrap();
    let deps = ingest("04-warm-deps-change.ci.log");
    let w = why(&db, &deps);
    let r = roots(&w);
    assert_eq!(r.len(), 1, "{w:#}");
    assert_eq!(r[0]["step"], "COPY requirements.txt /tmp/requirements.txt");
    assert_eq!(r[0]["changed_files"][0]["path"], "requirements.txt");
    // `FROM deps AS test`: its COPY re-ran because deps did, not as a bust of its own.
    let test_copy = w["busts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["stage"] == "test" && b["step"] == "COPY src /app")
        .unwrap();
    assert_eq!(test_copy["cause"], "upstream_changed");
    assert_eq!(test_copy["caused_by"], r[0]["seq"]);

    // `busts` agrees: one bust, at deps' COPY, carrying the test stage's re-run steps too, and
    // its text says why in `why`'s words.
    let busts = json(&db, &["busts", &deps, "--json"]);
    let list = busts["busts"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{busts:#}");
    assert_eq!(
        list[0]["instruction"],
        "COPY requirements.txt /tmp/requirements.txt"
    );
    assert_eq!(list[0]["why"]["cause"], "source_files_changed");
    // deps' two steps (its COPY and RUN) and test's three, which `busts` alone counted as a
    // bust of their own.
    assert_eq!(list[0]["reran_steps"], 5, "{busts:#}");
    let text = crate::common::ok(&db, &["busts", &deps]);
    assert!(
        text.contains("    why: `COPY requirements.txt /tmp/requirements.txt` re-ran because `requirements.txt` changed"),
        "{text}"
    );
    assert!(!text.contains("stage test"), "{text}");
}

#[test]
fn without_inputs_why_says_which_evidence_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    crate::common::ingest(
        &db,
        &[
            "engine-20.10/02-warm-nochange.ci.log",
            "engine-20.10/03-warm-src-change.ci.log",
        ],
        &[],
    );
    let w = why(&db, &last_id(&db));
    let r = roots(&w);
    assert!(!r.is_empty());
    for b in r {
        assert_eq!(b["cause"], "unknown", "{b:#}");
        assert!(b["detail"].as_str().unwrap().contains("--context"), "{b:#}");
    }
}

#[test]
fn a_failed_cache_import_on_a_cold_build_is_the_cause_and_the_summary_says_it_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    // The seed of the mode=max series: its registry cache ref did not exist yet.
    crate::common::ingest(
        &db,
        &[&format!(
            "{STORE}/001-max-cold-main-rawjson-r1-seed.rawjson"
        )],
        &[],
    );
    let id = last_id(&db);
    let w = why(&db, &id);
    assert_eq!(
        w["import_failures"][0]["ref"],
        "127.0.0.1:5000/proj:cache-max"
    );
    let r = roots(&w);
    assert_eq!(r.len(), 1, "{w:#}");
    assert_eq!(r[0]["cause"], "cache_unavailable");
    assert_eq!(r[0]["detail"], "import_failed");
    let md = crate::common::ok(&db, &["summary", &id]);
    assert!(
        md.contains("cache import of 127.0.0.1:5000/proj:cache-max failed: failed to configure registry cache importer: 127.0.0.1:5000/proj:cache-max: not found; this build ran without that cache; **it ran cold: no step hit the cache**."),
        "{md}"
    );
    assert!(md.contains("- `RUN mkdir -p /opt && echo base-ready > /opt/base.txt` ran cold: the build's cache import failed: "), "{md}");
    // The failed import is a step, and counted.
    assert!(md.contains(" executed, 1 failed."), "{md}");
}

#[test]
fn the_job_summary_says_the_changed_file_in_one_line_per_bust() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = copy_tree("current-engine/project", dir.path());
    let docker = fake_docker(dir.path());
    record(
        &db,
        &docker,
        &format!("{STORE}/045-local-warm-main-plain-r1-seed.plain.log"),
        BASE1,
        &ctx,
    );
    std::fs::write(ctx.join("src/main.txt"), "main v2\n").unwrap();
    std::fs::write(ctx.join("src/util.txt"), "util v2\n").unwrap();
    let src = record(
        &db,
        &docker,
        &format!("{STORE}/046-local-warm-main-plain-r1-src.plain.log"),
        BASE1,
        &ctx,
    );
    let md = crate::common::ok(&db, &["summary", &src]);
    let line = md
        .lines()
        .find(|l| l.starts_with("- `COPY src /app`"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        line.starts_with(
            "- `COPY src /app` re-ran because `src/main.txt` changed (and 1 more file): "
        ),
        "{line}"
    );
    let busts = json(&db, &["busts", &src, "--json"]);
    assert_eq!(
        busts["busts"][0]["why"]["cause"], "source_files_changed",
        "{busts:#}"
    );
    assert_eq!(
        busts["busts"][0]["why"]["changed_files"][1]["path"],
        "src/util.txt"
    );
}

#[test]
fn merged_team_databases_keep_the_inputs_and_answer_why_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.db");
    let ctx = copy_tree("current-engine/project", dir.path());
    let docker = fake_docker(dir.path());
    record(
        &job,
        &docker,
        &format!("{STORE}/045-local-warm-main-plain-r1-seed.plain.log"),
        BASE1,
        &ctx,
    );
    std::fs::write(ctx.join("src/main.txt"), "main v2\n").unwrap();
    let src = record(
        &job,
        &docker,
        &format!("{STORE}/046-local-warm-main-plain-r1-src.plain.log"),
        BASE1,
        &ctx,
    );
    let team = dir.path().join("team.db");
    let out = bin()
        .arg("merge")
        .arg("--into")
        .arg(&team)
        .arg(&job)
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(why(&team, &src), why(&job, &src));
    assert_eq!(
        why(&team, &src)["busts"][0]["changed_files"][0]["path"],
        "src/main.txt"
    );
}

#[test]
fn the_weekly_report_breaks_re_run_time_down_by_cause() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = copy_tree("current-engine/project", dir.path());
    let docker = fake_docker(dir.path());
    let seq = |n: &str| format!("{STORE}/{n}.plain.log");
    record(
        &db,
        &docker,
        &seq("045-local-warm-main-plain-r1-seed"),
        BASE1,
        &ctx,
    );
    std::fs::write(ctx.join("src/main.txt"), "main v2\n").unwrap();
    let src = record(
        &db,
        &docker,
        &seq("046-local-warm-main-plain-r1-src"),
        BASE1,
        &ctx,
    );
    std::fs::write(ctx.join("config/app.conf"), "port=9090\n").unwrap();
    record(
        &db,
        &docker,
        &seq("047-local-warm-main-plain-r1-config"),
        BASE1,
        &ctx,
    );
    let base = record(
        &db,
        &docker,
        &seq("048-local-warm-main-plain-r1-base"),
        "127.0.0.1:5000/busybox:2",
        &ctx,
    );
    let out = dir.path().join("report");
    crate::common::ok(
        &db,
        &[
            "report",
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json,md",
        ],
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let causes = report["rerun_by_cause"].as_array().unwrap();
    let keys: Vec<&str> = causes
        .iter()
        .map(|c| c["cause"].as_str().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "base_image_changed",
            "cache_unavailable/cold_builder",
            "source_files_changed"
        ],
        "{causes:#?}"
    );
    // Each cause's time is what `why` charged to its root causes, and the shares add up.
    let cost = |id: &str| -> i64 {
        roots(&why(&db, id))
            .iter()
            .map(|b| b["cost_ms"].as_i64().unwrap())
            .sum()
    };
    let base_ms = causes
        .iter()
        .find(|c| c["cause"] == "base_image_changed")
        .unwrap()["rerun_ms"]
        .as_i64()
        .unwrap();
    assert_eq!(base_ms, cost(&base));
    let src_ms = causes
        .iter()
        .find(|c| c["cause"] == "source_files_changed")
        .unwrap()["rerun_ms"]
        .as_i64()
        .unwrap();
    assert!(src_ms >= cost(&src), "the src and config changes: {src_ms}");
    let total: f64 = causes.iter().map(|c| c["share"].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-4, "{total}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("**Re-run time by cause:**"), "{md}");
    assert!(md.contains("(rerun-by-cause.svg)"), "{md}");
    assert!(out.join("rerun-by-cause.svg").exists());
    let row = md
        .lines()
        .find(|l| l.starts_with("| `COPY config /etc/app` |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(row.contains("| source changes |"), "{row}");
}

#[test]
fn ingest_tee_records_the_inputs_of_a_piped_build() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = copy_tree("current-engine/project", dir.path());
    let tee = |trace: &str| {
        let out = bin()
            .arg("--db")
            .arg(&db)
            .args(["ingest", "-", "--tee", "--quiet", "--context"])
            .arg(&ctx)
            .stdin(std::fs::File::open(sample(&format!("{STORE}/{trace}.plain.log"))).unwrap())
            .output()
            .unwrap();
        assert_success(&out);
        last_id(&db)
    };
    tee("045-local-warm-main-plain-r1-seed");
    std::fs::write(ctx.join("config/app.conf"), "port=9090\n").unwrap();
    let config = tee("047-local-warm-main-plain-r1-config");
    let r = why(&db, &config);
    let roots = roots(&r);
    assert_eq!(roots.len(), 1, "{r:#}");
    assert_eq!(roots[0]["changed_files"][0]["path"], "config/app.conf");
}

/// A base image update under a `COPY --link` (capture 004: busybox:1 -> :2 below `final`): the
/// merge `LINK COPY` was never reported cached, so it ran although its copy hit, and the steps
/// after it re-ran because of it, not for a cause of their own (before, the merge followed its
/// copy and the next steps got a root cause: `evicted` or a changed build arg).
#[test]
fn a_link_merge_that_ran_is_upstream_of_the_steps_after_it() {
    let traces = captures(
        &["001", "002", "003", "004"],
        "-max-cold-main-rawjson",
        ".rawjson",
    );
    let (_dir, db, id) = last_of(&traces, &["branch=main"]);
    let show = json(&db, &["show", &id, "--json"]);
    let outcome = |prefix: &str| -> String {
        show["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}: {show:#}"))["outcome"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(outcome("[final 2/5] LINK COPY"), "executed");
    assert_eq!(outcome("[final 2/5] COPY --link"), "pulled");
    let w = why(&db, &id);
    let c = causes(&w);
    let cause_of = |prefix: &str| {
        c.iter()
            .find(|(step, _, _)| step.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {c:?}"))
            .2
            .clone()
    };
    assert_eq!(cause_of("LINK COPY"), "upstream_changed", "{w:#}");
    assert_eq!(cause_of("COPY src /app"), "upstream_changed", "{w:#}");
    assert!(
        roots(&w).iter().all(|r| r["stage"] != "final"),
        "no root cause in `final`: its first step copies from a stage that ran: {w:#}"
    );
}

/// A build where nothing ran has nothing to explain, and says so rather than "no earlier build".
#[test]
fn why_on_a_build_that_ran_nothing_says_there_is_nothing_to_explain() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    crate::common::ingest(
        &db,
        &[&sample(
            "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_warm-all-cached.rawjson.txt",
        )],
        &[],
    );
    let id = last_id(&db);
    let text = crate::common::ok(&db, &["why", &id]);
    assert_eq!(
        text,
        format!("{}: no step ran; nothing to explain\n", &id[..12])
    );
}

/// The same base image update in plain logs (captures 009-012), where a `COPY --link` and its
/// merge are one step: that step hit (pulled), but the merge below it ran because the step it
/// was merged onto ran, so `COPY src /app` after it is `upstream_changed`, as in rawjson.
#[test]
fn in_plain_logs_a_link_copy_that_hit_passes_on_the_change_below_it() {
    let traces = captures(
        &["009", "010", "011", "012"],
        "-max-cold-main-plain",
        ".plain.log",
    );
    let (_dir, db, id) = last_of(&traces, &["branch=main"]);
    let w = why(&db, &id);
    let c = causes(&w);
    let link = c
        .iter()
        .find(|(step, _, _)| step.starts_with("COPY --link"));
    assert!(link.is_none(), "the --link step hit: {c:?}");
    let src = c
        .iter()
        .find(|(step, _, _)| step == "COPY src /app")
        .unwrap_or_else(|| panic!("{c:?}"));
    assert_eq!(src.2, "upstream_changed", "{w:#}");
    assert!(
        roots(&w).iter().all(|r| r["stage"] != "final"),
        "no root cause in `final`: {w:#}"
    );
}

/// `mode=min` after a prune (the link-project captures, a project of the black-box check): the
/// deps stage's `WORKDIR` has the cache key of the build where it hit, yet ran; the cache the
/// build imported never held it, and `why` says so, naming the cache and its mode.
#[test]
fn an_evicted_step_names_the_min_cache_it_was_not_in() {
    let traces: Vec<String> = ["a-first", "b-import", "c-import", "d-srcchange"]
        .iter()
        .map(|n| format!("current-engine/link-project/s2-min-rawjson-{n}.rawjson"))
        .collect();
    let (_dir, db, id) = last_of(&traces, &["branch=main", "cache_mode=min"]);
    let w = why(&db, &id);
    let workdir = roots(&w)
        .into_iter()
        .find(|b| b["step"] == "WORKDIR /deps")
        .unwrap_or_else(|| panic!("{w:#}"));
    assert_eq!(workdir["cause"], "cache_unavailable");
    assert_eq!(workdir["detail"], "evicted");
    let held = "neither the imported cache (127.0.0.1:5077/proj:rawjson-min, mode=min, which exports only the final stage's layers) nor the builder's held it";
    assert!(workdir["note"].as_str().unwrap().ends_with(held), "{w:#}");
    let text = crate::common::ok(&db, &["why", &id]);
    assert!(text.contains(held), "{text}");
}
