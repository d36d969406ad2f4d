//! `Assembler`: folds progress events into [`Build`]s, following BuildKit's own semantics.
//!
//! - Vertex updates are full snapshots. Like progressui, intervals are keyed by their `started`
//!   time and merged where they overlap; a step's duration is the sum of its merged intervals
//!   (what BuildKit prints as `DONE x.xs`). Plain logs carry that sum directly.
//! - Outcome: reported cached and nothing after it is `cached`; reported cached, then only
//!   layer download/extract activity is `pulled`; reported cached and then run is `executed`
//!   with `lazy_miss`; an error is `failed`, or `canceled` for `context canceled`.
//! - The build's status comes from the stream's own verdict, not from any vertex error (a
//!   missing cache to import errors its vertex and the build goes on). Streams that carry no
//!   verdict on success (rawjson, plain) count as succeeded once every step finished and an
//!   export ran; otherwise the build is `incomplete` (cut off).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::classify::{kind_of, parse_name};
use crate::event::{
    is_cancellation, BuildMeta, BuildVerdict, Event, LogEvent, Nanos, StatusEvent, VerdictStatus,
    VertexEvent,
};
use crate::model::{
    is_link_merge, Build, BuildStatus, Format, LayerOp, LayerRef, Outcome, Step, StepKind,
};
use crate::redact::SharedRedactor;

/// Limits and redaction applied while assembling.
#[derive(Debug, Clone)]
pub struct AssembleOptions {
    /// Lines kept of each step's log tail (0 keeps no log text; counts are always kept).
    pub log_tail_lines: usize,
    /// Bytes kept of each step's log tail: the cap on stored log text per step.
    pub log_tail_bytes: usize,
    /// Secrets masked in everything stored (the built-in patterns by default).
    pub redactor: SharedRedactor,
}

impl Default for AssembleOptions {
    fn default() -> Self {
        AssembleOptions {
            log_tail_lines: 10,
            log_tail_bytes: 4096,
            redactor: SharedRedactor::default(),
        }
    }
}

/// Folds events into builds. Feed it with [`Assembler::push`]; a finished build comes back
/// when the next one starts, and the last one from [`Assembler::finish`].
pub struct Assembler {
    source: String,
    format: Format,
    options: AssembleOptions,
    current: Option<Pending>,
}

#[derive(Default)]
struct Pending {
    meta: BuildMeta,
    verdict: Option<BuildVerdict>,
    vertices: Vec<VertexState>,
    by_digest: HashMap<String, usize>,
    first_ts: Option<Nanos>,
    last_ts: Option<Nanos>,
    warnings: Vec<String>,
    saw_any: bool,
}

#[derive(Default)]
struct VertexState {
    digest: String,
    name: String,
    inputs: Vec<String>,
    progress_group: Option<String>,
    /// Intervals keyed by start (as progressui does), with their end if known.
    intervals: BTreeMap<Nanos, Option<Nanos>>,
    /// Starts of intervals reported cached.
    cached_starts: HashSet<Nanos>,
    /// Plain logs: the order of what happened, since they may lack times.
    phase: Phase,
    cached_reported: bool,
    /// Some snapshot carried the vertex's inputs (plain logs never do).
    has_inputs: bool,
    /// Starts of execution intervals: not cached, with inputs (only `sharedOp.Exec` writes such
    /// a snapshot; pull intervals carry no inputs).
    exec_starts: HashSet<Nanos>,
    /// A completion that was not cached came after the cached report (plain `CACHED` ... `DONE`).
    done_after_cache: bool,
    /// Log lines other than a fetch's retry notices (`error: ...`, `retrying in ...`).
    exec_log_lines: u64,
    /// Plain logs: the finished vertex's header was printed again (with its time, if any) and
    /// nothing has followed it yet; the printer reprints a header when it switches back to a
    /// vertex, sometimes with nothing new to show before the build ends.
    bare_reprint: Option<Option<Nanos>>,
    started: bool,
    completed: bool,
    error: Option<String>,
    canceled: bool,
    reported_duration_ns: Option<i64>,
    log_lines: u64,
    log_bytes: u64,
    log_tail: Vec<String>,
    partial_log_line: bool,
    statuses: HashMap<String, StatusState>,
    warnings: u32,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    #[default]
    Announced,
    Running,
    Done,
}

