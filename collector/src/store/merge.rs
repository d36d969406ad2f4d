//! Merging job databases into a team database (`buildprof merge`): new builds copied whole, in SQL.
//!
//! A job database is attached read-only and copied inside one IMMEDIATE transaction of the team
//! database, so a job's builds land all together or not at all, and parallel merges wait for
//! each other like parallel ingests do. Builds are identified by their content fingerprint, so
//! a build already in the team database (merged before, or ingested by two jobs) is not copied
//! again; only labels and sources it lacks are added to it.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::{schema, sql, Store, StoreError};

/// Tables copied for a new build, parents first (foreign keys), keyed by `build_id`.
const CHILD_TABLES: &[&str] = &[
    "steps",
    "step_inputs",
    "labels",
    "cache_operations",
    "cache_layers",
    "sources",
];

/// What merging one job database added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MergeStats {
    /// Builds the job database holds.
    pub builds_seen: u64,
    /// Builds copied into the team database.
    pub builds_added: u64,
    /// Steps of the copied builds.
    pub steps_added: u64,
    /// Builds the team database already had.
    pub builds_present: u64,
    /// Labels added to builds the team database already had.
    pub labels_added: u64,
    /// Labels of already present builds whose value differs in the job database (the team
    /// database keeps its value).
    pub label_conflicts: u64,
    /// Labels given on the command line and set on builds that lacked the key.
    pub extra_labels_set: u64,
}

impl Store {
    /// Copies the builds of the job database at `input` that this database lacks, with their
    /// steps, inputs, labels, cache operations, layers and sources, in one transaction.
    /// `extra_labels` are set on every build of the job that lacks the key.
    pub fn merge_from(
        &mut self,
        input: &Path,
        extra_labels: &[(String, String)],
    ) -> Result<MergeStats, StoreError> {
        let name = input.display().to_string();
        let uri = read_only_uri(input);
        check_job_database(input, &uri, &name)?;
        if same_file(Path::new(&self.path), input) {
            return Err(StoreError::Refused {
                path: name,
                message: "is the database being merged into".into(),
            });
        }
        let e = |err| sql(&name, err);
        // The temporary id list stays in memory instead of a file under /var/tmp.
        self.conn
            .execute_batch("PRAGMA temp_store = MEMORY")
            .map_err(|err| sql(&self.path, err))?;
        self.conn
            .execute("ATTACH DATABASE ?1 AS job", [&uri])
            .map_err(e)?;
        let result = copy_new_builds(&mut self.conn, extra_labels).map_err(e);
        let detached = self.conn.execute_batch("DETACH DATABASE job").map_err(e);
        let stats = result?;
        detached?;
        Ok(stats)
    }
}

/// Refuses what is not a buildprof database of a schema this build can copy.
fn check_job_database(input: &Path, uri: &str, name: &str) -> Result<(), StoreError> {
    if !input.is_file() {
        return Err(StoreError::Refused {
            path: name.to_string(),
            message: "does not exist or is not a file".into(),
        });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(uri, flags).map_err(|e| sql(name, e))?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| sql(name, e))?;
    if version > schema::LATEST {
        return Err(StoreError::TooNew {
            path: name.to_string(),
            found: version,
            supported: schema::LATEST,
        });
    }
    let has_builds = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'builds'",
            [],
            |_| Ok(()),
        )
        .optional()
        .map_err(|e| sql(name, e))?
        .is_some();
    if version == 0 || !has_builds {
        return Err(StoreError::Refused {
            path: name.to_string(),
            message: "is not a buildprof database (no schema version or no builds table)".into(),
        });
    }
    // A damaged artifact (cut upload, bad disk) is refused before anything is copied.
    let check: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(|e| sql(name, e))?;
    if check != "ok" {
        return Err(StoreError::Corrupt {
            path: name.to_string(),
            message: check,
        });
    }
    if version < schema::LATEST {
        return Err(StoreError::Refused {
            path: name.to_string(),
            message: format!(
                "has the older schema version {version}; open it once with this buildprof \
                 (`buildprof --db {name} builds`) to upgrade it, then merge"
            ),
        });
    }
    Ok(())
}

