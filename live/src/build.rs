//! One build through the Docker Engine API, decoded live as it streams ([`build_once`], shared
//! by `buildprof build` and experiments, with the async runtime they both use), and
//! [`build_and_store`], the whole of `buildprof build`.

use std::path::Path;

use anyhow::{Context, Result};
use collector::assemble::AssembleOptions;
use collector::model::{Build, Format};
use collector::store::Store;

use crate::capture::{CaptureOutcome, Observer};
use crate::engine::explain_failure;
use crate::inputs::InputsRequest;
use crate::record::{store_capture, store_inputs, Stored};
use crate::view::CaptureView;
use crate::{interrupt, BuildRequest, Capture, CaptureConfig, Engine, EngineError};

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) fn source_of(engine: &Engine, r: &BuildRequest) -> String {
    format!("engine: {} {}", engine.host(), r.context.display())
}

/// One Engine API build, captured.
pub(crate) struct Built {
    pub capture: CaptureOutcome,
    /// Ctrl-C canceled the build: nothing should be stored.
    pub interrupted: bool,
}

impl Built {
    /// The build (an Engine API stream carries one).
    pub fn build(&self) -> Option<&Build> {
        self.capture.builds.last()
    }
}

/// Runs one build through the engine and decodes it as it streams.
pub(crate) async fn build_once(
    engine: &Engine,
    request: &BuildRequest,
    options: &AssembleOptions,
    observe: Option<Observer>,
) -> Result<Built, EngineError> {
    let capture = Capture::start(
        CaptureConfig {
            source: format!("engine: {} {}", engine.host(), request.context.display()),
            format: Some(Format::Moby),
            options: options.clone(),
        },
        observe,
    );
    let sender = capture.sender();
    let result = engine.build(request, &sender).await;
    drop(sender);
    let mut outcome = tokio::task::spawn_blocking(move || capture.finish())
        .await
        .map_err(|e| EngineError::Api {
            message: format!("the decoder stopped: {e}"),
        })?;
    let interrupted = match result {
        Ok(()) => false,
        Err(EngineError::Interrupted) => true,
        Err(e) => return Err(e),
    };
    let builder = format!(
        "dockerd {} (Engine API {}, BuildKit)",
        engine.server_version(),
        engine.api_version()
    );
    for b in &mut outcome.builds {
        b.builder = Some(builder.clone());
    }
    Ok(Built {
        capture: outcome,
        interrupted,
    })
}

/// `--build-arg` values as `docker build` takes them: `KEY=VALUE`, or `KEY` alone for the value
/// of the environment variable `KEY` (left out when it is not set).
pub fn parse_build_args(args: &[String]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for a in args {
        match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => out.push((k.to_string(), v.to_string())),
            None if !a.is_empty() => {
                if let Ok(v) = std::env::var(a) {
                    out.push((a.clone(), v));
                }
            }
            _ => anyhow::bail!("--build-arg {a:?} is not KEY=VALUE"),
        }
    }
    Ok(out)
}

/// What `buildprof build` did.
pub enum BuildOutcome {
    /// Ctrl-C canceled the build; nothing was stored.
    Interrupted,
    /// The build ran and is stored (`stored.builds` holds it) in the store that was opened.
    Stored(Stored, Store),
}

/// Connects to the engine, runs `request` with a live progress line on stderr (when `visible`),
/// and stores the build with `labels`.
/// The build's inputs ([`InputsRequest`]) are gathered while it runs and stored with it, base
/// image ids asked of the engine.
pub fn build_and_store(
    open_store: impl FnOnce() -> Result<Store>,
    request: &BuildRequest,
    labels: &[(String, String)],
    options: &AssembleOptions,
    visible: bool,
    inputs: InputsRequest,
) -> Result<BuildOutcome> {
    interrupt::install()?;
    let rt = runtime()?;
    let engine = rt.block_on(Engine::connect())?;
    // The engine first: a build that cannot run leaves no database behind.
    let mut store = open_store()?;
    let job = inputs.start(options.redactor.clone());
    let view = CaptureView::new(visible, "building");
    let built = rt.block_on(build_once(&engine, request, options, Some(view.observer())));
    view.finish();
    let built = built?;
    if built.interrupted {
        return Ok(BuildOutcome::Interrupted);
    }
    let mut stored = store_capture(
        &mut store,
        &built.capture,
        labels,
        &source_of(&engine, request),
    )?;
    let mut inputs = job.finish();
    for b in &mut inputs.base_images {
        b.id = rt.block_on(engine.image_id(&b.reference));
    }
    store_inputs(&mut store, &mut stored, inputs);
    if stored.builds.is_empty() {
        anyhow::bail!(
            "the engine sent no build progress ({} bytes)",
            built.capture.bytes
        );
    }
    Ok(BuildOutcome::Stored(stored, store))
}

/// Why a build did not succeed, on one line: a known engine problem (see [`explain_failure`]),
/// else the failed step and its error, else the build's own error.
pub fn failure_reason(b: &Build) -> String {
    if let Some(why) = explain_failure(b) {
        return why;
    }
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

/// A build request for `context` with the options `build` and `experiment` share.
pub fn request_for(
    context: &Path,
    dockerfile: Option<&Path>,
    target: Option<&str>,
    build_args: &[String],
    network: Option<&str>,
) -> Result<BuildRequest> {
    Ok(BuildRequest {
        context: context.to_path_buf(),
        dockerfile: dockerfile.map(Path::to_path_buf),
        target: target.map(str::to_string),
        build_args: parse_build_args(build_args)?,
        network: network.map(str::to_string),
        ..BuildRequest::default()
    })
}