#[derive(Default)]
struct StatusState {
    first: bool,
    pull: bool,
    started: Option<Nanos>,
    completed: Option<Nanos>,
    reported_duration_ns: Option<i64>,
    total: i64,
    current: i64,
}

impl Assembler {
    pub fn new(source: impl Into<String>, format: Format) -> Self {
        Self::with_options(source, format, AssembleOptions::default())
    }

    pub fn with_options(
        source: impl Into<String>,
        format: Format,
        options: AssembleOptions,
    ) -> Self {
        Assembler {
            source: source.into(),
            format,
            options,
            current: None,
        }
    }

    /// Feeds one event; returns the previous build when this event starts a new one.
    pub fn push(&mut self, event: Event) -> Option<Build> {
        if let Event::BuildStart(meta) = event {
            let prev = self.take_build(false);
            self.current = Some(Pending {
                meta,
                ..Pending::default()
            });
            return prev;
        }
        let p = self.current.get_or_insert_with(Pending::default);
        p.saw_any = true;
        match event {
            Event::BuildStart(_) => unreachable!("handled above"),
            Event::Vertex(v) => p.vertex(v),
            Event::Status(s) => p.status(s),
            Event::Log(l) => p.log(l, &self.options),
            Event::Warning(w) => {
                if let Some(idx) = w.vertex.as_ref().and_then(|d| p.by_digest.get(d)) {
                    p.vertices[*idx].warnings += 1;
                }
                p.warnings.push(w.short);
            }
            Event::BuildEnd(v) => {
                p.touch(v.at);
                // The first verdict wins: buildx prints `ERROR:` once, after the trailer.
                let replace = p
                    .verdict
                    .as_ref()
                    .is_none_or(|old| old.status == VerdictStatus::Succeeded);
                if replace {
                    p.verdict = Some(v);
                }
            }
        }
        None
    }

    /// Ends the stream. `truncated` says the input stopped mid-record.
    pub fn finish(mut self, truncated: bool) -> Option<Build> {
        self.take_build(truncated)
    }

    fn take_build(&mut self, truncated: bool) -> Option<Build> {
        let p = self.current.take()?;
        if !p.saw_any && p.meta == BuildMeta::default() {
            return None;
        }
        let mut build = p.into_build(&self.source, self.format, truncated);
        self.options.redactor.redact_build(&mut build);
        Some(build)
    }
}

impl Pending {
    fn touch(&mut self, ts: Option<Nanos>) {
        if let Some(t) = ts {
            self.first_ts = Some(self.first_ts.map_or(t, |f| f.min(t)));
            self.last_ts = Some(self.last_ts.map_or(t, |l| l.max(t)));
        }
    }

    fn state(&mut self, digest: &str) -> &mut VertexState {
        let idx = match self.by_digest.get(digest) {
            Some(i) => *i,
            None => {
                let i = self.vertices.len();
                self.vertices.push(VertexState {
                    digest: digest.to_string(),
                    ..VertexState::default()
                });
                self.by_digest.insert(digest.to_string(), i);
                i
            }
        };
        &mut self.vertices[idx]
    }