fn copy_new_builds(
    conn: &mut Connection,
    extra_labels: &[(String, String)],
) -> rusqlite::Result<MergeStats> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut stats = MergeStats::default();
    tx.execute_batch(
        "DROP TABLE IF EXISTS temp.merge_new;
         CREATE TEMP TABLE merge_new (id TEXT PRIMARY KEY) WITHOUT ROWID;
         INSERT INTO temp.merge_new SELECT id FROM job.builds WHERE id NOT IN (SELECT id FROM main.builds);",
    )?;
    stats.builds_seen = tx.query_row("SELECT count(*) FROM job.builds", [], |r| {
        r.get::<_, i64>(0)
    })? as u64;
    let columns = column_list(&tx, "builds")?;
    stats.builds_added = tx.execute(
        &format!(
            "INSERT INTO main.builds ({columns}) SELECT {columns} FROM job.builds
             WHERE id IN (SELECT id FROM temp.merge_new)"
        ),
        [],
    )? as u64;
    for table in CHILD_TABLES {
        let columns = column_list(&tx, table)?;
        let n = tx.execute(
            &format!(
                "INSERT INTO main.{table} ({columns}) SELECT {columns} FROM job.{table}
                 WHERE build_id IN (SELECT id FROM temp.merge_new)"
            ),
            [],
        )? as u64;
        if *table == "steps" {
            stats.steps_added = n;
        }
    }
    stats.builds_present = stats.builds_seen - stats.builds_added;
    // Builds both databases hold: add what the team database lacks, keep what it has.
    stats.label_conflicts = tx.query_row(
        "SELECT count(*) FROM job.labels j JOIN main.labels m ON m.build_id = j.build_id AND m.key = j.key
         WHERE m.value <> j.value AND j.build_id NOT IN (SELECT id FROM temp.merge_new)",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64;
    stats.labels_added = tx.execute(
        "INSERT OR IGNORE INTO main.labels (build_id, key, value)
         SELECT build_id, key, value FROM job.labels
         WHERE build_id IN (SELECT id FROM main.builds) AND build_id NOT IN (SELECT id FROM temp.merge_new)",
        [],
    )? as u64;
    tx.execute(
        "INSERT OR IGNORE INTO main.sources (build_id, path, format, bytes, ingested_at)
         SELECT build_id, path, format, bytes, ingested_at FROM job.sources
         WHERE build_id IN (SELECT id FROM main.builds) AND build_id NOT IN (SELECT id FROM temp.merge_new)",
        [],
    )?;
    for (key, value) in extra_labels {
        stats.extra_labels_set += tx.execute(
            "INSERT OR IGNORE INTO main.labels (build_id, key, value)
             SELECT id, ?1, ?2 FROM job.builds",
            [key, value],
        )? as u64;
    }
    tx.execute_batch("DROP TABLE temp.merge_new")?;
    tx.commit()?;
    Ok(stats)
}

/// The team database's columns of `table`, quoted, in order: copying by name keeps working if
/// a later schema version appends columns.
fn column_list(conn: &Connection, table: &str) -> rusqlite::Result<String> {
    let mut stmt = conn.prepare(&format!("PRAGMA main.table_info({table})"))?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names
        .iter()
        .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(", "))
}

/// A `file:` URI opening `path` read-only (characters special in URIs escaped).
///
/// A finished job database (closed cleanly: no `-wal` or `-shm` file beside it, as uploaded
/// artifacts are) is opened `immutable`: no locks and no `-shm`/`-wal` files are created next to
/// it. A database that may be in use, or that a killed job left with a write-ahead log, is opened
/// with normal locking so the log is read too.
fn read_only_uri(path: &Path) -> String {
    let with_suffix = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    let finished = !with_suffix("-wal").exists() && !with_suffix("-shm").exists();
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'%' | b'?' | b'#' => uri.push_str(&format!("%{b:02X}")),
            b if b.is_ascii() && !b.is_ascii_control() => uri.push(*b as char),
            b => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri.push_str(if finished {
        "?mode=ro&immutable=1"
    } else {
        "?mode=ro"
    });
    uri
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes_specials_and_non_ascii() {
        assert_eq!(
            read_only_uri(Path::new("/tmp/a?b#c%d é.db")),
            "file:/tmp/a%3Fb%23c%25d %C3%A9.db?mode=ro&immutable=1"
        );
    }
}
