//! The codes of the loaded frames' columns: outcomes, kind classes and build statuses as small
//! integers, step identity keys (stage and instruction), and build keys.

use collector::model::{BuildStatus, Outcome, StepKind};

use crate::error::{AnalyzeError, Result};

/// Outcome codes in the `outcome` column. Hits are `<= PULLED`, steps that ran are `>= EXECUTED`.
pub mod outcome {
    pub const CACHED: u32 = 0;
    pub const PULLED: u32 = 1;
    pub const EXECUTED: u32 = 2;
    pub const FAILED: u32 = 3;
    pub const CANCELED: u32 = 4;
}

/// Kind classes in the `kind` column.
pub mod kind {
    /// A Dockerfile instruction other than `FROM`: what hit ratios, savings and busts count.
    pub const INSTRUCTION: u32 = 0;
    /// `FROM`: resolving a base image is reported `executed` or `cached` almost at random
    /// (metadata lookups), so it is not counted as a hit or a miss.
    pub const FROM: u32 = 1;
    pub const CACHE_IMPORT: u32 = 2;
    pub const CACHE_EXPORT: u32 = 3;
    pub const IMAGE_EXPORT: u32 = 4;
    /// `[internal]` and other bookkeeping vertices.
    pub const OTHER: u32 = 5;
    /// The merge of a `COPY --link` onto its stage (`LINK COPY ...`, at its copy's stage index):
    /// not an instruction, but where a stage's cache chain can break (its copy hit, the stage
    /// below it changed), so loaded with the instructions for [`crate::busts`].
    pub const LINK_MERGE: u32 = 6;

    /// Whether a step of this kind class is part of a stage's cache chain (what
    /// [`crate::expr::chain_step`] selects in a frame).
    pub const fn in_chain(k: u32) -> bool {
        k == INSTRUCTION || k == LINK_MERGE
    }
}

/// Build status codes in the `status` column.
pub mod status {
    pub const SUCCEEDED: u32 = 0;
    pub const FAILED: u32 = 1;
    pub const CANCELED: u32 = 2;
    pub const INCOMPLETE: u32 = 3;
}

pub(crate) fn outcome_code(o: Outcome) -> u32 {
    match o {
        Outcome::Cached => outcome::CACHED,
        Outcome::Pulled => outcome::PULLED,
        Outcome::Executed => outcome::EXECUTED,
        Outcome::Failed => outcome::FAILED,
        Outcome::Canceled => outcome::CANCELED,
    }
}

pub(crate) fn kind_code(k: StepKind) -> u32 {
    match k {
        StepKind::From => kind::FROM,
        StepKind::CacheImport => kind::CACHE_IMPORT,
        StepKind::CacheExport => kind::CACHE_EXPORT,
        StepKind::ImageExport => kind::IMAGE_EXPORT,
        k if k.is_instruction() => kind::INSTRUCTION,
        _ => kind::OTHER,
    }
}

pub(crate) fn status_code(s: BuildStatus) -> u32 {
    match s {
        BuildStatus::Succeeded => status::SUCCEEDED,
        BuildStatus::Failed => status::FAILED,
        BuildStatus::Canceled => status::CANCELED,
        BuildStatus::Incomplete => status::INCOMPLETE,
    }
}

/// The stored name of a build status code.
pub fn status_name(code: u32) -> &'static str {
    match code {
        status::SUCCEEDED => "succeeded",
        status::FAILED => "failed",
        status::CANCELED => "canceled",
        _ => "incomplete",
    }
}

/// The separator between stage and instruction in an identity key.
pub const IDENT_SEP: char = '\x1f';

/// Splits an identity key into stage (None when the step had no stage name) and instruction.
pub fn split_ident(key: &str) -> (Option<&str>, &str) {
    match key.split_once(IDENT_SEP) {
        Some(("", i)) => (None, i),
        Some((s, i)) => (Some(s), i),
        None => (None, key),
    }
}

pub(crate) fn row_key(rowid: i64) -> Result<u32> {
    u32::try_from(rowid).map_err(|_| {
        AnalyzeError::Invalid(format!(
            "build row id {rowid} is beyond what the analyzer indexes (2^32)"
        ))
    })
}
