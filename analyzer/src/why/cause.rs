//! The root cause of one bust (a step that ran although everything it builds on hit), from
//! the evidence of the build and of its reference build (where the step last hit): the
//! instruction text, the stage's base image digest, the build args the step uses, the
//! context files under its sources; else the cache itself (lazy miss, cold builder, failed
//! import, eviction), else `unknown` naming the missing evidence.

use collector::inputs::dockerfile::StageGraph;
use collector::inputs::tree::source_covers;
use collector::store::inputs::{diff_manifests, StoredInputs};
use rusqlite::Connection;

use super::graph::{first_in_stage, from_step, image_of, instruction_of, stage_of};
use super::load::{BuildCache, InputsCache, Reference, WBuild, WStep};
use super::{Cause, Found, MAX_FILES};
use crate::Result;

/// What the root-cause decision reads.
pub(crate) struct Ctx<'a> {
    pub conn: &'a Connection,
    pub build: &'a WBuild,
    pub inputs: Option<&'a StoredInputs>,
    pub builds: &'a mut BuildCache,
    pub all_inputs: &'a mut InputsCache,
    /// No instruction of the build hit the cache.
    pub cold: bool,
    /// Failed cache imports: (ref, error).
    pub import_errors: &'a [(String, String)],
    /// The caches the build imported without error, as a phrase (`REF, mode=min, which ...`).
    pub imported: Option<&'a str>,
}

/// `reference`: where the step last hit (else last ran); `latest_run`: the latest earlier
/// build of the scope that ran it.
pub(crate) fn root_cause(
    ctx: &mut Ctx<'_>,
    step: &WStep,
    reference: Option<&Reference>,
    latest_run: Option<&Reference>,
) -> Result<Found> {
    let graph = ctx.inputs.and_then(|i| i.graph.as_ref());
    if step.lazy {
        return Ok(Found::cache(
            "lazy_miss",
            "reported cached, then ran: the imported cache lacked its layers (typical of mode=min)",
        ));
    }
    let Some(r) = reference else {
        return Ok(cold(ctx).unwrap_or_else(|| {
            Found::unknown("no earlier build in its scope in which this step hit the cache")
        }));
    };
    let Some(found) = change_since(ctx, step, r)? else {
        return Ok(Found::unknown("the compared build is gone"));
    };
    if let Some(mut f) = found {
        // A change already there in a later build that ran the step too is not why it ran now.
        let seen_before = match latest_run.filter(|l| l.at > r.at) {
            Some(l) => matches!(change_since(ctx, step, l)?, Some(None)),
            None => false,
        };
        if !seen_before {
            f.compared_with = Some(r.build_id.clone());
            return Ok(f);
        }
        if let Some(mut c) = cold(ctx) {
            c.compared_with = latest_run.map(|l| l.build_id.clone());
            return Ok(c);
        }
        f.compared_with = Some(r.build_id.clone());
        return Ok(f);
    }
    let r_inputs = ctx.all_inputs.get(ctx.conn, &r.build_id)?.cloned();
    let mut f = cold(ctx)
        .or_else(|| base_unseen(ctx, r_inputs.as_ref(), step))
        .unwrap_or_else(|| {
            let now = (ctx.inputs, ctx.imported);
            evicted_or_unknown(now, r_inputs.as_ref(), graph, step, r)
        });
    f.compared_with = Some(r.build_id.clone());
    Ok(f)
}

/// What changed for `step` since build `r` (`Some(None)`: nothing seen); `None` when `r` is gone.
fn change_since(ctx: &mut Ctx<'_>, step: &WStep, r: &Reference) -> Result<Option<Option<Found>>> {
    let graph = ctx.inputs.and_then(|i| i.graph.as_ref());
    let rb = ctx.builds.get(ctx.conn, &r.build_id)?.cloned();
    let Some(rb) = rb else {
        return Ok(None);
    };
    let r_inputs = ctx.all_inputs.get(ctx.conn, &r.build_id)?.cloned();
    let r_graph = r_inputs.as_ref().and_then(|i| i.graph.as_ref());
    let r_step = rb.steps.iter().find(|s| s.seq == r.seq).cloned();
    let mut found = instruction_change(graph, r_graph, step, r_step.as_ref(), r)
        .or_else(|| base_change((ctx.build, ctx.inputs), (&rb, r_inputs.as_ref()), step))
        .or_else(|| arg_change(ctx.inputs, r_inputs.as_ref(), graph, step));
    if found.is_none() {
        found = source_change(ctx, r_inputs.as_ref(), graph, step)?;
    }
    Ok(Some(found))
}

/// A build without a single hit: its cache import failed, or the builder had no cache.
fn cold(ctx: &Ctx<'_>) -> Option<Found> {
    if !ctx.cold {
        return None;
    }
    Some(match ctx.import_errors.first() {
        Some((r, e)) => Found::cache(
            "import_failed",
            &format!("cache import of {r} failed: {e}; this build ran cold"),
        ),
        None => Found::cache(
            "cold_builder",
            "no step hit the cache anywhere in this build: the builder had no cache for it",
        ),
    })
}

