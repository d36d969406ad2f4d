//! Merging job databases into a team database (`buildprof merge`): new builds copied whole, in SQL.
//!
//! A job database is attached read-only and copied inside one IMMEDIATE transaction of the team
//! database, so a job's builds land all together or not at all, and parallel merges wait for
//! each other like parallel ingests do. Builds are identified by their content fingerprint, so
//! a build already in the team database (merged before, or ingested by two jobs) is not copied
//! again; only labels and sources it lacks are added to it.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::{schema, sql, untrusted, Store, StoreError};

/// Tables copied for a new build, parents first (foreign keys), keyed by `build_id`.
const CHILD_TABLES: &[&str] = schema::TABLES.split_at(1).1;

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

/// Job databases attached at once, and so merged in one transaction (SQLite attaches at most 10).
const BATCH: usize = 8;

impl Store {
    /// Copies the builds of the job database at `input` that this database lacks, with their
    /// steps, inputs, labels, cache operations, layers and sources, all or nothing.
    /// `extra_labels` are set on every build of the job that lacks the key.
    pub fn merge_from(
        &mut self,
        input: &Path,
        extra_labels: &[(String, String)],
    ) -> Result<MergeStats, StoreError> {
        let mut result = None;
        self.merge_many(&[input], extra_labels, &mut |_, r| result = Some(r))?;
        result.expect("one input gives one result")
    }

    /// Merges `inputs` in order, calling `done` with each input's result. Up to eight job
    /// databases share one transaction (far fewer pages rewritten than one transaction each),
    /// each inside its own savepoint, so a job database that fails part-way adds nothing while
    /// the others of its batch still land. The error returned is the team database's own.
    pub fn merge_many(
        &mut self,
        inputs: &[&Path],
        extra_labels: &[(String, String)],
        done: &mut dyn FnMut(&Path, Result<MergeStats, StoreError>),
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let columns = self.prepare_merge().map_err(|e| sql(&path, e))?;
        // Kept until the end: dropping a copy removes it.
        let (_copies, mut sources) = upgraded_sources(inputs);
        for (batch, sources) in inputs.chunks(BATCH).zip(sources.chunks_mut(BATCH)) {
            let mut results: Vec<Result<MergeStats, StoreError>> = Vec::new();
            let mut attached: Vec<String> = Vec::new();
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| sql(&path, e))?;
            for (i, (input, source)) in batch.iter().zip(sources.iter_mut()).enumerate() {
                let alias = format!("job{i}");
                let prepared = match source.take().expect("each source is used once") {
                    Ok(s) => prepare(&s, &path).map_err(|e| e.renamed(&s, input)),
                    Err(e) => Err(e),
                };
                let result = prepared.and_then(|uri| {
                    let name = input.display().to_string();
                    tx.execute(&format!("ATTACH DATABASE ?1 AS {alias}"), [&uri])
                        .map_err(|e| sql(&name, e))?;
                    attached.push(alias.clone());
                    copy_in_savepoint(&tx, &alias, &columns, extra_labels)
                        .map_err(|e| sql(&name, e))
                });
                results.push(result);
            }
            let committed = tx.commit().map_err(|e| sql(&path, e));
            for alias in &attached {
                self.conn
                    .execute_batch(&format!("DETACH DATABASE {alias}"))
                    .map_err(|e| sql(&path, e))?;
            }
            if let Err(e) = committed {
                for input in batch {
                    done(
                        input,
                        Err(StoreError::Refused {
                            path: input.display().to_string(),
                            message: format!("was not merged: {e}"),
                        }),
                    );
                }
                return Err(e);
            }
            for (input, result) in batch.iter().zip(results) {
                done(input, result);
            }
        }
        Ok(())
    }
}

impl Store {
    /// Makes this connection fit to attach job databases (nothing in them may run with side
    /// effects, and attaching never creates or writes a file) and to merge many of them (the
    /// temporary id list in memory, a bigger page cache, fewer checkpoints, each of which
    /// syncs); returns the team database's column lists, for builds then each child table.
    fn prepare_merge(&self) -> rusqlite::Result<Vec<(String, String)>> {
        untrusted::harden(&self.conn)?;
        self.conn.execute_batch(
            "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 8192;",
        )?;
        std::iter::once(&"builds")
            .chain(CHILD_TABLES)
            .map(|t| column_lists(&self.conn, t))
            .collect()
    }
}

