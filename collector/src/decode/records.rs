//! `Records`: what the streaming text decoders share. Each decodes one record (a line, an
//! object) at a time into a queue of events; the provided `next_event` hands them out and
//! stops for good after the first error.

use std::collections::VecDeque;

use super::EventResult;
use crate::error::DecodeError;
use crate::event::Event;

pub(crate) trait Records {
    /// Events decoded and not yet handed out.
    fn pending(&mut self) -> &mut VecDeque<Event>;
    /// Whether the input is used up or an error was returned.
    fn finished(&mut self) -> &mut bool;
    /// Decodes the next record into `pending`. `Ok(false)` at the end of the input.
    fn step(&mut self) -> Result<bool, DecodeError>;
    /// At the end of the input: the last events, or the error for an input without progress.
    fn end(&mut self) -> Result<(), DecodeError>;

    /// The next event, for `Iterator::next`.
    fn next_event(&mut self) -> Option<EventResult> {
        loop {
            if let Some(ev) = self.pending().pop_front() {
                return Some(Ok(ev));
            }
            if *self.finished() {
                return None;
            }
            let result = match self.step() {
                Ok(true) => continue,
                Ok(false) => {
                    *self.finished() = true;
                    self.end()
                }
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                *self.finished() = true;
                self.pending().clear();
                return Some(Err(e));
            }
        }
    }
}
