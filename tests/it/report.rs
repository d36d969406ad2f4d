//! `buildprof report` and `buildprof summary` end to end on the app1 strategy series: what the
//! report says (checked against the traces), the JSON content, the files written, and insta
//! snapshots of the Markdown and HTML with timings redacted.

use std::path::Path;

use serde_json::Value;

use crate::common::{app1_series, assert_success, json, ok, run};

/// The series ran on 2026-11-22 between 03:22 and 03:26 UTC.
const PERIOD: [&str; 4] = ["--since", "2026-11-22", "--until", "2026-11-23"];

fn report(db: &Path, out: &Path, formats: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "report",
        "--out",
        out.to_str().unwrap(),
        "--format",
        formats,
    ];
    args.extend(PERIOD);
    args.extend(extra);
    ok(db, &args)
}

/// Snapshots of rendered documents: durations (`850ms`, `4.2s`, `3m12s`, `1h04m`, `10.7 s`)
/// become `[t]`, the checkout's path `[repo]`; SVG bodies and the style sheet are left out (the
/// charts are checked in the browser test).
macro_rules! assert_document_snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({filters => vec![
            (regex::escape(env!("CARGO_MANIFEST_DIR")).as_str(), "[repo]"),
            (r"(?s)<svg [^>]*>.*?</svg>", "<svg>[chart]</svg>"),
            (r"(?s)<style>.*?</style>", "<style>[css]</style>"),
            (
                r"\b\d+(\.\d+)?(ms|s|m\d\ds|h\d\dm)\b|\b\d+(\.\d+)?(–\d+(\.\d+)?)? s\b",
                "[t]",
            ),
        ]}, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

#[test]
fn report_content_json_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    app1_series(&db);
    let out = dir.path().join("out");
    let printed = report(&db, &out, "html,md,json", &["--png"]);
    for f in [
        "report.html",
        "report.md",
        "report.json",
        "waterfall.png",
        "weekly-wall.png",
        "weekly-hits.png",
        "builds.png",
    ] {
        let p = out.join(f);
        assert!(p.exists(), "{f} not written");
        assert!(printed.contains(&p.display().to_string()), "{printed}");
    }
    let png = std::fs::read(out.join("waterfall.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let json: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    // Every build of the series is in the period; 4 strategies x 6 iterations.
    assert_eq!(json["headline"]["builds"]["current"], 24);
    assert_eq!(json["headline"]["failures"]["current"], 0);
    assert_eq!(json["builds"].as_array().unwrap().len(), 24);
    let hit = json["headline"]["hit_ratio"]["current"].as_f64().unwrap();
    assert!(hit > 0.0 && hit < 1.0, "{hit}");
    // The slowest build is the cold mode=min build of the deps change (19.4 s in `builds`).
    let slowest = &json["slowest_build"];
    assert!(slowest["source"]
        .as_str()
        .unwrap()
        .ends_with("014-min-deps-iter4.plain.log"));
    assert_eq!(slowest["steps"].as_array().unwrap().len(), 20);
    let classes: Vec<&str> = slowest["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["class"].as_str().unwrap())
        .collect();
    assert!(classes.iter().all(|c| *c == "executed"), "{classes:?}");
    // The strategy table groups by `strategy` with the four values.
    let groups: Vec<&str> = json["strategies"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["value"].as_str().unwrap())
        .collect();
    assert_eq!(json["strategies"]["label"], "strategy");
    let mut sorted = groups.clone();
    sorted.sort();
    assert_eq!(sorted, ["inline", "local", "max", "min"]);
    // The warm local builder hits every instruction: its group's hit ratio is 100%.
    let local = json["strategies"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["value"] == "local")
        .unwrap();
    assert_eq!(local["hit_ratio"], 1.0);
    // mode=min builds re-run the deps stage that max pulls: the venv step busts most, by lazy misses.
    let top = &json["cache_busts"][0];
    assert_eq!(top["stage"], "deps");
    assert!(top["lazy_misses"].as_u64().unwrap() > 0, "{top}");
    // The trend window is 12 weeks ending with the week of 2026-11-16.
    let weeks = json["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    assert_eq!(weeks[11]["week_start"], "2026-11-16");
    assert_eq!(weeks[11]["builds"], 24);
    assert_eq!(weeks[0]["builds"], 0);

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("![Waterfall of build"), "PNG links with --png");
    assert!(md.contains("](waterfall.png)"));
}

#[test]
fn markdown_links_svg_files_written_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    app1_series(&db);
    let out = dir.path().join("md");
    report(&db, &out, "md", &[]);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for stem in ["weekly-wall", "weekly-hits", "builds", "waterfall"] {
        assert!(md.contains(&format!("]({stem}.svg)")), "{stem} not linked");
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{stem}.svg");
        assert!(
            svg.contains("currentColor"),
            "{stem}.svg follows the page colour"
        );
    }
    assert!(!out.join("report.html").exists());
    // Without --format, all three (as the README says).
    let all = dir.path().join("all");
    let mut args = vec!["report", "--out", all.to_str().unwrap()];
    args.extend(PERIOD);
    ok(&db, &args);
    for f in ["report.html", "report.md", "report.json"] {
        assert!(all.join(f).exists(), "{f} missing by default");
    }
}

#[test]
fn snapshot_report_markdown_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    app1_series(&db);
    let out = dir.path().join("snap");
    report(&db, &out, "md,html", &[]);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert_document_snapshot!("report_markdown", &md);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_document_snapshot!("report_html", &html);
}

#[test]
fn snapshot_summary_of_a_lazy_miss_build() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    app1_series(&db);
    // 010-min-web-iter3: mode=min on a cold builder, three lazy misses.
    let builds = json(
        &db,
        &[
            "builds",
            "--json",
            "--label",
            "strategy=min",
            "--label",
            "change=web",
        ],
    );
    let id = builds[0]["id"].as_str().unwrap().to_string();
    let md = ok(
        &db,
        &["summary", &id[..10], "--baseline-label", "strategy=max"],
    );
    assert!(md.contains("strategy=max median of"), "{md}");
    assert!(md.contains("lazy miss"), "{md}");
    assert_document_snapshot!("summary_min_web", &md);
    let summary = json(&db, &["summary", &id, "--json"]);
    assert_eq!(summary["lazy_misses"], 3);
    assert_eq!(summary["build_id"], id);
    // --last is the most recently stored build: the series' last file.
    let last = json(&db, &["summary", "--last", "--json"]);
    assert!(
        last["source"]
            .as_str()
            .unwrap()
            .ends_with("024-local-none-iter6.plain.log"),
        "{last}"
    );
}

#[test]
fn empty_period_and_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.db");
    app1_series(&db);
    let out = dir.path().join("empty");
    let o = run(
        &db,
        &[
            "report",
            "--out",
            out.to_str().unwrap(),
            "--since",
            "2020-01-01",
            "--until",
            "2020-01-08",
            "--format",
            "md,json",
        ],
    );
    assert_success(&o);
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["headline"]["builds"]["current"], 0);
    assert_eq!(json["slowest_build"], Value::Null);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("No builds started in this period."), "{md}");

    // An unknown format is a usage error (exit 2) naming the formats there are.
    let bad = run(&db, &["report", "--format", "pdf"]);
    assert_eq!(bad.status.code(), Some(2));
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(said.contains("invalid value 'pdf'"), "{said}");
    assert!(said.contains("[possible values: html, md, json]"), "{said}");
    let backwards = run(
        &db,
        &["report", "--since", "2026-11-23", "--until", "2026-11-22"],
    );
    assert_eq!(backwards.status.code(), Some(1));
    let empty_db = dir.path().join("none.db");
    let none = run(&empty_db, &["summary"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no builds stored yet"));
}
