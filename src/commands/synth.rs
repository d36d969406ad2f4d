//! `buildprof synth`: write a synthetic history (real traces replayed with shifted times and
//! jittered durations, labelled `synthetic=true`) into the database, for benchmarks.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use analyzer::synth::SynthOptions;
use analyzer::synth_store::{templates, write_history};
use anyhow::Result;
use collector::time::now_ns;

use super::{open_store, print, sample_dir};

#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Generate builds until this many steps are stored.
    #[arg(long, default_value_t = 1_000_000)]
    pub steps: u64,
    /// Folder of sample traces with a manifest.tsv (default: sample-traces/).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Replay the manifest's traces whose path starts with this.
    #[arg(long, default_value = "app1-series/")]
    pub from: String,
    /// Length of the history in days, ending now.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(db: &Path, args: SynthArgs) -> Result<ExitCode> {
    let templates = templates(&sample_dir(args.dir)?, &args.from)?;
    let mut store = open_store(db)?;
    let span = args.days as i64 * 86_400 * 1_000_000_000;
    let opts = SynthOptions {
        steps: args.steps,
        start_ns: now_ns() - span,
        span_ns: span,
        seed: args.seed,
    };
    let started = Instant::now();
    let written = write_history(&mut store, &templates, opts, &mut |w| {
        eprintln!(
            "synth: {} builds, {} steps, {:.0}s",
            w.builds,
            w.steps,
            started.elapsed().as_secs_f64()
        )
    })?;
    print(&format!(
        "synth: wrote {} synthetic builds ({} steps) replaying {} traces over {} days into {} in {:.1}s\n",
        written.builds,
        written.steps,
        templates.len(),
        args.days,
        db.display(),
        started.elapsed().as_secs_f64()
    ))?;
    Ok(ExitCode::SUCCESS)
}
