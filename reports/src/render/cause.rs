//! Why the cache missed, in words, the same in `show`, `busts`, the job summary and the report:
//! a bust's cause, a failed cache import.

use analyzer::busts::{reads_context, BuildBusts, Bust, BustCause};

use super::fmt::ellipsize;

/// The stable name of a cause (`busts --json`, the summary's JSON).
pub fn cause_name(c: BustCause) -> &'static str {
    match c {
        BustCause::Changed => "changed",
        BustCause::NotInCache => "not_in_cache",
        BustCause::LazyMiss => "lazy_miss",
    }
}

/// Why the bust happened, as a short phrase ("not in the imported cache (REF, mode=min)").
pub fn cause_phrase(bust: &Bust, build: &BuildBusts) -> String {
    match bust.cause {
        BustCause::Changed if reads_context(&bust.instruction) => {
            // The trace holds no file hashes: a changed file and a cache without the step look
            // the same (issue 14's recorded inputs tell them apart).
            "a file it reads changed, or the cache lacked it".into()
        }
        BustCause::Changed => "changed: its instruction, a build arg or an earlier step".into(),
        BustCause::LazyMiss => "lazy miss: the imported cache lacked its layers".into(),
        BustCause::NotInCache => {
            if build.cache_imports.is_empty() {
                "not in the builder's cache: unchanged since the compared build".into()
            } else {
                format!("not in the imported cache: {}", imported(build))
            }
        }
    }
}

/// "REF, mode=min" for the build's cache imports.
fn imported(build: &BuildBusts) -> String {
    collector::model::imported_caches_phrase(&build.cache_imports, build.cache_mode.as_deref())
}

/// "cache import of REF failed: MSG; this build ran without that cache" (one line, raw: the
/// renderer escapes it).
pub fn import_failure(reference: &str, error: &str) -> String {
    let first = error.lines().next().unwrap_or("").trim();
    format!(
        "cache import of {reference} failed: {}; this build ran without that cache",
        ellipsize(first, 200)
    )
}
