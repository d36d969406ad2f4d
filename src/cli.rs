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
