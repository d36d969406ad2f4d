//! The stored integer key (`build_keys.key`) of build ids, read in whichever way costs less for
//! the number of ids asked about: a lookup per id for a few, one pass over `build_keys` for many.

use std::collections::HashMap;

use rusqlite::Connection;

/// Fewer ids than the stored builds divided by this are looked up one by one; more are found
/// in one pass over `build_keys` (a lookup by text id costs a few index pages, and at half a
/// million builds those are random reads: 1 s for every build against 0.05 s for one pass).
const LOOKUPS_PER_SCAN: usize = 8;

/// The key of each id of `ids`, in the same order; `None` for an id that is not stored.
pub fn keys_of(conn: &Connection, ids: &[&str]) -> rusqlite::Result<Vec<Option<i64>>> {
    let mut keys = vec![None; ids.len()];
    if ids.is_empty() {
        return Ok(keys);
    }
    // Keys are assigned in increasing order, so the largest is about the number stored (deleted
    // builds leave gaps: an estimate is all the choice needs).
    let stored: i64 = conn
        .prepare_cached("SELECT COALESCE(max(key), 0) FROM build_keys")?
        .query_row([], |r| r.get(0))?;
    if !scans(ids.len(), stored) {
        let mut stmt = conn.prepare_cached("SELECT key FROM build_keys WHERE id = ?1")?;
        for (id, key) in ids.iter().zip(keys.iter_mut()) {
            let mut rows = stmt.query([id])?;
            if let Some(r) = rows.next()? {
                *key = Some(r.get(0)?);
            }
        }
        return Ok(keys);
    }
    let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut stmt = conn.prepare_cached("SELECT key, id FROM build_keys")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(&i) = index.get(r.get_ref(1)?.as_str()?) {
            keys[i] = Some(r.get(0)?);
        }
    }
    Ok(keys)
}

/// Whether `ids` ids of about `stored` builds are found in one pass rather than looked up.
fn scans(ids: usize, stored: i64) -> bool {
    ids.saturating_mul(LOOKUPS_PER_SCAN) >= usize::try_from(stored).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(n: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE build_keys (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);",
        )
        .unwrap();
        for i in 0..n {
            // Keys not in id order, as after a merge of older builds into a team database.
            conn.execute(
                "INSERT INTO build_keys (key, id) VALUES (?1, ?2)",
                rusqlite::params![((i * 7919) % n + 1) as i64, format!("build-{i}")],
            )
            .unwrap();
        }
        conn
    }

    #[test]
    fn both_ways_give_each_id_its_own_key() {
        let conn = store(100);
        let expected = |id: &str| -> Option<i64> {
            conn.query_row("SELECT key FROM build_keys WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .ok()
        };
        // 3 ids of 100 are looked up; 60 are found in one pass.
        for (n, scan) in [(3, false), (60, true)] {
            assert_eq!(scans(n + 1, 100), scan, "{n} ids of 100");
            let mut ids: Vec<String> = (0..n).map(|i| format!("build-{}", i * 37 % 100)).collect();
            ids.push("not-stored".into());
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let keys = keys_of(&conn, &ids).unwrap();
            let want: Vec<Option<i64>> = ids.iter().map(|id| expected(id)).collect();
            assert_eq!(keys, want, "{n} ids");
            assert_eq!(keys.last(), Some(&None));
            assert!(keys[..n].iter().all(Option::is_some));
        }
        assert!(keys_of(&conn, &[]).unwrap().is_empty());
    }
}
