//! `Loaded`: stored builds and steps as polars frames, read column-wise from SQLite.
//!
//! Rows are filtered in SQL (the [`Scope`]: labels, time window) and only the columns an
//! analysis asks for are read. Text that repeats (digests, step identities, stage names) is
//! interned to `u32` ids on the way in (digests keep their stored ids), so the analyses group
//! and join on integers. The row scanning itself is in [`crate::scan`].

use std::collections::HashMap;

use collector::model::BuildStatus;
use polars::prelude::*;
use rusqlite::{params_from_iter, Connection};

use crate::codes::{row_key, status, status_code};
pub use crate::codes::{split_ident, IDENT_SEP};
use crate::error::{AnalyzeError, Result};
use crate::expr::frame;
use crate::intern::Interner;
use crate::scan::{
    empty_steps, load_inputs, scan_part, Dicts, DictsMut, Part, Range, RowSource,
    PARALLEL_MIN_BUILDS,
};
pub use crate::scan::{Split, StepSelect};
use crate::scope::Scope;

/// The frames of one analysis.
///
/// `builds`: `build` (u32 key: the stored `build_keys.key`), `started_at` (i64, nullable),
/// `wall_ns` (i64, nullable), `status` (u32, see [`status`]).
///
/// `steps`: `build`, `seq` (u32), `kind` (u32, see [`kind`]), `outcome` (u32, see [`outcome`]),
/// `lazy` (bool), `dur_ns`, `pull_ns` (i64), and with [`StepSelect::identity`]: `ident`,
/// `stage` (u32 ids), `stage_index` (u32, nullable), `digest` (u32 id, null when the trace gave
/// no content digest, as plain logs without digest lines) and `parent` (the first input's digest
/// id, nullable). Digest ids are the stored `digests.id`.
pub struct Loaded {
    pub(crate) builds: DataFrame,
    pub(crate) steps: DataFrame,
    /// Build key to build id and source.
    pub(crate) build_ids: HashMap<u32, (String, String)>,
    /// How many builds the store holds (what a selection is measured against).
    pub(crate) stored_builds: usize,
    /// Whether `steps` holds every kind of step (else Dockerfile instructions other than `FROM`
    /// and the merges of `COPY --link`: [`crate::expr::chain_step`]).
    pub(crate) all_kinds: bool,
    /// Step identity (`stage` + `\x1f` + instruction text) ids.
    pub(crate) idents: Interner,
    pub(crate) stages: Interner,
}

impl Loaded {
    /// Loads the builds in `scope` and their steps.
    pub fn load(conn: &Connection, scope: &Scope, select: StepSelect) -> Result<Loaded> {
        Loaded::load_with(conn, scope, select, Split::Auto)
    }

    /// [`Loaded::load`] with a choice of splitting the scan over two threads.
    pub fn load_with(
        conn: &Connection,
        scope: &Scope,
        select: StepSelect,
        split: Split,
    ) -> Result<Loaded> {
        let mut loaded = Loaded::load_builds(conn, scope)?;
        loaded.load_steps(conn, scope, select, split)?;
        Ok(loaded)
    }

