//! `Synth`: a synthetic build history for benchmarks, replaying real builds with shifted
//! times and jittered durations. Every build it makes carries the label `synthetic=true`.
//!
//! Build `i` of `n` starts at `start + i·span/n` (plus up to half a gap of jitter) and is a copy
//! of a template chosen at random, with all its times stretched by a per-build factor and each
//! step's duration by a per-step factor (both log-normal, about ±15% and ±10%).

use collector::model::Build;

use crate::rng::Rng;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SynthOptions {
    /// Stop once this many steps were generated.
    pub steps: u64,
    /// Start of the history (Unix ns).
    pub start_ns: i64,
    /// Length of the history (ns).
    pub span_ns: i64,
    pub seed: u64,
}

/// An iterator of synthetic builds.
pub struct Synth<'a> {
    templates: &'a [Build],
    opts: SynthOptions,
    rng: Rng,
    builds: u64,
    steps: u64,
    /// Expected number of builds, to spread them over the span.
    expected: u64,
}

impl<'a> Synth<'a> {
    pub fn new(templates: &'a [Build], opts: SynthOptions) -> Synth<'a> {
        let mean_steps = if templates.is_empty() {
            1.0
        } else {
            templates.iter().map(|b| b.steps.len()).sum::<usize>() as f64 / templates.len() as f64
        };
        Synth {
            templates,
            opts,
            rng: Rng::new(opts.seed),
            builds: 0,
            steps: 0,
            expected: ((opts.steps as f64 / mean_steps.max(1.0)).ceil() as u64).max(1),
        }
    }

    /// Steps generated so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    fn factor(&mut self, sigma: f64) -> f64 {
        (self.rng.normal() * sigma).exp()
    }
}

impl Iterator for Synth<'_> {
    type Item = Build;

    fn next(&mut self) -> Option<Build> {
        if self.templates.is_empty() || self.steps >= self.opts.steps {
            return None;
        }
        let i = self.builds;
        let t = &self.templates[self.rng.below(self.templates.len() as u64) as usize];
        let gap = self.opts.span_ns / self.expected as i64;
        let start = self.opts.start_ns
            + (i as i64).saturating_mul(gap)
            + (self.rng.uniform() * gap as f64 * 0.5) as i64;
        let old_start = t
            .started_at
            .or_else(|| t.steps.iter().filter_map(|s| s.started_at).min())
            .unwrap_or(0);
        let stretch = self.factor(0.15);
        let at = |ns: i64| start + ((ns - old_start) as f64 * stretch) as i64;
        let mut b = t.clone();
        // Unique (the counter is in it) and with a well-mixed head, so short id prefixes work.
        let head = Rng::new(i ^ self.opts.seed.rotate_left(32) ^ fnv1a(t.id.as_bytes())).next_u64();
        b.id = format!("{head:016x}{i:014x}5e");
        b.source = format!("synthetic/{i:08}/{}", t.source);
        b.reference = None;
        b.started_at = Some(start);
        b.finished_at = t.finished_at.map(at);
        b.duration_ns = b.finished_at.map(|f| f - start);
        b.labels.insert("synthetic".into(), "true".into());
        for s in &mut b.steps {
            let f = stretch * self.factor(0.10);
            let scale = |ns: i64| (ns as f64 * f).round() as i64;
            s.duration_ns = scale(s.duration_ns);
            s.pull_ns = scale(s.pull_ns).min(s.duration_ns);
            s.intervals = s
                .intervals
                .iter()
                .map(|&(a, e)| (at(a), at(a) + scale(e - a)))
                .collect();
            s.started_at = s.started_at.map(at);
            s.finished_at = s
                .intervals
                .last()
                .map(|&(_, e)| e)
                .or(s.finished_at.map(at));
        }
        self.builds += 1;
        self.steps += b.steps.len() as u64;
        Some(b)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}
