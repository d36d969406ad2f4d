//! `buildprof build`: build through the Docker Engine API with a live progress line, store the
//! build with its labels, and say clearly why it could not run or failed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use collector::model::BuildStatus;
use export::contract::BuildJson;
use live::build::{build_and_store, failure_reason, request_for, BuildOutcome};
use reports::render::terminal::stored::recorded_lines;

use super::{open_store, print, print_json, progress_wanted, text};
use crate::args::{BuildOptions, CaptureArgs};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Talks to the engine at DOCKER_HOST (default unix:///var/run/docker.sock) with \
                  BuildKit (`POST /build?version=2`; on the containerd image store the context \
                  goes through a BuildKit session, as the Docker CLI sends it). Exit code: 0 when the build succeeded, 1 \
                  when it failed (it is still stored) or the engine could not be used, 130 on Ctrl-C."
)]
pub struct BuildArgs {
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

pub fn run(db: &Path, args: BuildArgs) -> Result<ExitCode> {
    let labels = args.capture.labels()?;
    let options = args.capture.options()?;
    let o = &args.options;
    let mut request = request_for(
        &args.context,
        o.file.as_deref(),
        o.target.as_deref(),
        &o.build_args,
        o.network.as_deref(),
    )?;
    request.no_cache = args.no_cache;
    request.cache_from = args.cache_from.clone();
    request.tags = args.tags.clone();
    let visible = progress_wanted(args.quiet);
    let inputs = live::inputs::InputsRequest::of_build(&request, db);
    let open = || open_store(db);
    let outcome = build_and_store(open, &request, &labels, &options, visible, inputs)?;
    let BuildOutcome::Stored(stored, store) = outcome else {
        eprintln!("interrupted: the build was canceled and not stored");
        return Ok(ExitCode::from(130));
    };
    let Some((build, _)) = stored.builds.last() else {
        anyhow::bail!("the engine sent no build progress");
    };
    if args.json {
        print_json(&BuildJson::from(&store.build_row(&build.id)?))?;
    } else {
        print(&text(recorded_lines(&stored)))?;
    }
    if build.status == BuildStatus::Succeeded {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("error: {}", failure_reason(build));
    Ok(ExitCode::from(1))
}
