//! Command-line arguments of the analysis commands: `compare`, `steps`, `trends`, `busts`,
//! `metrics`, and `synth` (the benchmark history generator).

use std::path::PathBuf;

use clap::ValueEnum;

/// Which builds an analysis covers.
#[derive(Debug, Clone, clap::Args)]
pub struct ScopeArgs {
    /// Only builds with this label (repeatable; all must match), e.g. `--label builder=cold`.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Only builds started since WHEN: `7d`, `24h`, `2024-05-01` or an RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// Only builds started before WHEN.
    #[arg(long)]
    pub until: Option<String>,
}

/// What `compare` compares, per build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricArg {
    /// Wall time.
    Wall,
    /// Cache hits / Dockerfile instructions (FROM not counted).
    #[value(name = "hit_ratio", alias = "hit-ratio")]
    HitRatio,
    /// Time the cache saved (typical run time of every hit).
    Saved,
    /// Time instructions spent running.
    Executed,
    /// Time spent pulling layers of remote hits and lazy misses.
    Pull,
}

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The label whose values form the groups: strategy, builder, branch, runner, ...
    #[arg(long, value_name = "LABEL")]
    pub by: String,
    /// The group the others are compared with (default: the group with the most builds).
    #[arg(long, value_name = "VALUE")]
    pub baseline: Option<String>,
    #[arg(long, value_enum, default_value = "wall")]
    pub metric: MetricArg,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Compare failed, canceled and incomplete builds too (default: succeeded builds only).
    #[arg(long)]
    pub include_failed: bool,
    /// Add the cost model: CI minutes and money per build and per week, cache exports.
    #[arg(long)]
    pub cost: bool,
    /// Price of one CI runner-minute in USD, for --cost.
    #[arg(long, value_name = "USD", default_value_t = analyzer::cost::DEFAULT_PRICE_PER_MINUTE)]
    pub price_per_minute: f64,
    /// Builds per week to price a week at (default: each group's observed rate).
    #[arg(long, value_name = "N")]
    pub builds_per_week: Option<f64>,
    /// Bootstrap resamples for the 95% interval.
    #[arg(long, default_value_t = 5000)]
    pub resamples: usize,
    /// Seed of the bootstrap (results are reproducible for a given seed).
    #[arg(long, default_value_t = 0x5eed_b11d_0001)]
    pub seed: u64,
    /// Print JSON (keys: by, metric, baseline, groups; see docs/analyzer.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct StepsArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Include FROM, internal, cache import/export and image export steps.
    #[arg(long)]
    pub all: bool,
    /// At most this many step identities, costliest first (0: all).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeriodArg {
    Day,
    Week,
}

#[derive(Debug, clap::Args)]
pub struct TrendsArgs {
    /// Period length.
    #[arg(long = "by", value_enum, default_value = "week")]
    pub period: PeriodArg,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Price of one CI runner-minute in USD, for the cost columns.
    #[arg(long, value_name = "USD", default_value_t = analyzer::cost::DEFAULT_PRICE_PER_MINUTE)]
    pub price_per_minute: f64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct BustsArgs {
    /// A build id or unique prefix: its busts, compared with the previous build of its branch.
    /// Without it: the instructions that bust the cache most over the selection.
    pub build: Option<String>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// At most this many instructions (0: all).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    /// A build id or unique prefix: its metrics and critical path. Without it: one row per build.
    pub build: Option<String>,
    /// The builds listed, and the history savings are measured against.
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[arg(long)]
    pub json: bool,
}

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

impl ScopeArgs {
    /// The analyzer's scope for these arguments (times relative to now).
    pub fn scope(&self) -> anyhow::Result<analyzer::Scope> {
        let now = crate::when::now_ns();
        Ok(analyzer::Scope {
            labels: crate::labels::parse_labels(&self.labels)?,
            since: crate::when::parse_when_opt(self.since.as_deref(), now)?,
            until: crate::when::parse_when_opt(self.until.as_deref(), now)?,
            ids: Vec::new(),
        })
    }
}

impl From<MetricArg> for analyzer::compare::Metric {
    fn from(m: MetricArg) -> Self {
        use analyzer::compare::Metric;
        match m {
            MetricArg::Wall => Metric::Wall,
            MetricArg::HitRatio => Metric::HitRatio,
            MetricArg::Saved => Metric::Saved,
            MetricArg::Executed => Metric::Executed,
            MetricArg::Pull => Metric::Pull,
        }
    }
}
