//! Helpers shared by the integration tests: running the binary, sample trace paths, ingesting
//! samples, SQLite reads.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_buildprof"));
    c.env_remove("BUILDPROF_DB");
    c
}

pub fn sample(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("sample-traces")
        .join(rel)
        .display()
        .to_string()
}

pub fn run(db: &Path, args: &[&str]) -> Output {
    bin().arg("--db").arg(db).args(args).output().unwrap()
}

pub fn ok(db: &Path, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Asserts that a run of the binary succeeded, showing its standard error if not.
#[track_caller]
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The JSON a successful run printed.
pub fn json(db: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(db, args)).unwrap()
}

/// Ingests sample traces (paths relative to sample-traces/) with labels.
pub fn ingest(db: &Path, traces: &[&str], labels: &[&str]) {
    let mut args: Vec<String> = vec!["ingest".into(), "--quiet".into()];
    args.extend(traces.iter().map(|t| sample(t)));
    for l in labels {
        args.push("--label".into());
        args.push(l.to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(db, &refs);
}

/// Ingests the 24 builds of `sample-traces/app1-series` (the strategy series), labelled as in
/// the manifest.
pub fn app1_series(db: &Path) {
    let manifest = collector::manifest::read_manifest(Path::new(&sample("manifest.tsv"))).unwrap();
    for e in manifest
        .iter()
        .filter(|e| e.file.starts_with("app1-series/"))
    {
        let labels: Vec<String> = e.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        ingest(db, &[&e.file], &labels);
    }
}

/// Every row of `table`, each as text cells, in primary-key order.
pub fn rows(db: &Path, table: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let n = conn
        .query_row(
            &format!("SELECT count(*) FROM pragma_table_info('{table}')"),
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as usize;
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2, 3"))
        .unwrap();
    let out = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| {
                    let v: rusqlite::types::Value = r.get(i)?;
                    Ok(format!("{v:?}"))
                })
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    out
}

pub fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}
