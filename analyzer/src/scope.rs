//! `Scope`: which stored builds an analysis looks at (labels, time window, one build).
//!
//! The scope is applied in SQL before anything is loaded, with every value bound as a parameter.

use rusqlite::types::Value;

/// The builds an analysis covers. Empty means every stored build.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Every `key=value` pair must match.
    pub labels: Vec<(String, String)>,
    /// Builds started at or after this time (Unix nanoseconds).
    pub since: Option<i64>,
    /// Builds started before this time (Unix nanoseconds).
    pub until: Option<i64>,
    /// Only these builds (full ids), when not empty.
    pub ids: Vec<String>,
}

impl Scope {
    /// A `WHERE` clause over `builds` aliased `b` (starting with `1 = 1`) and its parameters.
    pub(crate) fn where_clause(&self) -> (String, Vec<Value>) {
        let mut sql = String::from("1 = 1");
        let mut args = Vec::new();
        for (k, v) in &self.labels {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM labels l WHERE l.build_id = b.id AND l.key = ? AND l.value = ?)",
            );
            args.push(Value::Text(k.clone()));
            args.push(Value::Text(v.clone()));
        }
        if let Some(s) = self.since {
            sql.push_str(" AND b.started_at >= ?");
            args.push(Value::Integer(s));
        }
        if let Some(u) = self.until {
            sql.push_str(" AND b.started_at < ?");
            args.push(Value::Integer(u));
        }
        if !self.ids.is_empty() {
            let marks = vec!["?"; self.ids.len()].join(", ");
            sql.push_str(&format!(" AND b.id IN ({marks})"));
            args.extend(self.ids.iter().map(|i| Value::Text(i.clone())));
        }
        (sql, args)
    }

    /// Adds a `key=value` requirement.
    pub fn with_label(mut self, key: &str, value: &str) -> Scope {
        self.labels.push((key.to_string(), value.to_string()));
        self
    }

    /// `key=value, ...` for messages; empty when the scope is everything.
    pub fn describe(&self) -> String {
        self.labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
