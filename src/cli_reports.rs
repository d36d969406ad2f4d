//! Command-line arguments of the report commands: `report` (the weekly report) and `summary`
//! (one build's Markdown for a CI job page).

use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Start of the period: `7d`, `24h` (before --until), `2024-05-01` or an RFC 3339 time.
    #[arg(long, default_value = "7d")]
    pub since: String,
    /// End of the period (exclusive); now when not given.
    #[arg(long)]
    pub until: Option<String>,
    /// Only builds with this label (repeatable; all must match), e.g. `--label branch=main`.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Folder to write the report into (created if missing).
    #[arg(long, default_value = "buildprof-report")]
    pub out: PathBuf,
    /// Output formats, comma-separated: html, md, json.
    #[arg(long, value_delimiter = ',', default_value = "html")]
    pub format: Vec<String>,
    /// Also write every chart as a PNG (and link those from the Markdown instead of SVG files).
    #[arg(long)]
    pub png: bool,
}

#[derive(Debug, clap::Args)]
pub struct SummaryArgs {
    /// Build id or a unique prefix of it; the most recently stored build when not given.
    #[arg(conflicts_with = "last")]
    pub build: Option<String>,
    /// The most recently stored build (the default).
    #[arg(long)]
    pub last: bool,
    /// The builds to compare with: the most recent ones with this label, started before this build.
    #[arg(long, value_name = "KEY=VALUE", default_value = "branch=main")]
    pub baseline_label: String,
    /// How many recent baseline builds make the median.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub baseline_builds: usize,
    /// Print the summary as JSON data instead of Markdown.
    #[arg(long)]
    pub json: bool,
}
