//! `LiveSteps`: what a build is doing right now (steps running, done, cached so far), folded
//! from the events a capture decodes, for progress displays. The stored numbers come from the
//! assembler at the end; this is only the live view.

use std::collections::HashMap;

use collector::event::Event;

#[derive(Debug, Default, Clone)]
struct LiveVertex {
    name: String,
    started: bool,
    running: bool,
    cached: bool,
    failed: bool,
}

/// The live state of one build.
#[derive(Debug, Default, Clone)]
pub struct LiveSteps {
    vertices: Vec<LiveVertex>,
    by_digest: HashMap<String, usize>,
    /// Log bytes seen so far.
    pub log_bytes: u64,
}

/// Counts of steps that started so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LiveCounts {
    pub started: usize,
    pub running: usize,
    pub done: usize,
    pub cached: usize,
    pub failed: usize,
}

impl LiveSteps {
    pub fn observe(&mut self, ev: &Event) {
        match ev {
            Event::BuildStart(_) => *self = LiveSteps::default(),
            Event::Vertex(v) => {
                let idx = match self.by_digest.get(&v.digest) {
                    Some(i) => *i,
                    None => {
                        self.vertices.push(LiveVertex::default());
                        self.by_digest
                            .insert(v.digest.clone(), self.vertices.len() - 1);
                        self.vertices.len() - 1
                    }
                };
                let st = &mut self.vertices[idx];
                if let Some(n) = &v.name {
                    if !n.is_empty() {
                        st.name = n.clone();
                    }
                }
                let done = v.completed.is_some() || v.reported_duration_ns.is_some() || v.canceled;
                if v.started.is_some() || v.running || v.cached || done {
                    st.started = true;
                    st.running = !done && !v.cached;
                    st.cached = v.cached;
                    st.failed = v.error.is_some() || st.failed;
                }
            }
            Event::Log(l) => self.log_bytes += l.data.len() as u64,
            _ => {}
        }
    }

    pub fn counts(&self) -> LiveCounts {
        let mut c = LiveCounts::default();
        for v in self.vertices.iter().filter(|v| v.started) {
            c.started += 1;
            if v.running {
                c.running += 1;
            } else {
                c.done += 1;
            }
            if v.cached && !v.running {
                c.cached += 1;
            }
            if v.failed {
                c.failed += 1;
            }
        }
        c
    }

    /// Names of the steps running now, in the order they appeared.
    pub fn running(&self) -> Vec<&str> {
        self.vertices
            .iter()
            .filter(|v| v.running)
            .map(|v| v.name.as_str())
            .collect()
    }

    /// One line for a spinner: the running steps, then the counts.
    pub fn line(&self, width: usize) -> String {
        let c = self.counts();
        let counts = format!("{} done, {} cached", c.done, c.cached);
        let running = self.running();
        let mut text = match running.as_slice() {
            [] => counts,
            [one] => format!("{one} | {counts}"),
            [first, rest @ ..] => format!("{first} (+{} more) | {counts}", rest.len()),
        };
        if text.chars().count() > width {
            text = text
                .chars()
                .take(width.saturating_sub(3))
                .collect::<String>()
                + "...";
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use collector::event::VertexEvent;

    fn v(d: &str, started: bool, completed: bool, cached: bool) -> Event {
        Event::Vertex(VertexEvent {
            digest: d.into(),
            name: Some(format!("step {d}")),
            started: started.then_some(1),
            completed: completed.then_some(2),
            cached,
            ..VertexEvent::default()
        })
    }

    #[test]
    fn counts_running_done_and_cached() {
        let mut s = LiveSteps::default();
        s.observe(&v("a", false, false, false));
        s.observe(&v("a", true, true, true));
        s.observe(&v("b", true, false, false));
        assert_eq!(s.running(), vec!["step b"]);
        let c = s.counts();
        assert_eq!((c.started, c.done, c.cached, c.running), (2, 1, 1, 1));
        s.observe(&v("b", true, true, false));
        assert_eq!(s.counts().done, 2);
        assert_eq!(s.line(80), "2 done, 1 cached");
    }
}
