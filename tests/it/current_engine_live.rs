//! The cache strategies users compare, as a real experiment on a current engine (Docker 26.1 with
//! the containerd image store, buildx 0.13, a local registry: `.ci/current-engine-up.sh`, whose
//! variables `.ci/run` exports as `BUILDPROF_CURRENT_DOCKER_HOST`, `BUILDPROF_CURRENT_DOCKER_CONFIG`,
//! `BUILDPROF_CURRENT_DOCKER_TCP` (the same engine over TCP), `BUILDPROF_DOCKER_CLI` and
//! `BUILDPROF_REGISTRY`; and `BUILDPROF_CLASSIC_DOCKER_HOST`, a second such engine on the
//! classic image store, for `buildprof build`'s upload path).
//!
//! `buildprof experiment` runs command variants around `docker buildx build` of the project in
//! sample-traces/current-engine/project (its test stage is built on the deps stage, so a
//! `mode=min` cache lacks layers a source change needs): registry cache `mode=max` and `mode=min`
//! and inline cache on a pruned builder, a pruned builder without cache, the first build of a
//! new branch (its own cache ref missing, main's imported as the fallback), and a warm builder;
//! a source change before every build; rawjson and plain. Statuses, outcomes, bust causes, the
//! comparison's direction and identical repetitions are checked. `#[ignore]`d unless asked for;
//! then it fails when the engine is missing.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{bin, json};

/// The current engine's variables, or a panic naming the script that provides them.
struct CurrentEngine {
    host: String,
    config: String,
    cli: String,
    registry: String,
    /// One test at a time uses the engine: the strategy experiment prunes the builder cache,
    /// which would empty the cache another test's second build expects to hit.
    _turn: std::sync::MutexGuard<'static, ()>,
}

static ENGINE_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A variable `.ci/run` exports for these tests, or a panic naming it.
fn required(k: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| {
        panic!("{k} is not set: start the current engine with .ci/current-engine-up.sh (.ci/run does, BUILDPROF_ENGINE_STORE=overlay2 for the classic store)")
    })
}

