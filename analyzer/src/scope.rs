//! `Scope`: which stored builds an analysis looks at: the store's [`BuildFilter`] (labels, time
//! window), optionally narrowed to some builds by id.
//!
//! The scope is applied in SQL before anything is loaded, with every value bound as a parameter.

use collector::store::BuildFilter;
use rusqlite::types::Value;

/// The builds an analysis covers. The default is every stored build.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Labels and time window. Its `limit` is not applied: an analysis covers every build the
    /// rest of the filter selects.
    pub builds: BuildFilter,
    /// Only these builds (full ids), when not empty.
    pub ids: Vec<String>,
}

impl Scope {
    /// Every build `filter` selects.
    pub fn of(builds: BuildFilter) -> Scope {
        Scope {
            builds,
            ids: Vec::new(),
        }
    }

    /// A `WHERE` clause over `builds` aliased `b` (starting with `1 = 1`) and its parameters.
    pub(crate) fn where_clause(&self) -> (String, Vec<Value>) {
        let (mut sql, mut args) = self.builds.sql_condition("b");
        if !self.ids.is_empty() {
            let marks = vec!["?"; self.ids.len()].join(", ");
            sql.push_str(&format!(" AND b.id IN ({marks})"));
            args.extend(self.ids.iter().map(|i| Value::Text(i.clone())));
        }
        (sql, args)
    }

    /// Adds a `key=value` requirement.
    pub fn with_label(mut self, key: &str, value: &str) -> Scope {
        self.builds = self.builds.with_label(key, value);
        self
    }

    /// `key=value, ...` for messages; empty when the scope has no labels.
    pub fn describe(&self) -> String {
        self.builds.describe_labels()
    }
}
