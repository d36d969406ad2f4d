//! `KEY=VALUE` label arguments.

use anyhow::{bail, Result};

/// Parses `KEY=VALUE` pairs; keys are non-empty and without `=`.
pub fn parse_labels(args: &[String]) -> Result<Vec<(String, String)>> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => bail!("label {a:?} is not KEY=VALUE"),
        })
        .collect()
}
