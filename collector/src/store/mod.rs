//! `Store`: the SQLite database of builds (WAL, foreign keys, versioned schema).
//!
//! One transaction per build (or per batch of a few builds of one input, each build still
//! all-or-nothing); a build whose fingerprint is already stored is not written again.
//! Concurrent writers (parallel CI jobs on one file) wait on each other with a busy timeout.

mod filter;
pub mod inputs;
mod keys;
mod merge;
mod read;
mod recent;
pub mod schema;
pub mod untrusted;
mod write;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::Connection;

pub use filter::{BuildFilter, FilterError};
pub use keys::keys_of;
pub use merge::{expand_inputs, MergeStats};
pub use read::BuildRow;
pub use recent::recent_with_label;
pub use write::{Inserted, SourceInfo, Stored, BATCH_STEPS};

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {path} has schema version {found}, newer than this buildprof supports ({supported}); upgrade buildprof to read it")]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("no build matches {0:?} (see `buildprof builds`)")]
    NotFound(String),
    #[error("{prefix:?} matches {count} builds; give more characters of the id")]
    Ambiguous { prefix: String, count: usize },
    #[error("database {path} {message}")]
    Refused { path: String, message: String },
    #[error("database {path} holds corrupt data: {message}")]
    Corrupt { path: String, message: String },
}

impl StoreError {
    /// The same error naming `to` where it named `from` (an error about a temporary copy,
    /// said of the file the user gave).
    pub fn renamed(self, from: &Path, to: &Path) -> StoreError {
        let (from, to) = (from.display().to_string(), to.display().to_string());
        let fix = |p: String| if p == from { to.clone() } else { p };
        match self {
            StoreError::Sqlite { path, source } => StoreError::Sqlite {
                path: fix(path),
                source,
            },
            StoreError::TooNew {
                path,
                found,
                supported,
            } => StoreError::TooNew {
                path: fix(path),
                found,
                supported,
            },
            StoreError::Refused { path, message } => StoreError::Refused {
                path: fix(path),
                message: message.replace(&from, &to),
            },
            StoreError::Corrupt { path, message } => StoreError::Corrupt {
                path: fix(path),
                message,
            },
            other => other,
        }
    }
}

/// Prepared statements kept per connection. rusqlite keeps 16 by default; `why` over the
/// builds of a report uses about 20 distinct ones per build, and re-parsing them was a tenth of
/// its time.
const STATEMENT_CACHE: usize = 64;

/// An open buildprof database.
pub struct Store {
    conn: Connection,
    path: String,
}

impl Store {
    /// Opens (creating if missing) the database at `path` and brings its schema up to date.
    ///
    /// Processes that open the same new database at once (parallel CI jobs) can meet where
    /// SQLite answers "database is locked" at once instead of waiting (two connections that
    /// both read and both need the write lock, to switch the file to WAL or to create the
    /// schema): the open is then tried again, with backoff, for up to [`OPEN_PATIENCE`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let p: PathBuf = path.as_ref().to_path_buf();
        let name = p.display().to_string();
        retry_while_busy(OPEN_PATIENCE, || {
            let conn = Connection::open(&p).map_err(|e| sql(&name, e))?;
            Store::init(conn, name.clone())
        })
    }

    /// Opens (creating if missing) a database that a command writes into as its output (`merge
    /// --into`): like [`Store::open`], but a link, folder or special file at `path` is refused
    /// rather than followed (SQLite's `SQLITE_OPEN_NOFOLLOW` too, so a link planted after the
    /// check is not followed either), and so is a file with other hard links. A team database
    /// is updated in place (transactions keep it whole), so it must be the file itself.
    pub fn open_output(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let p: PathBuf = path.as_ref().to_path_buf();
        let name = p.display().to_string();
        refuse_links(&p, &name)?;
        let flags = rusqlite::OpenFlags::default() | rusqlite::OpenFlags::SQLITE_OPEN_NOFOLLOW;
        retry_while_busy(OPEN_PATIENCE, || {
            let conn = Connection::open_with_flags(&p, flags).map_err(|e| sql(&name, e))?;
            Store::init(conn, name.clone())
        })
    }

    /// A read-only second handle on a database that is already up to date (opened with
    /// [`Store::open`] elsewhere): for reading it from another thread. Refuses a database of
    /// another schema version rather than migrating it.
    pub fn open_reader(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let p: PathBuf = path.as_ref().to_path_buf();
        let name = p.display().to_string();
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&p, flags).map_err(|e| sql(&name, e))?;
        conn.busy_timeout(OPEN_PATIENCE)
            .map_err(|e| sql(&name, e))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| sql(&name, e))?;
        if version != schema::LATEST {
            return Err(StoreError::Refused {
                path: name,
                message: format!(
                    "has schema version {version}; a reader needs version {}",
                    schema::LATEST
                ),
            });
        }
        Ok(Store { conn, path: name })
    }

    /// A private in-memory database (tests, the demo).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| sql(":memory:", e))?;
        Store::init(conn, ":memory:".into())
    }

    fn init(conn: Connection, path: String) -> Result<Store, StoreError> {
        conn.busy_timeout(OPEN_PATIENCE)
            .map_err(|e| sql(&path, e))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // WAL lets readers work while a CI job writes; NORMAL sync is safe with WAL.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| sql(&path, e))?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(|e| sql(&path, e))?;
        let mut store = Store { conn, path };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| sql(&path, e))?;
        if version > schema::LATEST {
            return Err(StoreError::TooNew {
                path,
                found: version,
                supported: schema::LATEST,
            });
        }
        if version == schema::LATEST {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql(&path, e))?;
        // Another process may have migrated while we waited for the lock.
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| sql(&path, e))?;
        if (1..schema::LATEST).contains(&version) {
            // The one thing the store says on its own: a migration of a big database takes a
            // while, and the user should know why this command is slow once.
            eprintln!(
                "buildprof: upgrading {path} from schema version {version} to {} (once; a large database takes a while)",
                schema::LATEST
            );
        }
        for (i, m) in schema::MIGRATIONS
            .iter()
            .enumerate()
            .skip(version.max(0) as usize)
        {
            tx.execute_batch(m).map_err(|e| sql(&path, e))?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .map_err(|e| sql(&path, e))?;
        }
        tx.commit().map_err(|e| sql(&path, e))
    }

    /// The underlying connection, for the analyzer's bulk reads.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| sql(&self.path, e))
    }
}

