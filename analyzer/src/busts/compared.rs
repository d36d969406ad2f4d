//! What one build's busts are compared with, and the causes that comparison can prove.
//!
//! The compared build is the latest earlier build of the same experiment variant (labels
//! `experiment` and `variant`, as `buildprof experiment` sets them), else of the same `branch`;
//! earlier by start time, or by storing order when a build has no start time.
//!
//! A cause is refined only on evidence (docs/outcomes.md, "Bust causes"). BuildKit's vertex
//! digest covers the step's definition and, through its inputs, every earlier step's definition
//! and the base image, but not the contents of build-context files. So a bust whose digest equals
//! the compared build's, and which reads no build-context files, did not change: the cache it
//! used had no record of it (`mode=min` exports only the final stage's layers; an evicted or
//! fresh builder keeps none). Plain logs print no digests; there the same instruction text with
//! the same `FROM` line of its stage is the evidence, and a build arg the step uses is the one
//! change a plain log cannot show (documented).

use collector::store::recent_with_label;
use rusqlite::{Connection, OptionalExtension};

use super::detect::{Bust, BustCause};
use crate::Result;

/// The labels that pick the compared build, most specific first.
const BASES: [&[&str]; 2] = [&["experiment", "variant"], &["branch"]];

/// The build `id` is compared with: its id, and what it has in common ("branch main",
/// "experiment e1, variant min").
pub(crate) fn compared_build(conn: &Connection, id: &str) -> Result<Option<(String, String)>> {
    for keys in BASES {
        let values: Vec<Option<String>> = keys
            .iter()
            .map(|k| label(conn, id, k))
            .collect::<Result<_>>()?;
        let Some(values) = values.into_iter().collect::<Option<Vec<String>>>() else {
            continue;
        };
        let basis = keys
            .iter()
            .zip(&values)
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        // A branch holds a long history: walk its index back from this build's start, which
        // does not grow with the history (experiments are small, so plain SQL serves them).
        if let ([key], [value], Some(started)) = (keys, values.as_slice(), started_at(conn, id)?) {
            let found = recent_with_label(conn, (key, value), Some(started), id, 1)?;
            return Ok(found.into_iter().next().map(|p| (p, basis)));
        }
        let mut sql = String::from("SELECT p.id FROM builds b JOIN builds p ON p.id <> b.id");
        for (i, _) in keys.iter().enumerate() {
            sql.push_str(&format!(
                " JOIN labels l{i} ON l{i}.build_id = p.id AND l{i}.key = ?{} AND l{i}.value = ?{}",
                2 * i + 2,
                2 * i + 3
            ));
        }
        sql.push_str(
            // Earlier by start time; by storing order when either has no start time (plain
            // logs without timestamps).
            " WHERE b.id = ?1 AND (p.started_at < b.started_at
                OR ((p.started_at IS NULL OR b.started_at IS NULL) AND p.rowid < b.rowid))
              ORDER BY CASE WHEN b.started_at IS NULL THEN p.rowid END DESC,
                p.started_at DESC NULLS LAST, p.rowid DESC LIMIT 1",
        );
        let mut args: Vec<&str> = vec![id];
        for (k, v) in keys.iter().zip(&values) {
            args.push(k);
            args.push(v);
        }
        let found: Option<String> = conn
            .query_row(&sql, rusqlite::params_from_iter(args), |r| r.get(0))
            .optional()?;
        return Ok(found.map(|p| (p, basis)));
    }
    Ok(None)
}

/// The description of the comparison basis of `id` even when no earlier build exists.
pub(crate) fn basis_of(conn: &Connection, id: &str) -> Result<Option<String>> {
    for keys in BASES {
        let values: Option<Vec<String>> = keys
            .iter()
            .map(|k| label(conn, id, k))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .collect();
        if let Some(values) = values {
            return Ok(Some(
                keys.iter()
                    .zip(&values)
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
    }
    Ok(None)
}

fn started_at(conn: &Connection, id: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row("SELECT started_at FROM builds WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .flatten())
}

fn label(conn: &Connection, id: &str, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT value FROM labels WHERE build_id = ?1 AND key = ?2",
            [id, key],
            |r| r.get(0),
        )
        .optional()?)
}

/// Whether an instruction reads files of the build context (`COPY`/`ADD` without `--from`).
pub fn reads_context(instruction: &str) -> bool {
    let mut words = instruction.split_whitespace();
    let verb = words.next().unwrap_or("");
    (verb.eq_ignore_ascii_case("COPY") || verb.eq_ignore_ascii_case("ADD"))
        && !words
            .take_while(|w| w.starts_with("--"))
            .any(|w| w.starts_with("--from="))
}

/// Turns `changed` into `not_in_cache` where the comparison proves nothing changed.
pub(crate) fn refine_causes(
    conn: &Connection,
    id: &str,
    compared: &str,
    busts: &mut [Bust],
) -> Result<()> {
    let this_from = stage_bases(conn, id)?;
    let that_from = stage_bases(conn, compared)?;
    for b in busts.iter_mut().filter(|b| b.cause == BustCause::Changed) {
        let Some(p) = &b.previous else { continue };
        if p.outcome.is_none() || reads_context(&b.instruction) {
            continue;
        }
        let same = match p.digest_changed {
            Some(changed) => !changed,
            // No digests (plain logs): the same instruction text (the step identity) under the
            // same FROM line in both builds.
            None => {
                let base = |m: &[(Option<String>, String)]| {
                    m.iter()
                        .find(|(s, _)| *s == b.stage)
                        .map(|(_, n)| n.clone())
                };
                // Both None: the stage starts from another stage in both builds, whose steps
                // are compared on their own.
                base(&this_from) == base(&that_from)
            }
        };
        if same {
            b.cause = BustCause::NotInCache;
        }
    }
    Ok(())
}

/// `(stage, FROM step name)` of a build's image-based stages.
fn stage_bases(conn: &Connection, id: &str) -> Result<Vec<(Option<String>, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT stage, name FROM steps WHERE build_id = ?1 AND kind = 'FROM' ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::reads_context;

    #[test]
    fn context_reads() {
        assert!(reads_context("COPY src /app"));
        assert!(reads_context("ADD --chown=1 a.tgz /x"));
        assert!(reads_context("COPY --link config /etc/app"));
        assert!(!reads_context("COPY --link --from=assets /a /b"));
        assert!(!reads_context("COPY --from=deps /opt/deps /opt/deps"));
        assert!(!reads_context("RUN cp src /app"));
        assert!(!reads_context("WORKDIR /app"));
    }
}
