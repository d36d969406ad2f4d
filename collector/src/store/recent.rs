//! The most recent builds of a label that started before a time (a job summary's baseline, the
//! previous build of a branch), read through whichever index is shorter to walk, so the cost
//! does not grow with the history behind them.

use rusqlite::{params, Connection};

use crate::event::Nanos;

/// A label with fewer builds than this is read through `labels_key_value` (its builds, sorted);
/// a more common one by walking builds back from `before` down `builds_started`, which stops at
/// the `n`-th match.
const RARE_LABEL_BUILDS: i64 = 2_000;

/// The ids of the `n` most recent builds labelled `key=value` that started before `before` (any
/// time when `None`), `exclude` and builds without a start time left out; newest first (ties of
/// start time by id).
pub fn recent_with_label(
    conn: &Connection,
    (key, value): (&str, &str),
    before: Option<Nanos>,
    exclude: &str,
    n: usize,
) -> rusqlite::Result<Vec<String>> {
    let builds: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM labels WHERE key = ?1 AND value = ?2 LIMIT ?3)",
        )?
        .query_row(params![key, value, RARE_LABEL_BUILDS], |r| r.get(0))?;
    if builds == 0 || n == 0 {
        return Ok(Vec::new());
    }
    let sql = if builds < RARE_LABEL_BUILDS {
        "SELECT b.id FROM labels l CROSS JOIN builds b ON b.id = l.build_id
         WHERE l.key = ?3 AND l.value = ?4
           AND b.started_at IS NOT NULL AND b.started_at < ?1 AND b.id <> ?2
         ORDER BY b.started_at DESC, b.id LIMIT ?5"
    } else {
        "SELECT b.id FROM builds b
         WHERE b.started_at IS NOT NULL AND b.started_at < ?1 AND b.id <> ?2
           AND EXISTS (SELECT 1 FROM labels l WHERE l.build_id = b.id AND l.key = ?3 AND l.value = ?4)
         ORDER BY b.started_at DESC, b.id LIMIT ?5"
    };
    let limit = i64::try_from(n).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(sql)?;
    let ids = stmt
        .query_map(
            params![before.unwrap_or(i64::MAX), exclude, key, value, limit],
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(ids)
}
