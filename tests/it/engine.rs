//! End to end against a real Docker Engine (`.ci/docker-up.sh` starts one): `build` through the
//! Engine API (cold, all cached, one changed file, a failing RUN, a missing base image),
//! `record` around the docker.io 20.10 CLI, `experiment` storing labelled builds, and `why`
//! naming the cause of each bust (file, arg, instruction, base image, pruned builder, import).
//!
//! The engine is `DOCKER_HOST`; the base image `local/busybox:1` (override with
//! `BUILDPROF_TEST_BASE_IMAGE`), imported since no registry is reachable; RUN steps use network
//! mode `none`. They are `#[ignore]`d unless asked for (`cargo test -- --include-ignored`, as
//! `.ci/run` does after starting an engine), and then fail when no engine answers. They run one
//! at a time: the experiment prunes the builder cache the others rely on.

use crate::common::{bin, run};

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

static ENGINE: Mutex<()> = Mutex::new(());

fn base_image() -> String {
    std::env::var("BUILDPROF_TEST_BASE_IMAGE").unwrap_or_else(|_| "local/busybox:1".into())
}

fn socket() -> PathBuf {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    PathBuf::from(match host.strip_prefix("unix://") {
        Some(p) => p.to_string(),
        None if host.is_empty() => "/var/run/docker.sock".into(),
        None => host,
    })
}

/// One bodiless HTTP/1.0 request to the engine over its socket; the whole answer.
fn engine_request(method: &str, path: &str) -> Result<String, String> {
    let socket = socket();
    let mut s = std::os::unix::net::UnixStream::connect(&socket)
        .map_err(|e| format!("{}: {e}", socket.display()))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok();
    let request = format!("{method} {path} HTTP/1.0\r\nHost: docker\r\nContent-Length: 0\r\n\r\n");
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    Ok(answer)
}

/// `GET /_ping` over the socket: true when an engine answers.
fn engine_answers() -> Result<(), String> {
    let answer = engine_request("GET", "/_ping")?;
    if answer.ends_with("OK") {
        Ok(())
    } else {
        Err(format!("unexpected answer to /_ping: {answer:?}"))
    }
}

/// The base image under a name of its own, for a test that cancels builds. BuildKit 0.8 (in
/// Docker 20.10) can spin forever in its scheduler when a vertex that a cancelled build had
/// started is built again (moby/buildkit#3628); with its own base image (and `NONCE` steps) a
/// cancelled build shares no vertex with any other test's build.
fn private_base_image(name: &str) -> String {
    let base = base_image();
    let answer = engine_request("POST", &format!("/images/{base}/tag?repo={name}&tag=1"))
        .unwrap_or_else(|e| panic!("tagging {base} as {name}:1: {e}"));
    assert!(
        answer.starts_with("HTTP/1.0 201") || answer.starts_with("HTTP/1.1 201"),
        "tagging {base} as {name}:1: {answer}"
    );
    format!("{name}:1")
}

/// The engine lock; fails when no engine answers at `DOCKER_HOST`.
fn engine() -> MutexGuard<'static, ()> {
    let guard = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(why) = engine_answers() {
        panic!("no Docker Engine answers at DOCKER_HOST ({why}); start one with `eval \"$(.ci/docker-up.sh)\"`");
    }
    guard
}

/// Debian's docker.io 20.10 CLI, which the `record` tests wrap; fails when it is missing.
fn docker_cli() -> &'static Path {
    let docker = Path::new("/usr/bin/docker");
    assert!(
        docker.exists(),
        "/usr/bin/docker (Debian's docker.io) is missing: .ci/docker-up.sh installs it"
    );
    docker
}

/// A context whose RUN steps are unique to this run, so no other test's cache can satisfy them.
fn context(dir: &Path, dockerfile: &str, files: &[(&str, &str)]) -> PathBuf {
    let ctx = dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let text = dockerfile
        .replace("BASE", &base_image())
        .replace("NONCE", &nonce);
    std::fs::write(ctx.join("Dockerfile"), text).unwrap();
    for (name, content) in files {
        std::fs::write(ctx.join(name), content).unwrap();
    }
    ctx
}

