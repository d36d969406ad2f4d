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

/// Every row of `table`, each as text cells, sorted by every column.
pub fn rows(db: &Path, table: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let n = conn
        .query_row(
            &format!("SELECT count(*) FROM pragma_table_info('{table}')"),
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as usize;
    let order: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    let order = order.join(", ");
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
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

/// `db` (written by this buildprof) turned into a database of an older schema `version` (1 or
/// 2), as an older buildprof wrote it: every row kept, in the tables of that version.
pub fn downgrade(db: &Path, version: i64) {
    use collector::store::schema::{MIGRATIONS, SHARED_TABLES, TABLES};
    let old = db.with_extension("old");
    let _ = std::fs::remove_file(&old);
    let conn = rusqlite::Connection::open(&old).unwrap();
    for m in &MIGRATIONS[..2] {
        conn.execute_batch(m).unwrap();
    }
    conn.execute("ATTACH DATABASE ?1 AS new", [db.to_str().unwrap()])
        .unwrap();
    for table in TABLES.iter().chain(SHARED_TABLES) {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let columns = columns.join(", ");
        conn.execute_batch(&format!(
            "INSERT INTO main.{table} ({columns}) SELECT {columns} FROM new.{table}"
        ))
        .unwrap();
    }
    conn.execute_batch("DETACH DATABASE new").unwrap();
    if version == 1 {
        conn.execute_batch(
            "DROP TABLE build_args; DROP TABLE build_inputs; DROP TABLE context_nodes;
             DROP INDEX builds_time; ALTER TABLE sources DROP COLUMN capture_wall_ns;",
        )
        .unwrap();
    }
    conn.execute_batch(&format!(
        "PRAGMA user_version = {version}; PRAGMA journal_mode = DELETE;"
    ))
    .unwrap();
    drop(conn);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::rename(&old, db).unwrap();
}

/// The `PRAGMA user_version` of `db`.
pub fn schema_version(db: &Path) -> i64 {
    count(db, "PRAGMA user_version")
}
