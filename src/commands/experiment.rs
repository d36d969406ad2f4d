//! `buildprof experiment`: load the variants, connect to the engine when a variant needs it,
//! run the matrix, and print the per-variant medians (a table, or JSON with `--json`).

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use collector::live::{interrupt, Engine};

use super::{capture_options, open_store, print};
use crate::cli_live::ExperimentArgs;
use crate::engine_build::runtime;
use crate::experiment::medians::Medians;
use crate::experiment::runner::Runner;
use crate::experiment::spec::{Overrides, Spec};
use crate::labels::parse_labels;

pub fn run(db: &Path, args: ExperimentArgs) -> Result<ExitCode> {
    let build_args = super::build::request_of(&args.options, Path::new("."))?.build_args;
    let spec = Spec::load(
        args.spec.as_deref(),
        Overrides {
            id: args.id.clone(),
            reps: args.reps,
            context: args.context.clone(),
            dockerfile: args.options.file.clone(),
            target: args.options.target.clone(),
            network: args.options.network.clone(),
            build_args,
            labels: parse_labels(&args.labels)?,
            variants: args.variants.clone(),
        },
    )?;
    let id = spec
        .id
        .clone()
        .unwrap_or_else(|| format!("exp-{}", chrono::Utc::now().format("%Y%m%d-%H%M%S")));
    let mut store = open_store(db)?;
    interrupt::install()?;
    let rt = runtime()?;
    let engine = if spec.needs_engine() {
        Some(rt.block_on(Engine::connect())?)
    } else {
        None
    };
    let visible = !args.quiet && std::io::stderr().is_terminal();
    if !args.quiet {
        eprintln!(
            "experiment {id}: {} variants x {} reps = {} builds{}",
            spec.variants.len(),
            spec.reps,
            spec.variants.len() * spec.reps as usize,
            engine
                .as_ref()
                .map(|e| format!(" on {}", e.describe()))
                .unwrap_or_default()
        );
    }
    let report = Runner {
        spec: &spec,
        id: &id,
        engine: engine.as_ref(),
        rt: &rt,
        store: &mut store,
        visible,
        quiet: args.quiet,
        options: capture_options(&args.capture)?,
    }
    .run();
    let order: Vec<String> = spec.variants.iter().map(|v| v.name.clone()).collect();
    let mut medians = Medians::of(&id, &order, &report.recorded);
    medians.interrupted = report.interrupted;
    if args.json {
        print(&(serde_json::to_string_pretty(&medians)? + "\n"))?;
    } else {
        let mut text = format!(
            "experiment {id}: {} of {} builds recorded{}\n",
            report.recorded.len(),
            report.planned,
            if report.interrupted {
                " (interrupted)"
            } else {
                ""
            }
        );
        text.push_str(&medians.table());
        text.push_str(&format!(
            "all builds: buildprof builds --label experiment={id}\n"
        ));
        print(&text)?;
    }
    if let Some(e) = report.error {
        eprintln!("error: {e:#}");
        return Ok(ExitCode::from(1));
    }
    Ok(if report.interrupted {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}
