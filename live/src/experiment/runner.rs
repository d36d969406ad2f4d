//! `Runner`: runs an experiment's matrix, interleaved (A B A B ...) so that drift (a warming
//! disk, a busy neighbour) hits every variant alike, and stores every build with the labels
//! `experiment`, `variant` and `rep`. Ctrl-C stops after canceling the build in flight (which
//! is not stored); everything recorded before stays. Files changed for the experiment are put
//! back as they were at the end.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::{interrupt, CaptureConfig, CommandOutput, Engine, RecordedCommand};
use anyhow::{anyhow, bail, Context, Result};
use collector::assemble::AssembleOptions;
use collector::model::{Build, BuildStatus};
use collector::store::{SourceInfo, Store};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::spec::{EngineVariant, FileChange, Spec, Variant, VariantKind};
use crate::build::{build_once, source_of};
use crate::inputs::{hash_cache_beside, InputsRequest};
use crate::view::CaptureView;

/// What an experiment run produced.
pub struct ExperimentRun {
    /// (variant, stored build) in run order.
    pub recorded: Vec<(String, Build)>,
    pub planned: usize,
    pub interrupted: bool,
    /// What stopped the experiment early, if anything did.
    pub error: Option<anyhow::Error>,
}

/// A variant some of whose builds did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedVariant {
    pub variant: String,
    pub failed: usize,
    pub recorded: usize,
    /// The first such build's error (or status), on one line.
    pub first_error: String,
}

impl ExperimentRun {
    /// The variants with builds that did not succeed, in the order of their first build.
    pub fn failed_variants(&self) -> Vec<FailedVariant> {
        let mut out: Vec<FailedVariant> = Vec::new();
        for (variant, build) in &self.recorded {
            let i = match out.iter().position(|f| &f.variant == variant) {
                Some(i) => i,
                None => {
                    out.push(FailedVariant {
                        variant: variant.clone(),
                        failed: 0,
                        recorded: 0,
                        first_error: String::new(),
                    });
                    out.len() - 1
                }
            };
            let f = &mut out[i];
            f.recorded += 1;
            if build.status != BuildStatus::Succeeded {
                f.failed += 1;
                if f.first_error.is_empty() {
                    f.first_error = crate::build::failure_reason(build);
                }
            }
        }
        out.retain(|f| f.failed > 0);
        out
    }

    /// What `buildprof experiment` says on stderr of the variants whose builds did not all
    /// succeed (nothing when the run stopped on an error: that error says more).
    pub fn failure_lines(&self) -> Vec<String> {
        if self.error.is_some() {
            return Vec::new();
        }
        let lines = self.failed_variants().into_iter().map(|f| {
            format!(
                "variant {}: {} of {} builds did not succeed; the first: {}",
                f.variant, f.failed, f.recorded, f.first_error
            )
        });
        lines.collect()
    }

    /// The exit code of `buildprof experiment`: 130 when interrupted, 1 when it stopped on an
    /// error or a variant's builds did not all succeed, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.error.is_some() {
            1
        } else if self.interrupted {
            130
        } else {
            u8::from(!self.failed_variants().is_empty())
        }
    }
}

pub struct Runner<'a> {
    pub spec: &'a Spec,
    pub id: &'a str,
    pub engine: Option<&'a Engine>,
    pub rt: &'a tokio::runtime::Runtime,
    pub store: &'a mut Store,
    pub visible: bool,
    /// No per-build lines either (`--quiet`).
    pub quiet: bool,
    /// Redaction and log limits for every build stored.
    pub options: AssembleOptions,
}

/// A file's content and time before the experiment changed it.
struct Saved {
    path: PathBuf,
    bytes: Vec<u8>,
    modified: Option<SystemTime>,
}