/// Where each input is merged from: a job database of an older schema (an older buildprof in
/// CI) from a copy upgraded to this schema (returned, to be kept until the merge ends), the job
/// database itself being left as it was; any other from itself.
fn upgraded_sources(inputs: &[&Path]) -> (Vec<Upgraded>, Vec<Source>) {
    let mut copies: Vec<Upgraded> = Vec::new();
    let mut sources = Vec::new();
    for input in inputs {
        sources.push(Some(match Upgraded::of(input) {
            Ok(Some(copy)) => {
                let p = copy.path.clone();
                copies.push(copy);
                Ok(p)
            }
            Ok(None) => Ok(input.to_path_buf()),
            Err(e) => Err(e),
        }));
    }
    (copies, sources)
}

/// The file an input is merged from (taken when its batch is merged), or why it cannot be.
type Source = Option<Result<PathBuf, StoreError>>;

/// An upgraded temporary copy of a job database of an older schema, removed when dropped.
struct Upgraded {
    path: PathBuf,
}

impl Upgraded {
    /// None when `input` is not an older buildprof database (then it is merged, or refused, as
    /// it is); else a copy in the temp folder, migrated by opening it.
    fn of(input: &Path) -> Result<Option<Upgraded>, StoreError> {
        let name = input.display().to_string();
        let version: Option<i64> = Connection::open_with_flags(
            read_only_uri(input),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
        )
        .and_then(|c| {
            untrusted::harden_reader(&c)?;
            c.query_row("PRAGMA user_version", [], |r| r.get(0))
        })
        .ok();
        if !matches!(version, Some(v) if (1..schema::LATEST).contains(&v)) || !input.is_file() {
            return Ok(None);
        }
        static COPIES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("buildprof-merge-{}-{n}.db", std::process::id()));
        let copy = Upgraded { path };
        let io = |e: std::io::Error| StoreError::Refused {
            path: name.clone(),
            message: format!("could not be copied to upgrade it: {e}"),
        };
        std::fs::copy(input, &copy.path).map_err(io)?;
        let wal = PathBuf::from(format!("{}-wal", input.display()));
        if wal.is_file() {
            std::fs::copy(&wal, format!("{}-wal", copy.path.display())).map_err(io)?;
        }
        drop(Store::open(&copy.path).map_err(|e| e.renamed(&copy.path, input))?);
        Ok(Some(copy))
    }
}

