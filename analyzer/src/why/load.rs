//! Reading what `why` compares, straight from SQLite (one build's steps, the reference build
//! of a step, a build's recorded inputs); indexed lookups, so a team database of millions of
//! steps answers in milliseconds.

use std::collections::HashMap;

use collector::store::inputs::{read_inputs, StoredInputs};
use rusqlite::{params, Connection, OptionalExtension};

use crate::Result;

/// One step as `why` needs it.
#[derive(Debug, Clone)]
pub(crate) struct WStep {
    pub seq: u32,
    pub digest: String,
    pub name: String,
    pub kind: String,
    pub instruction: String,
    pub stage: Option<String>,
    pub stage_index: Option<u32>,
    /// A multi-platform build runs each stage once per platform.
    pub platform: Option<String>,
    pub outcome: String,
    pub lazy: bool,
    pub duration_ns: i64,
    pub error: Option<String>,
    pub inputs: Vec<String>,
}

impl WStep {
    pub fn hit(&self) -> bool {
        matches!(self.outcome.as_str(), "cached" | "pulled")
    }

    /// An instruction other than `FROM` that ran, or the merge of a `COPY --link` that ran (the
    /// stage below it changed): the steps that can be busts.
    pub fn ran(&self) -> bool {
        self.builds_the_stage() && matches!(self.outcome.as_str(), "executed" | "failed")
    }

    /// `LINK COPY ...`: the merge that puts a `COPY --link` layer on its stage. What the next
    /// instruction of the stage builds on is the merge, not the copy (made on scratch).
    pub fn is_link_merge(&self) -> bool {
        collector::model::is_link_merge(&self.instruction)
    }

    /// An instruction, or a `COPY --link` merge: the steps a stage's filesystem is made of.
    pub fn builds_the_stage(&self) -> bool {
        self.is_instruction() || self.is_link_merge()
    }

    /// Whether `other` is in the same stage (and platform).
    pub fn same_stage(&self, other: &WStep) -> bool {
        self.stage == other.stage && self.platform == other.platform
    }

    pub fn is_instruction(&self) -> bool {
        self.kind.chars().all(|c| c.is_ascii_uppercase()) && self.kind != "FROM"
    }
}

/// A build, its steps and what identifies its scope.
#[derive(Debug, Clone)]
pub(crate) struct WBuild {
    pub id: String,
    /// `started_at`, or when it was ingested for logs without times.
    pub at: i64,
    pub branch: Option<String>,
    pub steps: Vec<WStep>,
}

