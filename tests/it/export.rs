//! `buildprof export --format parquet|csv|jsonl`: files read back with polars and serde_json and
//! checked cell by cell against the database; filters; every column documented in docs/export.md.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::common::{bin, count, ingest, ok, run};
use polars::prelude::*;
use polars_io::csv::read::CsvReadOptions;
use polars_io::parquet::read::ParquetReader;
use polars_io::SerReader;

use collector::store::schema::TABLES;

fn history(db: &Path) {
    ingest(
        db,
        &["app1-series/010-min-web-iter3.rawjson"],
        &["strategy=min", "branch=main"],
    );
    ingest(
        db,
        &["app1-series/009-max-web-iter3.rawjson"],
        &["strategy=max", "branch=main"],
    );
    ingest(
        db,
        &[
            "busybox-buildx0.13/local-buildx0.13.1-moby20.10.24_error.rawjson.txt",
            "app1-series/006-min-src-iter2.plain.log",
            "external/docker-actions-toolkit_fixture_docker_test-docker-action_SNHBPN_3.dockerbuild",
        ],
        &["strategy=other"],
    );
}

/// The sample history in `dir/h.db`, exported as Parquet (every table) into `dir/export`.
fn history_as_parquet(dir: &Path) -> (PathBuf, PathBuf, String) {
    let db = dir.join("h.db");
    history(&db);
    let out = dir.join("export");
    let text = ok(
        &db,
        &[
            "export",
            "--format",
            "parquet",
            "--table",
            "all",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    (db, out, text)
}

fn parquet(path: &Path) -> DataFrame {
    ParquetReader::new(File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn i64s(df: &DataFrame, col: &str) -> Vec<Option<i64>> {
    df.column(col)
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect()
}

fn strs(df: &DataFrame, col: &str) -> Vec<Option<String>> {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

fn db_i64s(db: &Path, sql: &str) -> Vec<Option<i64>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let v = stmt
        .query_map([], |r| r.get::<_, Option<i64>>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    v
}

fn db_strs(db: &Path, sql: &str) -> Vec<Option<String>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let v = stmt
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    v
}

#[test]
fn parquet_of_every_table_matches_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (db, out, text) = history_as_parquet(dir.path());
    for table in TABLES {
        let df = parquet(&out.join(format!("{table}.parquet")));
        let n = count(&db, &format!("SELECT count(*) FROM {table}"));
        assert_eq!(df.height() as i64, n, "{table}");
        assert!(
            text.contains(&format!("wrote {n} rows of {table}")),
            "{text}"
        );
    }
    let builds = parquet(&out.join("builds.parquet"));
    assert_eq!(
        builds.column("started_at").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC))
    );
    assert_eq!(
        builds.column("step_count").unwrap().dtype(),
        &DataType::Int64
    );
    let order = "ORDER BY started_at IS NULL, started_at, id";
    assert_eq!(
        strs(&builds, "id"),
        db_strs(&db, &format!("SELECT id FROM builds {order}"))
    );
    assert_eq!(
        i64s(&builds, "started_at"),
        db_i64s(&db, &format!("SELECT started_at FROM builds {order}"))
    );
    assert_eq!(
        i64s(&builds, "lazy_miss_count"),
        db_i64s(&db, &format!("SELECT lazy_miss_count FROM builds {order}"))
    );
    // Labels: a JSON object per build, the same pairs as the labels table.
    for (id, labels) in strs(&builds, "id").iter().zip(strs(&builds, "labels")) {
        let id = id.as_deref().unwrap();
        let parsed: BTreeMap<String, String> =
            serde_json::from_str(labels.as_deref().unwrap()).unwrap();
        let conn = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = conn
            .prepare("SELECT key, value FROM labels WHERE build_id = ?1")
            .unwrap();
        let stored: BTreeMap<String, String> = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(parsed, stored);
    }

    let steps = parquet(&out.join("steps.parquet"));
    assert_eq!(
        steps.column("lazy_miss").unwrap().dtype(),
        &DataType::Boolean
    );
    let key = "ORDER BY build_id, seq";
    for col in [
        "started_at",
        "finished_at",
        "duration_ns",
        "pulled_bytes",
        "seq",
    ] {
        assert_eq!(
            i64s(&steps, col),
            db_i64s(&db, &format!("SELECT {col} FROM steps {key}")),
            "steps.{col}"
        );
    }
    for col in ["name", "outcome", "stage", "log_tail", "error", "intervals"] {
        assert_eq!(
            strs(&steps, col),
            db_strs(&db, &format!("SELECT {col} FROM steps {key}")),
            "steps.{col}"
        );
    }
    let lazy = steps
        .column("lazy_miss")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .filter(|b| *b == Some(true))
        .count() as i64;
    assert_eq!(
        lazy,
        count(&db, "SELECT count(*) FROM steps WHERE lazy_miss = 1")
    );
    assert!(lazy > 0, "the mode=min trace has lazy misses");
}

#[test]
fn csv_and_jsonl_with_filters() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    history(&db);
    // CSV of the steps of mode=min builds only.
    let csv = dir.path().join("min-steps.csv");
    ok(
        &db,
        &[
            "export",
            "--format",
            "csv",
            "--table",
            "steps",
            "--label",
            "strategy=min",
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(csv.clone()))
        .unwrap()
        .finish()
        .unwrap();
    let expected = "FROM steps s JOIN labels l ON l.build_id = s.build_id AND l.key = 'strategy' AND l.value = 'min' ORDER BY s.build_id, s.seq";
    assert_eq!(
        df.height() as i64,
        count(&db, &format!("SELECT count(*) {expected}"))
    );
    // Step names (quotes, commas, brackets) survive the CSV quoting.
    assert_eq!(
        strs(&df, "name"),
        db_strs(&db, &format!("SELECT s.name {expected}"))
    );
    assert_eq!(
        i64s(&df, "duration_ns"),
        db_i64s(&db, &format!("SELECT s.duration_ns {expected}"))
    );

    // JSON Lines of builds, to stdout.
    let out = run(&db, &["export", "--format", "jsonl", "--out", "-"]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len() as i64,
        count(&db, "SELECT count(*) FROM builds")
    );
    let failed: Vec<_> = lines.iter().filter(|b| b["status"] == "failed").collect();
    assert_eq!(
        failed.len() as i64,
        count(&db, "SELECT count(*) FROM builds WHERE status = 'failed'")
    );
    assert!(failed[0]["error"].as_str().is_some_and(|e| !e.is_empty()));
    let with_time = lines.iter().find(|b| !b["started_at"].is_null()).unwrap();
    assert!(
        with_time["started_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("20")),
        "timestamps are readable: {}",
        with_time["started_at"]
    );

    // A window with no builds still writes a valid file with the header.
    let empty = dir.path().join("none.csv");
    ok(
        &db,
        &[
            "export",
            "--format",
            "csv",
            "--since",
            "2200-01-01",
            "--out",
            empty.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&empty).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.starts_with("id,source,format"), "{text}");
}

#[test]
fn errors_leave_no_files_and_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    ingest(&db, &["app1-series/010-min-web-iter3.rawjson"], &[]);
    let out = run(
        &db,
        &[
            "export",
            "--format",
            "parquet",
            "--table",
            "stepz",
            "--out",
            "x.parquet",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown table \"stepz\""));
    let target = dir.path().join("missing-dir").join("b.parquet");
    let out = run(
        &db,
        &[
            "export",
            "--format",
            "parquet",
            "--out",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("b.parquet"));
    let out = bin().args(["export", "--out", "x.csv"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "--out without --format is a usage error"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn every_exported_column_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    ingest(&db, &["app1-series/010-min-web-iter3.rawjson"], &[]);
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/export.md"))
            .unwrap();
    for table in TABLES {
        let out = run(
            &db,
            &["export", "--format", "csv", "--table", table, "--out", "-"],
        );
        assert!(out.status.success());
        let header = String::from_utf8(out.stdout).unwrap();
        let columns: BTreeSet<String> = header
            .lines()
            .next()
            .unwrap()
            .split(',')
            .map(str::to_string)
            .collect();
        let section = docs
            .split(&format!("\n## {table}\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("docs/export.md has no section ## {table}"));
        let section = section.split("\n## ").next().unwrap();
        let documented: BTreeSet<String> = section
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .map(str::to_string)
            .collect();
        assert_eq!(columns, documented, "docs/export.md section {table}");
    }
}

/// The Python that has the `duckdb` module (`.ci/run` installs it into a venv).
fn python() -> String {
    std::env::var("BUILDPROF_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
#[ignore = "needs Python with duckdb (.ci/run installs it in a venv, BUILDPROF_PYTHON)"]
fn duckdb_reads_the_parquet_export() {
    let has_duckdb = std::process::Command::new(python())
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(has_duckdb, "{} cannot import duckdb", python());
    let dir = tempfile::tempdir().unwrap();
    let (db, out, _) = history_as_parquet(dir.path());
    // Types as DuckDB sees them, counts per table, and a query over the labels JSON.
    let script = r#"
import duckdb, json, sys
d = sys.argv[1]
types = dict((r[0], r[1]) for r in duckdb.sql(f"DESCRIBE SELECT * FROM '{d}/builds.parquet'").fetchall())
counts = {t: duckdb.sql(f"SELECT count(*) FROM '{d}/{t}.parquet'").fetchall()[0][0]
          for t in sys.argv[2].split(",")}
by_strategy = dict(duckdb.sql(f"SELECT labels->>'strategy', count(*) FROM '{d}/builds.parquet' GROUP BY 1").fetchall())
lazy = duckdb.sql(f"SELECT count(*) FROM '{d}/steps.parquet' WHERE lazy_miss").fetchall()[0][0]
epoch = duckdb.sql(f"SELECT min(epoch_ns(started_at)) FROM '{d}/steps.parquet'").fetchall()[0][0]
print(json.dumps({"types": types, "counts": counts, "by_strategy": by_strategy, "lazy": lazy, "epoch": epoch}))
"#;
    let tables = TABLES.join(",");
    let run = std::process::Command::new(python())
        .args(["-c", script, out.to_str().unwrap(), &tables])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        v["types"]["started_at"], "TIMESTAMPTZ_NS",
        "UTC timestamps in ns"
    );
    assert_eq!(v["types"]["step_count"], "BIGINT");
    for table in TABLES {
        assert_eq!(
            v["counts"][table].as_i64().unwrap(),
            count(&db, &format!("SELECT count(*) FROM {table}")),
            "{table}"
        );
    }
    assert_eq!(v["by_strategy"]["min"], 1);
    assert_eq!(v["by_strategy"]["max"], 1);
    assert_eq!(
        v["by_strategy"]["other"].as_i64().unwrap(),
        count(
            &db,
            "SELECT count(*) FROM labels WHERE key = 'strategy' AND value = 'other'"
        )
    );
    assert_eq!(
        v["lazy"].as_i64().unwrap(),
        count(&db, "SELECT count(*) FROM steps WHERE lazy_miss = 1")
    );
    assert_eq!(
        v["epoch"].as_i64().unwrap(),
        count(&db, "SELECT min(started_at) FROM steps"),
        "nanoseconds survive"
    );
}
