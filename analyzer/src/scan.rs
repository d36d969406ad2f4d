//! Scanning step rows out of SQLite into column vectors: [`RowSource`] (one sequential scan of
//! a per-step row table, or per-build seeks for small selections), [`scan_part`] (one range of
//! builds into a [`Part`]) and the split of a large scan over two threads ([`Split`]).
//!
//! Scans read the stored row tables (`step_rows`, `step_input_rows`), not the `steps` view:
//! a step's definition (`step_defs`: kind, stage, instruction) is decoded once per definition,
//! and digests keep their stored ids (`digests.id`), so no row pays the view's joins.

use std::collections::HashMap;

use polars::prelude::*;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use collector::model::{Outcome, StepKind};

use crate::codes::{kind, kind_code, outcome, outcome_code, IDENT_SEP};
use crate::error::{AnalyzeError, Result};
use crate::intern::Interner;
use crate::scope::Scope;

/// Which step rows and columns to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepSelect {
    /// Every step kind; otherwise only Dockerfile instructions other than `FROM` (and the
    /// merges of `COPY --link`, [`kind::LINK_MERGE`], which every analysis but busts filters out
    /// with [`crate::expr::instruction`]).
    pub all_kinds: bool,
    /// `ident`, `stage`, `stage_index`, `digest` (and `parent`, the first input's digest).
    pub identity: bool,
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
pub(crate) const PARALLEL_MIN_BUILDS: usize = 5_000;

/// Which build keys (`build_keys.key`) a scan covers (a split of the table between two
/// threads).
#[derive(Clone, Copy)]
pub(crate) enum Range {
    All,
    Before(u32),
    From(u32),
}

impl Range {
    fn sql(&self) -> (&'static str, Option<Value>) {
        match self {
            Range::All => ("", None),
            Range::Before(k) => (" AND s.build_key < ?", Some(Value::Integer(i64::from(*k)))),
            Range::From(k) => (" AND s.build_key >= ?", Some(Value::Integer(i64::from(*k)))),
        }
    }
}

/// The dictionaries a scan interns into.
#[derive(Default)]
pub(crate) struct Dicts {
    idents: Interner,
    stages: Interner,
}

impl Dicts {
    pub(crate) fn as_mut(&mut self) -> DictsMut<'_> {
        DictsMut {
            idents: &mut self.idents,
            stages: &mut self.stages,
        }
    }
}

pub(crate) struct DictsMut<'a> {
    pub(crate) idents: &'a mut Interner,
    pub(crate) stages: &'a mut Interner,
}

/// The steps (and first inputs) one scan read.
#[derive(Default)]
pub(crate) struct Part {
    steps: StepColumns,
    /// `build`, `seq`, first input digest id.
    parents: (Vec<u32>, Vec<u32>, Vec<u32>),
}

impl Part {
    /// Maps ids from `dicts` (the scan's own dictionaries) into `into`'s (digest ids are the
    /// stored ones, the same for every scan).
    pub(crate) fn remap(mut self, dicts: &mut Dicts, into: DictsMut<'_>) -> Part {
        let map = |from: &Interner, to: &mut Interner| -> Vec<u32> {
            (0..from.len() as u32)
                .map(|i| to.intern(from.name(i).as_bytes()))
                .collect()
        };
        let idents = map(&dicts.idents, into.idents);
        let stages = map(&dicts.stages, into.stages);
        let at = |m: &[u32], v: u32| m.get(v as usize).copied().unwrap_or(v);
        for v in &mut self.steps.ident {
            *v = at(&idents, *v);
        }
        for v in &mut self.steps.stage {
            *v = at(&stages, *v);
        }
        self
    }