    // Long on purpose: one snapshot's effect on its vertex, in the order the outcome rules need
    // (docs/outcomes.md): interval, cached report, exec start, error, completion.
    fn vertex(&mut self, v: VertexEvent) {
        let finishes = completes_event(&v);
        self.touch(v.started);
        self.touch(v.completed);
        let st = self.state(&v.digest);
        if let Some(name) = v.name {
            if st.name.is_empty() || !name.is_empty() {
                st.name = name;
            }
        }
        let snapshot_has_inputs = !v.inputs.is_empty();
        if snapshot_has_inputs {
            st.has_inputs = true;
            st.inputs = v.inputs;
        }
        if v.progress_group.is_some() {
            st.progress_group = v.progress_group;
        }
        if v.reported_duration_ns.is_some() {
            st.reported_duration_ns = v.reported_duration_ns;
        }
        let is_start = v.started.is_some()
            || v.running
            || v.reported_duration_ns.is_some()
            || v.cached
            || v.completed.is_some()
            || v.error.is_some()
            || v.canceled;
        if !is_start {
            return; // announced only
        }
        // A plain header again after the vertex finished, with nothing (yet) under it.
        if v.running && !finishes && st.phase == Phase::Done {
            st.bare_reprint = Some(v.started);
            return;
        }
        st.bare_reprint = None;
        let completes = v.completed.is_some() || v.reported_duration_ns.is_some();
        // An interval that started after the cached report (plain logs: any completion printed
        // after `CACHED`); one already open when the report came is not after it.
        let after_report = v
            .started
            .is_none_or(|s| st.cached_starts.iter().any(|c| s > *c));
        if st.cached_reported && completes && !v.cached && after_report {
            st.done_after_cache = true;
        }
        st.started = true;
        if let Some(s) = v.started {
            let end = v.completed.or(st.intervals.get(&s).copied().flatten());
            st.intervals.insert(s, end);
            if v.cached {
                st.cached_starts.insert(s);
            } else if snapshot_has_inputs {
                st.exec_starts.insert(s);
            }
        }
        if v.cached {
            st.cached_reported = true;
        }
        // An error ends the vertex, whether or not a completion time came with it (plain
        // `#N ERROR:` lines without CI timestamps).
        let errored = v.error.is_some();
        match v.error {
            Some(err) => {
                if is_cancellation(&err) {
                    st.canceled = true;
                }
                st.error = Some(err);
            }
            // A snapshot is the whole vertex: one that completes without an error clears an
            // earlier one (a failed cache load that BuildKit then executed instead).
            None if completes && !v.canceled => st.error = None,
            None => {}
        }
        if v.canceled {
            st.canceled = true;
        }
        if completes || v.cached || v.canceled || errored {
            st.phase = Phase::Done;
            st.completed = true;
        } else {
            st.phase = Phase::Running;
            st.completed = false;
        }
        // A cached snapshot that is also complete closes the vertex; an open interval reopens it.
        if let (Some(_), None) = (v.started, v.completed) {
            if !v.cached && !errored {
                st.completed = false;
                st.phase = Phase::Running;
            }
        }
    }

    fn status(&mut self, s: StatusEvent) {
        self.touch(s.timestamp);
        self.touch(s.completed);
        if s.vertex.is_empty() {
            return; // progress not tied to a vertex
        }
        let pull = is_pull_status(&s.id);
        let st = self.state(&s.vertex);
        st.started = true;
        st.resume_after_reprint();
        let entry = st.statuses.entry(s.id).or_insert_with(|| StatusState {
            first: true,
            ..StatusState::default()
        });
        if std::mem::take(&mut entry.first) {
            entry.pull = pull;
        }
        entry.started = s.started.or(entry.started);
        entry.completed = s.completed.or(entry.completed);
        if s.reported_duration_ns.is_some() {
            entry.reported_duration_ns = s.reported_duration_ns;
        }
        entry.total = entry.total.max(s.total);
        entry.current = entry.current.max(s.current);
    }

    fn log(&mut self, l: LogEvent, opts: &AssembleOptions) {
        self.touch(l.timestamp);
        if l.vertex.is_empty() {
            return;
        }
        let st = self.state(&l.vertex);
        st.started = true;
        st.resume_after_reprint();
        st.log_bytes += l.data.len() as u64;
        let newlines = memchr::memchr_iter(b'\n', &l.data).count() as u64;
        // A chunk that does not end in a newline leaves a partial line open.
        let mut lines = newlines;
        if !l.data.is_empty() && !l.data.ends_with(b"\n") {
            if !st.partial_log_line {
                lines += 1;
            }
            st.partial_log_line = true;
        } else if st.partial_log_line && newlines > 0 {
            lines -= 1;
            st.partial_log_line = false;
        }
        st.log_lines += lines;
        if !is_retry_notice(&l.data) {
            st.exec_log_lines += lines.max(1);
        }
        push_tail(&mut st.log_tail, &l.data, opts);
    }

