//! Why did it miss: the cause of every step of a build that ran, compared with the most recent
//! earlier build of its scope (same `branch` label when it has one) in which that step hit.
//!
//! A step that ran while a step it builds on ran too (its predecessor, its stage's base, a
//! stage it copies or mounts from) is `upstream_changed` and its time is charged to the root
//! cause it descends from. Every other step that ran is a root: [`cause`] decides why, with
//! its evidence. `cost_ms` of a root is the re-run time it caused (its own and its
//! descendants'); of an `upstream_changed` step, its own time.

mod breakdown;
mod cause;
mod graph;
mod load;

use std::collections::HashMap;

use collector::inputs::tree::ChangedFile;
use collector::model::cache_import_ref;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::{AnalyzeError, Result};
pub use breakdown::{cause_breakdown, cause_key, CauseBreakdown, CauseShare, StepCause};
use load::{BuildCache, InputsCache, WBuild};

/// Changed files listed per bust at most; the rest are counted.
pub const MAX_FILES: usize = 20;

/// The fixed vocabulary of causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    InstructionChanged,
    BaseImageChanged,
    BuildArgChanged,
    SourceFilesChanged,
    UpstreamChanged,
    CacheUnavailable,
    Unknown,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::InstructionChanged => "instruction_changed",
            Cause::BaseImageChanged => "base_image_changed",
            Cause::BuildArgChanged => "build_arg_changed",
            Cause::SourceFilesChanged => "source_files_changed",
            Cause::UpstreamChanged => "upstream_changed",
            Cause::CacheUnavailable => "cache_unavailable",
            Cause::Unknown => "unknown",
        }
    }
}

/// The answer of `buildprof why BUILD`.
#[derive(Debug, Clone, Serialize)]
pub struct Why {
    pub build_id: String,
    /// The build the costliest root cause was compared with.
    pub compared_with: Option<Compared>,
    /// Costliest first.
    pub busts: Vec<WhyBust>,
    /// Cache imports of the build that failed: `{ref, error}`.
    pub import_failures: Vec<ImportFailure>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Compared {
    pub build_id: String,
    pub started_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportFailure {
    #[serde(rename = "ref")]
    pub reference: String,
    pub error: String,
}

/// One step that ran, with its cause.
#[derive(Debug, Clone, Serialize)]
pub struct WhyBust {
    /// The instruction (`COPY src /app`).
    pub step: String,
    pub stage: Option<String>,
    pub seq: u32,
    pub cause: Cause,
    /// `cache_unavailable`: `cold_builder`, `import_failed`, `lazy_miss`, `evicted`; otherwise
    /// a sentence (for `unknown`, the evidence that is missing).
    pub detail: Option<String>,
    /// `source_files_changed`: sorted, at most [`MAX_FILES`].
    pub changed_files: Vec<ChangedFile>,
    /// Changed files beyond those listed.
    pub more_changed_files: u32,
    /// `cache_unavailable`: the evidence, in a sentence.
    pub note: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    /// `build_arg_changed`: the names.
    pub args: Vec<String>,
    /// Re-run time it caused (a root: its own and its descendants'; otherwise its own).
    pub cost_ms: i64,
    pub duration_ms: i64,
    /// `upstream_changed`: the seq of the root cause it descends from.
    pub caused_by: Option<u32>,
    /// The build its evidence was compared with.
    pub compared_with: Option<String>,
}

/// A root cause as [`cause::root_cause`] found it.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub cause: Cause,
    pub detail: Option<String>,
    pub changed_files: Vec<ChangedFile>,
    pub more_files: u32,
    pub before: Option<String>,
    pub after: Option<String>,
    pub args: Vec<String>,
    pub note: Option<String>,
    pub compared_with: Option<String>,
}

impl Found {
    fn new(cause: Cause) -> Found {
        Found {
            cause,
            detail: None,
            changed_files: Vec::new(),
            more_files: 0,
            before: None,
            after: None,
            args: Vec::new(),
            note: None,
            compared_with: None,
        }
    }

    fn change(cause: Cause, before: &str, after: &str) -> Found {
        Found {
            before: Some(before.to_string()),
            after: Some(after.to_string()),
            ..Found::new(cause)
        }
    }

    fn cache(detail: &str, sentence: &str) -> Found {
        Found {
            detail: Some(detail.to_string()),
            note: Some(sentence.to_string()),
            ..Found::new(Cause::CacheUnavailable)
        }
    }

