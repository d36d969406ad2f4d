//! The `buildprof` binary end to end: ingest, builds, show, demo; JSON contract fields; exit
//! codes and messages on bad input; idempotent ingest; snapshots of what people read.

use serde_json::Value;

use crate::common::{assert_success, bin, json, ok, run, sample};

const MIN_LAZY: &str = "app1-series/010-min-web-iter3.rawjson";
const MAX_PULL: &str = "app1-series/009-max-web-iter3.rawjson";
const COLD: &str = "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_cold.rawjson.txt";
const ALL_CACHED: &str =
    "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_warm-all-cached.rawjson.txt";
const FAILED: &str = "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.rawjson.txt";
const EXPORT: &str =
    "external/docker-actions-toolkit_fixture_docker_test-docker-action_SNHBPN_3.dockerbuild";

#[test]
fn builds_json_contract_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    ok(
        &db,
        &[
            "ingest",
            &sample(MIN_LAZY),
            "--label",
            "strategy=min",
            "--label",
            "branch=main",
        ],
    );
    ok(
        &db,
        &["ingest", &sample(MAX_PULL), "--label", "strategy=max"],
    );
    let all = json(&db, &["builds", "--json"]);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    for b in all {
        for key in [
            "id",
            "source",
            "format",
            "status",
            "started_at",
            "duration_ms",
            "step_count",
            "cached_count",
            "pulled_count",
            "executed_count",
            "failed_step",
            "labels",
        ] {
            assert!(b.get(key).is_some(), "builds --json lacks {key}: {b}");
        }
        assert_eq!(b["format"], "rawjson");
        assert_eq!(b["step_count"], 20);
        assert!(b["started_at"].as_str().unwrap().ends_with('Z'));
    }
    let min = json(&db, &["builds", "--json", "--label", "strategy=min"]);
    let min = &min.as_array().unwrap()[0];
    assert_eq!(min["labels"]["branch"], "main");
    assert_eq!(min["lazy_miss_count"], 3);
    assert_eq!(min["pulled_count"], 1);
    assert_eq!(min["failed_step"], Value::Null);
    let none = json(&db, &["builds", "--json", "--label", "strategy=nope"]);
    assert_eq!(none.as_array().unwrap().len(), 0);
}

#[test]
fn show_json_contract() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(&db, &["ingest", &sample(FAILED)]);
    let id = json(&db, &["builds", "--json"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let show = json(&db, &["show", &id[..8], "--json"]);
    assert_eq!(show["status"], "failed");
    assert_eq!(
        show["failed_step"],
        "[bad 2/2] RUN echo \"about to fail\"; echo \"failure detail\" >&2; exit 3"
    );
    let steps = show["steps"].as_array().unwrap();
    assert_eq!(steps.len(), show["step_count"].as_u64().unwrap() as usize);
    for s in steps {
        for key in [
            "name",
            "stage",
            "kind",
            "outcome",
            "lazy_miss",
            "started_at",
            "duration_ms",
            "error",
            "inputs",
        ] {
            assert!(s.get(key).is_some(), "show --json step lacks {key}: {s}");
        }
    }
    let bad = steps.iter().find(|s| s["outcome"] == "failed").unwrap();
    assert_eq!(bad["stage"], "bad");
    assert_eq!(bad["kind"], "RUN");
    assert!(bad["error"].as_str().unwrap().contains("exit code: 3"));
    assert!(!bad["inputs"].as_array().unwrap().is_empty());
    assert!(steps.iter().any(|s| s["outcome"] == "canceled"));
}

#[test]
fn ingest_is_idempotent_and_env_selects_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("env.db");
    let first = bin()
        .env("BUILDPROF_DB", &db)
        .args(["ingest", &sample(MIN_LAZY)])
        .output()
        .unwrap();
    assert!(first.status.success());
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("stored "));
    let again = bin()
        .env("BUILDPROF_DB", &db)
        .args(["ingest", &sample(MIN_LAZY), "--label", "rep=2"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("already stored "));
    let all = json(&db, &["builds", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["labels"]["rep"], "2", "labels given again are added");
}

#[test]
fn ingest_json_prints_each_stored_build_as_builds_json_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    let traces = [sample(MIN_LAZY), sample(EXPORT)];
    let out = run(&db, &["ingest", "--json", &traces[0], &traces[1]]);
    assert_success(&out);
    let printed: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // One line per build read (the export holds several), each the object `builds --json`
    // gives for that build, in the order read.
    let mut stored = json(&db, &["builds", "--json"]).as_array().unwrap().clone();
    assert!(printed.len() > 2, "{printed:?}");
    assert_eq!(printed.len(), stored.len());
    for p in &printed {
        let i = stored.iter().position(|s| s["id"] == p["id"]).unwrap();
        assert_eq!(&stored.remove(i), p);
    }
    assert_eq!(printed[0]["source"], traces[0].as_str());
    // Ingested again, the same builds are printed (already stored).
    let again = run(&db, &["ingest", "--json", &traces[0]]);
    let line: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(line, printed[0]);
}

