//! `buildprof demo`: the main job on the bundled sample traces, in a fresh database under
//! `buildprof-demo/`, so it needs nothing set up.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use collector::time::now_ns;
use reports::demo::run_demo;

use super::{print, sample_dir};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Folder of sample traces with a manifest.tsv giving each file's labels.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    let demo = run_demo(&sample_dir(args.dir)?, now_ns())?;
    print(&demo.text)?;
    print(&format!(
        "\nReport of the sample builds' last week: {}\n",
        demo.report.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}
