//! `Loaded`: stored builds and steps as polars frames, read column-wise from SQLite.
//!
//! Rows are filtered in SQL (the [`Scope`]: labels, time window) and only the columns an
//! analysis asks for are read. Text that repeats (digests, step identities, stage names) is
//! interned to `u32` ids on the way in, so the analyses group and join on integers.

use std::collections::HashMap;

use collector::model::{BuildStatus, Outcome, StepKind};
use polars::prelude::*;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{params_from_iter, Connection};

use crate::error::{AnalyzeError, Result};
use crate::intern::Interner;
use crate::scope::Scope;

/// Outcome codes in the `outcome` column. Hits are `<= PULLED`, steps that ran are `>= EXECUTED`.
pub mod outcome {
    pub const CACHED: u32 = 0;
    pub const PULLED: u32 = 1;
    pub const EXECUTED: u32 = 2;
    pub const FAILED: u32 = 3;
    pub const CANCELED: u32 = 4;
}

/// Kind classes in the `kind` column.
pub mod kind {
    /// A Dockerfile instruction other than `FROM`: what hit ratios, savings and busts count.
    pub const INSTRUCTION: u32 = 0;
    /// `FROM`: resolving a base image is reported `executed` or `cached` almost at random
    /// (metadata lookups), so it is not counted as a hit or a miss.
    pub const FROM: u32 = 1;
    pub const CACHE_IMPORT: u32 = 2;
    pub const CACHE_EXPORT: u32 = 3;
    pub const IMAGE_EXPORT: u32 = 4;
    /// `[internal]` and other bookkeeping vertices.
    pub const OTHER: u32 = 5;
}

/// Build status codes in the `status` column.
pub mod status {
    pub const SUCCEEDED: u32 = 0;
    pub const FAILED: u32 = 1;
    pub const CANCELED: u32 = 2;
    pub const INCOMPLETE: u32 = 3;
}

fn outcome_code(o: Outcome) -> u32 {
    match o {
        Outcome::Cached => outcome::CACHED,
        Outcome::Pulled => outcome::PULLED,
        Outcome::Executed => outcome::EXECUTED,
        Outcome::Failed => outcome::FAILED,
        Outcome::Canceled => outcome::CANCELED,
    }
}

fn kind_code(k: StepKind) -> u32 {
    match k {
        StepKind::From => kind::FROM,
        StepKind::CacheImport => kind::CACHE_IMPORT,
        StepKind::CacheExport => kind::CACHE_EXPORT,
        StepKind::ImageExport => kind::IMAGE_EXPORT,
        k if k.is_instruction() => kind::INSTRUCTION,
        _ => kind::OTHER,
    }
}

fn status_code(s: BuildStatus) -> u32 {
    match s {
        BuildStatus::Succeeded => status::SUCCEEDED,
        BuildStatus::Failed => status::FAILED,
        BuildStatus::Canceled => status::CANCELED,
        BuildStatus::Incomplete => status::INCOMPLETE,
    }
}

/// Which step rows and columns to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepSelect {
    /// Every step kind; otherwise only Dockerfile instructions other than `FROM`.
    pub all_kinds: bool,
    /// `ident`, `stage`, `stage_index`, `digest` (and `parent`, the first input's digest).
    pub identity: bool,
}

/// The frames of one analysis.
///
/// `builds`: `build` (u32 key), `started_at` (i64, nullable), `wall_ns` (i64, nullable),
/// `status` (u32, see [`status`]).
///
/// `steps`: `build`, `seq` (u32), `kind` (u32, see [`kind`]), `outcome` (u32, see [`outcome`]),
/// `lazy` (bool), `dur_ns`, `pull_ns` (i64), and with [`StepSelect::identity`]: `ident`,
/// `stage` (u32 ids), `stage_index` (u32, nullable), `digest` (u32 id, null when the trace gave
/// no content digest, as plain logs without digest lines) and `parent` (the first input's digest
/// id, nullable).
pub struct Loaded {
    pub builds: DataFrame,
    pub steps: DataFrame,
    /// Build key to build id.
    pub build_ids: HashMap<u32, String>,
    /// Step identity (`stage` + `\x1f` + instruction text) ids.
    pub idents: Interner,
    pub stages: Interner,
    pub digests: Interner,
}