    /// Loads the builds in `scope` only (an empty `steps` frame).
    pub fn load_builds(conn: &Connection, scope: &Scope) -> Result<Loaded> {
        let (filter, args) = scope.where_clause();
        // The keys come from `build_keys` afterwards (one pass or a lookup per build, whichever
        // is cheaper) rather than from a join: a join looks each text id up in its index.
        let sql = format!(
            "SELECT b.id, b.started_at, b.duration_ns, b.status, b.source FROM builds b WHERE {filter}"
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        let mut ids = Vec::new();
        let mut started = Vec::new();
        let mut wall = Vec::new();
        let mut st = Vec::new();
        while let Some(r) = rows.next()? {
            ids.push((r.get::<_, String>(0)?, r.get::<_, String>(4)?));
            started.push(r.get::<_, Option<i64>>(1)?);
            wall.push(r.get::<_, Option<i64>>(2)?);
            let s: String = r.get(3)?;
            st.push(BuildStatus::parse(&s).map_or(status::INCOMPLETE, status_code));
        }
        let names: Vec<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
        let key = collector::store::keys_of(conn, &names)?
            .into_iter()
            .zip(&names)
            .map(|(k, id)| {
                k.ok_or_else(|| AnalyzeError::Invalid(format!("build {id} has no stored key")))
                    .and_then(row_key)
            })
            .collect::<Result<Vec<u32>>>()?;
        let build_ids: HashMap<u32, (String, String)> = key.iter().copied().zip(ids).collect();
        let n = key.len();
        let builds = DataFrame::new(
            n,
            vec![
                Column::new("build".into(), key),
                Column::new("started_at".into(), started),
                Column::new("wall_ns".into(), wall),
                Column::new("status".into(), st),
            ],
        )?;
        Ok(Loaded {
            builds,
            steps: empty_steps(),
            build_ids,
            stored_builds: conn
                .query_row("SELECT COUNT(*) FROM builds", [], |r| r.get::<_, i64>(0))?
                .try_into()
                .unwrap_or(usize::MAX),
            all_kinds: false,
            idents: Interner::default(),
            stages: Interner::default(),
        })
    }

    /// Loads the steps of the loaded builds (`scope` is the one they were loaded with).
    pub(crate) fn load_steps(
        &mut self,
        conn: &Connection,
        scope: &Scope,
        select: StepSelect,
        split: Split,
    ) -> Result<()> {
        self.all_kinds = select.all_kinds;
        let Loaded {
            build_ids,
            stored_builds,
            idents,
            stages,
            ..
        } = self;
        let mut own = DictsMut { idents, stages };
        let source = RowSource::new(scope, build_ids, *stored_builds, split == Split::Always);
        let path = conn.path().filter(|p| !p.is_empty()).map(str::to_string);
        let wanted = match split {
            Split::Auto => {
                build_ids.len() >= PARALLEL_MIN_BUILDS
                    && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
            }
            Split::Always => !build_ids.is_empty(),
            Split::Never => false,
        };
        let split = match path {
            Some(path) if wanted && source.is_scan() && !build_ids.is_empty() => {
                let mut keys: Vec<u32> = build_ids.keys().copied().collect();
                keys.sort_unstable();
                Some((path, keys[keys.len() / 2]))
            }
            _ => None,
        };
        let Some((path, mid)) = split else {
            let part = scan_part(conn, &source, select, Range::All, &mut own)?;
            self.steps = part.into_frame(select.identity)?;
            return Ok(());
        };
        // Two halves of the table (split at the median stored key), the second on its own
        // read-only connection in another thread; the second half's ids are then mapped into
        // the first half's dictionaries.
        let (first, (second, mut dicts)) = std::thread::scope(|s| -> Result<_> {
            let other = s.spawn(|| -> Result<(Part, Dicts)> {
                let conn = Connection::open_with_flags(
                    &path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(std::time::Duration::from_secs(60))?;
                let mut dicts = Dicts::default();
                let part = scan_part(
                    &conn,
                    &source,
                    select,
                    Range::From(mid),
                    &mut dicts.as_mut(),
                )?;
                Ok((part, dicts))
            });
            let first = scan_part(conn, &source, select, Range::Before(mid), &mut own)?;
            let second = other
                .join()
                .map_err(|_| AnalyzeError::Invalid("the loading thread panicked".into()))??;
            Ok((first, second))
        })?;
        let second = second.remap(&mut dicts, own);
        self.steps = first.append(second).into_frame(select.identity)?;
        Ok(())
    }

    /// For identities of the form `COPY --from=<stage> ...` (or `ADD`), the stage they copy
    /// from, when a stage of that name was loaded: `ident` (u32), `from_stage` (u32).
    /// Computed over the identity dictionary (a few rows), not over the steps.
    pub(crate) fn copy_from_stages(&self) -> Result<DataFrame> {
        let (mut ident, mut from) = (Vec::new(), Vec::new());
        for id in 0..self.idents.len() as u32 {
            let (_, instruction) = split_ident(self.idents.name(id));
            if let Some(stage) = copy_from(instruction) {
                if let Some(s) = self.stages.get(stage.as_bytes()) {
                    ident.push(id);
                    from.push(s);
                }
            }
        }
        frame(vec![
            Column::new("ident".into(), ident),
            Column::new("from_stage".into(), from),
        ])
    }

    /// When this holds steps of kinds `select` leaves out (every kind, where `select` asks for
    /// Dockerfile instructions other than `FROM` and `COPY --link` merges only), a copy without
    /// them; None when it holds exactly those already. The columns stay those this was loaded with.
    pub fn narrowed(&self, select: StepSelect) -> Result<Option<Loaded>> {
        if select.all_kinds || !self.all_kinds {
            return Ok(None);
        }
        let steps = self
            .steps
            .clone()
            .lazy()
            .filter(crate::expr::chain_step())
            .collect()?;
        Ok(Some(Loaded {
            builds: self.builds.clone(),
            steps,
            build_ids: self.build_ids.clone(),
            stored_builds: self.stored_builds,
            all_kinds: false,
            idents: self.idents.clone(),
            stages: self.stages.clone(),
        }))
    }

    /// The build id for a build key.
    pub fn build_id(&self, key: u32) -> &str {
        self.build_ids.get(&key).map_or("", |(id, _)| id.as_str())
    }

    /// The `source` (trace file or capture) of a build key.
    pub fn source_of(&self, key: u32) -> &str {
        self.build_ids.get(&key).map_or("", |(_, s)| s.as_str())
    }

    /// The key of a build id, if it is loaded.
    pub fn key_of(&self, id: &str) -> Option<u32> {
        self.build_ids
            .iter()
            .find_map(|(k, (v, _))| (v == id).then_some(*k))
    }

    /// The value of label `key` per loaded build: `build` (u32), `value` (str). Read from
    /// `label_rows` by stored build key: the rows of that label when the selection is most of
    /// the store, else a lookup per loaded build.
    pub(crate) fn label(&self, conn: &Connection, key: &str) -> Result<DataFrame> {
        // Values go straight into the string column (no `String` per row): at half a million
        // builds the allocations were most of the read.
        let mut build = Vec::with_capacity(self.build_ids.len());
        let mut value = StringChunkedBuilder::new("value".into(), self.build_ids.len());
        if self.build_ids.len() * 4 >= self.stored_builds {
            let mut stmt =
                conn.prepare_cached("SELECT build_key, value FROM label_rows WHERE key = ?1")?;
            let mut rows = stmt.query([key])?;
            while let Some(r) = rows.next()? {
                let k = r.get::<_, i64>(0)?;
                if let Some(k) = u32::try_from(k)
                    .ok()
                    .filter(|k| self.build_ids.contains_key(k))
                {
                    build.push(k);
                    value.append_value(r.get_ref(1)?.as_str()?);
                }
            }
        } else {
            let mut stmt = conn
                .prepare_cached("SELECT value FROM label_rows WHERE build_key = ?1 AND key = ?2")?;
            let mut keys: Vec<u32> = self.build_ids.keys().copied().collect();
            keys.sort_unstable();
            for k in keys {
                let mut rows = stmt.query(rusqlite::params![k, key])?;
                if let Some(r) = rows.next()? {
                    build.push(k);
                    value.append_value(r.get_ref(0)?.as_str()?);
                }
            }
        }
        frame(vec![
            Column::new("build".into(), build),
            value.finish().into_column(),
        ])
    }

    /// Stage name and instruction text of an identity id.
    pub fn ident_parts(&self, ident: u32) -> (Option<String>, String) {
        let (s, i) = split_ident(self.idents.name(ident));
        (s.map(str::to_string), i.to_string())
    }
}

/// The stage named by `--from=` in a `COPY`/`ADD` instruction (`--from=0` is `stage-0`).
pub fn copy_from(instruction: &str) -> Option<String> {
    let mut words = instruction.split_whitespace();
    let verb = words.next()?;
    if !verb.eq_ignore_ascii_case("COPY") && !verb.eq_ignore_ascii_case("ADD") {
        return None;
    }
    let value = words
        .take_while(|w| w.starts_with("--"))
        .find_map(|w| w.strip_prefix("--from="))?;
    if value.is_empty() {
        return None;
    }
    Some(if value.bytes().all(|b| b.is_ascii_digit()) {
        format!("stage-{value}")
    } else {
        value.to_string()
    })
}

/// Every digest edge of the steps of the loaded builds: `build`, `seq` (the step), `input`
/// (stored digest id).
pub(crate) fn load_edges(conn: &Connection, scope: &Scope, loaded: &Loaded) -> Result<DataFrame> {
    let source = RowSource::new(scope, &loaded.build_ids, loaded.stored_builds, false);
    load_inputs(conn, &source, false)
}

/// Layers written by cache exports in `scope`: `build` (u32), `digest` (u32 id).
pub(crate) fn load_written_layers(
    conn: &Connection,
    scope: &Scope,
    digests: &mut Interner,
) -> Result<DataFrame> {
    let (filter, args) = scope.where_clause();
    let sql = format!(
        "SELECT k.key, w.digest FROM builds b JOIN build_keys k ON k.id = b.id
         JOIN cache_layers w ON w.build_id = b.id AND w.op = 'write' WHERE {filter}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let (mut build, mut digest) = (Vec::new(), Vec::new());
    while let Some(r) = rows.next()? {
        build.push(row_key(r.get::<_, i64>(0)?)?);
        digest.push(digests.intern(r.get_ref(1)?.as_bytes()?));
    }
    frame(vec![
        Column::new("build".into(), build),
        Column::new("digest".into(), digest),
    ])
}

/// Byte counts reported by pulls of layers, anywhere in the database (not only the
/// selection: a size is a property of the digest): `digest` (u32 id), `bytes` (i64).
/// Only digests already in `digests` are kept (the layers asked about).
pub(crate) fn load_pulled_sizes(conn: &Connection, digests: &Interner) -> Result<DataFrame> {
    let mut stmt = conn.prepare(
        "SELECT digest, bytes FROM cache_layers WHERE op = 'pull' AND bytes IS NOT NULL",
    )?;
    let mut rows = stmt.query([])?;
    let (mut digest, mut bytes) = (Vec::new(), Vec::new());
    while let Some(r) = rows.next()? {
        if let Some(d) = digests.get(r.get_ref(0)?.as_bytes()?) {
            digest.push(d);
            bytes.push(r.get_ref(1)?.as_i64()?);
        }
    }
    frame(vec![
        Column::new("digest".into(), digest),
        Column::new("bytes".into(), bytes),
    ])
}

/// Cache exports of the builds in `scope` (from `cache_operations`): `build` (u32),
/// `export_ns` (i64).
pub(crate) fn load_exports(conn: &Connection, scope: &Scope) -> Result<DataFrame> {
    build_values(
        conn,
        scope,
        "SELECT k.key, o.duration_ns FROM builds b JOIN build_keys k ON k.id = b.id
         JOIN cache_operations o ON o.build_id = b.id AND o.op = 'export' WHERE {filter}",
        "export_ns",
    )
}

/// The wall time of the live capture that stored each build of `scope`, where one did
/// (`sources.capture_wall_ns`): `build` (u32), `capture_wall_ns` (i64).
pub(crate) fn load_capture_walls(conn: &Connection, scope: &Scope) -> Result<DataFrame> {
    build_values(
        conn,
        scope,
        "SELECT k.key, max(s.capture_wall_ns) FROM builds b JOIN build_keys k ON k.id = b.id
         JOIN sources s ON s.build_id = b.id AND s.capture_wall_ns IS NOT NULL
         WHERE {filter} GROUP BY k.key",
        "capture_wall_ns",
    )
}

/// `build` (u32) and one i64 column named `name`, from `sql` (a build key and a value per
/// row; `{filter}` is replaced by the scope's condition on `b`).
fn build_values(conn: &Connection, scope: &Scope, sql: &str, name: &str) -> Result<DataFrame> {
    let (filter, args) = scope.where_clause();
    let mut stmt = conn.prepare(&sql.replace("{filter}", &filter))?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let (mut build, mut value) = (Vec::new(), Vec::new());
    while let Some(r) = rows.next()? {
        build.push(row_key(r.get::<_, i64>(0)?)?);
        value.push(r.get::<_, i64>(1)?);
    }
    frame(vec![
        Column::new("build".into(), build),
        Column::new(name.into(), value),
    ])
}

#[cfg(test)]
mod tests;
