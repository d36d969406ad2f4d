//! Writing builds: each build all-or-nothing (one transaction, or a batch of a few builds of
//! one input), idempotent by the build's fingerprint.

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{sql, Store, StoreError};
use crate::event::Nanos;
use crate::model::{Build, Outcome, Step, StepKind};

/// Where a build came from (recorded in `sources`).
#[derive(Debug, Clone, Default)]
pub struct SourceInfo {
    pub path: String,
    pub bytes: u64,
    pub ingested_at: Nanos,
    /// A live capture's wall time: the wrapped command's run (`record`, experiment command
    /// variants, `ingest - --tee`) or the Engine API call (`build`). None for files.
    pub capture_wall_ns: Option<i64>,
}

/// What a live capture left in the database.
#[derive(Debug, Default)]
pub struct Stored {
    /// The builds as stored (labels set), with whether each was new.
    pub builds: Vec<(Build, Inserted)>,
    /// What to say besides the builds: no progress found, decoding stopped.
    pub notes: Vec<String>,
}

impl SourceInfo {
    /// A source read now.
    pub fn now(path: impl Into<String>, bytes: u64) -> SourceInfo {
        SourceInfo {
            path: path.into(),
            bytes,
            ingested_at: crate::time::now_ns(),
            capture_wall_ns: None,
        }
    }
}

/// Whether an insert stored something new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// The build was already stored; only new labels (if any) were added.
    Existing,
}

impl Store {
    /// Stores a build (with its labels) in one transaction. A build already stored is left as
    /// it is, except that labels given now are set on it.
    pub fn insert_build(
        &mut self,
        build: &Build,
        source: &SourceInfo,
    ) -> Result<Inserted, StoreError> {
        let path = self.path.clone();
        let e = |err| sql(&path, err);
        self.conn.execute_batch(WRITE_CACHE).map_err(e)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let inserted = store_build(&tx, build, source).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(inserted)
    }

    /// Stores several builds (those of one input) like [`Store::insert_build`], but up to
    /// [`BATCH_STEPS`] steps of them per transaction: a commit writes every page it touched
    /// (index leaves, the tables' last pages, their parents) once, so small builds committed
    /// one by one write the same pages again and again. Each build is still all-or-nothing:
    /// when one cannot be stored, its batch is rolled back and stored again one build per
    /// transaction, so the others are kept and the failure is reported in that build's slot.
    /// Results are in the order of `builds`.
    pub fn insert_builds(
        &mut self,
        builds: &[(&Build, &SourceInfo)],
    ) -> Vec<Result<Inserted, StoreError>> {
        let mut results = Vec::with_capacity(builds.len());
        let mut rest = builds;
        while !rest.is_empty() {
            let mut n = 1;
            let mut steps = rest[0].0.steps.len();
            while n < rest.len() && steps + rest[n].0.steps.len() <= BATCH_STEPS {
                steps += rest[n].0.steps.len();
                n += 1;
            }
            let (batch, tail) = rest.split_at(n);
            rest = tail;
            if batch.len() > 1 {
                if let Ok(stored) = self.insert_batch(batch) {
                    results.extend(stored.into_iter().map(Ok));
                    continue;
                }
            }
            results.extend(batch.iter().map(|(b, s)| self.insert_build(b, s)));
        }
        results
    }

    /// Sets `labels` on every build (a label given here replaces one of the same key the build
    /// carried) and stores the builds as the builds of one input ([`Store::insert_builds`]):
    /// what `ingest`, `record`, `build`, experiments and the demo all do with what they read.
    /// Results are in the order of `builds`.
    pub fn insert_labelled(
        &mut self,
        builds: &mut [Build],
        labels: &[(String, String)],
        source: &SourceInfo,
    ) -> Vec<Result<Inserted, StoreError>> {
        for build in builds.iter_mut() {
            build.labels.extend(labels.iter().cloned());
        }
        let batch: Vec<_> = builds.iter().map(|b| (b, source)).collect();
        self.insert_builds(&batch)
    }

    fn insert_batch(&mut self, batch: &[(&Build, &SourceInfo)]) -> rusqlite::Result<Vec<Inserted>> {
        self.conn.execute_batch(WRITE_CACHE)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored = batch
            .iter()
            .map(|(b, s)| store_build(&tx, b, s))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        tx.commit()?;
        Ok(stored)
    }
}

/// Steps per transaction in [`Store::insert_builds`] (a bigger build is stored alone). About
/// a quarter of a second of inserts: the write lock that parallel jobs wait for stays short.
pub const BATCH_STEPS: usize = 8192;

/// The page cache of a connection that writes: 64 MiB (SQLite's default is 2 MiB), so a
/// transaction's index pages stay in memory until its commit instead of being evicted and
/// read again. Pages are only allocated as they are used.
const WRITE_CACHE: &str = "PRAGMA cache_size = -65536";