fn instruction_change(
    graph: Option<&StageGraph>,
    r_graph: Option<&StageGraph>,
    step: &WStep,
    r_step: Option<&WStep>,
    r: &Reference,
) -> Option<Found> {
    let now = instruction_of(graph, step);
    let then = r_step.and_then(|s| instruction_of(r_graph, s));
    if let (Some(a), Some(b)) = (then, now) {
        return (a.text != b.text)
            .then(|| Found::change(Cause::InstructionChanged, &a.text, &b.text));
    }
    (r.instruction != step.instruction)
        .then(|| Found::change(Cause::InstructionChanged, &r.instruction, &step.instruction))
}

fn base_change(
    (build, now_inputs): (&WBuild, Option<&StoredInputs>),
    (rb, then_inputs): (&WBuild, Option<&StoredInputs>),
    step: &WStep,
) -> Option<Found> {
    let graph = now_inputs.and_then(|i| i.graph.as_ref());
    let r_graph = then_inputs.and_then(|i| i.graph.as_ref());
    if !first_in_stage(build, step) {
        return None;
    }
    let now = from_step(build, graph, step)?;
    let then = from_step(rb, r_graph, step)?;
    let (a, b) = (image_of(then), image_of(now));
    if a != b {
        return Some(Found::change(Cause::BaseImageChanged, &a, &b));
    }
    // Local images: the progress names no digest; the recorded image ids may differ.
    let id = |i: Option<&StoredInputs>| {
        let stage = step.stage.as_deref()?;
        let b = i?.base_images.iter().find(|b| b.stage == stage)?;
        Some(format!("{}@{}", b.reference, b.id.clone()?))
    };
    match (id(then_inputs), id(now_inputs)) {
        (Some(x), Some(y)) if x != y => Some(Found::change(Cause::BaseImageChanged, &x, &y)),
        _ => None,
    }
}

/// The first step of a stage built from an image whose digest neither the progress nor the
/// recorded inputs give: a base image change cannot be ruled out.
fn base_unseen(ctx: &Ctx<'_>, then: Option<&StoredInputs>, step: &WStep) -> Option<Found> {
    let graph = ctx.inputs.and_then(|i| i.graph.as_ref());
    if !first_in_stage(ctx.build, step) {
        return None;
    }
    let from = from_step(ctx.build, graph, step)?;
    if image_of(from).contains("@sha256:") {
        return None;
    }
    let stage = step.stage.as_deref()?;
    let known = |i: Option<&StoredInputs>| {
        i.is_some_and(|i| {
            i.base_images
                .iter()
                .any(|b| b.stage == stage && b.id.is_some())
        })
    };
    (!known(ctx.inputs) || !known(then)).then(|| {
        Found::unknown(&format!(
            "the base image {} has no digest in the progress and its image id was not recorded: a base image change cannot be ruled out",
            image_of(from)
        ))
    })
}

fn arg_change(
    now: Option<&StoredInputs>,
    then: Option<&StoredInputs>,
    graph: Option<&StageGraph>,
    step: &WStep,
) -> Option<Found> {
    let (now, then) = (now?, then?);
    let mut used: Vec<String> = instruction_of(graph, step)?.args_used.clone();
    if let Some(stage) = stage_of(graph, step) {
        if stage.base_stage.is_none() {
            used.extend(stage.from_args.iter().cloned());
        }
    }
    let arg = |i: &StoredInputs, n: &str| i.args.iter().find(|a| a.name == n).cloned();
    let changed: Vec<String> = used
        .into_iter()
        .filter(|n| arg(now, n).map(|a| a.value_hash) != arg(then, n).map(|a| a.value_hash))
        .collect();
    let first = changed.first()?;
    let value = |i: &StoredInputs| {
        arg(i, first)
            .and_then(|a| a.value.map(|v| format!("{first}={v}")))
            .unwrap_or_else(|| first.clone())
    };
    let mut f = Found::change(Cause::BuildArgChanged, &value(then), &value(now));
    f.detail = Some(format!("build arg {} changed", changed.join(", ")));
    f.args = changed;
    Some(f)
}

/// Context paths the step reads: from the Dockerfile, else from a printed `COPY`/`ADD`.
fn sources_of(graph: Option<&StageGraph>, step: &WStep) -> Option<Vec<String>> {
    if let Some(i) = instruction_of(graph, step) {
        return Some(i.sources.clone());
    }
    if !matches!(step.kind.as_str(), "COPY" | "ADD") || step.instruction.contains("--from=") {
        return Some(Vec::new());
    }
    let mut words: Vec<String> = step
        .instruction
        .split_whitespace()
        .skip(1)
        .filter(|w| !w.starts_with("--"))
        .map(str::to_string)
        .collect();
    words.pop();
    Some(words)
}

