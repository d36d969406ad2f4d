//! Job databases are untrusted input (`merge` reads artifacts of CI jobs anyone can trigger):
//! the defensive SQLite settings they are opened with, the check of their schema against
//! buildprof's own, and the bounds on what one of them may bring.
//!
//! A job database must hold exactly the objects buildprof creates (same type, same name, same
//! SQL), and at most SQLite's own statistics tables (`ANALYZE`): a view or trigger where a table belongs, an extra object of any kind, or a table with
//! other columns is refused with the path and the object's name. Every value must have the
//! storage class its column declares (text in TEXT columns, integers in INTEGER columns; no
//! blobs anywhere) and text at most [`MAX_TEXT_BYTES`]; each table at most [`MAX_ROWS`] rows.

use std::collections::BTreeMap;

use rusqlite::config::DbConfig;
use rusqlite::Connection;

use super::{schema, StoreError};

/// Rows one job database may hold in any one table.
pub const MAX_ROWS: i64 = 10_000_000;
/// Bytes of one text value (a step's log tail is 4 KiB by default, an error message or the
/// interval list of a step far less).
pub const MAX_TEXT_BYTES: i64 = 1 << 20;

/// Turns on SQLite's defensive settings for a connection that reads untrusted databases:
/// `SQLITE_DBCONFIG_DEFENSIVE` (no writable schema, no shadow-table writes), `trusted_schema`
/// off (no functions with side effects run from a schema's views or triggers), triggers and
/// views disabled, extension loading off, and attached databases neither created nor written.
pub fn harden(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_ATTACH_CREATE, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_ATTACH_WRITE, false)?;
    // rusqlite is built without `load_extension`; the C API switch is off by default and stays
    // off (`sqlite3_enable_load_extension` is never called).
    conn.execute_batch("PRAGMA trusted_schema = OFF")
}

/// [`harden`], and no triggers or views at all: for a connection that only reads a job
/// database's tables.
pub fn harden_reader(conn: &Connection) -> rusqlite::Result<()> {
    harden(conn)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    Ok(())
}

/// One schema object: its type and SQL (`None` for SQLite's automatic indexes).
type Objects = BTreeMap<String, (String, Option<String>)>;

fn objects(conn: &Connection, schema_name: &str) -> rusqlite::Result<Objects> {
    let mut stmt = conn.prepare(&format!(
        "SELECT name, type, sql FROM {schema_name}.sqlite_master"
    ))?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
    rows.collect()
}

/// The objects of buildprof's current schema, from a fresh in-memory database (made once per
/// process).
fn expected() -> rusqlite::Result<&'static Objects> {
    static EXPECTED: std::sync::OnceLock<Objects> = std::sync::OnceLock::new();
    if let Some(objects) = EXPECTED.get() {
        return Ok(objects);
    }
    let conn = Connection::open_in_memory()?;
    for m in schema::MIGRATIONS {
        conn.execute_batch(m)?;
    }
    let made = objects(&conn, "main")?;
    Ok(EXPECTED.get_or_init(|| made))
}

/// SQLite's own tables that `ANALYZE` creates (`buildprof synth` runs it), with the SQL SQLite
/// gives them: statistics for the query planner, never copied.
const SQLITE_STATISTICS: &[(&str, &str)] = &[
    ("sqlite_stat1", "CREATE TABLE sqlite_stat1(tbl,idx,stat)"),
    (
        "sqlite_stat4",
        "CREATE TABLE sqlite_stat4(tbl,idx,neq,nlt,ndlt,sample)",
    ),
];

fn is_sqlite_statistics(object: &str, kind: &str, sql: Option<&str>) -> bool {
    kind == "table" && SQLITE_STATISTICS.contains(&(object, sql.unwrap_or_default()))
}