    // Long on purpose: the build's verdict, status and times are settled from all of its steps
    // at once, in one place, so the status rules read top to bottom (docs/outcomes.md).
    fn into_build(mut self, source: &str, format: Format, truncated: bool) -> Build {
        let verdict = self.verdict.take();
        let end_of_stream = self.last_ts.or(self.meta.completed_at);
        let mut steps = Vec::new();
        let mut open = Vec::new();
        for v in self.vertices.drain(..) {
            if !v.started {
                continue; // announced but never started: not a step (BuildKit does not count it)
            }
            open.push(!v.completed);
            steps.push(v.into_step(steps.len() as u32, end_of_stream));
        }
        relink_outcomes(&mut steps);
        let failed_instruction = steps
            .iter()
            .find(|s| s.outcome == Outcome::Failed && s.kind != StepKind::CacheImport);
        // Without a verdict, a finished export is the only sign that the stream reached its end
        // (every builder run with an output exports; a stream cut before that is incomplete).
        // A hit left showing as running (a lazy pull the printer never saw finish) is not work
        // the build still had to do; a step that ran and never finished is.
        let unfinished_work = steps
            .iter()
            .zip(&open)
            .any(|(s, open)| *open && !s.outcome.is_hit());
        let exported = steps.iter().any(|s| {
            matches!(s.kind, StepKind::ImageExport | StepKind::CacheExport)
                && s.outcome != Outcome::Canceled
        });
        let (status, error) = match &verdict {
            Some(v) => match v.status {
                VerdictStatus::Succeeded if truncated => (BuildStatus::Incomplete, None),
                VerdictStatus::Succeeded => (BuildStatus::Succeeded, None),
                VerdictStatus::Failed => (BuildStatus::Failed, v.error.clone()),
                VerdictStatus::Canceled => (BuildStatus::Canceled, v.error.clone()),
            },
            None => match failed_instruction {
                Some(s) => (BuildStatus::Failed, s.error.clone()),
                None if truncated || unfinished_work || !exported => {
                    (BuildStatus::Incomplete, None)
                }
                None => (BuildStatus::Succeeded, None),
            },
        };
        // Steps still running when a build ended badly were cut off.
        if status != BuildStatus::Succeeded {
            for (s, open) in steps.iter_mut().zip(open) {
                if open && s.outcome == Outcome::Executed {
                    s.outcome = Outcome::Canceled;
                    s.finished_at = None;
                }
            }
        }
        let mut cache_imports = Vec::new();
        for s in &steps {
            if let Some(r) = crate::model::cache_import_ref(&s.name) {
                cache_imports.push(r.to_string());
            }
        }
        let started_at = self.meta.created_at.or(self.first_ts);
        let finished_at = [
            verdict.as_ref().and_then(|v| v.at),
            self.meta.completed_at,
            self.last_ts,
        ]
        .into_iter()
        .flatten()
        .max();
        let duration_ns = match (started_at, finished_at) {
            (Some(s), Some(f)) if f >= s => Some(f.saturating_sub(s)),
            _ => None,
        };
        Build {
            id: String::new(),
            source: source.to_string(),
            format,
            reference: self.meta.reference,
            builder: self.meta.builder,
            started_at,
            finished_at,
            duration_ns,
            status,
            error,
            steps,
            labels: BTreeMap::new(),
            reported_total_steps: self.meta.reported_total_steps,
            reported_cached_steps: self.meta.reported_cached_steps,
            reported_completed_steps: self.meta.reported_completed_steps,
            warnings: self.warnings,
            cache_imports,
        }
    }
}

