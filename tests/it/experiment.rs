//! `buildprof experiment` with command variants, without an engine: commands that print real
//! captures stand in for `docker buildx build`. Where commands run, and what a failing variant
//! does to the exit code.

use serde_json::Value;

use crate::common::{bin, json, sample};

#[test]
fn command_variants_run_in_the_context_and_a_failing_variant_fails_the_experiment() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    let ctx = dir.path().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    let ce = "current-engine/containerd-store/";
    for (name, file) in [
        ("good.log", "010-max-cold-main-plain-r1-src.plain.log"),
        (
            "bad.log",
            "084-local-fail-cold-main-plain-r1-fail.plain.log",
        ),
    ] {
        std::fs::copy(sample(&format!("{ce}{file}")), ctx.join(name)).unwrap();
    }
    // The spec lives elsewhere; its context is relative to it. Relative paths in `before` and
    // `command` resolve in the context, as `docker buildx build .` expects.
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    let spec = specs.join("exp.toml");
    std::fs::write(
        &spec,
        r#"
[experiment]
reps = 2
context = "../ctx"

[[variant]]
name = "ok"
before = ["test", "-f", "good.log"]
command = ["cat", "good.log"]

[[variant]]
name = "bad"
command = ["cat", "bad.log"]
"#,
    )
    .unwrap();
    let out = bin()
        .arg("--db")
        .arg(&db)
        .args(["experiment", "--id", "e1", "--quiet", "--spec"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("variant bad: 2 of 2 builds did not succeed; the first: "),
        "{stderr}"
    );
    assert!(!stderr.contains("variant ok"), "{stderr}");
    let builds = json(&db, &["builds", "--label", "experiment=e1", "--json"]);
    let builds = builds.as_array().unwrap();
    assert_eq!(builds.len(), 4);
    for b in builds {
        let want = if b["labels"]["variant"] == "ok" {
            "succeeded"
        } else {
            "failed"
        };
        assert_eq!(b["status"], want, "{b:#}");
    }

    // A context that is not a folder is refused before anything runs.
    std::fs::write(
        &spec,
        "[experiment]\ncontext = \"nowhere\"\n[[variant]]\nname = \"x\"\ncommand = [\"true\"]\n",
    )
    .unwrap();
    let out = bin()
        .arg("--db")
        .arg(&db)
        .args(["experiment", "--spec"])
        .arg(&spec)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nowhere is not a folder"), "{stderr}");
    let after: Value = json(&db, &["builds", "--json"]);
    assert_eq!(after.as_array().unwrap().len(), 4);
}
