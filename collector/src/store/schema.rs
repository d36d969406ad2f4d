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

/// The views (version 3) that present compact rows with the columns of version 1 (read and
/// inserted into like the tables they replace), each with its key: the primary key of the
/// version-1 table it replaces (the order rows are exported in).
pub const VIEW_KEYS: &[(&str, &[&str])] = &[
    ("steps", &["build_id", "seq"]),
    ("labels", &["build_id", "key"]),
    ("step_inputs", &["build_id", "seq", "pos"]),
    ("cache_layers", &["build_id", "seq", "op", "digest"]),
];

/// Whether `table` is one of the views of [`VIEW_KEYS`] rather than a table.
pub fn is_view(table: &str) -> bool {
    VIEW_KEYS.iter().any(|(view, _)| *view == table)
}

/// The tables behind the views of [`VIEW_KEYS`] (version 3): build keys, interned definitions and digests, and
/// the compact rows. Never exported or merged by name (the views are).
pub const ROW_TABLES: &[&str] = &[
    "build_keys",
    "digests",
    "step_defs",
    "step_rows",
    "step_logs",
    "step_input_rows",
    "cache_layer_rows",
    "label_rows",
];

/// Each entry migrates from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3];

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

/// Compact storage (issue 15): builds get an integer key in `build_keys`, and the step tables
/// keep it instead of the 32-character build id; step names, kinds, instructions, stages and
/// platforms are stored once per distinct combination (`step_defs`), digests once (`digests`),
/// a step's single interval only as its start and finish, and log tails in their own table
/// when non-empty. The indexes no query of buildprof's uses are gone. `steps`, `step_inputs`,
/// `cache_layers` and `labels` become views with the columns of version 1 (ad-hoc SQL and
/// exports read them as before), and inserting into them stores the compact rows.
const V3: &str = r#"
CREATE TABLE build_keys (
    key INTEGER PRIMARY KEY,
    id  TEXT NOT NULL UNIQUE REFERENCES builds (id) ON DELETE CASCADE
);
-- Keys in time order: the steps of a period are stored together.
INSERT INTO build_keys (id) SELECT id FROM builds ORDER BY COALESCE(started_at, ingested_at), id;
CREATE TRIGGER builds_key AFTER INSERT ON builds BEGIN
    INSERT INTO build_keys (id) VALUES (NEW.id);
END;

CREATE TABLE digests (
    id     INTEGER PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE
);
INSERT INTO digests (digest)
    SELECT digest FROM steps UNION SELECT input FROM step_inputs UNION SELECT digest FROM cache_layers;

CREATE TABLE step_defs (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    instruction    TEXT NOT NULL,
    stage          TEXT,
    stage_index    INTEGER,
    stage_total    INTEGER,
    platform       TEXT,
    progress_group TEXT
);
CREATE INDEX step_defs_instruction ON step_defs (instruction, stage, name);
INSERT INTO step_defs (name, kind, instruction, stage, stage_index, stage_total, platform, progress_group)
    SELECT DISTINCT name, kind, instruction, stage, stage_index, stage_total, platform, progress_group FROM steps;

-- `intervals` is NULL when it is the step's one interval (or none): the view rebuilds it.
CREATE TABLE step_rows (
    build_key      INTEGER NOT NULL REFERENCES build_keys (key) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    def            INTEGER NOT NULL,
    digest         INTEGER NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('cached','pulled','executed','failed','canceled')),
    lazy_miss      INTEGER NOT NULL,
    started_at     INTEGER,
    finished_at    INTEGER,
    duration_ns    INTEGER NOT NULL,
    intervals      TEXT,
    pull_ns        INTEGER NOT NULL,
    pulled_bytes   INTEGER NOT NULL,
    pulled_layers  INTEGER NOT NULL,
    log_lines      INTEGER NOT NULL,
    log_bytes      INTEGER NOT NULL,
    error          TEXT,
    layers_written INTEGER NOT NULL,
    warnings       INTEGER NOT NULL,
    PRIMARY KEY (build_key, seq)
) WITHOUT ROWID;
INSERT INTO step_rows
    SELECT k.key, s.seq, d.id, g.id, s.outcome, s.lazy_miss, s.started_at, s.finished_at, s.duration_ns,
        NULLIF(s.intervals, CASE WHEN s.started_at IS NULL OR s.finished_at IS NULL THEN '[]'
            ELSE '[[' || s.started_at || ',' || s.finished_at || ']]' END),
        s.pull_ns, s.pulled_bytes, s.pulled_layers, s.log_lines, s.log_bytes, s.error, s.layers_written, s.warnings
    FROM steps s
    JOIN build_keys k ON k.id = s.build_id
    JOIN step_defs d ON d.instruction = s.instruction AND d.stage IS s.stage AND d.name = s.name
        AND d.kind = s.kind AND d.stage_index IS s.stage_index AND d.stage_total IS s.stage_total
        AND d.platform IS s.platform AND d.progress_group IS s.progress_group
    JOIN digests g ON g.digest = s.digest
    ORDER BY k.key, s.seq;

