//! The command line: the global options, the index of commands, and the dispatch to them. Each
//! command's arguments live beside its code in `commands/`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::commands::{
    build, builds, busts, compare, demo, experiment, export, ingest, merge, metrics, record,
    report, show, steps, summary, synth, trends, why,
};

#[derive(Debug, Parser)]
#[command(
    name = "buildprof",
    version,
    about = "Build-time analytics and cache-hit profiler for Docker BuildKit",
    long_about = "Records BuildKit builds (rawjson, plain logs, Engine API streams, .dockerbuild exports) \
                  into SQLite with per-step timing and cache outcomes, and answers which cache strategy pays off.\n\n\
                  Exit codes: 0 success, 1 error (bad input, database problem), 2 usage error."
)]
pub struct Cli {
    /// SQLite database to use (created if missing).
    #[arg(
        long,
        global = true,
        env = "BUILDPROF_DB",
        default_value = "buildprof.db"
    )]
    pub db: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read BuildKit progress from files or stdin and store the builds.
    Ingest(ingest::IngestArgs),
    /// List stored builds.
    Builds(builds::BuildsArgs),
    /// Show one build step by step.
    Show(show::ShowArgs),
    /// Run the main job on the bundled sample traces, in a throwaway database.
    Demo(demo::DemoArgs),
    /// Compare groups of builds by a label (strategy, builder, branch, ...) with statistics.
    Compare(compare::CompareArgs),
    /// Per step across builds: runs, hit rate, pulled share, duration, total time, trend.
    Steps(steps::StepsArgs),
    /// Per week or day: builds, failures, wall time, hit ratio, time saved and lost to busts.
    Trends(trends::TrendsArgs),
    /// Where the cache busted: in one build, or the instructions that bust it most.
    Busts(busts::BustsArgs),
    /// Why each step of a build that ran missed the cache: the changed file, arg, base image.
    Why(why::WhyArgs),
    /// Per-build metrics: hit ratios, savings, pulls, cache I/O, critical path, parallelism.
    Metrics(metrics::MetricsArgs),
    /// Write a synthetic build history (for benchmarks) into --db, labelled synthetic=true.
    Synth(synth::SynthArgs),
    /// Write the weekly report (HTML, Markdown, JSON) with charts into a folder.
    Report(report::ReportArgs),
    /// Print one build's summary as Markdown for a CI job page ($GITHUB_STEP_SUMMARY).
    Summary(summary::SummaryArgs),
    /// Run a build command, pass its output through unchanged, and store the build it prints.
    Record(record::RecordArgs),
    /// Build through the Docker Engine API, showing progress, and store the build.
    Build(build::BuildArgs),
    /// Run a matrix of build variants x repetitions against the engine and store every build.
    Experiment(experiment::ExperimentArgs),
    /// Merge job databases (CI artifacts) into a team database; merging twice adds nothing.
    Merge(merge::MergeArgs),
    /// Export builds as Parquet/CSV/JSON Lines files, or as OpenTelemetry traces over OTLP/HTTP.
    Export(export::ExportArgs),
}

impl Cli {
    /// Runs the command given.
    pub fn run(self) -> Result<ExitCode> {
        let db = self.db.as_path();
        match self.command {
            Command::Ingest(args) => ingest::run(db, args),
            Command::Builds(args) => builds::run(db, args),
            Command::Show(args) => show::run(db, args),
            Command::Demo(args) => demo::run(args),
            Command::Compare(args) => compare::run(db, args),
            Command::Steps(args) => steps::run(db, args),
            Command::Trends(args) => trends::run(db, args),
            Command::Busts(args) => busts::run(db, args),
            Command::Why(args) => why::run(db, args),
            Command::Metrics(args) => metrics::run(db, args),
            Command::Synth(args) => synth::run(db, args),
            Command::Report(args) => report::run(db, args),
            Command::Summary(args) => summary::run(db, args),
            Command::Record(args) => record::run(db, args),
            Command::Build(args) => build::run(db, args),
            Command::Experiment(args) => experiment::run(db, args),
            Command::Merge(args) => merge::run(args),
            Command::Export(args) => export::run(db, args),
        }
    }
}