/// One build within the caller's transaction: its rows if it is new, its labels and source
/// in any case.
fn store_build(
    tx: &rusqlite::Transaction<'_>,
    build: &Build,
    source: &SourceInfo,
) -> rusqlite::Result<Inserted> {
    let exists = tx
        .query_row(
            "SELECT 1 FROM builds WHERE id = ?1",
            [&build.id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !exists {
        insert_new(tx, build, source)?;
    }
    let mut lab = tx.prepare_cached(
        "INSERT OR REPLACE INTO labels (build_id, key, value) VALUES (?1, ?2, ?3)",
    )?;
    for (k, v) in &build.labels {
        lab.execute(params![build.id, k, v])?;
    }
    tx.execute(
        "INSERT OR IGNORE INTO sources (build_id, path, format, bytes, ingested_at, capture_wall_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![build.id, source.path, build.format.as_str(), source.bytes as i64, source.ingested_at, source.capture_wall_ns],
    )?;
    Ok(if exists {
        Inserted::Existing
    } else {
        Inserted::New
    })
}

/// Inserts a build that is not stored yet, with its steps and their inputs, layers and cache
/// operations (inside the caller's transaction).
fn insert_new(
    tx: &rusqlite::Transaction<'_>,
    b: &Build,
    source: &SourceInfo,
) -> rusqlite::Result<()> {
    insert_build_row(tx, b, source)?;
    insert_steps(tx, b)
}

/// The build's own row.
fn insert_build_row(
    tx: &rusqlite::Transaction<'_>,
    b: &Build,
    source: &SourceInfo,
) -> rusqlite::Result<()> {
    let c = b.counts();
    tx.execute(
        "INSERT INTO builds (id, source, format, reference, builder, started_at, finished_at, duration_ns, status, error,
            step_count, cached_count, pulled_count, executed_count, failed_count, canceled_count, lazy_miss_count,
            reported_total_steps, reported_cached_steps, reported_completed_steps, warnings, ingested_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
        params![
            b.id,
            b.source,
            b.format.as_str(),
            b.reference,
            b.builder,
            b.started_at,
            b.finished_at,
            b.duration_ns,
            b.status.as_str(),
            b.error,
            b.steps.len() as i64,
            c.cached,
            c.pulled,
            c.executed,
            c.failed,
            c.canceled,
            c.lazy_miss,
            b.reported_total_steps,
            b.reported_cached_steps,
            b.reported_completed_steps,
            serde_json::to_string(&b.warnings).unwrap_or_else(|_| "[]".into()),
            source.ingested_at,
        ],
    )?;
    Ok(())
}

/// The rows of the build's steps: the step, its inputs, layers and cache operations.
fn insert_steps(tx: &rusqlite::Transaction<'_>, b: &Build) -> rusqlite::Result<()> {
    let mut step = tx.prepare_cached(
        "INSERT INTO steps (build_id, seq, digest, name, kind, instruction, stage, stage_index, stage_total, platform,
            outcome, lazy_miss, started_at, finished_at, duration_ns, intervals, pull_ns, pulled_bytes, pulled_layers,
            log_lines, log_bytes, log_tail, error, layers_written, progress_group, warnings)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
    )?;
    let mut input = tx.prepare_cached(
        "INSERT OR IGNORE INTO step_inputs (build_id, seq, pos, input) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut cache_op = tx.prepare_cached(
        "INSERT OR IGNORE INTO cache_operations (build_id, seq, op, target, layers, bytes, duration_ns, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut layer = tx.prepare_cached(
        "INSERT OR IGNORE INTO cache_layers (build_id, seq, op, digest, bytes) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for s in &b.steps {
        step.execute(params![
            b.id,
            s.seq,
            s.digest,
            s.name,
            s.kind.as_str(),
            s.instruction,
            s.stage,
            s.stage_index,
            s.stage_total,
            s.platform,
            s.outcome.as_str(),
            s.lazy_miss,
            s.started_at,
            s.finished_at,
            s.duration_ns,
            serde_json::to_string(&s.intervals).unwrap_or_else(|_| "[]".into()),
            s.pull_ns,
            s.pulled_bytes,
            s.pulled_layers,
            s.log_lines as i64,
            s.log_bytes as i64,
            s.log_tail,
            s.error,
            s.layers_written,
            s.progress_group,
            s.warnings,
        ])?;
        for l in &s.layers {
            layer.execute(params![b.id, s.seq, l.op.as_str(), l.digest, l.bytes])?;
        }
        for (pos, i) in s.inputs.iter().enumerate() {
            input.execute(params![b.id, s.seq, pos as i64, i])?;
        }
        insert_cache_ops(&mut cache_op, &b.id, s)?;
    }
    Ok(())
}

/// The cache operations a step stands for: a cache import or export, and a pull of layers.
fn insert_cache_ops(
    cache_op: &mut rusqlite::CachedStatement<'_>,
    build_id: &str,
    s: &Step,
) -> rusqlite::Result<()> {
    match s.kind {
        StepKind::CacheImport => {
            let target = crate::model::cache_import_ref(&s.name).unwrap_or(&s.name);
            cache_op.execute(params![
                build_id,
                s.seq,
                "import",
                target,
                0,
                Option::<i64>::None,
                s.duration_ns,
                s.error
            ])?;
        }
        StepKind::CacheExport => {
            let target = s.name.strip_prefix("exporting ").unwrap_or(&s.name);
            cache_op.execute(params![
                build_id,
                s.seq,
                "export",
                target,
                s.layers_written,
                Option::<i64>::None,
                s.duration_ns,
                s.error
            ])?;
        }
        _ => {}
    }
    if s.pulled_layers > 0 || s.outcome == Outcome::Pulled {
        let bytes = (s.pulled_bytes > 0).then_some(s.pulled_bytes);
        cache_op.execute(params![
            build_id,
            s.seq,
            "pull",
            s.name,
            s.pulled_layers,
            bytes,
            s.pull_ns,
            s.error
        ])?;
    }
    Ok(())
}