    fn unknown(missing: &str) -> Found {
        Found {
            detail: Some(missing.to_string()),
            ..Found::new(Cause::Unknown)
        }
    }
}

/// The caches build `b` imported without error, with the build's `cache_mode` label when it has
/// one (`REF, mode=min, which exports only the final stage's layers`); `None` when it imported
/// none.
fn imported_caches(conn: &Connection, b: &WBuild) -> Result<Option<String>> {
    let refs: Vec<&str> = b
        .steps
        .iter()
        .filter(|s| s.kind == "cache_import" && s.error.is_none())
        .map(|s| cache_import_ref(&s.name).unwrap_or(&s.name))
        .collect();
    if refs.is_empty() {
        return Ok(None);
    }
    let mode: Option<String> = conn
        .prepare_cached("SELECT value FROM labels WHERE build_id = ?1 AND key = 'cache_mode'")?
        .query_row([&b.id], |r| r.get(0))
        .optional()?;
    Ok(Some(collector::model::imported_caches_phrase(
        &refs,
        mode.as_deref(),
    )))
}

/// The causes of every step of build `id` (a full id) that ran, costliest first; `step`
/// narrows to one step (`#seq`, its name, or its instruction).
pub fn why_build(conn: &Connection, id: &str, step: Option<&str>) -> Result<Why> {
    let build = load::load_build(conn, id)?.ok_or_else(|| AnalyzeError::NoSuchBuild(id.into()))?;
    let mut all_inputs = InputsCache::default();
    let inputs = all_inputs.get(conn, id)?.cloned();
    let graph = inputs.as_ref().and_then(|i| i.graph.clone());
    let import_errors: Vec<(String, String)> = build
        .steps
        .iter()
        .filter(|s| s.kind == "cache_import")
        .filter_map(|s| {
            let r = cache_import_ref(&s.name).unwrap_or(&s.name);
            s.error.clone().map(|e| (r.to_string(), e))
        })
        .collect();
    let imported = imported_caches(conn, &build)?;
    let cold = !build.steps.iter().any(|s| s.is_instruction() && s.hit());
    let mut builds = BuildCache::default();
    let mut roots: HashMap<u32, (Found, u32)> = HashMap::new();
    let mut parent: HashMap<u32, u32> = HashMap::new();
    for s in build.steps.iter().filter(|s| s.ran()) {
        // A lazy miss matched its cache key (nothing upstream changed): a cause of its own. Not
        // so a `COPY --link` merge reported cached that ran because its copy did (R15).
        let preds = graph::predecessors(&build, graph.as_ref(), s);
        let own_cause = s.lazy && !s.is_link_merge();
        if let Some(p) = preds.iter().find(|p| p.ran()).filter(|_| !own_cause) {
            parent.insert(s.seq, p.seq);
            continue;
        }
        let (reference, latest) = if own_cause {
            (None, None)
        } else {
            (
                load::reference(conn, &build, s)?,
                load::latest_run(conn, &build, s)?,
            )
        };
        let mut ctx = cause::Ctx {
            conn,
            build: &build,
            inputs: inputs.as_ref(),
            builds: &mut builds,
            all_inputs: &mut all_inputs,
            cold,
            import_errors: &import_errors,
            imported: imported.as_deref(),
        };
        let found = cause::root_cause(&mut ctx, s, reference.as_ref(), latest.as_ref())?;
        roots.insert(s.seq, (found, s.seq));
    }
    let mut busts = assemble(&build, &roots, &parent);
    if let Some(filter) = step {
        busts.retain(|b| matches_step(&build, b, filter));
        if busts.is_empty() {
            return Err(AnalyzeError::Invalid(format!(
                "no step of build {} matching {filter:?} ran (see `buildprof show {}`)",
                cause::short(id),
                cause::short(id)
            )));
        }
    }
    let compared_with = busts
        .iter()
        .find(|b| b.cause != Cause::UpstreamChanged && b.compared_with.is_some())
        .and_then(|b| b.compared_with.clone())
        .map(|c| compared(conn, &c))
        .transpose()?;
    Ok(Why {
        build_id: id.to_string(),
        compared_with,
        busts,
        import_failures: import_errors
            .into_iter()
            .map(|(reference, error)| ImportFailure { reference, error })
            .collect(),
    })
}

/// One build's busts ([`crate::busts::build_busts`]) with the causes `why` gives its steps
/// ([`why_build`]): what `busts BUILD` shows.
#[derive(Debug, Clone)]
pub struct BustsWhy {
    pub busts: crate::busts::BuildBusts,
    pub why: Why,
}

impl BustsWhy {
    /// The busts of build `id` (a full id) and the causes of its steps that ran. A bust whose
    /// step re-ran only because a step it builds on ran, in another bust's chain, is folded into
    /// that bust: in a plain log a `FROM deps AS test` stage after `deps` re-ran looks like a
    /// chain of its own, and only the Dockerfile's stage graph (recorded with the build's
    /// inputs, which `why` reads) links the two.
    pub fn of(conn: &Connection, id: &str) -> Result<BustsWhy> {
        let mut both = BustsWhy {
            busts: crate::busts::build_busts(conn, id)?,
            why: why_build(conn, id, None)?,
        };
        both.fold_upstream();
        Ok(both)
    }

    fn fold_upstream(&mut self) {
        let upstream = |w: &WhyBust| (w.cause == Cause::UpstreamChanged).then_some(w.caused_by)?;
        let list = &mut self.busts.busts;
        let mut i = 0;
        while i < list.len() {
            let root = self
                .why
                .busts
                .iter()
                .find(|w| w.seq == list[i].seq)
                .and_then(upstream);
            let into = root.and_then(|r| list.iter().position(|b| b.seq == r));
            match into {
                Some(j) if j != i => {
                    let folded = list.remove(i);
                    let j = if j > i { j - 1 } else { j };
                    list[j].reran_steps += folded.reran_steps;
                    list[j].rerun_ms += folded.rerun_ms;
                }
                _ => i += 1,
            }
        }
        list.sort_by(|a, b| b.rerun_ms.total_cmp(&a.rerun_ms));
    }

