//! `buildprof record` and `ingest - --tee` end to end without an engine: a fake build command
//! prints a real trace from sample-traces/ and exits 3; output bytes, their order, exit codes
//! and what is stored are checked against running the same command directly.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::common::{assert_success, bin, json, sample};

const ERROR_RAWJSON: &str = "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.rawjson.txt";
const PLAIN_CI: &str = "engine-20.10/01-cold.plain.log";

fn builds(db: &Path) -> Vec<Value> {
    json(db, &["builds", "--json"]).as_array().unwrap().clone()
}

/// A fake build: the trace on stderr (as buildx prints rawjson), a line on stdout, exit 3.
fn fake_build(trace: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        "printf 'starting\\n'; cat \"$1\" >&2; printf 'done\\n'; exit 3".into(),
        "fake".into(),
        trace.into(),
    ]
}

fn direct(argv: &[String]) -> Output {
    Command::new(&argv[0]).args(&argv[1..]).output().unwrap()
}

fn record(db: &Path, extra: &[&str], argv: &[String]) -> Output {
    bin()
        .arg("--db")
        .arg(db)
        .arg("record")
        .args(extra)
        .arg("--")
        .args(argv)
        .output()
        .unwrap()
}

#[test]
fn record_keeps_exit_code_and_output_bytes_and_stores_the_failed_build() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let argv = fake_build(&sample(ERROR_RAWJSON));
    let want = direct(&argv);
    assert_eq!(want.status.code(), Some(3));

    let got = record(&db, &["--quiet", "--label", "ci=yes"], &argv);
    assert_eq!(got.status.code(), Some(3));
    assert_eq!(got.stdout, want.stdout, "stdout differs");
    assert_eq!(got.stderr, want.stderr, "stderr differs");

    let b = builds(&db);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["status"], "failed");
    assert_eq!(b[0]["format"], "rawjson");
    assert_eq!(b[0]["labels"]["ci"], "yes");
    assert!(
        b[0]["error"].as_str().unwrap().contains("exit code: 3"),
        "{}",
        b[0]
    );

    // Without --quiet the summary follows the command's own stderr.
    let got = record(&db, &[], &argv);
    assert_eq!(got.status.code(), Some(3));
    assert_eq!(got.stdout, want.stdout);
    assert!(got.stderr.starts_with(&want.stderr));
    let summary = String::from_utf8_lossy(&got.stderr[want.stderr.len()..]).to_string();
    assert!(summary.starts_with("buildprof: recorded "), "{summary}");
    assert!(summary.contains("failed (rawjson"), "{summary}");
    // The same bytes recorded twice are two builds: each run is its own build.
    assert_eq!(builds(&db).len(), 2);
}

#[test]
fn record_keeps_the_interleaving_when_stdout_and_stderr_share_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let script =
        "for i in 1 2 3 4 5 6 7 8 9 10; do echo \"#$i out\"; echo \"#$i err\" >&2; done; exit 4";
    let argv: Vec<String> = vec!["sh".into(), "-c".into(), script.into()];
    let run_into = |path: &Path, record: bool| -> Option<i32> {
        let f = std::fs::File::create(path).unwrap();
        let mut cmd = if record {
            let mut c = bin();
            c.arg("--db").arg(&db).args(["record", "--quiet", "--"]);
            c.args(&argv);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(&argv[1..]);
            c
        };
        cmd.stdout(Stdio::from(f.try_clone().unwrap()))
            .stderr(Stdio::from(f))
            .status()
            .unwrap()
            .code()
    };
    let a = dir.path().join("direct.log");
    let b = dir.path().join("record.log");
    assert_eq!(run_into(&a, false), Some(4));
    assert_eq!(run_into(&b, true), Some(4));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn record_passes_a_hundred_thousand_lines_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let argv: Vec<String> = vec![
        "sh".into(),
        "-c".into(),
        "cat \"$1\" >&2; seq 1 100000; seq 1 100000 | sed 's/^/#9 0.5 log /' >&2".into(),
        "x".into(),
        sample(PLAIN_CI),
    ];
    let want = direct(&argv);
    let got = record(&db, &["--quiet"], &argv);
    assert_eq!(got.status.code(), Some(0));
    assert!(got.stdout == want.stdout, "stdout differs");
    assert!(got.stderr == want.stderr, "stderr differs");
    assert_eq!(builds(&db).len(), 1);
}

