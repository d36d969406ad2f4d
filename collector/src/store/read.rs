//! Reading builds back: listing with filters, and loading one build whole.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{params_from_iter, Row};

use super::filter::BuildFilter;

use super::{sql, Store, StoreError};
use crate::event::Nanos;
use crate::model::{Build, BuildStatus, Format, LayerOp, LayerRef, Outcome, Step, StepKind};

/// One row of `builds` with its labels.
#[derive(Debug, Clone)]
pub struct BuildRow {
    pub id: String,
    pub source: String,
    pub format: Format,
    pub status: BuildStatus,
    pub error: Option<String>,
    pub started_at: Option<Nanos>,
    pub finished_at: Option<Nanos>,
    pub duration_ns: Option<i64>,
    pub step_count: i64,
    pub cached_count: i64,
    pub pulled_count: i64,
    pub executed_count: i64,
    pub failed_count: i64,
    pub canceled_count: i64,
    pub lazy_miss_count: i64,
    pub failed_step: Option<String>,
    /// The errors of the build's failed cache imports (`; `-joined), None when every import
    /// worked: BuildKit goes on without such a cache, so the build itself can succeed.
    pub cache_import_error: Option<String>,
    /// The wall time of the live capture that stored it (the wrapped command's run, or the
    /// Engine API call), when it came from one: it includes what BuildKit's times leave out
    /// (the client's start, context upload, teardown).
    pub capture_wall_ns: Option<i64>,
    pub labels: BTreeMap<String, String>,
}

/// The columns of a [`BuildRow`] over `builds b`. The failed step and failed cache imports
/// are read from the row tables (`step_rows` with `step_defs`, not the `steps` view), and only
/// for builds whose counts say a step failed: listing a long history costs a read per build.
const BUILD_COLUMNS: &str = "b.id, b.source, b.format, b.status, b.error, b.started_at, b.finished_at, b.duration_ns,
    b.step_count, b.cached_count, b.pulled_count, b.executed_count, b.failed_count, b.canceled_count, b.lazy_miss_count,
    CASE WHEN b.status = 'failed' THEN
      (SELECT d.name FROM build_keys k JOIN step_rows r ON r.build_key = k.key JOIN step_defs d ON d.id = r.def
        WHERE k.id = b.id AND r.outcome = 'failed' ORDER BY d.kind = 'cache_import', r.seq LIMIT 1)
    END,
    CASE WHEN b.failed_count > 0 THEN
      (SELECT group_concat(COALESCE(r.error, d.name || ': failed'), '; ') FROM build_keys k
        JOIN step_rows r ON r.build_key = k.key JOIN step_defs d ON d.id = r.def
        WHERE k.id = b.id AND d.kind = 'cache_import' AND r.outcome = 'failed')
    END,
    (SELECT max(capture_wall_ns) FROM sources s WHERE s.build_id = b.id)";

