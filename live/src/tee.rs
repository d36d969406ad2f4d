//! `tee_capture`: echoes an input unchanged as it arrives while a live capture decodes it
//! (`docker build ... 2>&1 | buildprof ingest - --tee`).
//!
//! Unlike a file ingest, which sniffs a 64 KiB prefix before decoding, every chunk is echoed
//! the moment it is read, and the input is treated as a build happening now: plain lines get
//! their arrival time, and the build a live id (see [`super::capture`]).

use std::io::{Read, Write};

use crate::capture::{Capture, CaptureConfig, CaptureOutcome, MERGED};

/// Copies `input` to `echo` chunk by chunk and decodes it; returns when `input` ends. A closed
/// echo (its reader went away) stops the echo, not the capture.
pub fn tee_capture(
    mut input: impl Read,
    echo: impl Write,
    config: CaptureConfig,
) -> std::io::Result<CaptureOutcome> {
    let capture = Capture::start(config, None);
    let tx = capture.sender();
    let mut echo = Some(echo);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(w) = &mut echo {
            if w.write_all(&buf[..n]).and_then(|_| w.flush()).is_err() {
                echo = None;
            }
        }
        tx.send(MERGED, &buf[..n]);
    }
    drop(tx);
    Ok(capture.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use collector::assemble::AssembleOptions;

    #[test]
    fn echoes_every_byte_and_decodes() {
        let mut input = b"#1 [1/1] RUN echo hi\n#1 0.1 hi\n#1 DONE 0.1s\n".to_vec();
        input.extend_from_slice(b"\x00\xff not text\n");
        let mut echoed = Vec::new();
        let config = CaptureConfig {
            source: "<stdin>".into(),
            format: None,
            options: AssembleOptions::default(),
        };
        let out = tee_capture(&input[..], &mut echoed, config).unwrap();
        assert_eq!(echoed, input);
        assert_eq!(out.builds.len(), 1);
        assert_eq!(out.bytes, input.len() as u64);
    }
}
