//! The analysis commands end to end on the strategy series (ingested with its manifest labels):
//! JSON contracts, exit codes, and snapshots of the terminal output people read.

use std::path::{Path, PathBuf};

use crate::common::{app1_series, assert_success, json, ok, run, sample};

/// A database with the 24 builds of the strategy series, labelled as in the manifest.
fn series_db(dir: &Path) -> PathBuf {
    let db = dir.join("series.db");
    app1_series(&db);
    db
}

fn build_id(db: &Path, source_suffix: &str) -> String {
    let builds = json(db, &["builds", "--json"]);
    builds
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["source"].as_str().unwrap().ends_with(source_suffix))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn analysis_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = series_db(dir.path());

    // compare: the JSON contract and what it says about min against max.
    let c = json(
        &db,
        &["compare", "--by", "strategy", "--baseline", "max", "--json"],
    );
    assert_eq!(
        (
            c["by"].as_str(),
            c["metric"].as_str(),
            c["baseline"].as_str()
        ),
        (Some("strategy"), Some("wall"), Some("max"))
    );
    let min = c["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["value"] == "min")
        .unwrap();
    assert!(min["diff_median_ms"].as_f64().unwrap() > 0.0);
    assert!(min["verdict"]
        .as_str()
        .unwrap()
        .contains("min is 4.0 s slower than max"));
    insta::assert_snapshot!(
        "compare_strategy_cost",
        ok(
            &db,
            &[
                "compare",
                "--by",
                "strategy",
                "--baseline",
                "max",
                "--label",
                "builder=cold",
                "--cost"
            ]
        )
    );
    // The default baseline is announced.
    let out = ok(&db, &["compare", "--by", "builder"]);
    assert!(
        out.contains("baseline: cold (the group with the most builds"),
        "{out}"
    );
    assert!(
        out.contains("warm is 9.3 s faster than cold (95% CI"),
        "{out}"
    );

    // Unknown labels and baselines are errors that say what exists.
    let out = run(&db, &["compare", "--by", "runner"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no build in the selection has the label \"runner\""));
    let out = run(&db, &["compare", "--by", "strategy", "--baseline", "mx"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("values seen: inline, local, max, min"));
    let out = run(&db, &["compare", "--by", "strategy", "--metric", "speed"]);
    assert_eq!(out.status.code(), Some(2), "usage error");

    // busts of one build, and over the series.
    let id = build_id(&db, "010-min-web-iter3.rawjson");
    let b = json(&db, &["busts", &id[..8], "--json"]);
    assert_eq!(b["busts"].as_array().unwrap().len(), 2);
    insta::assert_snapshot!("busts_min_web", ok(&db, &["busts", &id[..8]]));
    let s = json(&db, &["busts", "--json"]);
    assert_eq!(s["builds"], 24);
    insta::assert_snapshot!("busts_series", ok(&db, &["busts", "--limit", "5"]));

    // steps, trends, metrics.
    let st = json(&db, &["steps", "--json", "--label", "strategy=min"]);
    assert_eq!(st["builds"], 6);
    insta::assert_snapshot!("steps_min", ok(&db, &["steps", "--label", "strategy=min"]));
    let t = json(&db, &["trends", "--by", "day", "--json"]);
    assert_eq!(t["periods"][0]["builds"], 24);
    insta::assert_snapshot!("trends_day", ok(&db, &["trends", "--by", "day"]));
    let m = json(&db, &["metrics", &id[..8], "--json"]);
    assert_eq!(m["id"].as_str(), Some(id.as_str()));
    assert!(m["critical_path"].as_array().unwrap().len() > 3);
    let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-traces");
    insta::assert_snapshot!(
        "metrics_min_web",
        ok(&db, &["metrics", &id[..8]]).replace(samples.to_str().unwrap(), "[samples]")
    );
    let all = json(&db, &["metrics", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 24);
}

#[test]
fn synth_writes_a_labelled_history() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("synth.db");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-traces");
    let out = ok(
        &db,
        &[
            "synth",
            "--steps",
            "2000",
            "--days",
            "30",
            "--dir",
            root.to_str().unwrap(),
        ],
    );
    assert!(out.starts_with("synth: wrote "), "{out}");
    let builds = json(&db, &["builds", "--json"]);
    let builds = builds.as_array().unwrap();
    let steps: i64 = builds
        .iter()
        .map(|b| b["step_count"].as_i64().unwrap())
        .sum();
    assert!((2000..2100).contains(&steps), "{steps} steps");
    assert!(builds.iter().all(|b| b["labels"]["synthetic"] == "true"));
    assert!(builds
        .iter()
        .all(|b| b["source"].as_str().unwrap().starts_with("synthetic/")));
    // Ids differ in their first 12 characters, so the short ids tables print can be used.
    let short: std::collections::HashSet<&str> = builds
        .iter()
        .map(|b| &b["id"].as_str().unwrap()[..12])
        .collect();
    assert_eq!(short.len(), builds.len());
    // Spread over the 30 days, and every strategy of the series is there to compare.
    let t = json(&db, &["trends", "--by", "day", "--json"]);
    assert!(t["periods"].as_array().unwrap().len() >= 25);
    let c = json(&db, &["compare", "--by", "strategy", "--json"]);
    assert_eq!(c["groups"].as_array().unwrap().len(), 4);
}

/// Regression: `busts BUILD` panicked (polars `get(0)` on an empty column) for a build
/// without a `branch` label.
#[test]
fn busts_of_a_build_without_branch_label() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nb.db");
    let trace =
        sample("busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_partial-cache.plain.txt");
    assert!(run(&db, &["ingest", &trace]).status.success());
    let list: serde_json::Value =
        serde_json::from_slice(&run(&db, &["builds", "--json"]).stdout).unwrap();
    let id = list[0]["id"].as_str().unwrap().to_string();
    let out = run(&db, &["busts", &id]);
    assert_success(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&id[..12]), "{text}");
    let out = run(&db, &["summary", &id]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Not worked out"));
}