pub(crate) fn load_build(conn: &Connection, id: &str) -> Result<Option<WBuild>> {
    let head = conn
        .prepare_cached(
            "SELECT COALESCE(b.started_at, b.ingested_at),
                    (SELECT value FROM labels l WHERE l.build_id = b.id AND l.key = 'branch')
             FROM builds b WHERE b.id = ?1",
        )?
        .query_row([id], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?)))
        .optional()?;
    let Some((at, branch)) = head else {
        return Ok(None);
    };
    let mut inputs: HashMap<u32, Vec<String>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT seq, input FROM step_inputs WHERE build_id = ?1 ORDER BY seq, pos",
    )?;
    for row in stmt.query_map([id], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))? {
        let (seq, input) = row?;
        inputs.entry(seq).or_default().push(input);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT seq, digest, name, kind, instruction, stage, stage_index, outcome, lazy_miss,
                duration_ns, error, platform
         FROM steps WHERE build_id = ?1 ORDER BY seq",
    )?;
    let steps = stmt
        .query_map([id], |r| {
            Ok(WStep {
                seq: r.get(0)?,
                digest: r.get(1)?,
                name: r.get(2)?,
                kind: r.get(3)?,
                instruction: r.get(4)?,
                stage: r.get(5)?,
                stage_index: r.get(6)?,
                outcome: r.get(7)?,
                lazy: r.get(8)?,
                duration_ns: r.get(9)?,
                error: r.get(10)?,
                platform: r.get(11)?,
                inputs: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .map(|mut s| {
            s.inputs = inputs.remove(&s.seq).unwrap_or_default();
            s
        })
        .collect();
    Ok(Some(WBuild {
        id: id.to_string(),
        at,
        branch,
        steps,
    }))
}

/// Where a step identity last hit before a build: that build and the step there.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub build_id: String,
    pub seq: u32,
    pub instruction: String,
    pub digest: String,
    /// The step hit there (otherwise no earlier build had it hit, and it ran there too).
    pub hit: bool,
    /// The build's time (start, else when stored).
    pub at: i64,
}

const SCOPE: &str = "COALESCE(b.started_at, b.ingested_at) < ?3 AND b.id <> ?4
     AND (?5 IS NULL OR EXISTS (SELECT 1 FROM labels l WHERE l.build_id = b.id AND l.key = 'branch' AND l.value = ?5))";

/// The most recent earlier build of `build`'s scope in which the step `(stage, instruction)`
/// hit; failing that, one in which the step at the same `[stage i/n]` position hit (its
/// instruction then differs); failing both, the most recent earlier build that had the step
/// at all (by identity, then position), which is still evidence of what changed.
pub(crate) fn reference(
    conn: &Connection,
    build: &WBuild,
    step: &WStep,
) -> Result<Option<Reference>> {
    for hit in [true, false] {
        if let Some(r) = reference_where(conn, build, step, hit, true)? {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

/// The most recent earlier build of the scope that ran the step (same stage and instruction).
pub(crate) fn latest_run(
    conn: &Connection,
    build: &WBuild,
    step: &WStep,
) -> Result<Option<Reference>> {
    reference_where(conn, build, step, false, false)
}

fn reference_where(
    conn: &Connection,
    build: &WBuild,
    step: &WStep,
    hit: bool,
    by_position: bool,
) -> Result<Option<Reference>> {
    let outcome = if hit {
        "s.outcome IN ('cached', 'pulled')"
    } else {
        "s.outcome IN ('executed', 'failed')"
    };
    let row = |r: &rusqlite::Row<'_>| {
        Ok(Reference {
            build_id: r.get(0)?,
            seq: r.get(1)?,
            instruction: r.get(2)?,
            digest: r.get(3)?,
            hit,
            at: r.get(4)?,
        })
    };
    let by_identity = format!(
        "SELECT s.build_id, s.seq, s.instruction, s.digest, COALESCE(b.started_at, b.ingested_at)
         FROM builds b CROSS JOIN steps s ON s.build_id = b.id
         WHERE s.stage IS ?1 AND s.instruction = ?2 AND {SCOPE} AND {outcome}
         ORDER BY COALESCE(b.started_at, b.ingested_at) DESC LIMIT 1"
    );
    let args = params![
        step.stage,
        step.instruction,
        build.at,
        build.id,
        build.branch
    ];
    if let Some(r) = conn
        .prepare_cached(&by_identity)?
        .query_row(args, row)
        .optional()?
    {
        return Ok(Some(r));
    }
    let Some(index) = step.stage_index.filter(|_| by_position) else {
        return Ok(None);
    };
    let by_position = format!(
        "SELECT s.build_id, s.seq, s.instruction, s.digest, COALESCE(b.started_at, b.ingested_at)
         FROM builds b CROSS JOIN steps s ON s.build_id = b.id
         WHERE s.stage IS ?1 AND s.stage_index = ?2 AND s.kind = ?6 AND {SCOPE} AND {outcome}
         ORDER BY COALESCE(b.started_at, b.ingested_at) DESC LIMIT 1"
    );
    let args = params![
        step.stage,
        index,
        build.at,
        build.id,
        build.branch,
        step.kind
    ];
    Ok(conn
        .prepare_cached(&by_position)?
        .query_row(args, row)
        .optional()?)
}

/// Recorded inputs per build, read once each.
#[derive(Default)]
pub(crate) struct InputsCache(HashMap<String, Option<StoredInputs>>);

impl InputsCache {
    pub fn get(&mut self, conn: &Connection, id: &str) -> Result<Option<&StoredInputs>> {
        if !self.0.contains_key(id) {
            let read = read_inputs(conn, id)?;
            self.0.insert(id.to_string(), read);
        }
        Ok(self.0.get(id).and_then(Option::as_ref))
    }
}

/// Steps of a build, by seq, loaded once each (reference builds).
#[derive(Default)]
pub(crate) struct BuildCache(HashMap<String, Option<WBuild>>);

impl BuildCache {
    pub fn get(&mut self, conn: &Connection, id: &str) -> Result<Option<&WBuild>> {
        if !self.0.contains_key(id) {
            let b = load_build(conn, id)?;
            self.0.insert(id.to_string(), b);
        }
        Ok(self.0.get(id).and_then(Option::as_ref))
    }
}