/// The separator between stage and instruction in an identity key.
pub const IDENT_SEP: char = '\x1f';

/// Splits an identity key into stage (None when the step had no stage name) and instruction.
pub fn split_ident(key: &str) -> (Option<&str>, &str) {
    match key.split_once(IDENT_SEP) {
        Some(("", i)) => (None, i),
        Some((s, i)) => (Some(s), i),
        None => (None, key),
    }
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
        let sql = format!(
            "SELECT b.rowid, b.id, b.started_at, b.duration_ns, b.status FROM builds b WHERE {filter}"
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        let mut key = Vec::new();
        let mut started = Vec::new();
        let mut wall = Vec::new();
        let mut st = Vec::new();
        let mut build_ids = HashMap::new();
        while let Some(r) = rows.next()? {
            let k = row_key(r.get::<_, i64>(0)?)?;
            key.push(k);
            build_ids.insert(k, r.get::<_, String>(1)?);
            started.push(r.get::<_, Option<i64>>(2)?);
            wall.push(r.get::<_, Option<i64>>(3)?);
            let s: String = r.get(4)?;
            st.push(BuildStatus::parse(&s).map_or(status::INCOMPLETE, status_code));
        }
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
            idents: Interner::default(),
            stages: Interner::default(),
            digests: Interner::default(),
        })
    }

    fn load_steps(
        &mut self,
        conn: &Connection,
        scope: &Scope,
        select: StepSelect,
        split: Split,
    ) -> Result<()> {
        let source = RowSource::new(conn, scope, self, split == Split::Always)?;
        let path = conn.path().filter(|p| !p.is_empty()).map(str::to_string);
        let wanted = match split {
            Split::Auto => {
                self.build_ids.len() >= PARALLEL_MIN_BUILDS
                    && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
            }
            Split::Always => !self.build_ids.is_empty(),
            Split::Never => false,
        };
        let split = match (&source, path) {
            (RowSource::Scan(_), Some(path)) if wanted => {
                let mut ids: Vec<&String> = self.build_ids.values().collect();
                ids.sort_unstable();
                Some((path, ids[ids.len() / 2].clone()))
            }
            _ => None,
        };
        let Some((path, mid)) = split else {
            let part = scan_part(conn, &source, select, Range::All, &mut self.dicts())?;
            self.steps = part.into_frame(select.identity)?;
            return Ok(());
        };
        // Two halves of the table (split at the median build id), the second on its own
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
                    Range::From(&mid),
                    &mut dicts.as_mut(),
                )?;
                Ok((part, dicts))
            });
            let first = scan_part(
                conn,
                &source,
                select,
                Range::Before(&mid),
                &mut self.dicts(),
            )?;
            let second = other
                .join()
                .map_err(|_| AnalyzeError::Invalid("the loading thread panicked".into()))??;
            Ok((first, second))
        })?;
        let second = second.remap(&mut dicts, self);
        self.steps = first.append(second).into_frame(select.identity)?;
        Ok(())
    }

    fn dicts(&mut self) -> DictsMut<'_> {
        DictsMut {
            idents: &mut self.idents,
            stages: &mut self.stages,
            digests: &mut self.digests,
        }
    }

    /// For identities of the form `COPY --from=<stage> ...` (or `ADD`), the stage they copy
    /// from, when a stage of that name was loaded: `ident` (u32), `from_stage` (u32).
    /// Computed over the identity dictionary (a few rows), not over the steps.
    pub fn copy_from_stages(&self) -> Result<DataFrame> {
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
        let n = ident.len();
        Ok(DataFrame::new(
            n,
            vec![
                Column::new("ident".into(), ident),
                Column::new("from_stage".into(), from),
            ],
        )?)
    }

    /// The build id for a build key.
    pub fn build_id(&self, key: u32) -> &str {
        self.build_ids.get(&key).map_or("", String::as_str)
    }

    /// The key of a build id, if it is loaded.
    pub fn key_of(&self, id: &str) -> Option<u32> {
        self.build_ids
            .iter()
            .find_map(|(k, v)| (v == id).then_some(*k))
    }

    /// Stage name and instruction text of an identity id.
    pub fn ident_parts(&self, ident: u32) -> (Option<String>, String) {
        let (s, i) = split_ident(self.idents.name(ident));
        (s.map(str::to_string), i.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_from_names_the_stage() {
        assert_eq!(
            copy_from("COPY --from=deps /venv /venv").as_deref(),
            Some("deps")
        );
        assert_eq!(
            copy_from("COPY --chown=1:1 --from=0 /a /b").as_deref(),
            Some("stage-0")
        );
        assert_eq!(copy_from("COPY src /app"), None);
        assert_eq!(copy_from("RUN echo --from=x"), None);
        assert_eq!(split_ident("deps\x1fRUN x"), (Some("deps"), "RUN x"));
        assert_eq!(split_ident("\x1fRUN x"), (None, "RUN x"));
    }
}

/// Whether the step scan is split over two threads (file databases only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// When the selection is large and there are two cores or more.
    Auto,
    Always,
    Never,
}