/// What a vertex's statuses say about layer transfer: pulls (download, extract) and cache
/// export writes.
struct Transfers {
    any_pull: bool,
    /// The sum of the durations printed on pull statuses (plain logs).
    pull_reported: i64,
    pull_ns: i64,
    pulled_bytes: i64,
    pulled_layers: u32,
    layers_written: u32,
    layers: BTreeMap<(LayerOp, String), Option<i64>>,
}

fn transfers(statuses: &HashMap<String, StatusState>) -> Transfers {
    let mut pull_spans = BTreeMap::new();
    let mut pull_reported = 0i64;
    let mut pulled_bytes = 0i64;
    let mut pulled_layers = 0u32;
    let mut layers_written = 0u32;
    let mut layers: BTreeMap<(LayerOp, String), Option<i64>> = BTreeMap::new();
    let mut any_pull = false;
    for (id, s) in statuses {
        if s.pull {
            any_pull = true;
            if let (Some(a), Some(b)) = (s.started, s.completed) {
                let e: &mut Option<Nanos> = pull_spans.entry(a).or_insert(Some(b));
                *e = Some(e.unwrap_or(b).max(b));
            }
            pull_reported = pull_reported.saturating_add(s.reported_duration_ns.unwrap_or(0));
            if id.starts_with("sha256:") {
                pulled_layers += 1;
                // Byte counts are the input's own numbers: a negative one counts as
                // nothing, and the sum saturates.
                let bytes = s.total.max(s.current);
                pulled_bytes = pulled_bytes.saturating_add(bytes.max(0));
                layers.insert((LayerOp::Pull, id.clone()), (bytes > 0).then_some(bytes));
            } else if let Some(d) = id.split_whitespace().nth(1) {
                // `extracting sha256:...` / `pulling sha256:...`: the digest, maybe no size.
                layers.entry((LayerOp::Pull, d.to_string())).or_insert(None);
            }
        }
        if let Some(d) = id.strip_prefix("writing layer ") {
            layers_written += 1;
            layers.insert((LayerOp::Write, d.trim().to_string()), None);
        }
    }
    let pull_ns = if pull_spans.is_empty() {
        pull_reported
    } else {
        total(&merge_intervals(&pull_spans, None))
    };

    Transfers {
        any_pull,
        pull_reported,
        pull_ns,
        pulled_bytes,
        pulled_layers,
        layers_written,
        layers,
    }
}

/// `COPY --link` is two vertices in one progress group: the copy (a FileOp on scratch) and
/// `LINK COPY ...` (a MergeOp putting that layer on the stage). A merge the solver found in the
/// cache is reported cached and may run afterwards all the same, because BuildKit merges
/// snapshots lazily (when a later step or the export needs them): such a merge follows its copy
/// (executed when the copy ran), and is otherwise cached, or pulled when it extracted layers.
/// A merge never reported cached missed the cache (the stage below it changed) and ran: it
/// stays executed by R8 (R15 in docs/outcomes.md).
fn relink_outcomes(steps: &mut [Step]) {
    let copy_ran: HashSet<String> = steps
        .iter()
        .filter(|s| !is_link_merge(&s.instruction))
        .filter(|s| matches!(s.outcome, Outcome::Executed))
        .filter_map(|s| s.progress_group.clone())
        .collect();
    for s in steps.iter_mut() {
        let Some(group) = &s.progress_group else {
            continue;
        };
        // `lazy_miss` on an executed step: it was reported cached first.
        if !is_link_merge(&s.instruction) || s.outcome != Outcome::Executed || !s.lazy_miss {
            continue;
        }
        if !copy_ran.contains(group) {
            s.outcome = if s.layers.iter().any(|l| l.op == LayerOp::Pull) {
                Outcome::Pulled
            } else {
                Outcome::Cached
            };
            s.lazy_miss = false;
        }
    }
}

