//! The last lines of a command's output, kept to explain a failure when the output itself was
//! discarded (experiments) or has scrolled away.

/// Bytes of output kept.
pub(crate) const TAIL_BYTES: usize = 4096;

/// The last lines (at most 20) of the last [`TAIL_BYTES`] of `bytes`.
pub(crate) fn tail_of(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(TAIL_BYTES);
    let text = String::from_utf8_lossy(&bytes[start..]);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