/// Below this many builds a single scan is quicker than starting a second connection.
const PARALLEL_MIN_BUILDS: usize = 5_000;

/// Which build ids a scan covers (a split of the table between two threads).
#[derive(Clone, Copy)]
enum Range<'a> {
    All,
    Before(&'a str),
    From(&'a str),
}

impl Range<'_> {
    fn sql(&self) -> (&'static str, Option<Value>) {
        match self {
            Range::All => ("", None),
            Range::Before(id) => (" AND s.build_id < ?", Some(Value::Text(id.to_string()))),
            Range::From(id) => (" AND s.build_id >= ?", Some(Value::Text(id.to_string()))),
        }
    }
}

/// The dictionaries a scan interns into.
#[derive(Default)]
struct Dicts {
    idents: Interner,
    stages: Interner,
    digests: Interner,
}

impl Dicts {
    fn as_mut(&mut self) -> DictsMut<'_> {
        DictsMut {
            idents: &mut self.idents,
            stages: &mut self.stages,
            digests: &mut self.digests,
        }
    }
}

struct DictsMut<'a> {
    idents: &'a mut Interner,
    stages: &'a mut Interner,
    digests: &'a mut Interner,
}

/// The steps (and first inputs) one scan read.
#[derive(Default)]
struct Part {
    steps: StepColumns,
    /// `build`, `seq`, first input digest id.
    parents: (Vec<u32>, Vec<u32>, Vec<u32>),
}

impl Part {
    /// Maps ids from `dicts` (the scan's own dictionaries) into `into`'s.
    fn remap(mut self, dicts: &mut Dicts, into: &mut Loaded) -> Part {
        let map = |from: &Interner, to: &mut Interner| -> Vec<u32> {
            (0..from.len() as u32)
                .map(|i| to.intern(from.name(i).as_bytes()))
                .collect()
        };
        let idents = map(&dicts.idents, &mut into.idents);
        let stages = map(&dicts.stages, &mut into.stages);
        let digests = map(&dicts.digests, &mut into.digests);
        let at = |m: &[u32], v: u32| m.get(v as usize).copied().unwrap_or(v);
        for v in &mut self.steps.ident {
            *v = at(&idents, *v);
        }
        for v in &mut self.steps.stage {
            *v = at(&stages, *v);
        }
        for v in self.steps.digest.iter_mut().flatten() {
            *v = at(&digests, *v);
        }
        for v in &mut self.parents.2 {
            *v = at(&digests, *v);
        }
        self
    }