#[test]
fn signals_and_missing_programs_map_to_shell_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let killed = vec!["sh".into(), "-c".into(), "kill -TERM $$".into()];
    assert_eq!(record(&db, &["--quiet"], &killed).status.code(), Some(143));
    let missing = vec!["/nonexistent/docker".to_string()];
    let out = record(&db, &[], &missing);
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run /nonexistent/docker"));
}

#[test]
fn output_without_progress_records_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let argv = vec!["sh".into(), "-c".into(), "echo hello; exit 0".into()];
    let out = record(&db, &[], &argv);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"hello\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing recorded"));
    assert!(builds(&db).is_empty());
}

#[test]
fn ingest_tee_echoes_stdin_and_stores_the_build() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let input = std::fs::read(sample(ERROR_RAWJSON)).unwrap();
    let mut child = bin()
        .arg("--db")
        .arg(&db)
        .args(["ingest", "-", "--tee", "--label", "via=pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feed = input.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&feed).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_success(&out);
    assert!(out.stdout == input, "the echo differs from the input");
    let b = builds(&db);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["labels"]["via"], "pipe");
    assert_eq!(b[0]["status"], "failed");
}

#[test]
fn sigterm_reaches_the_command_and_its_exit_code_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ready = dir.path().join("ready");
    let script = format!(
        "trap 'echo \"#1 CANCELED\" >&2; exit 9' TERM; echo '#1 [1/1] RUN sleep' >&2; touch {}; i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done",
        ready.display()
    );
    let child = bin()
        .arg("--db")
        .arg(&db)
        .args(["record", "--quiet", "--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !ready.exists() {
        assert!(start.elapsed().as_secs() < 20, "the command did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Give buildprof's signal thread a moment after the spawn, then TERM buildprof only.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(9),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).ends_with("#1 CANCELED\n"));
    assert_eq!(
        builds(&db).len(),
        1,
        "the interrupted build is still recorded"
    );
}

#[test]
fn secrets_on_the_command_line_are_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let argv = vec![
        "sh".to_string(),
        "-c".into(),
        "cat \"$1\" >&2".into(),
        "API_TOKEN=hunter2-very-secret".into(),
        sample(PLAIN_CI),
    ];
    let out = record(&db, &["--quiet"], &argv);
    assert_eq!(out.status.code(), Some(0));
    let b = builds(&db);
    let source = b[0]["source"].as_str().unwrap();
    assert!(source.starts_with("record: sh -c"), "{source}");
    assert!(!source.contains("hunter2"), "{source}");
}

/// `sh -c 'sleep S; cat TRACE >&2'`: the same build, with S seconds of client time around it.
fn slow_client(trace: &str, sleep: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        "sleep \"$1\"; cat \"$2\" >&2".into(),
        "slow".into(),
        sleep.into(),
        trace.into(),
    ]
}

