//! The command line: every subcommand and option (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

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
    Ingest(IngestArgs),
    /// List stored builds.
    Builds(BuildsArgs),
    /// Show one build step by step.
    Show(ShowArgs),
    /// Run the main job on the bundled sample traces, in a throwaway database.
    Demo(DemoArgs),
    /// Compare groups of builds by a label (strategy, builder, branch, ...) with statistics.
    Compare(crate::cli_analysis::CompareArgs),
    /// Per step across builds: runs, hit rate, pulled share, duration, total time, trend.
    Steps(crate::cli_analysis::StepsArgs),
    /// Per week or day: builds, failures, wall time, hit ratio, time saved and lost to busts.
    Trends(crate::cli_analysis::TrendsArgs),
    /// Where the cache busted: in one build, or the instructions that bust it most.
    Busts(crate::cli_analysis::BustsArgs),
    /// Per-build metrics: hit ratios, savings, pulls, cache I/O, critical path, parallelism.
    Metrics(crate::cli_analysis::MetricsArgs),
    /// Write a synthetic build history (for benchmarks) into --db, labelled synthetic=true.
    Synth(crate::cli_analysis::SynthArgs),
    /// Write the weekly report (HTML, Markdown, JSON) with charts into a folder.
    Report(crate::cli_reports::ReportArgs),
    /// Print one build's summary as Markdown for a CI job page ($GITHUB_STEP_SUMMARY).
    Summary(crate::cli_reports::SummaryArgs),
    /// Run a build command, pass its output through unchanged, and store the build it prints.
    Record(crate::cli_live::RecordArgs),
    /// Build through the Docker Engine API, showing progress, and store the build.
    Build(crate::cli_live::BuildArgs),
    /// Run a matrix of build variants x repetitions against the engine and store every build.
    Experiment(crate::cli_live::ExperimentArgs),
    /// Merge job databases (CI artifacts) into a team database; merging twice adds nothing.
    Merge(crate::cli_team::MergeArgs),
    /// Export builds as Parquet/CSV/JSON Lines files, or as OpenTelemetry traces over OTLP/HTTP.
    Export(crate::cli_team::ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Auto,
    Rawjson,
    Plain,
    Moby,
    Dockerbuild,
}

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Files to read; `-` (or nothing, when stdin is not a terminal) reads stdin.
    pub inputs: Vec<String>,
    /// Input format; `auto` sniffs each input.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// A label to attach to every build read (repeatable), e.g. `--label strategy=max`.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Print one JSON object per stored build instead of a sentence.
    #[arg(long)]
    pub json: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub capture: CaptureArgs,
    /// Echo stdin to stdout unchanged as it arrives while ingesting it, as a live build
    /// (`docker build --progress=plain . 2>&1 | buildprof ingest - --tee`).
    #[arg(long)]
    pub tee: bool,
}

/// What is kept of a trace: secret redaction and the log cap (every command that stores builds).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CaptureArgs {
    /// Mask text matching this regular expression in everything stored (repeatable), on top of
    /// the built-in secret patterns.
    #[arg(long = "redact", value_name = "REGEX")]
    pub redact: Vec<String>,
    /// Turn off the built-in secret patterns (tokens in URLs, *_SECRET/*_TOKEN/*PASSWORD
    /// assignments, AWS/GitHub/GitLab/Slack tokens, Authorization headers, private keys).
    #[arg(long)]
    pub no_default_redactions: bool,
    /// Bytes of log text kept per step (its last lines); 0 keeps none. Line and byte counts are
    /// always kept.
    #[arg(long, value_name = "BYTES", default_value_t = 4096)]
    pub log_tail_bytes: usize,
}

#[derive(Debug, clap::Args)]
pub struct BuildsArgs {
    /// Only builds with this label (repeatable; all must match).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Only builds started since WHEN: `7d`, `24h`, `2024-05-01` or an RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// Only builds started before WHEN.
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many builds (the oldest first).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print a JSON array (see docs/json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Build id or a unique prefix of it (at least 4 characters).
    pub build: String,
    /// Print JSON (see docs/json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Folder of sample traces with a manifest.tsv giving each file's labels.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}