    fn append(mut self, other: Part) -> Part {
        let (a, b) = (&mut self.steps, other.steps);
        a.build.extend(b.build);
        a.seq.extend(b.seq);
        a.kind.extend(b.kind);
        a.outcome.extend(b.outcome);
        a.lazy.extend(b.lazy);
        a.dur.extend(b.dur);
        a.pull.extend(b.pull);
        a.ident.extend(b.ident);
        a.stage.extend(b.stage);
        a.stage_index.extend(b.stage_index);
        a.digest.extend(b.digest);
        self.parents.0.extend(other.parents.0);
        self.parents.1.extend(other.parents.1);
        self.parents.2.extend(other.parents.2);
        self
    }

    fn into_frame(self, identity: bool) -> Result<DataFrame> {
        let steps = self.steps.into_frame(identity)?;
        if !identity {
            return Ok(steps);
        }
        let (b, q, i) = self.parents;
        let n = b.len();
        let parents = DataFrame::new(
            n,
            vec![
                Column::new("build".into(), b),
                Column::new("seq".into(), q),
                Column::new("parent".into(), i),
            ],
        )?
        .lazy()
        .select([step_key().alias("step"), col("parent")]);
        Ok(crate::expr::left_join(
            steps.lazy().with_column(step_key().alias("step")),
            parents,
            &["step"],
        )
        .drop(cols(["step"]))
        .collect()?)
    }
}

/// Reads the steps of one range (and, with identity, their first inputs).
fn scan_part(
    conn: &Connection,
    source: &RowSource,
    select: StepSelect,
    range: Range,
    dicts: &mut DictsMut,
) -> Result<Part> {
    let kinds = if select.all_kinds {
        ""
    } else {
        " AND s.kind NOT IN ('FROM', 'internal', 'cache_import', 'cache_export', 'image_export', 'other')"
    };
    let columns = if select.identity {
        "s.seq, s.kind, s.outcome, s.lazy_miss, s.duration_ns, s.pull_ns, s.stage, s.instruction, s.stage_index, s.digest"
    } else {
        "s.seq, s.kind, s.outcome, s.lazy_miss, s.duration_ns, s.pull_ns"
    };
    let (range_sql, range_arg) = range.sql();
    let (sql, mut args) = source.sql("steps", columns, &format!("{kinds}{range_sql}"));
    args.extend(range_arg.clone());
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut c = StepColumns::default();
    let mut key_buf: Vec<u8> = Vec::with_capacity(128);
    let mut stage_of_ident: Vec<u32> = (0..dicts.idents.len() as u32)
        .map(|i| {
            let (stage, _) = split_ident(dicts.idents.name(i));
            dicts.stages.intern(stage.unwrap_or("").as_bytes())
        })
        .collect();
    let mut kinds_seen: PlHashMap<Box<[u8]>, u32> = PlHashMap::default();
    let mut outcomes_seen: PlHashMap<Box<[u8]>, u32> = PlHashMap::default();
    let mut last = LastBuild::default();
    while let Some(r) = rows.next()? {
        let Some(build) = source.key(r, &mut last)? else {
            continue;
        };
        c.build.push(build);
        c.seq.push(r.get_ref(1)?.as_i64()? as u32);
        let k = code_of(&mut kinds_seen, r.get_ref(2)?.as_bytes()?, |t| {
            StepKind::parse(t).map_or(kind::OTHER, kind_code)
        });
        c.kind.push(k);
        let o = code_of(&mut outcomes_seen, r.get_ref(3)?.as_bytes()?, |t| {
            Outcome::parse(t).map_or(outcome::EXECUTED, outcome_code)
        });
        c.outcome.push(o);
        c.lazy.push(r.get_ref(4)?.as_i64()? != 0);
        c.dur.push(r.get_ref(5)?.as_i64()?);
        c.pull.push(r.get_ref(6)?.as_i64()?);
        if select.identity {
            let stage = match r.get_ref(7)? {
                ValueRef::Text(t) => t,
                _ => b"",
            };
            let instruction = r.get_ref(8)?.as_bytes()?;
            key_buf.clear();
            key_buf.extend_from_slice(stage);
            key_buf.push(IDENT_SEP as u8);
            key_buf.extend_from_slice(instruction);
            let ident = dicts.idents.intern(&key_buf);
            // An identity always has the same stage: intern the stage once per identity.
            if ident as usize == stage_of_ident.len() {
                stage_of_ident.push(dicts.stages.intern(stage));
            }
            c.ident.push(ident);
            c.stage.push(stage_of_ident[ident as usize]);
            c.stage_index
                .push(r.get_ref(9)?.as_i64_or_null()?.map(|v| v as u32));
            c.digest
                .push(real_digest(r.get_ref(10)?.as_bytes()?).map(|d| dicts.digests.intern(d)));
        }
    }
    let mut part = Part {
        steps: c,
        ..Part::default()
    };
    if select.identity {
        // The first input of each step, from a second scan of `step_inputs` (clustered like
        // `steps`) rather than one index lookup per step.
        let (sql, mut args) = source.sql(
            "step_inputs",
            "s.seq, s.input",
            &format!(" AND s.pos = 0{range_sql}"),
        );
        args.extend(range_arg);
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        let mut last = LastBuild::default();
        while let Some(r) = rows.next()? {
            let Some(b) = source.key(r, &mut last)? else {
                continue;
            };
            part.parents.0.push(b);
            part.parents.1.push(r.get::<_, u32>(1)?);
            part.parents
                .2
                .push(dicts.digests.intern(r.get_ref(2)?.as_bytes()?));
        }
    }
    Ok(part)
}