#[test]
fn the_wrapped_command_wall_time_is_stored_and_priced() {
    // The same rawjson trace recorded behind a client that takes 0 s or 1.5 s more: BuildKit's
    // times are equal, the job step is not, and the cost model prices the job step.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let rel = "current-engine/containerd-store/002-max-cold-main-rawjson-r1-src.rawjson";
    let trace = sample(rel);
    for (strategy, sleep) in [("quick", "0"), ("slow", "1.5")] {
        for _ in 0..2 {
            let label = format!("strategy={strategy}");
            let out = record(&db, &["--label", &label], &slow_client(&trace, sleep));
            assert_success(&out);
        }
    }
    let all = builds(&db);
    assert_eq!(all.len(), 4);
    let durations: Vec<&Value> = all.iter().map(|b| &b["duration_ms"]).collect();
    assert!(
        durations.iter().all(|d| *d == durations[0]),
        "{durations:?}"
    );
    for b in &all {
        let wall = b["capture_wall_ms"].as_i64().unwrap();
        let own = b["duration_ms"].as_i64().unwrap();
        match b["labels"]["strategy"].as_str().unwrap() {
            "slow" => assert!(wall >= 1500, "{b:#}"),
            _ => assert!(wall < 1500, "{b:#}"),
        }
        assert!(wall < own + 30_000, "{b:#}");
    }
    let cmp = json(&db, &["compare", "--by", "strategy", "--cost", "--json"]);
    let cost_wall = |v: &str| -> f64 {
        cmp["cost"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["value"] == v)
            .unwrap()["median_wall_ms"]
            .as_f64()
            .unwrap()
    };
    // BuildKit's durations are equal, so without the wall time the difference would be 0; with
    // it, the 1.5 s sleep less what a loaded machine adds to the quick client's start (up to a
    // few hundred ms when tests run in parallel).
    assert!(cost_wall("slow") - cost_wall("quick") >= 1000.0, "{cmp:#}");
    // Ingested from a file: no capture wall.
    let file_db = dir.path().join("f.db");
    crate::common::ingest(&file_db, &[rel], &[]);
    assert_eq!(builds(&file_db)[0]["capture_wall_ms"], Value::Null);
}

/// The seconds after `label` in a `record --timings` line.
fn seconds_after(line: &str, label: &str) -> f64 {
    let rest = &line[line
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} in {line}"))
        + label.len()..];
    rest.split(" s").next().unwrap().trim().parse().unwrap()
}

#[test]
fn timings_say_how_long_the_command_ran_and_what_buildprof_took_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = dir.path().join("ctx");
    std::fs::create_dir_all(ctx.join("src")).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nCOPY src /src\n").unwrap();
    std::fs::write(ctx.join("src/a.txt"), "a").unwrap();
    let trace = sample("current-engine/containerd-store/002-max-cold-main-rawjson-r1-src.rawjson");
    let context = ctx.to_str().unwrap();
    let with_inputs = ["--timings", "--quiet", "--context", context];
    for extra in [&with_inputs[..], &["--timings", "--quiet"], &["--timings"]] {
        let out = record(&db, extra, &slow_client(&trace, "1"));
        assert_success(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("buildprof: "))
            .collect();
        let line = *lines.last().unwrap();
        match extra.contains(&"--quiet") {
            true => assert_eq!(lines.len(), 1, "--quiet leaves the timings: {stderr}"),
            false => assert!(lines[0].starts_with("buildprof: recorded "), "{stderr}"),
        }
        assert!(
            line.starts_with("buildprof: timings: the command ran "),
            "{line}"
        );
        let ran = seconds_after(line, "the command ran ");
        let after = seconds_after(line, "buildprof took ");
        assert!(ran >= 1.0, "the command slept 1 s: {line}");
        assert!(
            after < ran,
            "counted from the command's exit, not the start: {line}"
        );
        if extra.contains(&"--context") {
            let waited = seconds_after(line, "after it exited (");
            seconds_after(line, "gathered in ");
            assert!(
                waited <= after,
                "the wait is part of the time after the exit: {line}"
            );
        } else {
            assert!(line.ends_with("(no inputs gathered)"), "{line}");
        }
    }
    assert_eq!(builds(&db).len(), 3);
    // A command that cannot start has no timings.
    let out = record(&db, &["--timings"], &["/nonexistent/docker".to_string()]);
    assert_eq!(out.status.code(), Some(127));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("buildprof: cannot run /nonexistent/docker"),
        "{stderr}"
    );
    assert!(!stderr.contains("timings"), "{stderr}");
}