#[test]
fn stdin_and_multi_record_exports() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let out = bin()
        .args(["--db", db.to_str().unwrap(), "ingest", "-"])
        .stdin(std::fs::File::open(sample(EXPORT)).unwrap())
        .output()
        .unwrap();
    assert_success(&out);
    let all = json(&db, &["builds", "--json"]);
    let statuses: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 4);
    assert_eq!(statuses.iter().filter(|s| **s == "canceled").count(), 3);
    assert_eq!(statuses.iter().filter(|s| **s == "failed").count(), 1);
    assert!(all[0]["source"] == "<stdin>");
}

#[test]
fn bad_input_is_exit_1_with_file_and_position_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bad.db");
    ok(&db, &["ingest", &sample(COLD)]);
    let bad = dir.path().join("wrong-shape.json");
    std::fs::write(
        &bad,
        "{\"vertexes\":[{\"digest\":\"a\"}]}\n{\"vertexes\": 7}\n",
    )
    .unwrap();
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "").unwrap();
    let binary = dir.path().join("blob.bin");
    std::fs::write(&binary, [0u8, 1, 2, 3, 255, 254]).unwrap();
    let out = run(
        &db,
        &[
            "ingest",
            bad.to_str().unwrap(),
            empty.to_str().unwrap(),
            binary.to_str().unwrap(),
            &sample(ALL_CACHED),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "error: {}: malformed rawjson input at line 2",
            bad.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("error: {}: input is empty", empty.display())),
        "{err}"
    );
    assert!(err.contains("binary data"), "{err}");
    // The good files around the bad ones are stored; nothing before is lost.
    assert_eq!(
        json(&db, &["builds", "--json"]).as_array().unwrap().len(),
        2
    );
}

#[test]
fn truncated_input_is_stored_as_incomplete_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let text = std::fs::read_to_string(sample(MIN_LAZY)).unwrap();
    let cut = dir.path().join("cut.rawjson");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let out = run(&db, &["ingest", cut.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("stored as incomplete"));
    assert_eq!(json(&db, &["builds", "--json"])[0]["status"], "incomplete");
}