/// Whether a snapshot says something beyond "running": a completion, a cached report, an error.
fn completes_event(v: &VertexEvent) -> bool {
    v.completed.is_some()
        || v.reported_duration_ns.is_some()
        || v.cached
        || v.error.is_some()
        || v.canceled
}

/// A log chunk that is only a fetch's retry notices (`error: ...`, `retrying in ...`), which
/// BuildKit's retry handler writes under the vertex whose layers it pulls: not output of a run.
fn is_retry_notice(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .peekable();
    lines.peek().is_some()
        && lines.all(|l| l.starts_with("error: ") || l.starts_with("retrying in"))
}

/// How much of a plain step's printed time layer transfer must leave unexplained before the step
/// counts as executed without any other evidence (R9 in docs/outcomes.md): 50 times the 0.1 s
/// print resolution and several times the longest cache load seen before a pull.
const UNEXPLAINED_PULL_NS: i64 = 5_000_000_000;

/// Layer download and extraction statuses: `sha256:<digest>` (with byte counts on standalone
/// BuildKit), `extracting sha256:...`, and dockerd's `pulling sha256:...`.
pub fn is_pull_status(id: &str) -> bool {
    id.starts_with("sha256:")
        || id.starts_with("extracting sha256:")
        || id.starts_with("pulling sha256:")
}

fn push_tail(tail: &mut Vec<String>, data: &[u8], opts: &AssembleOptions) {
    if opts.log_tail_lines == 0 || opts.log_tail_bytes == 0 || data.is_empty() {
        return;
    }
    // Only the end of a large chunk can reach the tail.
    let start = data.len().saturating_sub(opts.log_tail_bytes);
    let text = String::from_utf8_lossy(&data[start..]);
    for line in text.split_inclusive('\n') {
        match tail.last_mut() {
            Some(last) if !last.ends_with('\n') => last.push_str(line),
            _ => tail.push(line.to_string()),
        }
    }
    if tail.len() > opts.log_tail_lines {
        let drop = tail.len() - opts.log_tail_lines;
        tail.drain(..drop);
    }
    let mut total: usize = tail.iter().map(String::len).sum();
    while total > opts.log_tail_bytes && tail.len() > 1 {
        total -= tail.remove(0).len();
    }
    if total > opts.log_tail_bytes {
        // One line longer than the cap: keep its end, cut at a character boundary.
        let line = &mut tail[0];
        let mut cut = line.len() - opts.log_tail_bytes;
        while !line.is_char_boundary(cut) {
            cut += 1;
        }
        line.drain(..cut);
    }
}

