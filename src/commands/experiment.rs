//! `buildprof experiment`: load the variants, run the matrix against the engine (or as build
//! commands), and print the per-variant medians (a table, or JSON with `--json`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use analyzer::experiment::ExperimentMedians;
use anyhow::Result;
use live::build::parse_build_args;
use live::experiment::spec::Overrides;
use live::experiment::Experiment;
use reports::render::terminal::error_line::one_line;
use reports::render::terminal::experiment::experiment_summary;

use super::{open_store, print, print_json, progress_wanted};
use crate::args::{BuildOptions, CaptureArgs};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Variants: the built-ins `cold` (builder cache pruned before each build), \
                  `warm` (cache kept) and `inline-cache` (build with BUILDKIT_INLINE_CACHE=1, \
                  prune, rebuild with --cache-from that image), or NAME:OPTION,... with options \
                  cold, inline-cache, no-cache, cache-from=IMAGE, build-arg=K=V, target=T, \
                  file=DOCKERFILE, touch=PATH, append=PATH. Whole build commands and `before` \
                  commands go in a --spec TOML file (see docs/ci.md, \"Experiments\").\n\n\
                  Example: buildprof experiment --variant cold --variant warm --reps 3 --network none ."
)]
pub struct ExperimentArgs {
    /// A TOML file with the experiment's defaults and variants.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// A variant (repeatable; after those of --spec): a built-in name or NAME:OPTION,...
    #[arg(long = "variant", value_name = "SPEC")]
    pub variants: Vec<String>,
    /// Repetitions of each variant (default 3, or the spec's).
    #[arg(short = 'n', long)]
    pub reps: Option<u32>,
    /// Experiment id for the `experiment` label (default exp-<UTC time>).
    #[arg(long)]
    pub id: Option<String>,
    #[command(flatten)]
    pub options: BuildOptions,
    /// No progress display.
    #[arg(long)]
    pub quiet: bool,
    /// Print the per-variant medians as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub capture: CaptureArgs,
    /// The build context directory (default the spec's, else `.`).
    #[arg(value_name = "CONTEXT")]
    pub context: Option<PathBuf>,
}

pub fn run(db: &Path, args: ExperimentArgs) -> Result<ExitCode> {
    let overrides = Overrides {
        id: args.id,
        reps: args.reps,
        context: args.context,
        dockerfile: args.options.file,
        target: args.options.target,
        network: args.options.network,
        build_args: parse_build_args(&args.options.build_args)?,
        labels: args.capture.labels()?,
        variants: args.variants,
    };
    let experiment = Experiment::prepare(args.spec.as_deref(), overrides)?;
    let mut store = open_store(db)?;
    if !args.quiet {
        eprintln!("{}", experiment.describe());
    }
    let visible = progress_wanted(args.quiet);
    let run = experiment.run(&mut store, args.capture.options()?, visible, args.quiet);
    let mut medians =
        ExperimentMedians::of(&experiment.id, &experiment.variant_names(), &run.recorded);
    medians.interrupted = run.interrupted;
    match args.json {
        true => print_json(&medians)?,
        false => print(&experiment_summary(
            &medians,
            run.recorded.len(),
            run.planned,
        ))?,
    }
    if let Some(e) = &run.error {
        eprintln!("error: {}", one_line(e.as_ref()));
    }
    for line in run.failure_lines() {
        eprintln!("error: {line}");
    }
    Ok(ExitCode::from(run.exit_code()))
}