impl Drop for Upgraded {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

/// Checks one job database; returns the URI to attach it by.
fn prepare(input: &Path, team: &str) -> Result<String, StoreError> {
    let name = input.display().to_string();
    let uri = read_only_uri(input);
    check_job_database(input, &uri, &name)?;
    if same_file(Path::new(team), input) {
        return Err(StoreError::Refused {
            path: name,
            message: "is the database being merged into".into(),
        });
    }
    Ok(uri)
}

/// One job's copy inside a savepoint: released when it worked, rolled back when it did not.
fn copy_in_savepoint(
    conn: &Connection,
    alias: &str,
    columns: &[(String, String)],
    extra_labels: &[(String, String)],
) -> rusqlite::Result<MergeStats> {
    conn.execute_batch("SAVEPOINT merge_job")?;
    match copy_new_builds(conn, alias, columns, extra_labels) {
        Ok(stats) => {
            conn.execute_batch("RELEASE merge_job")?;
            Ok(stats)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO merge_job; RELEASE merge_job")?;
            Err(e)
        }
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
    untrusted::harden_reader(&conn).map_err(|e| sql(name, e))?;
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
    untrusted::check_schema(&conn, name)?;
    untrusted::check_contents(&conn, name)
}

/// `columns`: the target and source column lists of builds, then of each of [`CHILD_TABLES`].
fn copy_new_builds(
    tx: &Connection,
    alias: &str,
    columns: &[(String, String)],
    extra_labels: &[(String, String)],
) -> rusqlite::Result<MergeStats> {
    let mut stats = MergeStats::default();
    tx.execute_batch(&format!(
        "DROP TABLE IF EXISTS temp.merge_new;
         CREATE TEMP TABLE merge_new (id TEXT PRIMARY KEY) WITHOUT ROWID;
         INSERT INTO temp.merge_new SELECT id FROM {alias}.builds WHERE id NOT IN (SELECT id FROM main.builds);"
    ))?;
    stats.builds_seen = tx.query_row(&format!("SELECT count(*) FROM {alias}.builds"), [], |r| {
        r.get::<_, i64>(0)
    })? as u64;
    let (target, source) = &columns[0];
    stats.builds_added = tx.execute(
        &format!(
            "INSERT INTO main.builds ({target}) SELECT {source} FROM {alias}.builds j
             WHERE j.id IN (SELECT id FROM temp.merge_new)"
        ),
        [],
    )? as u64;
    for (table, (target, source)) in CHILD_TABLES.iter().zip(&columns[1..]) {
        tx.execute(
            &format!(
                "INSERT INTO main.{table} ({target}) SELECT {source} FROM {alias}.{table} j
                 WHERE j.build_id IN (SELECT id FROM temp.merge_new)"
            ),
            [],
        )?;
    }
    // `steps` is a view: an insert into it reports no changes (its trigger makes them), so the
    // steps copied are counted.
    stats.steps_added = tx.query_row(
        &format!("SELECT count(*) FROM {alias}.steps j WHERE j.build_id IN (SELECT id FROM temp.merge_new)"),
        [],
        |r| r.get::<_, i64>(0),
    )? as u64;
    for table in schema::SHARED_TABLES {
        // Content-addressed rows: the same key always holds the same value.
        tx.execute(
            &format!("INSERT OR IGNORE INTO main.{table} SELECT * FROM {alias}.{table}"),
            [],
        )?;
    }
    stats.builds_present = stats.builds_seen - stats.builds_added;
    // Builds both databases hold: add what the team database lacks, keep what it has.
    stats.label_conflicts = tx.query_row(
        &format!("SELECT count(*) FROM {alias}.labels j JOIN main.labels m ON m.build_id = j.build_id AND m.key = j.key
         WHERE m.value <> j.value AND j.build_id NOT IN (SELECT id FROM temp.merge_new)"),
        [],
        |r| r.get::<_, i64>(0),
    )? as u64;
    stats.labels_added = label_rows_added(tx, &format!("INSERT OR IGNORE INTO main.labels (build_id, key, value)
         SELECT build_id, key, value FROM {alias}.labels
         WHERE build_id IN (SELECT id FROM main.builds) AND build_id NOT IN (SELECT id FROM temp.merge_new)"),
        &[],
    )?;
    tx.execute(
        &format!("INSERT OR IGNORE INTO main.sources (build_id, path, format, bytes, ingested_at)
         SELECT build_id, path, format, bytes, ingested_at FROM {alias}.sources
         WHERE build_id IN (SELECT id FROM main.builds) AND build_id NOT IN (SELECT id FROM temp.merge_new)"),
        [],
    )?;
    for (key, value) in extra_labels {
        stats.extra_labels_set += label_rows_added(
            tx,
            &format!(
                "INSERT OR IGNORE INTO main.labels (build_id, key, value)
                 SELECT id, ?1, ?2 FROM {alias}.builds"
            ),
            &[key, value],
        )?;
    }
    tx.execute_batch("DROP TABLE temp.merge_new")?;
    Ok(stats)
}

/// Runs `sql`, an insert into the `labels` view, and returns the labels it stored: the
/// changes its trigger made (an insert into a view itself reports none; the trigger makes one
/// change per label stored, and none for one ignored).
fn label_rows_added(tx: &Connection, sql: &str, params: &[&String]) -> rusqlite::Result<u64> {
    let total =
        |tx: &Connection| tx.query_row("SELECT total_changes()", [], |r| r.get::<_, i64>(0));
    let before = total(tx)?;
    tx.execute(sql, rusqlite::params_from_iter(params))?;
    Ok((total(tx)? - before) as u64)
}

/// The team database's columns of `table`, quoted, in order, and the same names qualified by
/// the source alias `j`. Copying by name keeps working if a later schema version appends
/// columns, and the qualification makes a column missing from a job database an error (SQLite
/// reads an unknown bare double-quoted name as a string literal).
fn column_lists(conn: &Connection, table: &str) -> rusqlite::Result<(String, String)> {
    let mut stmt = conn.prepare(&format!("PRAGMA main.table_info({table})"))?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let quoted: Vec<String> = names
        .iter()
        .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
        .collect();
    let qualified: Vec<String> = quoted.iter().map(|q| format!("j.{q}")).collect();
    Ok((quoted.join(", "), qualified.join(", ")))
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

/// The job databases `inputs` name: files as given, folders as the `*.db` files under them
/// (sorted; the team database `into` itself is skipped).
pub fn expand_inputs(inputs: &[PathBuf], into: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found = Vec::new();
            collect_databases(input, &mut found).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("cannot read folder {}: {e}", input.display()),
                )
            })?;
            found.sort();
            let target = into.canonicalize().ok();
            out.extend(
                found
                    .into_iter()
                    .filter(|f| target.is_none() || f.canonicalize().ok() != target),
            );
        } else {
            out.push(input.clone());
        }
    }
    Ok(out)
}

fn collect_databases(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_databases(&path, out)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "db") {
            out.push(path);
        }
    }
    Ok(())
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