CREATE TABLE step_logs (
    build_key INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    log_tail  TEXT NOT NULL,
    PRIMARY KEY (build_key, seq),
    FOREIGN KEY (build_key, seq) REFERENCES step_rows (build_key, seq) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO step_logs
    SELECT k.key, s.seq, s.log_tail FROM steps s JOIN build_keys k ON k.id = s.build_id
    WHERE s.log_tail <> '' ORDER BY k.key, s.seq;

CREATE TABLE step_input_rows (
    build_key INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    pos       INTEGER NOT NULL,
    input     INTEGER NOT NULL,
    PRIMARY KEY (build_key, seq, pos),
    FOREIGN KEY (build_key, seq) REFERENCES step_rows (build_key, seq) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO step_input_rows
    SELECT k.key, i.seq, i.pos, g.id FROM step_inputs i
    JOIN build_keys k ON k.id = i.build_id JOIN digests g ON g.digest = i.input
    ORDER BY k.key, i.seq, i.pos;

CREATE TABLE cache_layer_rows (
    build_key INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    op        TEXT NOT NULL CHECK (op IN ('pull','write')),
    digest    INTEGER NOT NULL,
    bytes     INTEGER,
    PRIMARY KEY (build_key, seq, op, digest),
    FOREIGN KEY (build_key, seq) REFERENCES step_rows (build_key, seq) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO cache_layer_rows
    SELECT k.key, c.seq, c.op, g.id, c.bytes FROM cache_layers c
    JOIN build_keys k ON k.id = c.build_id JOIN digests g ON g.digest = c.digest
    ORDER BY k.key, c.seq, c.op, g.id;

CREATE TABLE label_rows (
    build_key INTEGER NOT NULL REFERENCES build_keys (key) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (build_key, key)
) WITHOUT ROWID;
CREATE INDEX label_rows_key_value ON label_rows (key, value);
INSERT INTO label_rows
    SELECT k.key, l.key, l.value FROM labels l JOIN build_keys k ON k.id = l.build_id
    ORDER BY k.key, l.key;

DROP TABLE step_inputs;
DROP TABLE cache_layers;
DROP TABLE labels;
DROP TABLE steps;

CREATE VIEW steps AS
SELECT k.id AS build_id, r.seq AS seq, g.digest AS digest, d.name AS name, d.kind AS kind,
    d.instruction AS instruction, d.stage AS stage, d.stage_index AS stage_index,
    d.stage_total AS stage_total, d.platform AS platform, r.outcome AS outcome,
    r.lazy_miss AS lazy_miss, r.started_at AS started_at, r.finished_at AS finished_at,
    r.duration_ns AS duration_ns,
    COALESCE(r.intervals, CASE WHEN r.started_at IS NULL OR r.finished_at IS NULL THEN '[]'
        ELSE '[[' || r.started_at || ',' || r.finished_at || ']]' END) AS intervals,
    r.pull_ns AS pull_ns, r.pulled_bytes AS pulled_bytes, r.pulled_layers AS pulled_layers,
    r.log_lines AS log_lines, r.log_bytes AS log_bytes, COALESCE(l.log_tail, '') AS log_tail,
    r.error AS error, r.layers_written AS layers_written, d.progress_group AS progress_group,
    r.warnings AS warnings
FROM step_rows r
JOIN build_keys k ON k.key = r.build_key
JOIN step_defs d ON d.id = r.def
JOIN digests g ON g.id = r.digest
LEFT JOIN step_logs l ON l.build_key = r.build_key AND l.seq = r.seq;

CREATE TRIGGER steps_insert INSTEAD OF INSERT ON steps BEGIN
    INSERT INTO digests (digest) SELECT NEW.digest
        WHERE NOT EXISTS (SELECT 1 FROM digests WHERE digest = NEW.digest);
    INSERT INTO step_defs (name, kind, instruction, stage, stage_index, stage_total, platform, progress_group)
        SELECT NEW.name, NEW.kind, NEW.instruction, NEW.stage, NEW.stage_index, NEW.stage_total,
            NEW.platform, NEW.progress_group
        WHERE NOT EXISTS (SELECT 1 FROM step_defs d WHERE d.instruction = NEW.instruction
            AND d.stage IS NEW.stage AND d.name = NEW.name AND d.kind = NEW.kind
            AND d.stage_index IS NEW.stage_index AND d.stage_total IS NEW.stage_total
            AND d.platform IS NEW.platform AND d.progress_group IS NEW.progress_group);
    INSERT INTO step_rows VALUES (
        (SELECT key FROM build_keys WHERE id = NEW.build_id), NEW.seq,
        (SELECT id FROM step_defs d WHERE d.instruction = NEW.instruction
            AND d.stage IS NEW.stage AND d.name = NEW.name AND d.kind = NEW.kind
            AND d.stage_index IS NEW.stage_index AND d.stage_total IS NEW.stage_total
            AND d.platform IS NEW.platform AND d.progress_group IS NEW.progress_group),
        (SELECT id FROM digests WHERE digest = NEW.digest),
        NEW.outcome, NEW.lazy_miss, NEW.started_at, NEW.finished_at, NEW.duration_ns,
        NULLIF(NEW.intervals, CASE WHEN NEW.started_at IS NULL OR NEW.finished_at IS NULL THEN '[]'
            ELSE '[[' || NEW.started_at || ',' || NEW.finished_at || ']]' END),
        NEW.pull_ns, NEW.pulled_bytes, NEW.pulled_layers, NEW.log_lines, NEW.log_bytes, NEW.error,
        NEW.layers_written, NEW.warnings);
    INSERT INTO step_logs SELECT (SELECT key FROM build_keys WHERE id = NEW.build_id), NEW.seq, NEW.log_tail
        WHERE NEW.log_tail <> '';
END;

CREATE VIEW step_inputs AS
SELECT k.id AS build_id, i.seq AS seq, i.pos AS pos, g.digest AS input
FROM step_input_rows i JOIN build_keys k ON k.key = i.build_key JOIN digests g ON g.id = i.input;

CREATE TRIGGER step_inputs_insert INSTEAD OF INSERT ON step_inputs BEGIN
    INSERT INTO digests (digest) SELECT NEW.input
        WHERE NOT EXISTS (SELECT 1 FROM digests WHERE digest = NEW.input);
    INSERT INTO step_input_rows VALUES ((SELECT key FROM build_keys WHERE id = NEW.build_id),
        NEW.seq, NEW.pos, (SELECT id FROM digests WHERE digest = NEW.input));
END;

CREATE VIEW cache_layers AS
SELECT k.id AS build_id, c.seq AS seq, c.op AS op, g.digest AS digest, c.bytes AS bytes
FROM cache_layer_rows c JOIN build_keys k ON k.key = c.build_key JOIN digests g ON g.id = c.digest;

CREATE TRIGGER cache_layers_insert INSTEAD OF INSERT ON cache_layers BEGIN
    INSERT INTO digests (digest) SELECT NEW.digest
        WHERE NOT EXISTS (SELECT 1 FROM digests WHERE digest = NEW.digest);
    INSERT INTO cache_layer_rows VALUES ((SELECT key FROM build_keys WHERE id = NEW.build_id),
        NEW.seq, NEW.op, (SELECT id FROM digests WHERE digest = NEW.digest), NEW.bytes);
END;

CREATE VIEW labels AS
SELECT k.id AS build_id, l.key AS key, l.value AS value
FROM label_rows l JOIN build_keys k ON k.key = l.build_key;

CREATE TRIGGER labels_insert INSTEAD OF INSERT ON labels BEGIN
    INSERT INTO label_rows VALUES ((SELECT key FROM build_keys WHERE id = NEW.build_id), NEW.key, NEW.value);
END;
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_lists_every_table_of_the_schema_parents_first() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let mut stmt = store
            .connection()
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
            .unwrap();
        let mut tables: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut listed: Vec<String> = TABLES
            .iter()
            .chain(SHARED_TABLES)
            .chain(ROW_TABLES)
            .map(|t| t.to_string())
            .collect();
        listed.sort();
        tables.sort();
        assert_eq!(listed, tables);
        assert_eq!(TABLES[0], "builds");
        let views: Vec<String> = store
            .connection()
            .prepare("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut listed: Vec<String> = VIEW_KEYS.iter().map(|(t, _)| t.to_string()).collect();
        listed.sort();
        assert_eq!(listed, views);
    }
}
