//! Argument groups several commands share, each declared once and flattened into the commands
//! that take it: which builds ([`ScopeArgs`]), what is stored with a build ([`CaptureArgs`]), the
//! input format ([`FormatArg`]), and what to build ([`BuildOptions`]).

use std::path::PathBuf;

use anyhow::{Context, Result};
use collector::assemble::AssembleOptions;
use collector::model::{parse_labels, Format};
use collector::redact::Redactor;
use collector::store::BuildFilter;
use collector::time::now_ns;

/// A price in USD (`--price-per-minute`): a finite number, not negative.
pub fn parse_price(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
        _ => Err(format!("{text:?} is not a non-negative number of USD")),
    }
}

/// Which builds a command looks at.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ScopeArgs {
    /// Only builds with this label (repeatable; all must match), e.g. `--label branch=main`.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Only builds started since WHEN: `7d`, `24h`, `2024-05-01` or an RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only builds started before WHEN.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
}

impl ScopeArgs {
    /// The store's filter for these arguments, relative times counted back from now.
    pub fn filter(&self) -> Result<BuildFilter> {
        Ok(BuildFilter::from_args(
            &self.labels,
            self.since.as_deref(),
            self.until.as_deref(),
            now_ns(),
        )?)
    }

    /// The analyzer's scope for these arguments.
    pub fn scope(&self) -> Result<analyzer::Scope> {
        Ok(analyzer::Scope::of(self.filter()?))
    }

    /// Whether any of the arguments was given.
    pub fn is_given(&self) -> bool {
        !self.labels.is_empty() || self.since.is_some() || self.until.is_some()
    }
}

/// What is stored with each build: its labels, secret redaction and the log cap (every command
/// that stores builds).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CaptureArgs {
    /// A label for every build stored (repeatable), e.g. `--label strategy=max`.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Mask text matching this regular expression in everything stored (repeatable), on top of
    /// the built-in secret patterns.
    #[arg(long = "redact", value_name = "REGEX")]
    pub redact: Vec<String>,
    /// Turn off the built-in secret patterns (tokens in URLs, *_SECRET/*_TOKEN/*PASSWORD
    /// assignments, AWS/GitHub/GitLab/Slack tokens, Authorization headers, private keys).
    #[arg(long)]
    pub no_default_redactions: bool,
    /// Bytes of log text kept per step (its last lines); 0 keeps none. Line and byte counts are
    /// always kept.
    #[arg(long, value_name = "BYTES", default_value_t = 4096)]
    pub log_tail_bytes: usize,
}

impl CaptureArgs {
    /// The labels given, as `(key, value)` pairs.
    pub fn labels(&self) -> Result<Vec<(String, String)>> {
        Ok(parse_labels(&self.labels)?)
    }

    /// Assembly options (redaction, log cap) for these arguments.
    pub fn options(&self) -> Result<AssembleOptions> {
        let redactor = Redactor::new(!self.no_default_redactions, &self.redact)
            .context("invalid --redact pattern")?;
        Ok(AssembleOptions {
            log_tail_bytes: self.log_tail_bytes,
            redactor: std::sync::Arc::new(redactor),
            ..AssembleOptions::default()
        })
    }
}

/// The progress format of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Auto,
    Rawjson,
    Plain,
    Moby,
    Dockerbuild,
}

impl FormatArg {
    /// The format, or `None` to sniff it.
    pub fn format(self) -> Option<Format> {
        match self {
            FormatArg::Auto => None,
            FormatArg::Rawjson => Some(Format::Rawjson),
            FormatArg::Plain => Some(Format::Plain),
            FormatArg::Moby => Some(Format::Moby),
            FormatArg::Dockerbuild => Some(Format::Dockerbuild),
        }
    }
}

/// What to build, as `docker build` takes it (shared by `build` and `experiment`).
#[derive(Debug, Clone, clap::Args)]
pub struct BuildOptions {
    /// Dockerfile, relative to the working directory (default CONTEXT/Dockerfile).
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Stage to build.
    #[arg(long)]
    pub target: Option<String>,
    /// A build argument (repeatable); `KEY` alone takes the value from the environment.
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// Network mode for RUN steps (`default`, `none`, `host`).
    #[arg(long, value_name = "MODE")]
    pub network: Option<String>,
}

/// A build's inputs to record for `why` (shared by `record` and `ingest`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InputArgs {
    /// The build context directory, to hash into a manifest (honouring its `.dockerignore`).
    /// `record` reads it off a wrapped `docker build` command line when not given.
    #[arg(long, value_name = "DIR")]
    pub context: Option<PathBuf>,
    /// The Dockerfile (default CONTEXT/Dockerfile).
    #[arg(long = "file", value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// A build argument the build was given (repeatable); `KEY` alone takes the value from the
    /// environment. Only a keyed hash of the value is stored.
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// Store build-arg values in clear too (never for names that look secret).
    #[arg(long)]
    pub store_build_arg_values: bool,
    /// Hash no context with more files than this.
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    pub context_max_files: u64,
    /// Hash no context holding more bytes than this.
    #[arg(long, value_name = "BYTES", default_value_t = 8 << 30)]
    pub context_max_bytes: u64,
}

impl InputArgs {
    /// The request these arguments make (empty when none was given); unchanged files' hashes
    /// are remembered beside the database `db`.
    pub fn request(&self, db: &std::path::Path) -> live::inputs::InputsRequest {
        live::inputs::InputsRequest {
            context: self.context.clone(),
            dockerfile: self.file.clone(),
            build_args: self.build_args.clone(),
            store_arg_values: self.store_build_arg_values,
            limits: live::manifest::ManifestLimits {
                max_files: self.context_max_files,
                max_bytes: self.context_max_bytes,
            },
            hash_cache: Some(live::inputs::hash_cache_beside(db)),
            notes: Vec::new(),
        }
    }
}