impl Runner<'_> {
    pub fn run(mut self) -> ExperimentRun {
        let plan: Vec<(usize, u32)> = (1..=self.spec.reps)
            .flat_map(|rep| (0..self.spec.variants.len()).map(move |v| (v, rep)))
            .collect();
        let multi = MultiProgress::new();
        let overall = if self.visible {
            multi.add(ProgressBar::new(plan.len() as u64))
        } else {
            ProgressBar::hidden()
        };
        overall.set_style(
            ProgressStyle::with_template(
                "experiment {prefix} [{bar:30}] {pos}/{len} builds, {elapsed} elapsed, ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        overall.set_prefix(self.id.to_string());
        let view = CaptureView::in_multi(&multi, self.visible, "");
        let mut report = ExperimentRun {
            recorded: Vec::new(),
            planned: plan.len(),
            interrupted: false,
            error: None,
        };
        let saved = match self.save_changed_files() {
            Ok(s) => s,
            Err(e) => {
                report.error = Some(e);
                return report;
            }
        };
        for (vi, rep) in plan {
            if interrupt::requested() {
                report.interrupted = true;
                break;
            }
            let variant = &self.spec.variants[vi];
            overall.set_message(format!("{} rep {rep}", variant.name));
            view.reset(&format!("{} #{rep}", variant.name));
            match self.run_one(variant, rep, &view) {
                Ok(Some(build)) => {
                    if !self.quiet {
                        view.println(&build_line(&variant.name, rep, &build));
                    }
                    report.recorded.push((variant.name.clone(), build));
                    overall.inc(1);
                }
                Ok(None) => {
                    report.interrupted = true;
                    break;
                }
                Err(e) => {
                    report.error = Some(e.context(format!("variant {} rep {rep}", variant.name)));
                    break;
                }
            }
        }
        view.finish();
        overall.finish_and_clear();
        if let Err(e) = restore(&saved) {
            let e = e.context("could not restore the files the experiment changed");
            report.error = Some(match report.error.take() {
                Some(first) => first.context(format!("{e:#}")),
                None => e,
            });
        }
        report
    }

    fn changed_path(&self, c: &FileChange) -> PathBuf {
        self.spec.context.join(c.path())
    }

    fn save_changed_files(&self) -> Result<Vec<Saved>> {
        let mut saved: Vec<Saved> = Vec::new();
        for v in &self.spec.variants {
            let Some(c) = &v.change else { continue };
            let path = self.changed_path(c);
            if saved.iter().any(|s| s.path == path) {
                continue;
            }
            let bytes = std::fs::read(&path)
                .with_context(|| format!("variant {}: cannot read {}", v.name, path.display()))?;
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            saved.push(Saved {
                path,
                bytes,
                modified,
            });
        }
        Ok(saved)
    }

    /// Runs one build of the matrix; `None` when Ctrl-C stopped it (nothing stored).
    fn run_one(&mut self, v: &Variant, rep: u32, view: &CaptureView) -> Result<Option<Build>> {
        if let Some(c) = &v.change {
            apply_change(&self.changed_path(c), c, self.id, &v.name, rep)?;
        }
        if let Some(argv) = &v.before {
            view.set_message(&format!("before: {}", argv.join(" ")));
            let cmd = RecordedCommand {
                argv: argv.iter().map(Into::into).collect(),
                env: Vec::new(),
                cwd: Some(self.spec.context.clone()),
            };
            let (status, tail) = cmd
                .run_plain()
                .with_context(|| format!("cannot run the before command {}", argv[0]))?;
            if interrupt::requested() {
                return Ok(None);
            }
            if !status.success() {
                bail!(
                    "the before command `{}` failed ({status}): {}",
                    argv.join(" "),
                    last_line(&tail)
                );
            }
        }
        let request = self.inputs_for(v);
        let inputs = (!request.is_empty()).then(|| request.start(self.options.redactor.clone()));
        let build = match &v.kind {
            VariantKind::Engine(e) => self.engine_build(v, e, view)?,
            VariantKind::Command { argv, env } => self.command_build(argv, env, view)?,
        };
        let Some((build, wall_ns)) = build else {
            return Ok(None);
        };
        let mut labels = self.spec.labels.clone();
        labels.extend(v.labels.iter().cloned());
        labels.push(("experiment".into(), self.id.to_string()));
        labels.push(("variant".into(), v.name.clone()));
        labels.push(("rep".into(), rep.to_string()));
        let mut builds = [build];
        let source = SourceInfo {
            capture_wall_ns: Some(wall_ns),
            ..SourceInfo::now(builds[0].source.clone(), 0)
        };
        for stored in self.store.insert_labelled(&mut builds, &labels, &source) {
            stored?;
        }
        let [build] = builds;
        if let Some(job) = inputs {
            let mut inputs = job.finish();
            if let Some(engine) = self.engine {
                for b in &mut inputs.base_images {
                    b.id = self.rt.block_on(engine.image_id(&b.reference));
                }
            }
            // Inputs are for `why`; an experiment build stays stored when they cannot be.
            if let Err(e) = self.store.insert_inputs(&build.id, &inputs) {
                eprintln!(
                    "warning: the inputs of build {} were not stored: {e}",
                    build.id
                );
            }
        }
        Ok(Some(build))
    }

    /// The inputs of variant `v`'s build: the spec's context, Dockerfile and build args with the
    /// variant's own, or what a command variant's `docker build` line names (from the workdir).
    fn inputs_for(&self, v: &Variant) -> InputsRequest {
        match &v.kind {
            VariantKind::Engine(e) => {
                let mut args: Vec<(String, String)> = self.spec.build_args.clone();
                for (k, val) in &e.build_args {
                    args.retain(|(bk, _)| bk != k);
                    args.push((k.clone(), val.clone()));
                }
                InputsRequest {
                    context: Some(self.spec.context.clone()),
                    dockerfile: e
                        .dockerfile
                        .clone()
                        .or_else(|| self.spec.dockerfile.clone()),
                    build_args: args.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                    hash_cache: Some(hash_cache_beside(Path::new(self.store.path()))),
                    ..InputsRequest::default()
                }
            }
            VariantKind::Command { argv, .. } => {
                let mut r = InputsRequest::default();
                r.complete_from(&argv.iter().map(Into::into).collect::<Vec<_>>());
                // Command variants run in the spec's context: their paths are relative to it.
                let workdir = &self.spec.context;
                r.context = r.context.map(|c| workdir.join(c));
                r.dockerfile = r.dockerfile.map(|f| workdir.join(f));
                r.hash_cache = Some(hash_cache_beside(Path::new(self.store.path())));
                r
            }
        }
    }

    fn engine_build(
        &self,
        v: &Variant,
        e: &EngineVariant,
        view: &CaptureView,
    ) -> Result<Option<(Build, i64)>> {
        let engine = self.engine.ok_or_else(|| anyhow!("no engine connected"))?;
        let mut req = crate::BuildRequest {
            context: self.spec.context.clone(),
            dockerfile: e
                .dockerfile
                .clone()
                .or_else(|| self.spec.dockerfile.clone()),
            target: e.target.clone().or_else(|| self.spec.target.clone()),
            build_args: self.spec.build_args.clone(),
            no_cache: e.no_cache,
            cache_from: e.cache_from.clone(),
            tags: vec![image_tag(self.id, &v.name)],
            network: self.spec.network.clone(),
        };
        for (k, val) in &e.build_args {
            req.build_args.retain(|(bk, _)| bk != k);
            req.build_args.push((k.clone(), val.clone()));
        }
        if e.prune || e.inline_cache {
            view.set_message("pruning the builder cache");
            self.rt.block_on(engine.prune_build_cache())?;
        }
        if e.inline_cache {
            // The image that carries the inline cache, then a cold builder that imports it.
            req.build_args
                .push(("BUILDKIT_INLINE_CACHE".into(), "1".into()));
            let setup = self.rt.block_on(build_once(
                engine,
                &req,
                &self.options,
                Some(view.observer()),
            ))?;
            if setup.interrupted {
                return Ok(None);
            }
            match setup.build() {
                Some(b) if b.status == BuildStatus::Succeeded => {}
                Some(b) => bail!(
                    "the inline-cache setup build {}: {}",
                    b.status.as_str(),
                    b.error.as_deref().unwrap_or("no error text")
                ),
                None => bail!("the inline-cache setup build sent no progress"),
            }
            view.reset(&format!("{} (rebuild)", v.name));
            view.set_message("pruning the builder cache");
            self.rt.block_on(engine.prune_build_cache())?;
            req.cache_from.push(image_tag(self.id, &v.name));
        }
        let built = self.rt.block_on(build_once(
            engine,
            &req,
            &self.options,
            Some(view.observer()),
        ))?;
        if built.interrupted {
            return Ok(None);
        }
        let mut build = built
            .build()
            .cloned()
            .ok_or_else(|| anyhow!("the engine sent no build progress"))?;
        build.source = source_of(engine, &req);
        Ok(Some((build, capture_wall(&built.capture))))
    }

    fn command_build(
        &self,
        argv: &[String],
        env: &[(String, String)],
        view: &CaptureView,
    ) -> Result<Option<(Build, i64)>> {
        let cmd = RecordedCommand {
            argv: argv.iter().map(Into::into).collect(),
            env: env.iter().map(|(k, v)| (k.into(), v.into())).collect(),
            cwd: Some(self.spec.context.clone()),
        };
        let config = CaptureConfig {
            source: self
                .options
                .redactor
                .apply(&format!("record: {}", cmd.display())),
            format: None,
            options: self.options.clone(),
        };
        let run = cmd
            .run(CommandOutput::Discard, config, Some(view.observer()))
            .with_context(|| format!("cannot run {}", argv[0]))?;
        if interrupt::requested() {
            return Ok(None);
        }
        match run.capture.builds.last() {
            Some(b) => Ok(Some((b.clone(), capture_wall(&run.capture)))),
            None => bail!(
                "`{}` printed no BuildKit progress (exit {}; use --progress=plain or rawjson): {}",
                cmd.display(),
                run.exit_code(),
                last_line(&run.tail)
            ),
        }
    }
}

/// The wall time of a live capture: the command's run, or the Engine API call.
fn capture_wall(c: &crate::capture::CaptureOutcome) -> i64 {
    c.finished_at - c.started_at
}

/// "max rep 2: 3f2a9c0e1b7d succeeded, 4 executed, 9 cached, 3.21s".
fn build_line(variant: &str, rep: u32, build: &Build) -> String {
    let c = build.counts();
    format!(
        "{variant} rep {rep}: {} {}, {} executed, {} cached{}",
        &build.id[..12.min(build.id.len())],
        build.status.as_str(),
        c.executed,
        c.cached + c.pulled,
        build
            .duration_ns
            .map(|d| format!(", {:.2}s", d as f64 / 1e9))
            .unwrap_or_default()
    )
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

/// `buildprof-experiment/<variant>:<id>`, lowercased to what image references allow.
fn image_tag(id: &str, variant: &str) -> String {
    let clean = |s: &str, keep: &str| -> String {
        s.chars()
            .map(|c| {
                let c = c.to_ascii_lowercase();
                if c.is_ascii_alphanumeric() || keep.contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let tag: String = clean(id, "_.-").chars().take(120).collect();
    format!(
        "buildprof-experiment/{}:{}",
        clean(variant, "_.-").trim_matches(|c| "_.-".contains(c)),
        tag.trim_start_matches(['.', '-'])
    )
}

fn apply_change(path: &Path, c: &FileChange, id: &str, variant: &str, rep: u32) -> Result<()> {
    match c {
        FileChange::Touch(_) => {
            let f = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .with_context(|| format!("cannot touch {}", path.display()))?;
            f.set_modified(SystemTime::now())
                .with_context(|| format!("cannot touch {}", path.display()))?;
        }
        FileChange::Append { text, .. } => {
            use std::io::Write;
            let text = text
                .replace("{experiment}", id)
                .replace("{variant}", variant)
                .replace("{rep}", &rep.to_string());
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .with_context(|| format!("cannot append to {}", path.display()))?;
            f.write_all(text.as_bytes())
                .with_context(|| format!("cannot append to {}", path.display()))?;
        }
    }
    Ok(())
}

fn restore(saved: &[Saved]) -> Result<()> {
    for s in saved {
        std::fs::write(&s.path, &s.bytes)
            .with_context(|| format!("cannot restore {}", s.path.display()))?;
        if let Some(t) = s.modified {
            let f = std::fs::OpenOptions::new().append(true).open(&s.path)?;
            f.set_modified(t)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tags_are_valid_references() {
        assert_eq!(
            image_tag("exp-20261122-043000", "Inline-Cache"),
            "buildprof-experiment/inline-cache:exp-20261122-043000"
        );
        assert_eq!(image_tag("a b", "x"), "buildprof-experiment/x:a-b");
    }

    #[test]
    fn append_then_restore_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "one\n").unwrap();
        let saved = vec![Saved {
            path: p.clone(),
            bytes: b"one\n".to_vec(),
            modified: None,
        }];
        let c = FileChange::Append {
            path: "a.txt".into(),
            text: "# {variant} {rep}\n".into(),
        };
        apply_change(&p, &c, "e", "v", 2).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "one\n# v 2\n");
        restore(&saved).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "one\n");
    }
}