/// Refuses a job database (open on `conn` as `main`) whose schema is not buildprof's.
pub fn check_schema(conn: &Connection, name: &str) -> Result<(), StoreError> {
    let sqlite = |e| super::sql(name, e);
    let refused = |message: String| StoreError::Refused {
        path: name.to_string(),
        message,
    };
    let want = expected().map_err(sqlite)?;
    let have = objects(conn, "main").map_err(sqlite)?;
    for (object, (kind, sql)) in &have {
        if is_sqlite_statistics(object, kind, sql.as_deref()) {
            continue;
        }
        match want.get(object) {
            None => {
                return Err(refused(format!(
                    "has {kind} {object:?}, which is not part of buildprof's schema; refused"
                )))
            }
            Some((want_kind, _)) if want_kind != kind => {
                return Err(refused(format!(
                    "has a {kind} named {object:?} where buildprof has a {want_kind}; refused"
                )))
            }
            Some((_, want_sql)) if want_sql != sql => {
                return Err(refused(format!(
                    "has {kind} {object:?} defined differently from buildprof's (other columns, types or constraints); refused"
                )))
            }
            Some(_) => {}
        }
    }
    if let Some((object, (kind, _))) = want.iter().find(|(o, _)| !have.contains_key(*o)) {
        return Err(refused(format!(
            "lacks buildprof's {kind} {object:?}; refused"
        )));
    }
    Ok(())
}

/// Refuses a job database whose tables hold more than [`MAX_ROWS`] rows, a value of another
/// storage class than its column declares, or text longer than [`MAX_TEXT_BYTES`].
pub fn check_contents(conn: &Connection, name: &str) -> Result<(), StoreError> {
    let sqlite = |e| super::sql(name, e);
    let stored = schema::TABLES
        .iter()
        .chain(schema::ROW_TABLES)
        .filter(|t| !schema::is_view(t));
    for table in stored {
        let columns = declared_columns(conn, table).map_err(sqlite)?;
        // One scan per table: its row count and the first column holding a bad value.
        let cases: String = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!(" WHEN {} THEN {i}", breaks(c)))
            .collect();
        let (rows, bad): (i64, Option<i64>) = conn
            .query_row(
                &format!("SELECT count(*), min(CASE{cases} END) FROM main.\"{table}\""),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sqlite)?;
        if rows > MAX_ROWS {
            return Err(StoreError::Refused {
                path: name.to_string(),
                message: format!(
                    "has {rows} rows in table {table}, more than the {MAX_ROWS} one job database may bring"
                ),
            });
        }
        if let Some(c) = bad.and_then(|i| columns.get(i as usize)) {
            return Err(StoreError::Refused {
                path: name.to_string(),
                message: describe_bad_value(conn, table, c).map_err(sqlite)?,
            });
        }
    }
    Ok(())
}

/// A column's name, declared type and whether it is NOT NULL.
struct Column {
    name: String,
    kind: String,
    not_null: bool,
}

fn declared_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<Column>> {
    let mut stmt = conn.prepare(&format!("PRAGMA main.table_info(\"{table}\")"))?;
    let rows = stmt.query_map([], |r| {
        Ok(Column {
            name: r.get(1)?,
            kind: r.get::<_, String>(2)?.to_ascii_uppercase(),
            // A primary-key column of a WITHOUT ROWID table is NOT NULL too.
            not_null: r.get::<_, i64>(3)? != 0 || r.get::<_, i64>(5)? != 0,
        })
    })?;
    rows.collect()
}

/// The condition a value of column `c` breaks: another storage class, or too long.
fn breaks(c: &Column) -> String {
    let q = format!("\"{}\"", c.name.replace('"', "\"\""));
    let class = if c.kind == "INTEGER" {
        "integer"
    } else {
        "text"
    };
    let null = if c.not_null { "" } else { ", 'null'" };
    format!("typeof({q}) NOT IN ('{class}'{null}) OR octet_length({q}) > {MAX_TEXT_BYTES}")
}

/// What is wrong with the first bad value of column `c` of `table`.
fn describe_bad_value(conn: &Connection, table: &str, c: &Column) -> rusqlite::Result<String> {
    let q = format!("\"{}\"", c.name.replace('"', "\"\""));
    let (class, bytes): (String, i64) = conn.query_row(
        &format!(
            "SELECT typeof({q}), coalesce(octet_length({q}), 0) FROM main.\"{table}\" WHERE {} LIMIT 1",
            breaks(c)
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let want = if c.kind == "INTEGER" {
        "integers"
    } else {
        "text"
    };
    Ok(if class == "text" && bytes > MAX_TEXT_BYTES {
        format!(
            "has a value of {bytes} bytes in {table}.{}, more than the {MAX_TEXT_BYTES} allowed; refused",
            c.name
        )
    } else {
        format!(
            "has a {class} value ({bytes} bytes) in {table}.{}, which holds {want}; refused",
            c.name
        )
    })
}