impl Store {
    /// Builds matching `filter`, oldest first (builds without a start time last).
    pub fn list_builds(&self, filter: &BuildFilter) -> Result<Vec<BuildRow>, StoreError> {
        let (condition, args) = filter.sql_condition("b");
        let mut sql_text = format!("SELECT {BUILD_COLUMNS} FROM builds b WHERE {condition}");
        sql_text.push_str(" ORDER BY b.started_at IS NULL, b.started_at, b.source, b.id");
        if let Some(n) = filter.limit {
            sql_text.push_str(&format!(" LIMIT {n}"));
        }
        let e = |err| sql(&self.path, err);
        let mut stmt = self.conn.prepare(&sql_text).map_err(e)?;
        let mut rows = stmt
            .query_map(params_from_iter(args), build_row)
            .map_err(e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(e)?;
        let rows_ok: Result<Vec<BuildRow>, String> = rows.drain(..).collect();
        let mut rows = rows_ok.map_err(|m| self.corrupt(m))?;
        self.attach_labels(&mut rows)?;
        Ok(rows)
    }

    /// Fills each row's labels: one lookup per build for a few builds; for many, one pass over
    /// the build keys and one over the range of `label_rows` they span (label rows are stored
    /// by build key, and keys follow time, so a period's labels are read together).
    fn attach_labels(&self, rows: &mut [BuildRow]) -> Result<(), StoreError> {
        let e = |err| sql(&self.path, err);
        if rows.len() >= 256 {
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            let of_key: HashMap<i64, usize> = super::keys_of(&self.conn, &ids)
                .map_err(e)?
                .into_iter()
                .enumerate()
                .filter_map(|(i, k)| Some((k?, i)))
                .collect();
            let (lo, hi) = (
                of_key.keys().min().copied().unwrap_or(0),
                of_key.keys().max().copied().unwrap_or(-1),
            );
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT build_key, key, value FROM label_rows WHERE build_key BETWEEN ?1 AND ?2",
                )
                .map_err(e)?;
            let mut found = stmt.query([lo, hi]).map_err(e)?;
            while let Some(r) = found.next().map_err(e)? {
                if let Some(&i) = of_key.get(&r.get::<_, i64>(0).map_err(e)?) {
                    rows[i]
                        .labels
                        .insert(r.get(1).map_err(e)?, r.get(2).map_err(e)?);
                }
            }
            return Ok(());
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM labels WHERE build_id = ?1 ORDER BY key")
            .map_err(e)?;
        for row in rows {
            let labels = stmt
                .query_map([&row.id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(e)?
                .collect::<Result<BTreeMap<_, _>, _>>()
                .map_err(e)?;
            row.labels = labels;
        }
        Ok(())
    }

    /// The most recently stored build (by the time it was stored, then started), if any: the
    /// one a CI step just ingested.
    pub fn last_stored_id(&self) -> Result<Option<String>, StoreError> {
        // The outer SELECT always returns one row: NULL when the store is empty.
        self.conn
            .query_row(
                "SELECT (SELECT id FROM builds ORDER BY ingested_at DESC, started_at DESC, id LIMIT 1)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| sql(&self.path, e))
    }

    /// The ids of the `n` most recent builds labelled `key=value` that started before `before`
    /// (any time when `None`), `exclude` and builds without a start time left out; newest
    /// first. See [`super::recent_with_label`]: its cost does not grow with the history.
    pub fn recent_with_label(
        &self,
        label: (&str, &str),
        before: Option<Nanos>,
        exclude: &str,
        n: usize,
    ) -> Result<Vec<String>, StoreError> {
        super::recent::recent_with_label(&self.conn, label, before, exclude, n)
            .map_err(|e| sql(&self.path, e))
    }

    /// Resolves a build id or unique id prefix (at least 4 characters).
    pub fn resolve_id(&self, prefix: &str) -> Result<String, StoreError> {
        let e = |err| sql(&self.path, err);
        let pattern = format!("{}%", prefix.replace(['%', '_'], ""));
        // Ids are lowercase hex: a hex prefix is looked up as a range of the primary key
        // (`LIKE` is case-insensitive, so SQLite would scan every id); anything else by `LIKE`.
        let (sql_text, args) =
            if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
                let low = prefix.to_ascii_lowercase();
                let high = format!("{low}g");
                (
                    "SELECT id FROM builds WHERE id >= ?1 AND id < ?2 AND id LIKE ?3 LIMIT 2",
                    vec![low, high, pattern],
                )
            } else {
                (
                    "SELECT id FROM builds WHERE id LIKE ?1 LIMIT 2",
                    vec![pattern],
                )
            };
        let mut stmt = self.conn.prepare(sql_text).map_err(e)?;
        let ids: Vec<String> = stmt
            .query_map(params_from_iter(args), |r| r.get(0))
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        match ids.len() {
            _ if prefix.len() < 4 && ids.len() != 1 => {
                Err(StoreError::NotFound(prefix.to_string()))
            }
            0 => Err(StoreError::NotFound(prefix.to_string())),
            1 => Ok(ids.into_iter().next().expect("one id")),
            n => Err(StoreError::Ambiguous {
                prefix: prefix.to_string(),
                count: n,
            }),
        }
    }

    /// The build summary row for one id.
    pub fn build_row(&self, id: &str) -> Result<BuildRow, StoreError> {
        let e = |err| sql(&self.path, err);
        let mut rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {BUILD_COLUMNS} FROM builds b WHERE b.id = ?1"
            ))
            .map_err(e)?
            .query_map([id], build_row)
            .map_err(e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(e)?;
        let row = rows
            .pop()
            .ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        let mut rows = vec![row.map_err(|m| self.corrupt(m))?];
        self.attach_labels(&mut rows)?;
        Ok(rows.pop().expect("one row"))
    }

    /// Loads a whole build (steps, inputs, labels).
    pub fn load_build(&self, id: &str) -> Result<Build, StoreError> {
        let e = |err| sql(&self.path, err);
        let row = self.build_row(id)?;
        type Extra = (
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            String,
        );
        let (reference, builder, rt, rc, rcomp, warnings): Extra = self
            .conn
            .prepare_cached(
                "SELECT reference, builder, reported_total_steps, reported_cached_steps, reported_completed_steps, warnings FROM builds WHERE id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })
            })
            .map_err(e)?;
        let mut inputs = self.step_inputs_of(id)?;
        let mut layers = self.layers_of(id)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, digest, name, kind, instruction, stage, stage_index, stage_total, platform, outcome, lazy_miss,
                    started_at, finished_at, duration_ns, intervals, pull_ns, pulled_bytes, pulled_layers, log_lines,
                    log_bytes, log_tail, error, layers_written, progress_group, warnings
                 FROM steps WHERE build_id = ?1 ORDER BY seq",
            )
            .map_err(e)?;
        let steps = stmt
            .query_map([id], step_row)
            .map_err(e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(e)?;
        let mut out = Vec::with_capacity(steps.len());
        for s in steps {
            let mut s = s.map_err(|m| self.corrupt(m))?;
            s.inputs = inputs.remove(&s.seq).unwrap_or_default();
            s.layers = layers.remove(&s.seq).unwrap_or_default();
            out.push(s);
        }
        let cache_imports = out
            .iter()
            .filter_map(|s| crate::model::cache_import_ref(&s.name).map(str::to_string))
            .collect();
        Ok(Build {
            id: row.id,
            source: row.source,
            format: row.format,
            reference,
            builder,
            started_at: row.started_at,
            finished_at: row.finished_at,
            duration_ns: row.duration_ns,
            status: row.status,
            error: row.error,
            steps: out,
            labels: row.labels,
            reported_total_steps: rt,
            reported_cached_steps: rc,
            reported_completed_steps: rcomp,
            warnings: serde_json::from_str(&warnings).unwrap_or_default(),
            cache_imports,
        })
    }

    /// The inputs (parent digests) of each step of build `id`, by step, in order.
    fn step_inputs_of(&self, id: &str) -> Result<BTreeMap<u32, Vec<String>>, StoreError> {
        let e = |err| sql(&self.path, err);
        let mut inputs: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, input FROM step_inputs WHERE build_id = ?1 ORDER BY seq, pos",
            )
            .map_err(e)?;
        let pairs = stmt
            .query_map([id], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))
            .map_err(e)?;
        for p in pairs {
            let (seq, input) = p.map_err(e)?;
            inputs.entry(seq).or_default().push(input);
        }
        Ok(inputs)
    }

    /// The cache layers of each step of build `id`, by step.
    fn layers_of(&self, id: &str) -> Result<BTreeMap<u32, Vec<LayerRef>>, StoreError> {
        let e = |err| sql(&self.path, err);
        let mut layers: BTreeMap<u32, Vec<LayerRef>> = BTreeMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, op, digest, bytes FROM cache_layers WHERE build_id = ?1 ORDER BY seq, op, digest")
            .map_err(e)?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .map_err(e)?;
        for row in rows {
            let (seq, op, digest, bytes) = row.map_err(e)?;
            let op = LayerOp::parse(&op)
                .ok_or_else(|| self.corrupt(format!("unknown layer op {op:?}")))?;
            layers
                .entry(seq)
                .or_default()
                .push(LayerRef { op, digest, bytes });
        }
        Ok(layers)
    }

    fn corrupt(&self, message: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            message,
        }
    }
}

