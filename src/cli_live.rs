//! The command line of the live commands: `record`, `build` and `experiment` (clap), kept apart
//! from `cli.rs` so that file stays the index of commands.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::cli::{CaptureArgs, FormatArg};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The command runs without a shell, with its output passed through unchanged; \
                  buildprof exits with the command's own exit code (128 + N when a signal N \
                  ended it; 127 when it cannot be started). A failed build is recorded too. \
                  Use --progress=plain or --progress=rawjson so there is progress to record.\n\n\
                  Example: buildprof record --label branch=main -- docker buildx build --progress=plain ."
)]
pub struct RecordArgs {
    /// A label for the recorded build (repeatable), e.g. `--label strategy=max`.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Progress format the command prints; `auto` sniffs it.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// Do not print the one-line summary to stderr after the command.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub capture: CaptureArgs,
    /// The build command and its arguments, after `--`.
    #[arg(last = true, required = true, num_args = 1.., value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// Options shared by `build` and `experiment`: what to build, as `docker build` takes them.
#[derive(Debug, Clone, clap::Args)]
pub struct BuildOptions {
    /// Dockerfile, relative to the working directory (default CONTEXT/Dockerfile).
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Stage to build.
    #[arg(long)]
    pub target: Option<String>,
    /// A build argument (repeatable); `KEY` alone takes the value from the environment.
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// Network mode for RUN steps (`default`, `none`, `host`).
    #[arg(long, value_name = "MODE")]
    pub network: Option<String>,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Talks to the engine at DOCKER_HOST (default unix:///var/run/docker.sock) with \
                  BuildKit (`POST /build?version=2`). Exit code: 0 when the build succeeded, 1 \
                  when it failed (it is still stored) or the engine could not be used, 130 on Ctrl-C."
)]
pub struct BuildArgs {
    /// A label for the stored build (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub options: BuildOptions,
    /// Do not use the build cache.
    #[arg(long)]
    pub no_cache: bool,
    /// An image to use as a cache source (repeatable).
    #[arg(long = "cache-from", value_name = "IMAGE")]
    pub cache_from: Vec<String>,
    /// Name and tag the image (repeatable).
    #[arg(short = 't', long = "tag", value_name = "NAME:TAG")]
    pub tags: Vec<String>,
    /// No progress display; only the summary line.
    #[arg(long)]
    pub quiet: bool,
    /// Print the stored build as JSON (the `buildprof builds --json` object) instead of a line.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub capture: CaptureArgs,
    /// The build context directory.
    #[arg(default_value = ".", value_name = "CONTEXT")]
    pub context: PathBuf,
}

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
    /// A label for every build of the experiment (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
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
