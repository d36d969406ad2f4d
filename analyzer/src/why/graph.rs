//! What a step depends on within its build: the previous instruction of its stage, the stage
//! it is built `FROM` (for its first instruction), and the stages it copies or mounts from.
//! The recorded Dockerfile's stage graph says it when there is one (plain logs carry no
//! vertex inputs); otherwise the step's own inputs and its `--from=` text.

use collector::inputs::dockerfile::{Instruction, Stage, StageGraph};

use super::load::{WBuild, WStep};

/// The Dockerfile instruction a step comes from (matched by stage and `[stage i/n]`).
pub(crate) fn instruction_of<'g>(
    graph: Option<&'g StageGraph>,
    step: &WStep,
) -> Option<&'g Instruction> {
    let stage = graph?.stage(step.stage.as_deref()?)?;
    stage.vertex(step.stage_index?)
}

pub(crate) fn stage_of<'g>(graph: Option<&'g StageGraph>, step: &WStep) -> Option<&'g Stage> {
    graph?.stage(step.stage.as_deref()?)
}

/// The last instruction step of `stage` (on `platform`) in the build: what others build on.
fn last_of_stage<'b>(
    build: &'b WBuild,
    stage: &str,
    platform: &Option<String>,
) -> Option<&'b WStep> {
    build
        .steps
        .iter()
        .filter(|s| {
            s.builds_the_stage() && s.stage.as_deref() == Some(stage) && &s.platform == platform
        })
        .max_by_key(|s| (s.stage_index, s.is_link_merge()))
}

/// Whether `step` is the first instruction of its stage after `FROM`.
pub(crate) fn first_in_stage(build: &WBuild, step: &WStep) -> bool {
    !build
        .steps
        .iter()
        .any(|s| s.is_instruction() && s.same_stage(step) && s.stage_index < step.stage_index)
}

/// The steps `step` builds on, in order: predecessor (or stage base), then stages it reads.
pub(crate) fn predecessors<'b>(
    build: &'b WBuild,
    graph: Option<&StageGraph>,
    step: &WStep,
) -> Vec<&'b WStep> {
    let mut out = Vec::new();
    // Of a `COPY --link` (two steps of one index), the merge: the copy itself is made on scratch.
    let previous = build
        .steps
        .iter()
        .filter(|s| s.builds_the_stage() && s.same_stage(step) && s.stage_index < step.stage_index)
        .max_by_key(|s| (s.stage_index, s.is_link_merge()));
    match previous {
        Some(p) => out.push(p),
        None => out.extend(stage_base(build, graph, step)),
    }
    let ins = instruction_of(graph, step);
    let mut from: Vec<String> = ins
        .map(|i| i.from_stage.iter().chain(&i.mount_from).cloned().collect())
        .unwrap_or_default();
    if ins.is_none() {
        from.extend(from_flag(&step.instruction));
    }
    for stage in from {
        out.extend(last_of_stage(build, &stage, &step.platform));
    }
    out
}

/// The step a stage's first instruction builds on: the last step of its base stage.
fn stage_base<'b>(
    build: &'b WBuild,
    graph: Option<&StageGraph>,
    step: &WStep,
) -> Option<&'b WStep> {
    if let Some(stage) = stage_of(graph, step) {
        return stage
            .base_stage
            .as_deref()
            .and_then(|b| last_of_stage(build, b, &step.platform));
    }
    let first = step.inputs.first()?;
    build
        .steps
        .iter()
        .find(|s| &s.digest == first && s.is_instruction())
}

/// `--from=NAME` in a printed `COPY`/`ADD`.
fn from_flag(instruction: &str) -> Option<String> {
    instruction
        .split_whitespace()
        .find_map(|w| w.strip_prefix("--from="))
        .map(|s| s.to_ascii_lowercase())
}

/// The `FROM` step of the stage `step` is in, when its base is an image.
pub(crate) fn from_step<'b>(
    build: &'b WBuild,
    graph: Option<&StageGraph>,
    step: &WStep,
) -> Option<&'b WStep> {
    let stage = step.stage.as_deref()?;
    let own = build.steps.iter().find(|s| {
        s.kind == "FROM" && s.stage.as_deref() == Some(stage) && s.platform == step.platform
    });
    if own.is_some() {
        return own;
    }
    // BuildKit v0.8 prints one FROM vertex for stages sharing an image, under one stage name.
    let base = stage_of(graph, step).filter(|s| s.base_stage.is_none())?;
    let image = base.base.split('@').next().unwrap_or("");
    let image = image.rsplit('/').next().unwrap_or(image);
    build
        .steps
        .iter()
        .find(|s| s.kind == "FROM" && !image.is_empty() && s.instruction.contains(image))
}

/// The `ref@sha256:...` a `FROM` step names, or its whole instruction.
pub(crate) fn image_of(from: &WStep) -> String {
    from.instruction
        .strip_prefix("FROM ")
        .unwrap_or(&from.instruction)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}
