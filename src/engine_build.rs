//! `Built` and [`build_once`]: one Engine API build, decoded live as it streams; shared by
//! `buildprof build` and `buildprof experiment`, with the async runtime they both use.

use anyhow::{Context, Result};
use collector::assemble::AssembleOptions;
use collector::live::capture::{CaptureOutcome, Observer};
use collector::live::{BuildRequest, Capture, CaptureConfig, Engine, EngineError};
use collector::model::{Build, Format};

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