/// Merges intervals (sorted by start) where they overlap; open intervals end at `open_end`.
fn merge_intervals(
    raw: &BTreeMap<Nanos, Option<Nanos>>,
    open_end: Option<Nanos>,
) -> Vec<(Nanos, Nanos)> {
    let mut merged: Vec<(Nanos, Nanos)> = Vec::new();
    for (&s, &e) in raw {
        let e = e.or(open_end).unwrap_or(s).max(s);
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// The summed length of `intervals`. Times come from the input and may be anywhere in the `i64`
/// range (chrono accepts years 1677 to 2262), so lengths and sums saturate instead of overflowing.
fn total(intervals: &[(Nanos, Nanos)]) -> i64 {
    intervals
        .iter()
        .fold(0i64, |sum, (s, e)| sum.saturating_add(e.saturating_sub(*s)))
}

impl VertexState {
    /// Something came under a reprinted header: the vertex runs again from the header's time.
    fn resume_after_reprint(&mut self) {
        if let Some(start) = self.bare_reprint.take() {
            if let Some(s) = start {
                self.intervals.entry(s).or_insert(None);
            }
            self.phase = Phase::Running;
            self.completed = false;
        }
    }

    fn into_step(self, seq: u32, end_of_stream: Option<Nanos>) -> Step {
        let parts = parse_name(&self.name);
        let kind = kind_of(&self.name, &parts);
        let open_end = if self.completed { None } else { end_of_stream };
        let intervals = merge_intervals(&self.intervals, open_end);
        let duration_ns = self
            .reported_duration_ns
            .unwrap_or_else(|| total(&intervals));

        let Transfers {
            any_pull,
            pull_reported,
            pull_ns,
            pulled_bytes,
            pulled_layers,
            layers_written,
            layers,
        } = transfers(&self.statuses);
        let outcome = self.outcome(kind, any_pull, pull_reported);
        // Reported cached (a real load, or BuildKit's mark on an input that never ran), then
        // ran anyway.
        let lazy_miss = self.cached_reported
            && matches!(
                outcome,
                Outcome::Executed | Outcome::Failed | Outcome::Canceled
            );
        let started_at = intervals.first().map(|i| i.0);
        let finished_at = if self.completed {
            intervals.last().map(|i| i.1)
        } else {
            None
        };
        Step {
            seq,
            digest: self.digest,
            instruction: parts.instruction.clone(),
            stage: parts.stage,
            stage_index: parts.stage_index,
            stage_total: parts.stage_total,
            platform: parts.platform,
            name: self.name,
            kind,
            inputs: self.inputs,
            outcome,
            lazy_miss,
            started_at,
            finished_at,
            duration_ns,
            intervals,
            pull_ns,
            pulled_bytes,
            pulled_layers,
            log_lines: self.log_lines,
            log_bytes: self.log_bytes,
            log_tail: self.log_tail.concat(),
            error: self.error,
            layers_written,
            layers: layers
                .into_iter()
                .map(|((op, digest), bytes)| LayerRef { op, digest, bytes })
                .collect(),
            progress_group: self.progress_group,
            warnings: self.warnings,
        }
    }

    /// The step's outcome: the rules of docs/outcomes.md, first match wins. Only structure
    /// decides (which intervals, statuses and logs there are), never a ratio of durations, so
    /// identical event shapes give identical outcomes.
    fn outcome(&self, kind: StepKind, any_pull: bool, pull_printed_ns: i64) -> Outcome {
        if self.canceled {
            return Outcome::Canceled; // R3
        }
        if self.error.is_some() {
            return Outcome::Failed; // R4
        }
        if !kind.is_instruction() || kind == StepKind::From {
            return self.source_outcome(any_pull); // R5, R6, R7
        }
        if self.has_inputs {
            // Timed streams (rawjson, Engine API, .dockerbuild): an execution interval is
            // proof that the step ran; pull intervals carry no inputs.
            if !self.exec_starts.is_empty() || self.exec_log_lines > 0 {
                return Outcome::Executed; // R8
            }
            if any_pull {
                return Outcome::Pulled; // R10
            }
            return if self.cached_reported {
                Outcome::Cached // R13
            } else {
                Outcome::Executed // R12
            };
        }
        // Plain logs: no inputs, no intervals of their own; output, layer lines, CACHED, DONE.
        if self.exec_log_lines > 0 {
            return Outcome::Executed; // R8
        }
        if any_pull {
            let unexplained = self
                .reported_duration_ns
                .unwrap_or(0)
                .saturating_sub(pull_printed_ns);
            return if unexplained >= UNEXPLAINED_PULL_NS {
                Outcome::Executed // R9
            } else {
                Outcome::Pulled // R10
            };
        }
        if self.cached_reported {
            return if self.done_after_cache {
                Outcome::Executed // R11
            } else {
                Outcome::Cached // R13
            };
        }
        Outcome::Executed // R12
    }

    /// `FROM`, internal, cache import/export and image export vertices: cached when reported
    /// cached and nothing but layer transfer followed, pulled when layers were transferred,
    /// executed otherwise.
    fn source_outcome(&self, any_pull: bool) -> Outcome {
        match (self.cached_reported, any_pull, self.exec_log_lines > 0) {
            (_, _, true) => Outcome::Executed,
            (true, false, false) if !self.done_after_cache => Outcome::Cached,
            (true, true, false) => Outcome::Pulled,
            _ => Outcome::Executed,
        }
    }
}