/// Refuses a symbolic link, folder, special file or hard-linked file at `path`.
fn refuse_links(path: &Path, name: &str) -> Result<(), StoreError> {
    let refused = |message: &str| StoreError::Refused {
        path: name.to_string(),
        message: message.to_string(),
    };
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if m.file_type().is_symlink() {
        return Err(refused(
            "is a symbolic link; give the database file itself (a link is never written through)",
        ));
    }
    if m.is_dir() {
        return Err(refused("is a folder, not a database file"));
    }
    if !m.is_file() {
        return Err(refused("is a special file, not a database file"));
    }
    #[cfg(unix)]
    if std::os::unix::fs::MetadataExt::nlink(&m) > 1 {
        return Err(refused(
            "has other hard links; give a database file of its own (a link is never written through)",
        ));
    }
    Ok(())
}

/// How long [`Store::open`] keeps trying when the database is locked; the busy timeout of the
/// connection is the same.
pub const OPEN_PATIENCE: Duration = Duration::from_secs(60);

/// Runs `attempt` until it does not fail with "database is locked", pausing between tries (5 ms
/// doubling to 500 ms), for up to `patience`; then returns what the last try gave.
fn retry_while_busy<T>(
    patience: Duration,
    mut attempt: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match attempt() {
            Err(StoreError::Sqlite { source, .. })
                if is_busy(&source) && started.elapsed() < patience =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            other => return other,
        }
    }
}

/// SQLite's "database is locked" (`SQLITE_BUSY`) or "database table is locked".
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

pub(crate) fn sql(path: &str, e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.to_string(),
        source: e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy() -> StoreError {
        let code = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY);
        sql("x.db", rusqlite::Error::SqliteFailure(code, None))
    }

    #[test]
    fn a_reader_reads_an_up_to_date_database_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        Store::open(&path).unwrap();
        let reader = Store::open_reader(&path).unwrap();
        assert_eq!(reader.schema_version().unwrap(), schema::LATEST);
        assert!(reader
            .list_builds(&BuildFilter::default())
            .unwrap()
            .is_empty());
        let write = reader.connection().execute("DELETE FROM builds", []);
        assert!(write.is_err(), "a reader must not write");
        // An older database is refused, not migrated.
        Store::open(&path)
            .unwrap()
            .connection()
            .execute_batch("PRAGMA user_version = 2")
            .unwrap();
        let err = Store::open_reader(&path).err().unwrap().to_string();
        assert!(err.contains("schema version 2"), "{err}");
        assert!(Store::open_reader(dir.path().join("missing.db")).is_err());
    }

    #[test]
    fn a_locked_open_is_tried_again() {
        let mut tries = 0;
        let got = retry_while_busy(Duration::from_secs(5), || {
            tries += 1;
            if tries < 3 {
                Err(busy())
            } else {
                Ok(tries)
            }
        });
        assert_eq!(got.unwrap(), 3);
    }

    #[test]
    fn other_errors_and_endless_locks_are_returned() {
        let mut tries = 0;
        let got: Result<(), _> = retry_while_busy(Duration::from_secs(5), || {
            tries += 1;
            Err(StoreError::Refused {
                path: "x.db".into(),
                message: "is not a buildprof database".into(),
            })
        });
        assert!(matches!(got, Err(StoreError::Refused { .. })));
        assert_eq!(tries, 1);
        let got: Result<(), _> = retry_while_busy(Duration::from_millis(50), || Err(busy()));
        assert!(got.unwrap_err().to_string().contains("locked"));
    }
}