#[derive(Default)]
struct StepColumns {
    build: Vec<u32>,
    seq: Vec<u32>,
    kind: Vec<u32>,
    outcome: Vec<u32>,
    lazy: Vec<bool>,
    dur: Vec<i64>,
    pull: Vec<i64>,
    ident: Vec<u32>,
    stage: Vec<u32>,
    stage_index: Vec<Option<u32>>,
    digest: Vec<Option<u32>>,
}

impl StepColumns {
    fn into_frame(self, identity: bool) -> Result<DataFrame> {
        let n = self.build.len();
        let mut cols = vec![
            Column::new("build".into(), self.build),
            Column::new("seq".into(), self.seq),
            Column::new("kind".into(), self.kind),
            Column::new("outcome".into(), self.outcome),
            Column::new("lazy".into(), self.lazy),
            Column::new("dur_ns".into(), self.dur),
            Column::new("pull_ns".into(), self.pull),
        ];
        if identity {
            cols.extend([
                Column::new("ident".into(), self.ident),
                Column::new("stage".into(), self.stage),
                Column::new("stage_index".into(), self.stage_index),
                Column::new("digest".into(), self.digest),
            ]);
        }
        Ok(DataFrame::new(n, cols)?)
    }
}

fn empty_steps() -> DataFrame {
    StepColumns::default()
        .into_frame(false)
        .unwrap_or_else(|_| DataFrame::empty())
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

/// A content digest (`sha256:...`), or None for the vertex numbers (`#12`) plain logs without
/// digest lines are keyed by: those differ from build to build and identify nothing across builds.
fn real_digest(d: &[u8]) -> Option<&[u8]> {
    d.starts_with(b"sha256:").then_some(d)
}

fn row_key(rowid: i64) -> Result<u32> {
    u32::try_from(rowid).map_err(|_| {
        crate::error::AnalyzeError::Invalid(format!(
            "build row id {rowid} is beyond what the analyzer indexes (2^32)"
        ))
    })
}

/// The value of label `key` per build in `scope`: `build` (u32), `value` (str).
pub fn load_label(conn: &Connection, scope: &Scope, key: &str) -> Result<DataFrame> {
    let (filter, mut args) = scope.where_clause();
    let sql = format!(
        "SELECT b.rowid, l.value FROM builds b JOIN labels l ON l.build_id = b.id AND l.key = ? WHERE {filter}"
    );
    args.insert(0, Value::Text(key.to_string()));
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut build = Vec::new();
    let mut value = Vec::new();
    while let Some(r) = rows.next()? {
        build.push(row_key(r.get::<_, i64>(0)?)?);
        value.push(r.get::<_, String>(1)?);
    }
    let n = build.len();
    Ok(DataFrame::new(
        n,
        vec![
            Column::new("build".into(), build),
            Column::new("value".into(), value),
        ],
    )?)
}

/// Every digest edge of the steps of the loaded builds: `build`, `seq` (the step), `input`
/// (digest id).
pub fn load_edges(conn: &Connection, scope: &Scope, loaded: &mut Loaded) -> Result<DataFrame> {
    let source = RowSource::new(conn, scope, loaded, false)?;
    load_inputs(conn, &source, &mut loaded.digests, false)
}

/// Input edges (all, or only each step's first input).
fn load_inputs(
    conn: &Connection,
    source: &RowSource,
    digests: &mut Interner,
    first_only: bool,
) -> Result<DataFrame> {
    let first = if first_only { " AND s.pos = 0" } else { "" };
    let (sql, args) = source.sql("step_inputs", "s.seq, s.input", first);
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let (mut build, mut seq, mut input) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = LastBuild::default();
    while let Some(r) = rows.next()? {
        let Some(b) = source.key(r, &mut last)? else {
            continue;
        };
        build.push(b);
        seq.push(r.get::<_, u32>(1)?);
        input.push(digests.intern(r.get_ref(2)?.as_bytes()?));
    }
    let n = build.len();
    Ok(DataFrame::new(
        n,
        vec![
            Column::new("build".into(), build),
            Column::new("seq".into(), seq),
            Column::new("input".into(), input),
        ],
    )?)
}

/// How rows of a per-step table (`steps`, `step_inputs`, both clustered by build id) are read
/// for the loaded builds.
///
/// When the selection holds most builds, one sequential scan of the table is cheapest: each
/// row's build id is looked up in a hash map of the loaded builds (rows of other builds are
/// skipped). When it holds few, SQLite seeks each selected build's rows instead.
enum RowSource<'a> {
    Scan(PlHashMap<Box<[u8]>, u32>),
    Seek(&'a Scope),
}

impl<'a> RowSource<'a> {
    fn new(
        conn: &Connection,
        scope: &'a Scope,
        loaded: &Loaded,
        force_scan: bool,
    ) -> Result<RowSource<'a>> {
        let total: i64 = conn.query_row("SELECT COUNT(*) FROM builds", [], |r| r.get(0))?;
        let selected = loaded.build_ids.len() as i64;
        // Seeking costs a B-tree descent per build and reads the table in build-id order
        // anyway, so a scan wins unless the selection is a small part of the history.
        if force_scan || selected * 4 >= total {
            let map = loaded
                .build_ids
                .iter()
                .map(|(k, id)| (id.as_bytes().into(), *k))
                .collect();
            Ok(RowSource::Scan(map))
        } else {
            Ok(RowSource::Seek(scope))
        }
    }

    /// `SELECT <build key or id>, <cols> FROM <table> s ... <and>`; the build comes first.
    fn sql(&self, table: &str, cols: &str, and: &str) -> (String, Vec<Value>) {
        match self {
            RowSource::Scan(_) => (
                format!("SELECT s.build_id, {cols} FROM {table} s WHERE 1 = 1{and}"),
                Vec::new(),
            ),
            RowSource::Seek(scope) => {
                let (filter, args) = scope.where_clause();
                (
                    format!(
                        "SELECT b.rowid, {cols} FROM builds b JOIN {table} s ON s.build_id = b.id WHERE {filter}{and}"
                    ),
                    args,
                )
            }
        }
    }

    /// The build key of a row (column 0), None for a build outside the selection.
    fn key(&self, r: &rusqlite::Row<'_>, last: &mut LastBuild) -> Result<Option<u32>> {
        match self {
            RowSource::Scan(map) => {
                let id = r.get_ref(0)?.as_bytes()?;
                // Rows come clustered by build: look the id up once per build, not per row.
                if last.id != id {
                    last.id.clear();
                    last.id.extend_from_slice(id);
                    last.key = map.get(id).copied();
                }
                Ok(last.key)
            }
            RowSource::Seek(_) => Ok(Some(row_key(r.get_ref(0)?.as_i64()?)?)),
        }
    }
}

