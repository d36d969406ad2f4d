//! Scanning step rows out of SQLite into column vectors: [`RowSource`] (one sequential scan of
//! a per-step table, or per-build seeks for small selections), [`scan_part`] (one range of
//! builds into a [`Part`]) and the split of a large scan over two threads ([`Split`]).

use std::collections::HashMap;

use polars::prelude::*;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{params_from_iter, Connection};

use collector::model::{Outcome, StepKind};

use crate::codes::{kind, kind_code, outcome, outcome_code, row_key, split_ident, IDENT_SEP};
use crate::error::Result;
use crate::intern::Interner;
use crate::scope::Scope;

/// Which step rows and columns to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepSelect {
    /// Every step kind; otherwise only Dockerfile instructions other than `FROM`.
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

/// Which build ids a scan covers (a split of the table between two threads).
#[derive(Clone, Copy)]
pub(crate) enum Range<'a> {
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
pub(crate) struct Dicts {
    idents: Interner,
    stages: Interner,
    digests: Interner,
}

impl Dicts {
    pub(crate) fn as_mut(&mut self) -> DictsMut<'_> {
        DictsMut {
            idents: &mut self.idents,
            stages: &mut self.stages,
            digests: &mut self.digests,
        }
    }
}

pub(crate) struct DictsMut<'a> {
    pub(crate) idents: &'a mut Interner,
    pub(crate) stages: &'a mut Interner,
    pub(crate) digests: &'a mut Interner,
}

/// The steps (and first inputs) one scan read.
#[derive(Default)]
pub(crate) struct Part {
    steps: StepColumns,
    /// `build`, `seq`, first input digest id.
    parents: (Vec<u32>, Vec<u32>, Vec<u32>),
}

impl Part {
    /// Maps ids from `dicts` (the scan's own dictionaries) into `into`'s.
    pub(crate) fn remap(mut self, dicts: &mut Dicts, into: DictsMut<'_>) -> Part {
        let map = |from: &Interner, to: &mut Interner| -> Vec<u32> {
            (0..from.len() as u32)
                .map(|i| to.intern(from.name(i).as_bytes()))
                .collect()
        };
        let idents = map(&dicts.idents, into.idents);
        let stages = map(&dicts.stages, into.stages);
        let digests = map(&dicts.digests, into.digests);
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
// Long on purpose: one pass over the rows, appending to every column vector at once (the
// column-wise read is what keeps loading fast); split, the vectors would travel as arguments.
pub(crate) fn scan_part(
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

/// A content digest (`sha256:...`), or None for the vertex numbers (`#12`) plain logs without
/// digest lines are keyed by: those differ from build to build and identify nothing across builds.
fn real_digest(d: &[u8]) -> Option<&[u8]> {
    d.starts_with(b"sha256:").then_some(d)
}

/// Input edges (all, or only each step's first input).
pub(crate) fn load_inputs(
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
pub(crate) enum RowSource<'a> {
    Scan(PlHashMap<Box<[u8]>, u32>),
    Seek(&'a Scope),
}

impl<'a> RowSource<'a> {
    pub(crate) fn new(
        conn: &Connection,
        scope: &'a Scope,
        build_ids: &HashMap<u32, String>,
        force_scan: bool,
    ) -> Result<RowSource<'a>> {
        let total: i64 = conn.query_row("SELECT COUNT(*) FROM builds", [], |r| r.get(0))?;
        let selected = build_ids.len() as i64;
        // Seeking costs a B-tree descent per build and reads the table in build-id order
        // anyway, so a scan wins unless the selection is a small part of the history.
        if force_scan || selected * 4 >= total {
            let map = build_ids
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