fn build_row(r: &Row<'_>) -> rusqlite::Result<Result<BuildRow, String>> {
    let format: String = r.get(2)?;
    let status: String = r.get(3)?;
    let (Some(format), Some(status)) = (Format::parse(&format), BuildStatus::parse(&status)) else {
        return Ok(Err(format!(
            "unknown format {format:?} or status {status:?}"
        )));
    };
    Ok(Ok(BuildRow {
        id: r.get(0)?,
        source: r.get(1)?,
        format,
        status,
        error: r.get(4)?,
        started_at: r.get(5)?,
        finished_at: r.get(6)?,
        duration_ns: r.get(7)?,
        step_count: r.get(8)?,
        cached_count: r.get(9)?,
        pulled_count: r.get(10)?,
        executed_count: r.get(11)?,
        failed_count: r.get(12)?,
        canceled_count: r.get(13)?,
        lazy_miss_count: r.get(14)?,
        failed_step: r.get(15)?,
        cache_import_error: r.get(16)?,
        capture_wall_ns: r.get(17)?,
        labels: BTreeMap::new(),
    }))
}

fn step_row(r: &Row<'_>) -> rusqlite::Result<Result<Step, String>> {
    let kind: String = r.get(3)?;
    let outcome: String = r.get(9)?;
    let (Some(kind), Some(outcome)) = (StepKind::parse(&kind), Outcome::parse(&outcome)) else {
        return Ok(Err(format!(
            "unknown step kind {kind:?} or outcome {outcome:?}"
        )));
    };
    let intervals: String = r.get(14)?;
    Ok(Ok(Step {
        seq: r.get(0)?,
        digest: r.get(1)?,
        name: r.get(2)?,
        kind,
        instruction: r.get(4)?,
        stage: r.get(5)?,
        stage_index: r.get(6)?,
        stage_total: r.get(7)?,
        platform: r.get(8)?,
        inputs: Vec::new(),
        outcome,
        lazy_miss: r.get(10)?,
        started_at: r.get(11)?,
        finished_at: r.get(12)?,
        duration_ns: r.get(13)?,
        intervals: serde_json::from_str(&intervals).unwrap_or_default(),
        pull_ns: r.get(15)?,
        pulled_bytes: r.get(16)?,
        pulled_layers: r.get(17)?,
        log_lines: r.get::<_, i64>(18)? as u64,
        log_bytes: r.get::<_, i64>(19)? as u64,
        log_tail: r.get(20)?,
        error: r.get(21)?,
        layers_written: r.get(22)?,
        layers: Vec::new(),
        progress_group: r.get(23)?,
        warnings: r.get(24)?,
    }))
}
