//! Format sniffing (placeholder).
use crate::model::Format;
pub fn sniff(_prefix: &[u8]) -> Option<Format> {
    None
}