/// The build of the previous row of a scan.
#[derive(Default)]
struct LastBuild {
    id: Vec<u8>,
    key: Option<u32>,
}

/// One `u64` per step (`build` in the high half, `seq` in the low): joins on one integer
/// column are cheaper than on two.
pub fn step_key() -> Expr {
    (col("build").cast(DataType::UInt64) * lit(1u64 << 32)) + col("seq").cast(DataType::UInt64)
}

/// The code of a small vocabulary word (a kind, an outcome), parsed once per distinct word.
fn code_of(seen: &mut PlHashMap<Box<[u8]>, u32>, word: &[u8], parse: impl Fn(&str) -> u32) -> u32 {
    if let Some(&c) = seen.get(word) {
        return c;
    }
    let c = parse(std::str::from_utf8(word).unwrap_or(""));
    seen.insert(word.into(), c);
    c
}

/// Layers written by cache exports in `scope`, with the largest byte count any pull of the same
/// digest reported anywhere in the database (null when no pull ever gave a size):
/// `build` (u32), `digest` (u32 id), `bytes` (i64, nullable).
pub fn load_written_layers(
    conn: &Connection,
    scope: &Scope,
    digests: &mut Interner,
) -> Result<DataFrame> {
    let (filter, args) = scope.where_clause();
    let sql = format!(
        "SELECT b.rowid, w.digest,
                (SELECT MAX(p.bytes) FROM cache_layers p WHERE p.digest = w.digest AND p.op = 'pull')
         FROM builds b JOIN cache_layers w ON w.build_id = b.id AND w.op = 'write' WHERE {filter}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let (mut build, mut digest, mut bytes) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(r) = rows.next()? {
        build.push(row_key(r.get::<_, i64>(0)?)?);
        digest.push(digests.intern(r.get_ref(1)?.as_bytes()?));
        bytes.push(r.get::<_, Option<i64>>(2)?);
    }
    let n = build.len();
    Ok(DataFrame::new(
        n,
        vec![
            Column::new("build".into(), build),
            Column::new("digest".into(), digest),
            Column::new("bytes".into(), bytes),
        ],
    )?)
}

/// Cache exports of the builds in `scope` (from `cache_operations`): `build` (u32),
/// `export_ns` (i64).
pub fn load_exports(conn: &Connection, scope: &Scope) -> Result<DataFrame> {
    let (filter, args) = scope.where_clause();
    let sql = format!(
        "SELECT b.rowid, o.duration_ns FROM builds b
         JOIN cache_operations o ON o.build_id = b.id AND o.op = 'export' WHERE {filter}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let (mut build, mut dur) = (Vec::new(), Vec::new());
    while let Some(r) = rows.next()? {
        build.push(row_key(r.get::<_, i64>(0)?)?);
        dur.push(r.get::<_, i64>(1)?);
    }
    let n = build.len();
    Ok(DataFrame::new(
        n,
        vec![
            Column::new("build".into(), build),
            Column::new("export_ns".into(), dur),
        ],
    )?)
}