fn source_change(
    ctx: &mut Ctx<'_>,
    then: Option<&StoredInputs>,
    graph: Option<&StageGraph>,
    step: &WStep,
) -> Result<Option<Found>> {
    let sources = sources_of(graph, step).unwrap_or_default();
    if sources.is_empty() {
        return Ok(None);
    }
    let roots = (
        then.and_then(|i| i.context_root.clone()),
        ctx.inputs.and_then(|i| i.context_root.clone()),
    );
    let (Some(before), Some(after)) = roots else {
        return Ok(Some(Found::unknown(&missing_manifest(ctx.inputs, then))));
    };
    let mut files: Vec<_> = diff_manifests(ctx.conn, &before, &after)?
        .into_iter()
        .filter(|c| sources.iter().any(|s| source_covers(s, &c.path)))
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    let more = files.len().saturating_sub(MAX_FILES);
    files.truncate(MAX_FILES);
    let mut f = Found::new(Cause::SourceFilesChanged);
    f.detail = Some(format!(
        "{} file{} under {} changed",
        files.len() + more,
        if files.len() + more == 1 { "" } else { "s" },
        sources.join(", ")
    ));
    f.changed_files = files;
    f.more_files = more as u32;
    Ok(Some(f))
}

fn missing_manifest(now: Option<&StoredInputs>, then: Option<&StoredInputs>) -> String {
    let which = match (
        now.and_then(|i| i.context_root.as_ref()),
        then.and_then(|i| i.context_root.as_ref()),
    ) {
        (None, _) => "this build",
        _ => "the compared build",
    };
    let note = [now, then]
        .into_iter()
        .flatten()
        .flat_map(|i| i.notes.iter())
        .next()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    format!(
        "no context manifest for {which}{note}: file changes cannot be seen (record it, or ingest with --context)"
    )
}

/// `now`: the build's inputs, and the caches it imported (see [`Ctx::imported`]).
fn evicted_or_unknown(
    (now, imported): (Option<&StoredInputs>, Option<&str>),
    then: Option<&StoredInputs>,
    graph: Option<&StageGraph>,
    step: &WStep,
    r: &Reference,
) -> Found {
    let same_digest = step.digest.starts_with("sha256:") && step.digest == r.digest;
    let complete = now.is_some() && then.is_some() && graph.is_some();
    if !r.hit {
        return Found::unknown(&format!(
            "no earlier build in its scope had this step hit; build {} ran it too, with the same instruction, base image, build args and files",
            short(&r.build_id)
        ));
    }
    if same_digest || complete {
        let why = if same_digest {
            "same cache key (vertex digest)"
        } else {
            "same instruction, base image, build args, files and upstream"
        };
        // A build that imported a cache found the step neither there nor in its builder: with
        // mode=min the imported cache never held it (only the final stage's layers are exported).
        let held = match imported {
            Some(caches) => {
                format!("neither the imported cache ({caches}) nor the builder's held it")
            }
            None => "the cache no longer held it".to_string(),
        };
        return Found::cache(
            "evicted",
            &format!(
                "{why} as in build {}, where it hit; yet it ran: {held}",
                short(&r.build_id)
            ),
        );
    }
    let missing = match (now, then) {
        (None, _) => "no inputs recorded for this build (record it, or ingest with --context/--file/--build-arg)",
        (_, None) => "no inputs recorded for the compared build",
        _ => "no Dockerfile recorded: which build args and files the step reads is unknown",
    };
    Found::unknown(missing)
}

pub(crate) fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The deps stage's `WORKDIR` of a mode=min build after a prune (the helper's black-box run
    /// on Docker 26.1, build ee8009168184): same digest as where it hit, yet it ran.
    fn workdir() -> (WStep, Reference) {
        let step = WStep {
            seq: 13,
            digest: "sha256:f83153196e02".into(),
            name: "[deps 2/5] WORKDIR /deps".into(),
            kind: "WORKDIR".into(),
            instruction: "WORKDIR /deps".into(),
            stage: Some("deps".into()),
            stage_index: Some(2),
            platform: None,
            outcome: "executed".into(),
            lazy: false,
            duration_ns: 12_000_000,
            error: None,
            inputs: Vec::new(),
        };
        let reference = Reference {
            build_id: "c44477155c92".into(),
            seq: 13,
            instruction: "WORKDIR /deps".into(),
            digest: "sha256:f83153196e02".into(),
            hit: true,
            at: 0,
        };
        (step, reference)
    }

    #[test]
    fn an_evicted_step_names_the_imported_cache_that_lacked_it() {
        let (step, r) = workdir();
        let min =
            "127.0.0.1:5077/proj:cache-min, mode=min, which exports only the final stage's layers";
        let f = evicted_or_unknown((None, Some(min)), None, None, &step, &r);
        assert_eq!(f.detail.as_deref(), Some("evicted"));
        assert_eq!(
            f.note.as_deref(),
            Some(
                "same cache key (vertex digest) as in build c44477155c92, where it hit; yet it ran: \
                 neither the imported cache (127.0.0.1:5077/proj:cache-min, mode=min, which exports \
                 only the final stage's layers) nor the builder's held it"
            )
        );
        let f = evicted_or_unknown((None, None), None, None, &step, &r);
        assert!(
            f.note
                .as_deref()
                .is_some_and(|n| n.ends_with("yet it ran: the cache no longer held it")),
            "{:?}",
            f.note
        );
    }
}
