//! The SQLite schema and its migrations (`PRAGMA user_version` holds the version).
//!
//! Documented in `docs/schema.md`. Migrations only ever append: a database written by a newer
//! buildprof (a higher version than [`LATEST`]) is refused rather than misread.

/// Every table, parents first: the order `export --table all` writes them and `merge` copies
/// them in (each child table is keyed by `build_id`).
pub const TABLES: &[&str] = &[
    "builds",
    "steps",
    "labels",
    "step_inputs",
    "cache_operations",
    "cache_layers",
    "sources",
    "build_inputs",
    "build_args",
];

/// Tables shared by builds (not keyed by `build_id`): rows are added, never changed, and
/// `merge` copies the ones the team database lacks.
pub const SHARED_TABLES: &[&str] = &["context_nodes"];

/// Each entry migrates from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[V1, V2];

/// The schema version this build of buildprof writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

const V1: &str = r#"
CREATE TABLE builds (
    id                       TEXT PRIMARY KEY,
    source                   TEXT NOT NULL,
    format                   TEXT NOT NULL,
    reference                TEXT,
    builder                  TEXT,
    started_at               INTEGER,
    finished_at              INTEGER,
    duration_ns              INTEGER,
    status                   TEXT NOT NULL CHECK (status IN ('succeeded','failed','canceled','incomplete')),
    error                    TEXT,
    step_count               INTEGER NOT NULL,
    cached_count             INTEGER NOT NULL,
    pulled_count             INTEGER NOT NULL,
    executed_count           INTEGER NOT NULL,
    failed_count             INTEGER NOT NULL,
    canceled_count           INTEGER NOT NULL,
    lazy_miss_count          INTEGER NOT NULL,
    reported_total_steps     INTEGER,
    reported_cached_steps    INTEGER,
    reported_completed_steps INTEGER,
    warnings                 TEXT NOT NULL DEFAULT '[]',
    ingested_at              INTEGER NOT NULL
);
CREATE INDEX builds_started ON builds (started_at);
CREATE INDEX builds_status ON builds (status, started_at);

CREATE TABLE steps (
    build_id       TEXT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    digest         TEXT NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    instruction    TEXT NOT NULL,
    stage          TEXT,
    stage_index    INTEGER,
    stage_total    INTEGER,
    platform       TEXT,
    outcome        TEXT NOT NULL CHECK (outcome IN ('cached','pulled','executed','failed','canceled')),
    lazy_miss      INTEGER NOT NULL,
    started_at     INTEGER,
    finished_at    INTEGER,
    duration_ns    INTEGER NOT NULL,
    intervals      TEXT NOT NULL,
    pull_ns        INTEGER NOT NULL,
    pulled_bytes   INTEGER NOT NULL,
    pulled_layers  INTEGER NOT NULL,
    log_lines      INTEGER NOT NULL,
    log_bytes      INTEGER NOT NULL,
    log_tail       TEXT NOT NULL,
    error          TEXT,
    layers_written INTEGER NOT NULL,
    progress_group TEXT,
    warnings       INTEGER NOT NULL,
    PRIMARY KEY (build_id, seq)
) WITHOUT ROWID;
CREATE INDEX steps_identity ON steps (stage, instruction);
CREATE INDEX steps_digest ON steps (digest);
CREATE INDEX steps_outcome ON steps (outcome, kind);

CREATE TABLE step_inputs (
    build_id TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    pos      INTEGER NOT NULL,
    input    TEXT NOT NULL,
    PRIMARY KEY (build_id, seq, pos),
    FOREIGN KEY (build_id, seq) REFERENCES steps (build_id, seq) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE labels (
    build_id TEXT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (build_id, key)
) WITHOUT ROWID;
CREATE INDEX step_inputs_input ON step_inputs (input);
CREATE INDEX labels_key_value ON labels (key, value);

CREATE TABLE cache_operations (
    build_id    TEXT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    op          TEXT NOT NULL CHECK (op IN ('import','export','pull')),
    target      TEXT,
    layers      INTEGER NOT NULL,
    bytes       INTEGER,
    duration_ns INTEGER NOT NULL,
    error       TEXT,
    PRIMARY KEY (build_id, seq, op)
) WITHOUT ROWID;

CREATE TABLE cache_layers (
    build_id TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    op       TEXT NOT NULL CHECK (op IN ('pull','write')),
    digest   TEXT NOT NULL,
    bytes    INTEGER,
    PRIMARY KEY (build_id, seq, op, digest),
    FOREIGN KEY (build_id, seq) REFERENCES steps (build_id, seq) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX cache_layers_digest ON cache_layers (digest, op);

CREATE TABLE sources (
    build_id    TEXT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    format      TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    ingested_at INTEGER NOT NULL,
    PRIMARY KEY (build_id, path)
) WITHOUT ROWID;
"#;

/// Build inputs (issue 14): the Dockerfile and its stage graph, build args, and the context
/// manifest as a tree of directory nodes shared by builds.
const V2: &str = r#"
ALTER TABLE sources ADD COLUMN capture_wall_ns INTEGER;

CREATE TABLE build_inputs (
    build_id          TEXT PRIMARY KEY REFERENCES builds (id) ON DELETE CASCADE,
    context           TEXT,
    dockerfile_path   TEXT,
    dockerfile_hash   TEXT,
    dockerfile_text   TEXT,
    stage_graph       TEXT,
    context_root      TEXT,
    context_files     INTEGER,
    context_bytes     INTEGER,
    arg_values_stored INTEGER NOT NULL,
    base_images       TEXT NOT NULL DEFAULT '[]',
    notes             TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;

CREATE TABLE build_args (
    build_id   TEXT NOT NULL REFERENCES build_inputs (build_id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value_hash TEXT,
    value      TEXT,
    PRIMARY KEY (build_id, name)
) WITHOUT ROWID;

CREATE TABLE context_nodes (
    hash    TEXT PRIMARY KEY,
    entries BLOB NOT NULL
) WITHOUT ROWID;

-- `why` walks builds backwards in time from a build (plain logs without times by when stored).
CREATE INDEX builds_time ON builds (COALESCE(started_at, ingested_at));
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_lists_every_table_of_the_schema_parents_first() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let mut stmt = store
            .connection()
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        let mut tables: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut listed: Vec<String> = TABLES
            .iter()
            .chain(SHARED_TABLES)
            .map(|t| t.to_string())
            .collect();
        listed.sort();
        tables.sort();
        assert_eq!(listed, tables);
        assert_eq!(TABLES[0], "builds");
    }
}
