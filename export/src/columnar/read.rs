//! Reading one stored table in chunks of rows into polars frames, with the export's column types.

use collector::store::BuildFilter;
use polars::prelude::*;
use rusqlite::types::ValueRef;
use rusqlite::{params_from_iter, Connection};

use super::ColumnarError;

/// The tables `export` can write, in the order `--table all` writes them.
pub use collector::store::schema::TABLES;
use collector::store::schema::VIEW_KEYS;

/// The type a column has in the exported files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    /// 64-bit signed integer.
    Integer,
    Boolean,
    /// UTC timestamp with nanosecond precision (stored as Unix nanoseconds).
    Timestamp,
}

impl ColumnKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Text => "string",
            ColumnKind::Integer => "int64",
            ColumnKind::Boolean => "boolean",
            ColumnKind::Timestamp => "timestamp[ns, UTC]",
        }
    }
}

/// One exported column: its name, type, and the SQL expression that reads it.
#[derive(Debug, Clone)]
pub struct ExportColumn {
    pub name: String,
    pub kind: ColumnKind,
    sql: String,
}

/// The columns exported for `table`, taken from the database's own schema (so a column added by
/// a later schema version is exported too).
pub fn table_columns(conn: &Connection, table: &str) -> Result<Vec<ExportColumn>, ColumnarError> {
    if !TABLES.contains(&table) {
        return Err(ColumnarError::UnknownTable(table.to_string()));
    }
    let e = |source| ColumnarError::Sqlite {
        table: table.to_string(),
        source,
    };
    let mut stmt = conn
        .prepare(&format!("PRAGMA main.table_info({table})"))
        .map_err(e)?;
    let mut columns = stmt
        .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
        .map_err(e)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(e)?
        .into_iter()
        .map(|(name, decl)| {
            let kind = if name.ends_with("_at") {
                ColumnKind::Timestamp
            } else if name == "lazy_miss" {
                ColumnKind::Boolean
            } else if decl.eq_ignore_ascii_case("INTEGER") {
                ColumnKind::Integer
            } else {
                ColumnKind::Text
            };
            let sql = format!("t.\"{}\"", name.replace('"', "\"\""));
            ExportColumn { name, kind, sql }
        })
        .collect::<Vec<_>>();
    if table == "builds" {
        columns.push(ExportColumn {
            name: "labels".into(),
            kind: ColumnKind::Text,
            sql: "(SELECT json_group_object(l.key, l.value) FROM labels l WHERE l.build_id = t.id)"
                .into(),
        });
    }
    Ok(columns)
}

/// How timestamp columns are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Times {
    /// Typed `Datetime(ns, UTC)` (Parquet keeps the type and the time zone).
    Typed,
    /// RFC 3339 text in UTC with nanoseconds, `2026-11-22T03:23:09.648519000Z` (CSV and JSON
    /// have no timestamp type, and polars would print them without their zone).
    Rfc3339,
}

/// Reads the rows of `table` that belong to builds matching `filter`, `chunk_rows` at a time,
/// and hands each chunk to `sink` as a frame. Returns the number of rows read.
pub(crate) fn read_chunks(
    conn: &Connection,
    table: &str,
    columns: &[ExportColumn],
    filter: &BuildFilter,
    times: Times,
    chunk_rows: usize,
    sink: &mut dyn FnMut(DataFrame) -> Result<(), ColumnarError>,
) -> Result<u64, ColumnarError> {
    let e = |source| ColumnarError::Sqlite {
        table: table.to_string(),
        source,
    };
    let select: Vec<&str> = columns.iter().map(|c| c.sql.as_str()).collect();
    let (scope, args, order) = if table == "builds" {
        let (condition, args) = filter.sql_condition("t");
        let order = "t.started_at IS NULL, t.started_at, t.id".to_string();
        (condition, args, order)
    } else {
        let (condition, args) = filter.sql_condition("b");
        let scope = format!("t.build_id IN (SELECT b.id FROM builds b WHERE {condition})");
        (scope, args, primary_key(conn, table).map_err(e)?)
    };
    let text = format!(
        "SELECT {} FROM {table} t WHERE {scope} ORDER BY {order}",
        select.join(", ")
    );
    let mut stmt = conn.prepare(&text).map_err(e)?;
    let mut rows = stmt.query(params_from_iter(args)).map_err(e)?;
    let mut chunk = Chunk::new(columns, chunk_rows);
    let mut total = 0u64;
    while let Some(row) = rows.next().map_err(e)? {
        chunk
            .push(row, total)
            .map_err(|source| ColumnarError::Sqlite {
                table: table.to_string(),
                source,
            })?;
        total += 1;
        if chunk.len == chunk_rows {
            sink(chunk.take(columns, table, times)?)?;
        }
    }
    if chunk.len > 0 || total == 0 {
        sink(chunk.take(columns, table, times)?)?;
    }
    Ok(total)
}

