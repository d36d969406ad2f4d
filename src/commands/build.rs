//! `buildprof build`: build through the Docker Engine API with a live progress line, store
//! the build with its labels, and say clearly why it could not run or failed.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use collector::live::engine::explain_failure;
use collector::live::{interrupt, BuildRequest, Engine};
use collector::model::{Build, BuildStatus};
use reports::contract::BuildJson;

use super::record::store_capture;
use super::{capture_options, open_store, print};
use crate::capture_view::CaptureView;
use crate::cli_live::{BuildArgs, BuildOptions};
use crate::engine_build::{build_once, runtime, source_of};
use crate::labels::parse_labels;

pub fn run(db: &Path, args: BuildArgs) -> Result<ExitCode> {
    let labels = parse_labels(&args.labels)?;
    let options = capture_options(&args.capture)?;
    let mut request = request_of(&args.options, &args.context)?;
    request.no_cache = args.no_cache;
    request.cache_from = args.cache_from.clone();
    request.tags = args.tags.clone();
    interrupt::install()?;
    let rt = runtime()?;
    let engine = rt.block_on(Engine::connect())?;
    let mut store = open_store(db)?;
    let view = CaptureView::new(!args.quiet && std::io::stderr().is_terminal(), "building");
    let built = rt.block_on(build_once(
        &engine,
        &request,
        &options,
        Some(view.observer()),
    ));
    view.finish();
    let built = built?;
    if built.interrupted {
        eprintln!("interrupted: the build was canceled and not stored");
        return Ok(ExitCode::from(130));
    }
    let source = source_of(&engine, &request);
    let lines = store_capture(&mut store, &built.capture, &labels, &source)?;
    let Some(build) = built.build() else {
        anyhow::bail!(
            "the engine sent no build progress ({} bytes)",
            built.capture.bytes
        );
    };
    if args.json {
        let id = build.id.clone();
        let row = store.build_row(&id)?;
        print(&(serde_json::to_string_pretty(&BuildJson::from(&row))? + "\n"))?;
    } else {
        for l in &lines {
            print(&format!("{l}\n"))?;
        }
    }
    if build.status == BuildStatus::Succeeded {
        return Ok(ExitCode::SUCCESS);
    }
    let why = explain_failure(build).unwrap_or_else(|| failure_line(build));
    eprintln!("error: {why}");
    Ok(ExitCode::from(1))
}

/// `step: error`, or the build's own error, on one line.
fn failure_line(b: &Build) -> String {
    let first = |s: &str| s.lines().next().unwrap_or("").trim().to_string();
    match (b.failed_step(), &b.error) {
        (Some(s), _) => format!(
            "build {}: {} failed: {}",
            b.status.as_str(),
            s.name,
            first(s.error.as_deref().or(b.error.as_deref()).unwrap_or("error"))
        ),
        (None, Some(e)) => format!("build {}: {}", b.status.as_str(), first(e)),
        (None, None) => format!("build {}", b.status.as_str()),
    }
}

/// The request for the options shared by `build` and `experiment`.
pub(crate) fn request_of(o: &BuildOptions, context: &Path) -> Result<BuildRequest> {
    let mut build_args = Vec::new();
    for a in &o.build_args {
        match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => build_args.push((k.to_string(), v.to_string())),
            None if !a.is_empty() => {
                // Like docker: `--build-arg KEY` takes the value from the environment, if set.
                if let Ok(v) = std::env::var(a) {
                    build_args.push((a.clone(), v));
                }
            }
            _ => anyhow::bail!("--build-arg {a:?} is not KEY=VALUE"),
        }
    }
    Ok(BuildRequest {
        context: context.to_path_buf(),
        dockerfile: o.file.clone(),
        target: o.target.clone(),
        build_args,
        network: o.network.clone(),
        ..BuildRequest::default()
    })
}