fn current_engine() -> CurrentEngine {
    CurrentEngine {
        host: required("BUILDPROF_CURRENT_DOCKER_HOST"),
        config: required("BUILDPROF_CURRENT_DOCKER_CONFIG"),
        cli: required("BUILDPROF_DOCKER_CLI"),
        registry: required("BUILDPROF_REGISTRY"),
        // A test that failed holding it does not stop the others.
        _turn: ENGINE_TURN.lock().unwrap_or_else(|e| e.into_inner()),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn toml_list(argv: &[String]) -> String {
    let quoted: Vec<String> = argv.iter().map(|a| format!("{a:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The spec of one format's experiment.
fn spec(e: &CurrentEngine, format: &str, id: &str) -> String {
    let r = &e.registry;
    let build = |tag: &str, extra: &[String]| -> String {
        let mut argv: Vec<String> = [
            e.cli.as_str(),
            "buildx",
            "build",
            &format!("--progress={format}"),
            "--network",
            "host",
            "-f",
            "Dockerfile.teststage",
            "--build-arg",
            &format!("BASE={r}/busybox:1"),
            "-t",
            tag,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        argv.extend(extra.iter().cloned());
        argv.push(".".into());
        toml_list(&argv)
    };
    let cache = |mode: &str| -> Vec<String> {
        let reference = format!("{r}/proj:{id}-{mode}");
        vec![
            "--cache-to".into(),
            format!("type=registry,ref={reference},mode={mode}"),
            "--cache-from".into(),
            format!("type=registry,ref={reference}"),
        ]
    };
    let prune = toml_list(&[
        "sh".into(),
        "-c".into(),
        format!("{0} image rm -f proj:{id} {r}/proj:{id}-inline >/dev/null 2>&1; {0} builder prune -af >/dev/null", e.cli),
    ]);
    let inline = vec![
        "--cache-to".into(),
        "type=inline".into(),
        "--cache-from".into(),
        format!("type=registry,ref={r}/proj:{id}-inline"),
        "--push".into(),
    ];
    let branch = vec![
        "--cache-from".into(),
        format!("type=registry,ref={r}/proj:{id}-feature-x"),
        "--cache-from".into(),
        format!("type=registry,ref={r}/proj:{id}-max"),
    ];
    let tag = format!("proj:{id}");
    format!(
        r#"
[experiment]
reps = 3
context = "project"

[[variant]]
name = "max"
before = {prune}
command = {max}
change = {{ append = "src/main.txt" }}

[[variant]]
name = "min"
before = {prune}
command = {min}
change = {{ append = "src/main.txt" }}

[[variant]]
name = "inline"
before = {prune}
command = {inline}
change = {{ append = "src/main.txt" }}

[[variant]]
name = "cold"
before = {prune}
command = {cold}
change = {{ append = "src/main.txt" }}

[[variant]]
name = "branch"
before = {prune}
command = {branch}
change = {{ append = "src/main.txt" }}

[[variant]]
name = "warm"
command = {warm}
change = {{ append = "src/main.txt" }}
"#,
        max = build(&tag, &cache("max")),
        min = build(&tag, &cache("min")),
        inline = build(&format!("{r}/proj:{id}-inline"), &inline),
        cold = build(&tag, &[]),
        branch = build(&tag, &branch),
        warm = build(&tag, &[]),
    )
}

/// Per stored build of experiment `id`: (variant, rep, the `show --json` object).
fn builds_of(db: &Path, id: &str) -> Vec<(String, u32, Value)> {
    let list = json(
        db,
        &["builds", "--label", &format!("experiment={id}"), "--json"],
    );
    list.as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let variant = b["labels"]["variant"].as_str().unwrap().to_string();
            let rep = b["labels"]["rep"].as_str().unwrap().parse().unwrap();
            let show = json(db, &["show", b["id"].as_str().unwrap(), "--json"]);
            (variant, rep, show)
        })
        .collect()
}

/// (outcome, lazy_miss) of the step whose name starts with `prefix`.
fn outcome(show: &Value, prefix: &str) -> (String, bool) {
    let s = show["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no step {prefix:?} in {}", show["id"]));
    (
        s["outcome"].as_str().unwrap().to_string(),
        s["lazy_miss"].as_bool().unwrap(),
    )
}

const DEPS_RUN: &str = "[deps 2/2] RUN";

fn run_experiment(e: &CurrentEngine, dir: &Path, db: &Path, format: &str) -> String {
    let id = format!("ce-{format}-{}", std::process::id());
    let spec_path = dir.join(format!("{format}.toml"));
    std::fs::write(&spec_path, spec(e, format, &id)).unwrap();
    let out = bin()
        .env("DOCKER_HOST", &e.host)
        .env("DOCKER_CONFIG", &e.config)
        .arg("--db")
        .arg(db)
        .args(["experiment", "--quiet", "--id", &id, "--spec"])
        .arg(&spec_path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "experiment {id}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    id
}

#[test]
#[ignore = "needs the current engine and registry (.ci/current-engine-up.sh)"]
fn cache_strategies_on_a_current_engine() {
    let e = current_engine();
    let dir = tempfile::tempdir().unwrap();
    let project =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-traces/current-engine/project");
    copy_dir(&project, &dir.path().join("project"));
    let db = dir.path().join("b.db");
    for format in ["rawjson", "plain"] {
        let id = run_experiment(&e, dir.path(), &db, format);
        let builds = builds_of(&db, &id);
        assert_eq!(builds.len(), 18, "{id}");
        for (variant, rep, show) in &builds {
            let at = format!("{id} {variant} rep {rep}");
            // Every build succeeded, the new branch's too: its missing ref is an import failure.
            assert_eq!(show["status"], "succeeded", "{at}");
            let import_error = show["cache_import_error"].as_str();
            if variant == "branch" {
                assert!(
                    import_error.is_some_and(|m| m.ends_with("not found")),
                    "{at}: {import_error:?}"
                );
            } else if *rep > 1 {
                assert_eq!(import_error, None, "{at}");
            }
            let deps = outcome(show, DEPS_RUN);
            match (variant.as_str(), *rep) {
                // Builds after the first import their variant's cache (warm: the builder's).
                ("max" | "branch", 2..) => assert_eq!(deps.0, "pulled", "{at}"),
                ("warm", 2..) => assert_eq!(deps.0, "cached", "{at}"),
                // mode=min exported the final stage only; the test stage needs deps' layers.
                ("min", 2..) => assert_eq!(deps.0, "executed", "{at}"),
                ("cold", _) => assert_eq!(deps, ("executed".to_string(), false), "{at}"),
                _ => {}
            }
            // A bust whose digest did not change is never called "changed".
            let id_arg = show["id"].as_str().unwrap();
            let busts = json(&db, &["busts", id_arg, "--json"]);
            for b in busts["busts"].as_array().unwrap() {
                if b["previous"]["digest_changed"] == Value::Bool(false) {
                    assert_ne!(b["cause"], "changed", "{at}: {b:#}");
                }
            }
            if *rep > 1 {
                assert_eq!(
                    busts["compared_by"],
                    format!("experiment {id}, variant {variant}"),
                    "{at}"
                );
            }
        }
        // Repetitions 2 and 3 (both import what the one before exported): a step gets the same
        // outcome in both unless BuildKit itself did something else, which the evidence shows
        // (layers pulled in one and not the other, output in one and not the other). BuildKit
        // does vary: with inline cache it sometimes re-runs a step it pulled the time before.
        if format == "rawjson" {
            for variant in ["max", "min", "inline", "cold", "branch", "warm"] {
                let of_rep = |rep: u32| -> std::collections::BTreeMap<
                    String,
                    (String, bool, (bool, bool)),
                > {
                    let (_, _, show) = builds
                        .iter()
                        .find(|(v, r, _)| v == variant && *r == rep)
                        .unwrap();
                    show["steps"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| {
                            let evidence = (
                                s["pulled_layers"].as_u64().unwrap() > 0,
                                s["log_lines"].as_u64().unwrap() > 0,
                            );
                            (
                                s["name"].as_str().unwrap().to_string(),
                                (
                                    s["outcome"].as_str().unwrap().to_string(),
                                    s["lazy_miss"].as_bool().unwrap(),
                                    evidence,
                                ),
                            )
                        })
                        .collect()
                };
                let (two, three) = (of_rep(2), of_rep(3));
                assert_eq!(
                    two.keys().collect::<Vec<_>>(),
                    three.keys().collect::<Vec<_>>()
                );
                for (name, a) in &two {
                    let b = &three[name];
                    if (&a.0, a.1) != (&b.0, b.1) {
                        assert_ne!(
                            a.2, b.2,
                            "{id} {variant} {name}: {a:?} vs {b:?} on the same evidence"
                        );
                    }
                }
            }
        }
        // max saves min the deps stage min did not export (a 2 s RUN): compared on the time
        // instructions ran, which does not depend on this machine's speed. Wall time also pays
        // for exporting every intermediate layer with mode=max, which on a slow runner eats
        // much of the 2 s (CI once measured min 0.95 s slower at the median).
        let cmp = json(
            &db,
            &[
                "compare",
                "--by",
                "variant",
                "--metric",
                "executed",
                "--label",
                &format!("experiment={id}"),
                "--json",
            ],
        );
        let median = |v: &str| -> f64 {
            cmp["groups"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["value"] == v)
                .unwrap_or_else(|| panic!("no group {v}: {cmp:#}"))["median_ms"]
                .as_f64()
                .unwrap()
        };
        assert!(median("min") - median("max") > 1500.0, "{id}: {cmp:#}");
    }
}

/// `buildprof build --json` of `ctx` on `host` (with `extra` arguments); its builds row.
fn api_build(e: &CurrentEngine, host: &str, db: &Path, ctx: &Path, extra: &[&str]) -> Value {
    let out = bin()
        .env("DOCKER_HOST", host)
        .arg("--db")
        .arg(db)
        .args(["build", "--json", "--quiet", "--network", "host"])
        .args(extra)
        .arg("--build-arg")
        .arg(format!("BASE={}/busybox:1", e.registry))
        .arg(ctx)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let row: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["status"], "succeeded", "{row}");
    row
}

/// `show --json` of a stored build.
fn show(db: &Path, row: &Value) -> Value {
    let out = bin()
        .arg("--db")
        .arg(db)
        .args(["show", "--json"])
        .arg(row["id"].as_str().unwrap())
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The Dockerfile instructions after FROM of a stored build (not the engine's internal steps),
/// with their outcomes.
fn instruction_outcomes(db: &Path, row: &Value) -> Vec<(String, String)> {
    let show = show(db, row);
    let steps = show["steps"].as_array().unwrap().iter();
    let instructions = steps.filter(|s| !s["stage"].is_null() && s["kind"] != "FROM");
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let pairs = instructions.map(|s| (text(&s["instruction"]), text(&s["outcome"])));
    pairs.collect()
}

fn outcome_of(steps: &[(String, String)], prefix: &str) -> Option<String> {
    let step = steps.iter().find(|(i, _)| i.starts_with(prefix));
    step.map(|(_, o)| o.clone())
}

/// A copy of the project with a source file no earlier build had, so the first build must copy
/// it and compile.
fn fresh_project(dir: &Path) -> PathBuf {
    let project =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-traces/current-engine/project");
    let ctx = dir.join("project");
    copy_dir(&project, &ctx);
    let stamp = format!("{dir:?} {}", std::process::id());
    std::fs::write(ctx.join("src/stamp.txt"), stamp).unwrap();
    ctx
}

/// The stored step names of a build.
fn step_names(db: &Path, row: &Value) -> Vec<String> {
    let show = show(db, row);
    let steps = show["steps"].as_array().unwrap().iter();
    steps
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
#[ignore = "needs the current engine on both image stores (.ci/run starts them)"]
fn build_takes_the_upload_on_the_classic_store_and_the_session_on_the_containerd_one() {
    // The same project on the same Docker 26.1, one engine per image store: the classic store
    // reads the context uploaded with the request (BuildKit's `load remote build context`),
    // the containerd store gets it through the session (`load build context`, the local
    // source). Both build it whole and hit their cache the second time.
    let e = current_engine();
    let classic = required("BUILDPROF_CLASSIC_DOCKER_HOST");
    for (host, uploaded) in [(classic.as_str(), true), (e.host.as_str(), false)] {
        let dir = tempfile::tempdir().unwrap();
        let ctx = fresh_project(dir.path());
        let db = dir.path().join("b.db");
        let first = api_build(&e, host, &db, &ctx, &[]);
        let names = step_names(&db, &first);
        let has = |n: &str| names.iter().any(|s| s == n);
        assert_eq!(
            has("[internal] load remote build context"),
            uploaded,
            "{host}: {names:?}"
        );
        assert_eq!(
            has("[internal] load build context"),
            !uploaded,
            "{host}: {names:?}"
        );
        // The context arrived whole: the new file was copied and the app compiled with it.
        let first = instruction_outcomes(&db, &first);
        assert_eq!(
            outcome_of(&first, "COPY src /app").as_deref(),
            Some("executed"),
            "{first:?}"
        );
        let compile = outcome_of(&first, "RUN echo \"compiling");
        assert_eq!(compile.as_deref(), Some("executed"), "{first:?}");
        // Nothing changed since: the second build hit the cache the first one left everywhere.
        let second = api_build(&e, host, &db, &ctx, &[]);
        let second = instruction_outcomes(&db, &second);
        assert_eq!(second.len(), first.len(), "{second:?}");
        assert!(second.len() >= 10, "{second:?}");
        assert!(
            second.iter().all(|(_, o)| o == "cached"),
            "{host}: {second:?}"
        );
    }
}

#[test]
#[ignore = "needs the current engine and registry (.ci/current-engine-up.sh)"]
fn build_over_tcp_sends_the_context_through_a_session_as_dockerignore_says() {
    // The engine reached over plain TCP (a CI job's dind service), which cannot fetch anything
    // from this machine's loopback: only the session can carry the context. The Dockerfile
    // lives outside the context, so the session serves two folders.
    let e = current_engine();
    let tcp = required("BUILDPROF_CURRENT_DOCKER_TCP");
    let dir = tempfile::tempdir().unwrap();
    let ctx = fresh_project(dir.path());
    let dockerfile = dir.path().join("outside.Dockerfile");
    std::fs::copy(ctx.join("Dockerfile"), &dockerfile).unwrap();
    std::fs::remove_file(ctx.join("Dockerfile")).unwrap();
    let db = dir.path().join("b.db");
    let f = dockerfile.to_str().unwrap();
    let first = api_build(&e, &tcp, &db, &ctx, &["-f", f]);
    let first = instruction_outcomes(&db, &first);
    assert_eq!(
        outcome_of(&first, "COPY src /app").as_deref(),
        Some("executed"),
        "{first:?}"
    );
    // Files `.dockerignore` excludes (`*.md`, `tmp/`, `**/*.log`) change: nothing re-runs.
    std::fs::write(ctx.join("README.md"), "edited").unwrap();
    std::fs::create_dir_all(ctx.join("tmp")).unwrap();
    std::fs::write(ctx.join("tmp/scratch.txt"), "new").unwrap();
    std::fs::write(ctx.join("src/debug.log"), "new").unwrap();
    let second = api_build(&e, &tcp, &db, &ctx, &["-f", f]);
    let second = instruction_outcomes(&db, &second);
    assert_eq!(second.len(), first.len(), "{second:?}");
    assert!(second.iter().all(|(_, o)| o == "cached"), "{second:?}");
    // A file it does not exclude changes: the engine asks for it again and the step re-runs,
    // and `why` names that file.
    let stamp = std::fs::read_to_string(ctx.join("src/stamp.txt")).unwrap();
    std::fs::write(ctx.join("src/stamp.txt"), format!("{stamp} changed")).unwrap();
    let third = api_build(&e, &tcp, &db, &ctx, &["-f", f]);
    let id = third["id"].as_str().unwrap().to_string();
    let third = instruction_outcomes(&db, &third);
    assert_eq!(
        outcome_of(&third, "COPY src /app").as_deref(),
        Some("executed"),
        "{third:?}"
    );
    assert_eq!(
        outcome_of(&third, "COPY config").as_deref(),
        Some("executed"),
        "{third:?}"
    );
    assert_eq!(
        outcome_of(&third, "COPY deps/").as_deref(),
        Some("cached"),
        "{third:?}"
    );
    let why = json(&db, &["why", &id, "--json"]);
    let busts = why["busts"].as_array().unwrap();
    let copy = busts.iter().find(|b| {
        b["step"]
            .as_str()
            .unwrap_or("")
            .starts_with("COPY src /app")
    });
    let copy = copy.unwrap_or_else(|| panic!("{why:#}"));
    assert_eq!(copy["cause"], "source_files_changed", "{why:#}");
    assert_eq!(copy["changed_files"][0]["path"], "src/stamp.txt", "{why:#}");
}