#[test]
fn usage_errors_exit_2_and_newer_databases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    assert_eq!(
        run(&db, &["ingest", "--format", "yaml", "x"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&db, &["frobnicate"]).status.code(), Some(2));
    let out = run(&db, &["ingest", "--label", "novalue", &sample(COLD)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not KEY=VALUE"));
    ok(&db, &["builds"]);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA user_version = 99").unwrap();
    }
    let out = run(&db, &["builds"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("schema version 99, newer than this buildprof supports"));
    let out = run(&db, &["show", "0000"]);
    assert_eq!(out.status.code(), Some(1));
}

fn show_text(rel: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("snap.db");
    ok(&db, &["ingest", &sample(rel)]);
    let ids = json(&db, &["builds", "--json"]);
    ids.as_array()
        .unwrap()
        .iter()
        .map(|b| ok(&db, &["show", b["id"].as_str().unwrap()]).replace(&sample(""), ""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One snapshot test per trace: what `show` prints for each build in it.
macro_rules! show_snapshots {
    ($($test:ident: $trace:expr,)*) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!(show_text($trace));
        }
    )*};
}

show_snapshots! {
    snapshot_show_cold: COLD,
    snapshot_show_all_cached: ALL_CACHED,
    snapshot_show_max_import_with_pulls: MAX_PULL,
    snapshot_show_min_import_with_lazy_misses: MIN_LAZY,
    snapshot_show_failure_with_canceled_sibling: FAILED,
    snapshot_show_history_export_with_several_records: EXPORT,
}

#[test]
fn demo_runs_on_the_bundled_samples() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["demo", "--dir", &sample("")])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("-> 74 builds"), "{text}");
    assert!(text.contains("lazy miss"), "{text}");
    assert!(dir.path().join("buildprof-demo/demo.db").exists());
}

/// The phrases of an error line (`error: a: b: c` gives a, b, c): none may be said twice,
/// and none may be part of another (`database x.db` inside `cannot open database x.db`).
#[track_caller]
fn assert_one_clean_line(what: &str, stderr: &str) {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: one error line expected in {stderr:?}"
    );
    let phrases: Vec<&str> = lines[0]["error: ".len()..].split(": ").collect();
    for (i, a) in phrases.iter().enumerate() {
        for (j, b) in phrases.iter().enumerate() {
            assert!(
                i == j || !b.contains(a),
                "{what}: {a:?} is said again in {:?}",
                lines[0]
            );
        }
        assert!(!a.starts_with("Error code"), "{what}: {:?}", lines[0]);
    }
}

#[test]
fn every_error_is_one_line_without_a_repeated_phrase() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = d.join("notdb.db");
    std::fs::write(&text, "hello, not a database\n").unwrap();
    let gzip = d.join("job.db");
    std::fs::write(&gzip, b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03rest").unwrap();
    let team = d.join("team.db");
    let good = d.join("good.db");
    ok(&good, &["ingest", "--quiet", &sample(COLD)]);
    let p = |p: &std::path::Path| p.display().to_string();
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "text file as --db",
            vec!["--db".into(), p(&text), "builds".into()],
            "file is not a database",
        ),
        (
            "folder as --db",
            vec!["--db".into(), p(d), "builds".into()],
            "unable to open database file",
        ),
        (
            "--db in a missing folder",
            vec!["--db".into(), p(&d.join("no/such/x.db")), "summary".into()],
            "cannot open database",
        ),
        (
            "gzip file named .db merged",
            vec!["merge".into(), "--into".into(), p(&team), p(&gzip)],
            "job.db",
        ),
        (
            "text file merged",
            vec!["merge".into(), "--into".into(), p(&team), p(&text)],
            "notdb.db",
        ),
        (
            "missing trace",
            vec![
                "--db".into(),
                p(&good),
                "ingest".into(),
                p(&d.join("missing.json")),
            ],
            "missing.json",
        ),
        (
            "export into a missing folder",
            vec![
                "--db".into(),
                p(&good),
                "export".into(),
                "--format".into(),
                "csv".into(),
                "--table".into(),
                "builds".into(),
                "--out".into(),
                p(&d.join("no/such/b.csv")),
            ],
            "b.csv",
        ),
        (
            "report into a file's place",
            vec![
                "--db".into(),
                p(&good),
                "report".into(),
                "--out".into(),
                p(&text),
            ],
            "notdb.db",
        ),
        (
            "text file compared",
            vec![
                "--db".into(),
                p(&text),
                "compare".into(),
                "--by".into(),
                "strategy".into(),
            ],
            "file is not a database",
        ),
    ];
    for (what, args, names) in cases {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{what}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(names), "{what}: {names:?} not in {err:?}");
        assert_one_clean_line(what, &err);
    }
}
