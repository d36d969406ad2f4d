//! Experiments: a matrix of build variants x repetitions, run interleaved against the engine
//! (or as build commands), every build stored with `experiment`, `variant` and `rep` labels.
//!
//! - [`spec`]: the variants, from a TOML file or `--variant` specs (built-ins included).
//! - [`runner`]: runs the matrix (A B A B ...), applies file changes, prunes, records.
//!
//! [`Experiment::prepare`] loads the spec and connects to the engine when a variant needs it;
//! [`Experiment::run`] runs the matrix. What the builds say is the analyzer's to summarise.

pub mod runner;
pub mod spec;

use std::path::Path;

use anyhow::Result;
use collector::assemble::AssembleOptions;
use collector::store::Store;

use crate::build::runtime;
use crate::engine::Engine;
use crate::interrupt;
pub use runner::ExperimentRun;
use runner::Runner;
use spec::{Overrides, Spec};

/// An experiment ready to run: its spec, its id, and the engine when a variant needs one.
pub struct Experiment {
    pub id: String,
    pub spec: Spec,
    engine: Option<Engine>,
    rt: tokio::runtime::Runtime,
}

impl Experiment {
    /// Loads the spec (the file, then the command line's overrides), installs the interrupt
    /// handlers and connects to the engine if a variant builds through it. The id defaults to
    /// `exp-<UTC time>`.
    pub fn prepare(spec_file: Option<&Path>, overrides: Overrides) -> Result<Experiment> {
        let spec = Spec::load(spec_file, overrides)?;
        let id = spec
            .id
            .clone()
            .unwrap_or_else(|| format!("exp-{}", chrono::Utc::now().format("%Y%m%d-%H%M%S")));
        interrupt::install()?;
        let rt = runtime()?;
        let engine = if spec.needs_engine() {
            Some(rt.block_on(Engine::connect())?)
        } else {
            None
        };
        Ok(Experiment {
            id,
            spec,
            engine,
            rt,
        })
    }

    /// `experiment ID: 2 variants x 3 reps = 6 builds on dockerd 20.10 ...`.
    pub fn describe(&self) -> String {
        format!(
            "experiment {}: {} variants x {} reps = {} builds{}",
            self.id,
            self.spec.variants.len(),
            self.spec.reps,
            self.spec.variants.len() * self.spec.reps as usize,
            self.engine
                .as_ref()
                .map(|e| format!(" on {}", e.describe()))
                .unwrap_or_default()
        )
    }

    /// The variants' names, in the spec's order.
    pub fn variant_names(&self) -> Vec<String> {
        self.spec.variants.iter().map(|v| v.name.clone()).collect()
    }

    /// Runs the matrix, storing every build; `visible` draws progress on stderr, `quiet` also
    /// leaves out the line per build.
    pub fn run(
        &self,
        store: &mut Store,
        options: AssembleOptions,
        visible: bool,
        quiet: bool,
    ) -> ExperimentRun {
        Runner {
            spec: &self.spec,
            id: &self.id,
            engine: self.engine.as_ref(),
            rt: &self.rt,
            store,
            visible,
            quiet,
            options,
        }
        .run()
    }
}