/// `buildprof build --json` of `ctx`; returns (exit code, stored build JSON, stderr).
fn build(db: &Path, ctx: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["build", "--json", "--network", "none"];
    args.extend_from_slice(extra);
    let ctx = ctx.display().to_string();
    args.push(&ctx);
    let out = run(db, &args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON from build ({e}): stderr {stderr}"));
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// Steps of a stored build (`show --json`): (name, kind, outcome, stage).
fn steps(db: &Path, id: &str) -> Vec<(String, String, String, Option<String>)> {
    let out = run(db, &["show", id, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["kind"].as_str().unwrap().to_string(),
                s["outcome"].as_str().unwrap().to_string(),
                s["stage"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn run_steps(
    all: &[(String, String, String, Option<String>)],
) -> Vec<&(String, String, String, Option<String>)> {
    all.iter()
        .filter(|s| s.1 == "RUN" || s.1 == "COPY")
        .collect()
}

const TWO_STAGES: &str = "FROM BASE AS base
RUN echo NONCE > /nonce
FROM base AS one
COPY one.txt /one.txt
RUN cat /one.txt > /one.out
RUN echo after-one >> /one.out
FROM base AS two
COPY two.txt /two.txt
RUN cat /two.txt > /two.out
FROM base
COPY --from=one /one.out /one.out
COPY --from=two /two.out /two.out
";

#[test]
#[ignore = "needs a Docker Engine at DOCKER_HOST (.ci/docker-up.sh starts one)"]
fn cold_build_executes_rebuild_is_cached_and_a_changed_file_reruns_its_stage_tail() {
    let _engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = context(
        dir.path(),
        TWO_STAGES,
        &[("one.txt", "1\n"), ("two.txt", "2\n")],
    );

    // Cold: every RUN ran.
    let (code, cold, err) = build(&db, &ctx, &["--label", "phase=cold"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(cold["status"], "succeeded");
    assert_eq!(cold["labels"]["phase"], "cold");
    let s = steps(&db, cold["id"].as_str().unwrap());
    let runs: Vec<_> = s.iter().filter(|s| s.1 == "RUN").collect();
    assert_eq!(runs.len(), 4, "{s:#?}");
    assert!(runs.iter().all(|r| r.2 == "executed"), "{s:#?}");

    // Immediate rebuild: every RUN and COPY is a cache hit.
    let (code, warm, err) = build(&db, &ctx, &[]);
    assert_eq!(code, 0, "{err}");
    assert_ne!(warm["id"], cold["id"]);
    let s = steps(&db, warm["id"].as_str().unwrap());
    let rc = run_steps(&s);
    assert_eq!(rc.len(), 8, "{s:#?}");
    assert!(rc.iter().all(|r| r.2 == "cached"), "{s:#?}");

    // One copied file changes: in its stage, the COPY and what follows re-run; the rest hits.
    std::fs::write(ctx.join("one.txt"), "1 changed\n").unwrap();
    let (code, changed, err) = build(&db, &ctx, &[]);
    assert_eq!(code, 0, "{err}");
    let s = steps(&db, changed["id"].as_str().unwrap());
    let outcome = |stage: &str, prefix: &str| -> String {
        s.iter()
            .find(|x| x.3.as_deref() == Some(stage) && x.0.contains(prefix))
            .unwrap_or_else(|| panic!("no {stage} {prefix} in {s:#?}"))
            .2
            .clone()
    };
    assert_eq!(outcome("base", "RUN echo"), "cached");
    assert_eq!(outcome("one", "COPY one.txt"), "executed");
    assert_eq!(outcome("one", "RUN cat /one.txt"), "executed");
    assert_eq!(outcome("one", "RUN echo after-one"), "executed");
    assert_eq!(outcome("two", "COPY two.txt"), "cached");
    assert_eq!(outcome("two", "RUN cat /two.txt"), "cached");
    // `build` recorded the inputs: `why` names the file at the COPY that reads it.
    let roots = why_roots(&db, changed["id"].as_str().unwrap());
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert_eq!(roots[0].1, "source_files_changed", "{roots:?}");
    assert_eq!(
        roots[0].2["changed_files"],
        serde_json::json!([{"path": "one.txt", "change": "modified"}])
    );
}

#[test]
#[ignore = "needs a Docker Engine at DOCKER_HOST (.ci/docker-up.sh starts one)"]
fn a_failing_run_is_recorded_as_failed_with_its_error() {
    let _engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = context(
        dir.path(),
        "FROM BASE\nRUN echo NONCE\nRUN echo about to fail && echo detail >&2 && exit 7\n",
        &[],
    );
    let (code, b, err) = build(&db, &ctx, &["--label", "case=fail"]);
    assert_eq!(code, 1);
    assert_eq!(b["status"], "failed");
    assert_eq!(b["labels"]["case"], "fail");
    assert!(
        b["error"].as_str().unwrap_or("").contains("exit code: 7"),
        "{b}"
    );
    assert!(
        b["failed_step"].as_str().unwrap_or("").contains("exit 7"),
        "{b}"
    );
    assert!(
        err.starts_with("error: ") && err.contains("exit code: 7"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
}

#[test]
#[ignore = "needs a Docker Engine at DOCKER_HOST (.ci/docker-up.sh starts one)"]
fn a_missing_base_image_is_a_clear_one_line_error() {
    let _engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = context(dir.path(), "FROM local/no-such-image:0\nRUN true\n", &[]);
    let (code, b, err) = build(&db, &ctx, &[]);
    assert_eq!(code, 1);
    assert_eq!(b["status"], "failed");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("base image") && err.contains("no-such-image"),
        "{err}"
    );
}

#[test]
#[ignore = "needs a Docker Engine at DOCKER_HOST (.ci/docker-up.sh starts one)"]
fn engine_errors_say_what_to_do() {
    let _engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let out = bin()
        .env(
            "DOCKER_HOST",
            format!("unix://{}/none.sock", dir.path().display()),
        )
        .arg("--db")
        .arg(&db)
        .args(["build", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not running") && err.contains("start"),
        "{err}"
    );

    // As an unprivileged user (when setpriv is there to become one), the socket is off limits.
    let is_root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    let private = socket()
        .parent()
        .and_then(|d| std::fs::metadata(d).ok())
        .is_some_and(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o001 == 0);
    if is_root && private && Path::new("/usr/bin/setpriv").exists() {
        let out = Command::new("/usr/bin/setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_buildprof"))
            .arg("--db")
            .arg(&db) // never opened: the engine is checked first
            .args(["build", "."])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("permission denied") && err.contains("docker group"),
            "{err}"
        );
    }
}

#[test]
#[ignore = "needs a Docker Engine at DOCKER_HOST (.ci/docker-up.sh starts one)"]
fn record_wraps_the_docker_cli_and_keeps_its_exit_code() {
    let _engine = engine();
    let docker = docker_cli();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ok_ctx = context(dir.path(), "FROM BASE\nRUN echo NONCE && echo hello\n", &[]);
    let record = |ctx: &Path| {
        bin()
            .env("DOCKER_BUILDKIT", "1")
            .arg("--db")
            .arg(&db)
            .args(["record", "--quiet", "--label", "via=record", "--"])
            .arg(docker)
            .args(["build", "--progress=plain", "--network", "none"])
            .arg(ctx)
            .output()
            .unwrap()
    };
    let out = record(&ok_ctx);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(text.contains("hello") && text.contains("DONE"), "{text}");

    let fail_dir = tempfile::tempdir().unwrap();
    let fail_ctx = context(
        fail_dir.path(),
        "FROM BASE\nRUN echo NONCE && exit 5\n",
        &[],
    );
    let failed = record(&fail_ctx);
    assert_eq!(
        failed.status.code(),
        Some(1),
        "docker build exits 1 on a failed build"
    );

    let list = run(&db, &["builds", "--json"]);
    let builds: Value = serde_json::from_slice(&list.stdout).unwrap();
    let builds = builds.as_array().unwrap();
    assert_eq!(builds.len(), 2);
    assert_eq!(builds[0]["status"], "succeeded");
    assert_eq!(builds[0]["labels"]["via"], "record");
    assert_eq!(builds[1]["status"], "failed");
    assert!(
        builds[1]["error"]
            .as_str()
            .unwrap_or("")
            .contains("exit code: 5"),
        "{}",
        builds[1]
    );

    // What record passed through is the docker CLI's own log: ingesting it gives the same steps.
    let log = dir.path().join("passed-through.log");
    std::fs::write(&log, &out.stderr).unwrap();
    let db2 = dir.path().join("again.db");
    let ing = run(&db2, &["ingest", "--json", log.to_str().unwrap()]);
    assert!(
        ing.status.success(),
        "{}",
        String::from_utf8_lossy(&ing.stderr)
    );
    let again: Value = serde_json::from_slice(&run(&db2, &["builds", "--json"]).stdout).unwrap();
    assert_eq!(again[0]["step_count"], builds[0]["step_count"]);
    assert_eq!(again[0]["executed_count"], builds[0]["executed_count"]);
}

#[test]
#[ignore = "needs a Docker Engine at DOCKER_HOST (.ci/docker-up.sh starts one)"]
fn experiment_two_variants_two_reps_stores_four_labelled_builds() {
    let _engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = context(
        dir.path(),
        "FROM BASE\nCOPY src.txt /src.txt\nRUN echo NONCE && cat /src.txt\n",
        &[("src.txt", "v1\n")],
    );
    let out = bin()
        .arg("--db")
        .arg(&db)
        .args([
            "experiment",
            "--id",
            "t1",
            "--reps",
            "2",
            "--network",
            "none",
            "--json",
            "--variant",
            "cold",
            "--variant",
            "bust:append=src.txt",
        ])
        .arg(&ctx)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let medians: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(medians["experiment"], "t1");
    assert_eq!(medians["variants"][0]["variant"], "cold");
    assert_eq!(medians["variants"][0]["succeeded"], 2);
    assert!(
        medians["variants"][1]["median_wall_s"].is_number(),
        "{medians}"
    );
    // The changed file is put back.
    assert_eq!(
        std::fs::read_to_string(ctx.join("src.txt")).unwrap(),
        "v1\n"
    );

    let list = run(&db, &["builds", "--label", "experiment=t1", "--json"]);
    let builds: Value = serde_json::from_slice(&list.stdout).unwrap();
    let builds = builds.as_array().unwrap();
    assert_eq!(builds.len(), 4);
    // Interleaved: cold 1, bust 1, cold 2, bust 2.
    let order: Vec<(String, String)> = builds
        .iter()
        .map(|b| {
            (
                b["labels"]["variant"].as_str().unwrap().to_string(),
                b["labels"]["rep"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [("cold", "1"), ("bust", "1"), ("cold", "2"), ("bust", "2")]
        .iter()
        .map(|(v, r)| (v.to_string(), r.to_string()))
        .collect();
    assert_eq!(order, want);
    // A cold builder runs the RUN; the bust re-runs from its COPY on.
    for b in builds {
        let s = steps(&db, b["id"].as_str().unwrap());
        let run = s.iter().find(|x| x.1 == "RUN").unwrap();
        assert_eq!(run.2, "executed", "{} {s:#?}", b["labels"]);
    }
    // The experiment recorded each build's inputs: `why` names the appended file.
    let roots = why_roots(&db, builds[1]["id"].as_str().unwrap());
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert_eq!(
        (roots[0].0.as_str(), roots[0].1.as_str()),
        ("COPY src.txt /src.txt", "source_files_changed")
    );
    assert_eq!(roots[0].2["changed_files"][0]["path"], "src.txt");
    let roots = why_roots(&db, builds[0]["id"].as_str().unwrap());
    assert_eq!(roots[0].2["detail"], "cold_builder", "{roots:?}");
}

#[test]
#[ignore = "needs a Docker Engine at DOCKER_HOST (.ci/docker-up.sh starts one)"]
fn experiment_command_variants_run_before_and_record_like_record() {
    let _engine = engine();
    docker_cli();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = context(dir.path(), "FROM BASE\nRUN echo NONCE\n", &[]);
    let marker = dir.path().join("before-ran");
    let spec = dir.path().join("exp.toml");
    std::fs::write(
        &spec,
        format!(
            r#"
[experiment]
reps = 1

[[variant]]
name = "cli-plain"
before = ["touch", "{marker}"]
command = ["/usr/bin/docker", "build", "--progress=plain", "--network", "none", "{ctx}"]
env = {{ DOCKER_BUILDKIT = "1" }}
labels = {{ tool = "docker-20.10" }}
"#,
            marker = marker.display(),
            ctx = ctx.display()
        ),
    )
    .unwrap();
    let out = bin()
        .arg("--db")
        .arg(&db)
        .args(["experiment", "--id", "cmd", "--spec"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(marker.exists());
    let list = run(&db, &["builds", "--label", "experiment=cmd", "--json"]);
    let builds: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(builds.as_array().unwrap().len(), 1);
    assert_eq!(builds[0]["format"], "plain");
    assert_eq!(builds[0]["status"], "succeeded");
    assert_eq!(builds[0]["labels"]["tool"], "docker-20.10");
    assert_eq!(builds[0]["labels"]["variant"], "cli-plain");
}

#[test]
#[ignore = "needs a Docker Engine at DOCKER_HOST (.ci/docker-up.sh starts one)"]
fn ctrl_c_stops_an_experiment_and_keeps_what_was_recorded() {
    let _engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let base = private_base_image("local/buildprof-cancel-test");
    let ctx = context(
        dir.path(),
        &format!("FROM {base}\nCOPY src.txt /src.txt\nRUN echo NONCE && sleep 1\n"),
        &[("src.txt", "v1\n")],
    );
    let child = bin()
        .arg("--db")
        .arg(&db)
        .args([
            "experiment",
            "--id",
            "stopped",
            "--reps",
            "50",
            "--network",
            "none",
            "--variant",
            "bust:append=src.txt",
        ])
        .arg(&ctx)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let recorded = || -> usize {
        let out = run(&db, &["builds", "--json"]);
        serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v.as_array().map(Vec::len))
            .unwrap_or(0)
    };
    let mut child = child;
    let start = std::time::Instant::now();
    while recorded() < 1 {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the experiment ended before recording a build ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(start.elapsed().as_secs() < 120, "no build recorded in time");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // SAFETY: kill(2) on the child we spawned and have not waited for yet.
    unsafe {
        libc_kill(child.id() as i32, 2);
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("(interrupted)"), "{stdout}");
    let n = recorded();
    assert!((1..50).contains(&n), "{n} builds");
    assert_eq!(
        std::fs::read_to_string(ctx.join("src.txt")).unwrap(),
        "v1\n"
    );
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// (step, cause, detail) of the root causes `why` gives for a build (not `upstream_changed`).
fn why_roots(db: &Path, id: &str) -> Vec<(String, String, Value)> {
    let out = run(db, &["why", id, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let w: Value = serde_json::from_slice(&out.stdout).unwrap();
    w["busts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["cause"] != "upstream_changed")
        .map(|b| {
            (
                b["step"].as_str().unwrap().to_string(),
                b["cause"].as_str().unwrap().to_string(),
                b.clone(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs a Docker Engine at DOCKER_HOST (.ci/docker-up.sh starts one)"]
fn why_names_the_changed_file_arg_instruction_base_image_and_a_pruned_builder() {
    let _engine = engine();
    let docker = docker_cli();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let base = private_base_image("buildprof-why-base");
    let ctx = context(
        dir.path(),
        "ARG IMG=none\nFROM ${IMG} AS base\nRUN echo NONCE > /base.txt\n\nFROM base AS app\nARG LEVEL=1\nCOPY src /src\nRUN echo \"level $LEVEL\" && cat /src/*.txt > /out.txt\nCOPY conf /conf\nRUN echo done\n",
        &[(".dockerignore", "**/*.log\n")],
    );
    std::fs::create_dir_all(ctx.join("src")).unwrap();
    std::fs::create_dir_all(ctx.join("conf")).unwrap();
    std::fs::write(ctx.join("src/a.txt"), "a1\n").unwrap();
    std::fs::write(ctx.join("src/b.txt"), "b1\n").unwrap();
    std::fs::write(ctx.join("conf/app.conf"), "port=1\n").unwrap();
    let record = |extra: &[&str]| -> String {
        let out = bin()
            .env("DOCKER_BUILDKIT", "1")
            .arg("--db")
            .arg(&db)
            .args(["record", "--quiet", "--label", "branch=why", "--"])
            .arg(docker)
            .args([
                "build",
                "--progress=plain",
                "--network",
                "none",
                "--build-arg",
            ])
            .arg(format!("IMG={base}"))
            .args(extra)
            .arg(&ctx)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list: Value = serde_json::from_slice(&run(&db, &["builds", "--json"]).stdout).unwrap();
        list.as_array().unwrap().last().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    record(&[]);

    // One source file: named exactly, at the first COPY reading it; later steps are upstream.
    std::fs::write(ctx.join("src/a.txt"), "a2\n").unwrap();
    let id = record(&[]);
    let roots = why_roots(&db, &id);
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert_eq!(
        (roots[0].0.as_str(), roots[0].1.as_str()),
        ("COPY src /src", "source_files_changed")
    );
    assert_eq!(
        roots[0].2["changed_files"],
        serde_json::json!([{"path": "src/a.txt", "change": "modified"}])
    );
    let all: Value = serde_json::from_slice(&run(&db, &["why", &id, "--json"]).stdout).unwrap();
    assert_eq!(
        all["busts"].as_array().unwrap().len(),
        4,
        "COPY src and the 3 steps after it: {all:#}"
    );

    // A file .dockerignore excludes: nothing ran, nothing is blamed on it.
    std::fs::write(ctx.join("src/debug.log"), "noise\n").unwrap();
    let id = record(&[]);
    let roots = why_roots(&db, &id);
    assert!(roots.is_empty(), "{roots:?}");

    // A build arg.
    let id = record(&["--build-arg", "LEVEL=2"]);
    let roots = why_roots(&db, &id);
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert_eq!(roots[0].1, "build_arg_changed", "{roots:?}");
    assert_eq!(roots[0].2["args"], serde_json::json!(["LEVEL"]));

    // One instruction edited.
    let text = std::fs::read_to_string(ctx.join("Dockerfile")).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        text.replace("RUN echo done", "RUN echo done again"),
    )
    .unwrap();
    let id = record(&["--build-arg", "LEVEL=2"]);
    let roots = why_roots(&db, &id);
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert_eq!(roots[0].1, "instruction_changed");
    assert_eq!(roots[0].2["before"], "RUN echo done");
    assert_eq!(roots[0].2["after"], "RUN echo done again");

    // The base tag moved to another image.
    let alt = Command::new(docker)
        .env("DOCKER_BUILDKIT", "1")
        .args([
            "build",
            "-q",
            "--network",
            "none",
            "-t",
            "buildprof-why-alt:1",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("FROM {base}\nRUN echo other > /other\n").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(alt.status.success());
    let tagged = engine_request(
        "POST",
        "/images/buildprof-why-alt:1/tag?repo=buildprof-why-base&tag=1",
    )
    .unwrap();
    assert!(tagged.contains(" 201 "), "{tagged}");
    let id = record(&["--build-arg", "LEVEL=2"]);
    let roots = why_roots(&db, &id);
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert_eq!(roots[0].1, "base_image_changed", "{roots:?}");

    // A pruned builder.
    let pruned = engine_request("POST", "/build/prune?all=1").unwrap();
    assert!(pruned.contains(" 200 "), "{pruned}");
    let id = record(&["--build-arg", "LEVEL=2"]);
    let roots = why_roots(&db, &id);
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert_eq!(
        (roots[0].1.as_str(), roots[0].2["detail"].as_str()),
        ("cache_unavailable", Some("cold_builder"))
    );

    // A registry cache ref that cannot be imported, on a pruned builder.
    let pruned = engine_request("POST", "/build/prune?all=1").unwrap();
    assert!(pruned.contains(" 200 "), "{pruned}");
    let id = record(&[
        "--build-arg",
        "LEVEL=2",
        "--cache-from",
        "127.0.0.1:9/buildprof-none:1",
    ]);
    let roots = why_roots(&db, &id);
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert_eq!(
        (roots[0].1.as_str(), roots[0].2["detail"].as_str()),
        ("cache_unavailable", Some("import_failed"))
    );
    let md = String::from_utf8(run(&db, &["summary", &id]).stdout).unwrap();
    assert!(
        md.contains("cache import of 127.0.0.1:9/buildprof-none:1 failed"),
        "{md}"
    );
}