    pub(crate) fn append(mut self, other: Part) -> Part {
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

    pub(crate) fn into_frame(self, identity: bool) -> Result<DataFrame> {
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
pub(crate) fn scan_part(
    conn: &Connection,
    source: &RowSource,
    select: StepSelect,
    range: Range,
    dicts: &mut DictsMut,
) -> Result<Part> {
    let mut defs = Defs::load(conn)?;
    let plain = if select.identity {
        plain_digests(conn)?
    } else {
        PlHashSet::default()
    };
    let (range_sql, range_arg) = range.sql();
    let columns = "s.seq, s.def, s.digest, s.outcome, s.lazy_miss, s.duration_ns, s.pull_ns";
    let (sql, mut args) = source.sql("step_rows", columns, range_sql);
    args.extend(range_arg.clone());
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut c = StepColumns::default();
    let mut outcomes_seen: PlHashMap<Box<[u8]>, u32> = PlHashMap::default();
    let mut last = LastBuild::default();
    while let Some(r) = rows.next()? {
        let Some(build) = source.key(r, &mut last)? else {
            continue;
        };
        let def = defs.get(r.get_ref(2)?.as_i64()?)?;
        if !select.all_kinds && !kind::in_chain(def.kind) {
            continue;
        }
        c.build.push(build);
        c.seq.push(r.get_ref(1)?.as_i64()? as u32);
        c.kind.push(def.kind);
        let o = code_of(&mut outcomes_seen, r.get_ref(4)?.as_bytes()?, |t| {
            Outcome::parse(t).map_or(outcome::EXECUTED, outcome_code)
        });
        c.outcome.push(o);
        c.lazy.push(r.get_ref(5)?.as_i64()? != 0);
        c.dur.push(r.get_ref(6)?.as_i64()?);
        c.pull.push(r.get_ref(7)?.as_i64()?);
        if select.identity {
            let (ident, stage) = def.interned(dicts);
            c.ident.push(ident);
            c.stage.push(stage);
            c.stage_index.push(def.stage_index);
            let digest = r.get_ref(3)?.as_i64()?;
            c.digest
                .push((!plain.contains(&digest)).then_some(digest_id(digest)?));
        }
    }
    let mut part = Part {
        steps: c,
        ..Part::default()
    };
    if select.identity {
        // The first input of each step, from a second scan of `step_input_rows` (clustered
        // like `step_rows`) rather than one index lookup per step.
        let (sql, mut args) = source.sql(
            "step_input_rows",
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
            part.parents.2.push(digest_id(r.get_ref(2)?.as_i64()?)?);
        }
    }
    Ok(part)
}

/// The step definitions (`step_defs`, a row per distinct kind/stage/instruction/...), decoded
/// when a scanned row first names them; identities and stages are interned on first use, so
/// the dictionaries hold only what the loaded steps use, in the order they appear.
struct Defs {
    rows: PlHashMap<i64, Def>,
}

struct Def {
    kind: u32,
    stage: Option<String>,
    instruction: String,
    stage_index: Option<u32>,
    /// `(ident, stage)` ids, once interned.
    ids: Option<(u32, u32)>,
}

impl Defs {
    fn load(conn: &Connection) -> Result<Defs> {
        let mut stmt =
            conn.prepare("SELECT id, kind, stage, instruction, stage_index FROM step_defs")?;
        let mut rows = stmt.query([])?;
        let mut out = PlHashMap::default();
        while let Some(r) = rows.next()? {
            let kind: String = r.get(1)?;
            let instruction: String = r.get(3)?;
            let kind = match StepKind::parse(&kind).map_or(kind::OTHER, kind_code) {
                kind::OTHER if collector::model::is_link_merge(&instruction) => kind::LINK_MERGE,
                k => k,
            };
            out.insert(
                r.get::<_, i64>(0)?,
                Def {
                    kind,
                    stage: r.get(2)?,
                    instruction,
                    stage_index: r.get::<_, Option<i64>>(4)?.map(|v| v as u32),
                    ids: None,
                },
            );
        }
        Ok(Defs { rows: out })
    }

    fn get(&mut self, id: i64) -> Result<&mut Def> {
        self.rows.get_mut(&id).ok_or_else(|| {
            AnalyzeError::Invalid(format!("step definition {id} is missing from step_defs"))
        })
    }
}

impl Def {
    fn interned(&mut self, dicts: &mut DictsMut) -> (u32, u32) {
        if let Some(ids) = self.ids {
            return ids;
        }
        let stage = self.stage.as_deref().unwrap_or("");
        let key = format!("{stage}{IDENT_SEP}{}", self.instruction);
        let ident = dicts.idents.intern(key.as_bytes());
        let ids = (ident, dicts.stages.intern(stage.as_bytes()));
        self.ids = Some(ids);
        ids
    }
}

/// The stored ids of digests that are not content digests (`sha256:...`): the vertex numbers
/// (`#12`) plain logs without digest lines are keyed by, which differ from build to build and
/// identify nothing across builds. Two range reads of the `digests` index.
fn plain_digests(conn: &Connection) -> Result<PlHashSet<i64>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM digests WHERE digest < 'sha256:'
         UNION ALL SELECT id FROM digests WHERE digest >= 'sha256;'",
    )?;
    let ids = stmt
        .query_map([], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// A stored digest id as the `u32` the frames hold.
fn digest_id(id: i64) -> Result<u32> {
    u32::try_from(id).map_err(|_| {
        AnalyzeError::Invalid(format!(
            "digest id {id} is beyond what the analyzer indexes (2^32)"
        ))
    })
}

#[derive(Default)]
pub(crate) struct StepColumns {
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

pub(crate) fn empty_steps() -> DataFrame {
    StepColumns::default()
        .into_frame(false)
        .unwrap_or_else(|_| DataFrame::empty())
}

/// Input edges (all, or only each step's first input); `input` is the stored digest id.
pub(crate) fn load_inputs(
    conn: &Connection,
    source: &RowSource,
    first_only: bool,
) -> Result<DataFrame> {
    let first = if first_only { " AND s.pos = 0" } else { "" };
    let (sql, args) = source.sql("step_input_rows", "s.seq, s.input", first);
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
        input.push(digest_id(r.get_ref(2)?.as_i64()?)?);
    }
    crate::expr::frame(vec![
        Column::new("build".into(), build),
        Column::new("seq".into(), seq),
        Column::new("input".into(), input),
    ])
}

/// How rows of a per-step row table (`step_rows`, `step_input_rows`, both clustered by stored
/// build key) are read for the loaded builds.
///
/// When the selection holds most builds, one sequential scan of the table is cheapest: rows of
/// builds not loaded are skipped. When it holds few, SQLite seeks each selected build's rows
/// instead.
pub(crate) struct RowSource<'a> {
    builds: &'a HashMap<u32, (String, String)>,
    seek: Option<&'a Scope>,
}

impl<'a> RowSource<'a> {
    /// `builds`: the loaded builds (by stored build key) of `scope`; `stored`: how many builds
    /// the store holds.
    pub(crate) fn new(
        scope: &'a Scope,
        builds: &'a HashMap<u32, (String, String)>,
        stored: usize,
        force_scan: bool,
    ) -> RowSource<'a> {
        // Seeking costs a B-tree descent per build and reads the table in key order anyway,
        // so a scan wins unless the selection is a small part of the history.
        let seek = (!force_scan && builds.len() * 4 < stored).then_some(scope);
        RowSource { builds, seek }
    }

    pub(crate) fn is_scan(&self) -> bool {
        self.seek.is_none()
    }

    /// `SELECT s.build_key, <cols> FROM <table> s ... <and>`; the build comes first.
    fn sql(&self, table: &str, cols: &str, and: &str) -> (String, Vec<Value>) {
        match self.seek {
            None => (
                format!("SELECT s.build_key, {cols} FROM {table} s WHERE 1 = 1{and}"),
                Vec::new(),
            ),
            Some(scope) => {
                let (filter, args) = scope.where_clause();
                (
                    format!(
                        "SELECT s.build_key, {cols} FROM builds b
                         JOIN build_keys k ON k.id = b.id
                         JOIN {table} s ON s.build_key = k.key WHERE {filter}{and}"
                    ),
                    args,
                )
            }
        }
    }

    /// The build key of a row (column 0), None for a build outside the selection.
    fn key(&self, r: &rusqlite::Row<'_>, last: &mut LastBuild) -> Result<Option<u32>> {
        let stored = r.get_ref(0)?.as_i64()?;
        // Rows come clustered by build: look the key up once per build, not per row.
        if last.stored != Some(stored) {
            last.stored = Some(stored);
            last.key = u32::try_from(stored)
                .ok()
                .filter(|k| self.builds.contains_key(k));
        }
        Ok(last.key)
    }
}

/// The build of the previous row of a scan.
#[derive(Default)]
struct LastBuild {
    stored: Option<i64>,
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