    /// `why`'s entry for the step `seq`, when it has one.
    pub fn cause_of(&self, seq: u32) -> Option<&WhyBust> {
        self.why.busts.iter().find(|w| w.seq == seq)
    }
}

/// `busts BUILD --json`: [`crate::busts::build_busts`] with each bust's cause from
/// [`why_build`] under `why` (null when `why` has no entry for its step).
pub fn busts_with_causes(conn: &Connection, id: &str) -> Result<serde_json::Value> {
    busts_json(&BustsWhy::of(conn, id)?)
}

/// [`busts_with_causes`] of busts and causes already found.
pub fn busts_json(both: &BustsWhy) -> Result<serde_json::Value> {
    let (busts, why) = (&both.busts, &both.why);
    let mut value =
        serde_json::to_value(busts).map_err(|e| AnalyzeError::Invalid(e.to_string()))?;
    if let Some(list) = value.get_mut("busts").and_then(|b| b.as_array_mut()) {
        for b in list {
            let seq = b.get("seq").and_then(|s| s.as_u64());
            let cause = why.busts.iter().find(|w| Some(w.seq as u64) == seq);
            let cause =
                serde_json::to_value(cause).map_err(|e| AnalyzeError::Invalid(e.to_string()))?;
            if let Some(obj) = b.as_object_mut() {
                obj.insert("why".into(), cause);
            }
        }
    }
    Ok(value)
}

fn compared(conn: &Connection, id: &str) -> Result<Compared> {
    let at: Option<i64> = conn
        .prepare_cached("SELECT started_at FROM builds WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    Ok(Compared {
        build_id: id.to_string(),
        started_at: at.map(collector::time::format_rfc3339),
    })
}

/// The root a step descends from (following the first upstream step that ran).
fn root_of(seq: u32, parent: &HashMap<u32, u32>) -> u32 {
    let mut at = seq;
    for _ in 0..=parent.len() {
        match parent.get(&at) {
            Some(p) => at = *p,
            None => break,
        }
    }
    at
}

fn assemble(
    build: &WBuild,
    roots: &HashMap<u32, (Found, u32)>,
    parent: &HashMap<u32, u32>,
) -> Vec<WhyBust> {
    let ms = |ns: i64| (ns as f64 / 1e6).round() as i64;
    let mut cost: HashMap<u32, i64> = HashMap::new();
    for s in build.steps.iter().filter(|s| s.ran()) {
        *cost.entry(root_of(s.seq, parent)).or_default() += s.duration_ns;
    }
    let mut out: Vec<WhyBust> = build
        .steps
        .iter()
        .filter(|s| s.ran())
        .map(|s| {
            let own = ms(s.duration_ns);
            let base = WhyBust {
                step: s.instruction.clone(),
                stage: s.stage.clone(),
                seq: s.seq,
                cause: Cause::UpstreamChanged,
                detail: None,
                changed_files: Vec::new(),
                more_changed_files: 0,
                note: None,
                before: None,
                after: None,
                args: Vec::new(),
                cost_ms: own,
                duration_ms: own,
                caused_by: None,
                compared_with: None,
            };
            match roots.get(&s.seq) {
                Some((f, _)) => WhyBust {
                    cause: f.cause,
                    detail: f.detail.clone(),
                    changed_files: f.changed_files.clone(),
                    more_changed_files: f.more_files,
                    note: f.note.clone(),
                    before: f.before.clone(),
                    after: f.after.clone(),
                    args: f.args.clone(),
                    cost_ms: ms(cost.get(&s.seq).copied().unwrap_or(0)),
                    compared_with: f.compared_with.clone(),
                    ..base
                },
                None => {
                    let root = root_of(s.seq, parent);
                    let name = build
                        .steps
                        .iter()
                        .find(|r| r.seq == root)
                        .map(|r| r.instruction.clone());
                    WhyBust {
                        caused_by: Some(root),
                        detail: name.map(|n| format!("builds on #{root} `{n}`, which ran")),
                        ..base
                    }
                }
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let root = |x: &WhyBust| x.cause == Cause::UpstreamChanged;
        root(a)
            .cmp(&root(b))
            .then(b.cost_ms.cmp(&a.cost_ms))
            .then(a.seq.cmp(&b.seq))
    });
    out
}

fn matches_step(build: &WBuild, b: &WhyBust, filter: &str) -> bool {
    if let Some(n) = filter.strip_prefix('#') {
        return n.parse::<u32>().ok() == Some(b.seq);
    }
    let name = build
        .steps
        .iter()
        .find(|s| s.seq == b.seq)
        .map(|s| s.name.as_str());
    b.step == filter || name == Some(filter) || b.step.contains(filter)
}
