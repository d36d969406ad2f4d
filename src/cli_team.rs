//! Command-line arguments of the team-scale commands: `merge` (job databases into one) and
//! `export` (columnar files, or OpenTelemetry traces over OTLP/HTTP).

use std::path::PathBuf;

use clap::ValueEnum;

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The team database to merge into (created if missing).
    #[arg(long, value_name = "TEAM.db")]
    pub into: PathBuf,
    /// Job databases to merge; a folder stands for every `*.db` file under it.
    #[arg(required = true, value_name = "JOB.db")]
    pub inputs: Vec<PathBuf>,
    /// A label set on every merged build that lacks the key (repeatable), e.g. `--label repo=api`.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Print one JSON object with what each input added.
    #[arg(long)]
    pub json: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Parquet,
    Csv,
    Jsonl,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["format", "otlp"])))]
pub struct ExportArgs {
    /// Columnar file format (with --out).
    #[arg(long, value_enum, requires = "out", conflicts_with = "otlp")]
    pub format: Option<ExportFormat>,
    /// Tables to export, comma-separated: builds, steps, labels, step_inputs, cache_operations,
    /// cache_layers, sources, or all (columns in docs/export.md).
    #[arg(long = "table", value_delimiter = ',', default_value = "builds")]
    pub tables: Vec<String>,
    /// Output file, or a folder when more than one table is exported (one file per table);
    /// `-` writes one csv or jsonl table to stdout.
    #[arg(long, requires = "format")]
    pub out: Option<PathBuf>,
    /// Send builds as OpenTelemetry traces to this OTLP/HTTP endpoint, e.g. http://HOST:4318
    /// (`/v1/traces` is appended unless the URL ends with it).
    #[arg(long, value_name = "URL", conflicts_with_all = ["format", "out"])]
    pub otlp: Option<String>,
    /// An HTTP header sent with every OTLP request (repeatable), e.g. `--otlp-header x-api-key=...`.
    #[arg(long = "otlp-header", value_name = "NAME=VALUE", requires = "otlp")]
    pub otlp_headers: Vec<String>,
    /// `service.name` of the exported traces.
    #[arg(long, default_value = "docker-build", requires = "otlp")]
    pub service_name: String,
    /// Only builds started since WHEN: `7d`, `24h`, `2024-05-01` or an RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// Only builds started before WHEN.
    #[arg(long)]
    pub until: Option<String>,
    /// Only builds with this label (repeatable; all must match).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Never show a progress bar.
    #[arg(long)]
    pub quiet: bool,
}
