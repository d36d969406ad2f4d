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
    // A `COPY --link` merge builds on its own copy first: when the copy ran, so did the merge
    // because of it, and the two are one re-run, not two.
    if step.is_link_merge() {
        out.extend(build.steps.iter().find(|s| {
            s.is_instruction() && s.same_stage(step) && s.stage_index == step.stage_index
        }));
    }
    // Of a `COPY --link` (two steps of one index), the merge: the copy itself is made on scratch.
    let previous = build
        .steps
        .iter()
        .filter(|s| s.builds_the_stage() && s.same_stage(step) && s.stage_index < step.stage_index)
        .max_by_key(|s| (s.stage_index, s.is_link_merge()));
    match previous {
        Some(p) => {
            out.push(p);
            // Plain logs print a `COPY --link` and its merge as one step. When that step hit
            // but what it was merged onto ran, the merge ran all the same: what is below it
            // counts as below this step too (rawjson shows the merge as a step of its own).
            if !p.ran() && is_link_copy(p) && !has_merge(build, p) {
                let below = predecessors(build, graph, p);
                out.extend(below.into_iter().next().filter(|b| b.ran()));
            }
        }
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
        .find(|s| &s.digest == first && s.builds_the_stage())
}

/// A `COPY --link` (or `ADD --link`) instruction, not its merge.
fn is_link_copy(step: &WStep) -> bool {
    step.is_instruction()
        && step
            .instruction
            .split_whitespace()
            .skip(1)
            .take_while(|w| w.starts_with("--"))
            .any(|w| w == "--link" || w == "--link=true")
}

/// Whether the build shows the merge of `copy` as a step of its own (rawjson, not plain).
fn has_merge(build: &WBuild, copy: &WStep) -> bool {
    build
        .steps
        .iter()
        .any(|s| s.is_link_merge() && s.same_stage(copy) && s.stage_index == copy.stage_index)
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

#[cfg(test)]
mod link_tests {
    use super::*;

    fn step(seq: u32, index: u32, instruction: &str, kind: &str, outcome: &str) -> WStep {
        WStep {
            seq,
            digest: format!("sha256:{seq:02}"),
            name: format!("[final {index}/3] {instruction}"),
            kind: kind.into(),
            instruction: instruction.into(),
            stage: Some("final".into()),
            stage_index: Some(index),
            platform: None,
            outcome: outcome.into(),
            lazy: false,
            duration_ns: 1_000_000,
            error: None,
            inputs: Vec::new(),
        }
    }

    /// `COPY --link src /app` whose files changed: the copy ran, and the merge ran because of it
    /// (the step before both hit). The merge builds on its copy, and the step after builds on
    /// the merge, not on the copy (made on scratch).
    #[test]
    fn a_link_merge_builds_on_its_copy_and_the_next_step_on_the_merge() {
        let build = WBuild {
            id: "b".into(),
            at: 0,
            branch: None,
            steps: vec![
                step(1, 1, "WORKDIR /app", "WORKDIR", "cached"),
                step(2, 2, "COPY --link src /app", "COPY", "executed"),
                step(3, 2, "LINK COPY --link src /app", "other", "executed"),
                step(4, 3, "RUN make", "RUN", "executed"),
            ],
        };
        let seqs = |s: &WStep| -> Vec<u32> {
            predecessors(&build, None, s)
                .iter()
                .map(|p| p.seq)
                .collect()
        };
        assert_eq!(
            seqs(&build.steps[2]),
            vec![2, 1],
            "merge: its copy, then the step before"
        );
        assert_eq!(seqs(&build.steps[3]), vec![3], "the next step: the merge");
        assert_eq!(seqs(&build.steps[1]), vec![1]);
        assert!(build.steps[2].ran() && build.steps[2].is_link_merge());
    }
}
