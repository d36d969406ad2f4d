//! `BuildFilter`: which stored builds a command looks at (labels, a time window, a count), the
//! one filter every listing, analysis and export shares, applied in SQL with bound parameters.

use rusqlite::types::Value;

use crate::event::Nanos;
use crate::model::{parse_labels, LabelError};
use crate::time::{parse_when_opt, WhenError};

/// Which builds to look at. The default is every stored build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildFilter {
    /// Every pair must match (`key=value`).
    pub labels: Vec<(String, String)>,
    /// Builds started at or after this time.
    pub since: Option<Nanos>,
    /// Builds started before this time.
    pub until: Option<Nanos>,
    /// At most this many builds, the oldest first (listings only: an analysis covers every
    /// build that matches the rest of the filter).
    pub limit: Option<usize>,
}

/// A `--label`, `--since` or `--until` argument that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error(transparent)]
    Label(#[from] LabelError),
    #[error(transparent)]
    When(#[from] WhenError),
}

impl BuildFilter {
    /// The filter of `--label K=V`, `--since WHEN` and `--until WHEN` arguments, relative times
    /// counted back from `now`.
    pub fn from_args<S: AsRef<str>>(
        labels: &[S],
        since: Option<&str>,
        until: Option<&str>,
        now: Nanos,
    ) -> Result<BuildFilter, FilterError> {
        Ok(BuildFilter {
            labels: parse_labels(labels)?,
            since: parse_when_opt(since, now)?,
            until: parse_when_opt(until, now)?,
            limit: None,
        })
    }

    /// Builds with the label `key=value` too.
    pub fn with_label(mut self, key: &str, value: &str) -> BuildFilter {
        self.labels.push((key.to_string(), value.to_string()));
        self
    }

    /// Builds started in `[since, until)` (either end open when `None`).
    pub fn window(since: Option<Nanos>, until: Option<Nanos>) -> BuildFilter {
        BuildFilter {
            since,
            until,
            ..BuildFilter::default()
        }
    }

    /// The filter's labels and time window as an SQL condition on the `builds` table aliased
    /// `alias`, with its parameters (bound, never spliced); `limit` is not part of it.
    pub fn sql_condition(&self, alias: &str) -> (String, Vec<Value>) {
        let mut text = String::from("1 = 1");
        let mut args: Vec<Value> = Vec::new();
        for (k, v) in &self.labels {
            text.push_str(&format!(" AND EXISTS (SELECT 1 FROM labels l WHERE l.build_id = {alias}.id AND l.key = ? AND l.value = ?)"));
            args.push(Value::Text(k.clone()));
            args.push(Value::Text(v.clone()));
        }
        if let Some(s) = self.since {
            text.push_str(&format!(" AND {alias}.started_at >= ?"));
            args.push(Value::Integer(s));
        }
        if let Some(u) = self.until {
            text.push_str(&format!(" AND {alias}.started_at < ?"));
            args.push(Value::Integer(u));
        }
        (text, args)
    }

    /// `key=value, ...` for messages; empty when the filter has no labels.
    pub fn describe_labels(&self) -> String {
        self.labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_make_a_filter_and_bad_ones_say_why() {
        let f =
            BuildFilter::from_args(&["branch=main"], Some("1d"), None, 86_400_000_000_000).unwrap();
        assert_eq!(f.labels, vec![("branch".to_string(), "main".to_string())]);
        assert_eq!(f.since, Some(0));
        let (sql, args) = f.sql_condition("b");
        assert!(sql.contains("b.started_at >= ?"), "{sql}");
        assert_eq!(args.len(), 3);
        let err = BuildFilter::from_args(&["nokey"], None, None, 0).unwrap_err();
        assert_eq!(err.to_string(), "label \"nokey\" is not KEY=VALUE");
        let err = BuildFilter::from_args::<&str>(&[], Some("soon"), None, 0).unwrap_err();
        assert!(
            err.to_string().contains("cannot read time \"soon\""),
            "{err}"
        );
    }
}
