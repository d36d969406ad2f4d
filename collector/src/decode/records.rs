//! `Records`: what the streaming text decoders share. Each decodes one record (a line, an
//! object) at a time into a queue of events; the provided `next_event` hands them out and
//! stops for good after the first error.

use std::collections::VecDeque;

use super::EventResult;
use crate::error::{DecodeError, Position};
use crate::event::Event;

/// Events decoded and not yet handed out, and whether the decoder is done.
#[derive(Default)]
pub(crate) struct Queue {
    events: VecDeque<Event>,
    finished: bool,
}

impl Queue {
    pub(crate) fn push_back(&mut self, event: Event) {
        self.events.push_back(event);
    }
}

impl Extend<Event> for Queue {
    fn extend<I: IntoIterator<Item = Event>>(&mut self, events: I) {
        self.events.extend(events);
    }
}

pub(crate) trait Records {
    /// The decoder's queue of events.
    fn queue(&mut self) -> &mut Queue;
    /// Decodes the next record into the queue. `Ok(false)` at the end of the input.
    fn next_record(&mut self) -> Result<bool, DecodeError>;
    /// At the end of the input: the last events, or the error for an input without progress.
    fn end(&mut self) -> Result<(), DecodeError>;

    /// The next event, for `Iterator::next`.
    fn next_event(&mut self) -> Option<EventResult> {
        loop {
            let queue = self.queue();
            if let Some(ev) = queue.events.pop_front() {
                return Some(Ok(ev));
            }
            if queue.finished {
                return None;
            }
            let result = match self.next_record() {
                Ok(true) => continue,
                Ok(false) => {
                    self.queue().finished = true;
                    self.end()
                }
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                let queue = self.queue();
                queue.finished = true;
                queue.events.clear();
                return Some(Err(e));
            }
        }
    }
}

/// The error for an input that ended, at `end`, without a single record of `format`: empty,
/// or not this format at all.
pub(crate) fn no_progress(format: &'static str, end: Position, record: &str) -> DecodeError {
    if end.offset == 0 {
        DecodeError::Empty
    } else {
        DecodeError::malformed(format, end, format!("no {record} found"))
    }
}