/// `ORDER BY` text for the table's primary key (for a view, that of the table it replaced).
fn primary_key(conn: &Connection, table: &str) -> rusqlite::Result<String> {
    let names: Vec<String> = match VIEW_KEYS.iter().find(|(view, _)| *view == table) {
        Some((_, keys)) => keys.iter().map(|k| k.to_string()).collect(),
        None => {
            let mut stmt = conn.prepare(&format!("PRAGMA main.table_info({table})"))?;
            let mut keys = stmt
                .query_map([], |r| Ok((r.get::<_, i64>(5)?, r.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            keys.retain(|(pk, _)| *pk > 0);
            keys.sort();
            keys.into_iter().map(|(_, name)| name).collect()
        }
    };
    Ok(names
        .iter()
        .map(|name| format!("t.\"{}\"", name.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(", "))
}

/// Column values gathered for one chunk.
enum Values {
    Text(Vec<Option<String>>),
    Integer(Vec<Option<i64>>),
    Boolean(Vec<Option<bool>>),
}

struct Chunk {
    values: Vec<Values>,
    len: usize,
}

impl Chunk {
    fn new(columns: &[ExportColumn], capacity: usize) -> Chunk {
        let values = columns
            .iter()
            .map(|c| match c.kind {
                ColumnKind::Text => Values::Text(Vec::with_capacity(capacity)),
                ColumnKind::Integer | ColumnKind::Timestamp => {
                    Values::Integer(Vec::with_capacity(capacity))
                }
                ColumnKind::Boolean => Values::Boolean(Vec::with_capacity(capacity)),
            })
            .collect();
        Chunk { values, len: 0 }
    }

    fn push(&mut self, row: &rusqlite::Row<'_>, row_no: u64) -> rusqlite::Result<()> {
        for (i, values) in self.values.iter_mut().enumerate() {
            let v = row.get_ref(i)?;
            match values {
                Values::Text(out) => out.push(match v {
                    ValueRef::Null => None,
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Some(String::from_utf8_lossy(t).into_owned())
                    }
                    ValueRef::Integer(n) => Some(n.to_string()),
                    ValueRef::Real(f) => Some(f.to_string()),
                }),
                Values::Integer(out) => out.push(integer(v, i, row_no)?),
                Values::Boolean(out) => out.push(integer(v, i, row_no)?.map(|n| n != 0)),
            }
        }
        self.len += 1;
        Ok(())
    }

    /// The chunk as a frame with the export's types; the chunk is left empty.
    fn take(
        &mut self,
        columns: &[ExportColumn],
        table: &str,
        times: Times,
    ) -> Result<DataFrame, ColumnarError> {
        let e = |source| ColumnarError::Polars {
            table: table.to_string(),
            source,
        };
        let mut out = Vec::with_capacity(columns.len());
        for (c, values) in columns.iter().zip(self.values.iter_mut()) {
            let name: PlSmallStr = c.name.as_str().into();
            let column = match values {
                Values::Text(v) => Column::new(name, std::mem::take(v)),
                Values::Boolean(v) => Column::new(name, std::mem::take(v)),
                Values::Integer(v)
                    if c.kind == ColumnKind::Timestamp && times == Times::Rfc3339 =>
                {
                    let text: Vec<Option<String>> = std::mem::take(v)
                        .into_iter()
                        .map(|ns| ns.map(collector::time::format_rfc3339_nanos))
                        .collect();
                    Column::new(name, text)
                }
                Values::Integer(v) if c.kind == ColumnKind::Timestamp => {
                    Int64Chunked::from_iter_options(name, std::mem::take(v).into_iter())
                        .into_datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC))
                        .into_column()
                }
                Values::Integer(v) => Column::new(name, std::mem::take(v)),
            };
            out.push(column);
        }
        let height = self.len;
        self.len = 0;
        DataFrame::new(height, out).map_err(e)
    }
}

/// An integer cell; text or real values in an integer column are refused, not guessed.
fn integer(v: ValueRef<'_>, column: usize, row_no: u64) -> rusqlite::Result<Option<i64>> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(n) => Ok(Some(n)),
        other => Err(rusqlite::Error::InvalidColumnType(
            column,
            format!("row {row_no}"),
            other.data_type(),
        )),
    }
}
