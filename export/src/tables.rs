//! `buildprof export --format parquet|csv|jsonl`: which tables, written where. One table goes to
//! a file (or stdout, for csv and jsonl); several go to a folder, a file per table. Every file
//! is written through a new temporary file beside it and renamed into place, so a failed export
//! never leaves a truncated file under the final name and a link at the name is replaced, not
//! followed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use collector::store::{BuildFilter, Store};

use crate::columnar::{export_table, ColumnarError, ColumnarFormat, TABLES};

/// Why tables could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    #[error("unknown table {0:?}: use {tables}, or all", tables = TABLES.join(", "))]
    UnknownTable(String),
    #[error("--out - writes one csv or jsonl table to stdout; give a file or folder")]
    NotForStdout,
    #[error("cannot create folder {path}: {source}")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot export {table} to {path}: {source}")]
    Table {
        table: String,
        path: String,
        #[source]
        source: Box<ColumnarError>,
    },
    #[error("writing to stdout: {0}")]
    Stdout(#[source] std::io::Error),
}

/// The tables named by `--table` values (`all` for every table), in the order given.
pub fn table_list(names: &[String]) -> Result<Vec<&'static str>, TablesError> {
    let mut out: Vec<&'static str> = Vec::new();
    for n in names {
        let n = n.trim();
        if n == "all" {
            out.extend(TABLES.iter().copied());
            continue;
        }
        match TABLES.iter().find(|t| **t == n) {
            Some(t) => out.push(t),
            None => return Err(TablesError::UnknownTable(n.to_string())),
        }
    }
    out.dedup();
    Ok(out)
}

/// One table written: its name, where, and how many rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenTable {
    pub table: &'static str,
    pub path: PathBuf,
    pub rows: u64,
}

impl WrittenTable {
    /// What `buildprof export` says of a table it wrote.
    pub fn line(&self) -> String {
        let (rows, table, path) = (self.rows, self.table, self.path.display());
        format!("wrote {rows} rows of {table} to {path}")
    }
}

/// Writes `tables` of the builds `filter` selects to `out` (a file for one table, a folder for
/// several or when `out` is a folder, `-` for stdout). `progress` is called with the table being
/// written and the rows written so far.
pub fn export_tables(
    store: &Store,
    filter: &BuildFilter,
    tables: &[&'static str],
    format: ColumnarFormat,
    out: &Path,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<Vec<WrittenTable>, TablesError> {
    let conn = store.connection();
    if out.as_os_str() == "-" {
        let [table] = tables else {
            return Err(TablesError::NotForStdout);
        };
        if format == ColumnarFormat::Parquet {
            return Err(TablesError::NotForStdout);
        }
        let mut stdout = BufWriter::new(std::io::stdout().lock());
        let stats = export_table(conn, table, filter, format, &mut stdout, &mut |_| {}).map_err(
            |source| TablesError::Table {
                table: table.to_string(),
                path: "-".into(),
                source: Box::new(source),
            },
        )?;
        stdout.flush().map_err(TablesError::Stdout)?;
        return Ok(vec![WrittenTable {
            table,
            path: out.to_path_buf(),
            rows: stats.rows,
        }]);
    }
    let targets: Vec<(&'static str, PathBuf)> = if tables.len() == 1 && !is_folder(out) {
        vec![(tables[0], out.to_path_buf())]
    } else {
        std::fs::create_dir_all(out).map_err(|source| TablesError::Folder {
            path: out.display().to_string(),
            source,
        })?;
        tables
            .iter()
            .map(|t| (*t, out.join(format!("{t}.{}", format.extension()))))
            .collect()
    };
    let mut written = Vec::new();
    for (table, path) in targets {
        progress(table, 0);
        let rows = write_atomically(&path, |w| {
            export_table(conn, table, filter, format, w, &mut |n| progress(table, n))
                .map(|s| s.rows)
        })
        .map_err(|source| TablesError::Table {
            table: table.to_string(),
            path: path.display().to_string(),
            source: Box::new(source),
        })?;
        written.push(WrittenTable { table, path, rows });
    }
    Ok(written)
}

/// Whether `out` names a folder to write into: a real folder, or any path written with a
/// trailing `/`. A link at the name of a one-table export is a file name to replace, not a
/// folder to follow (a checkout can plant `builds.csv -> /somewhere`).
fn is_folder(out: &Path) -> bool {
    let slash = out.as_os_str().as_encoded_bytes().ends_with(b"/");
    slash || std::fs::symlink_metadata(out).is_ok_and(|m| m.is_dir())
}

/// Writes through a new temporary file beside `path` renamed over it
/// ([`collector::outfile`]): a link planted under the name is replaced, never followed.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<u64, ColumnarError>,
) -> Result<u64, ColumnarError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let io = |source| ColumnarError::Io {
        table: name.clone(),
        source,
    };
    collector::outfile::write_replacing(path, io, write)
}
