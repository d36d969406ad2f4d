//! Writing and reading a build's recorded inputs ([`crate::inputs::BuildInputs`]): one row in
//! `build_inputs`, its args in `build_args`, and the context manifest's directory nodes in the
//! shared, content-addressed `context_nodes` (a node already stored is not written again).

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{sql, Store, StoreError};
use crate::inputs::{tree, BaseImage, BuildArg, BuildInputs, StageGraph, TreeEntry};

/// A build's inputs as stored (the manifest by its root only; nodes are read on demand).
#[derive(Debug, Clone, Default)]
pub struct StoredInputs {
    pub context: Option<String>,
    pub dockerfile_path: Option<String>,
    pub dockerfile_hash: Option<String>,
    pub dockerfile_text: Option<String>,
    pub graph: Option<StageGraph>,
    pub context_root: Option<String>,
    pub context_files: Option<i64>,
    pub context_bytes: Option<i64>,
    pub arg_values_stored: bool,
    pub args: Vec<BuildArg>,
    pub base_images: Vec<BaseImage>,
    pub notes: Vec<String>,
}

impl Store {
    /// Stores the inputs of build `build_id` (already stored) in one transaction. Inputs
    /// recorded for it before are replaced.
    pub fn insert_inputs(
        &mut self,
        build_id: &str,
        inputs: &BuildInputs,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let e = |err| sql(&path, err);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        write_inputs(&tx, build_id, inputs).map_err(e)?;
        tx.commit().map_err(e)
    }
}

fn write_inputs(tx: &Connection, id: &str, i: &BuildInputs) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM build_inputs WHERE build_id = ?1", [id])?;
    let df = i.dockerfile.as_ref();
    let graph = df.map(|d| serde_json::to_string(&d.graph).unwrap_or_default());
    let m = i.manifest.as_ref();
    tx.execute(
        "INSERT INTO build_inputs (build_id, context, dockerfile_path, dockerfile_hash, dockerfile_text,
            stage_graph, context_root, context_files, context_bytes, arg_values_stored, notes, base_images)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id,
            i.context,
            df.map(|d| &d.path),
            df.map(|d| &d.hash),
            df.map(|d| &d.text),
            graph,
            m.map(|m| &m.root),
            m.map(|m| m.files as i64),
            m.map(|m| m.bytes as i64),
            i.arg_values_stored,
            serde_json::to_string(&i.notes).unwrap_or_else(|_| "[]".into()),
            serde_json::to_string(&i.base_images).unwrap_or_else(|_| "[]".into()),
        ],
    )?;
    let mut arg = tx.prepare_cached(
        "INSERT OR REPLACE INTO build_args (build_id, name, value_hash, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for a in &i.args {
        arg.execute(params![id, a.name, a.value_hash, a.value])?;
    }
    let mut node =
        tx.prepare_cached("INSERT OR IGNORE INTO context_nodes (hash, entries) VALUES (?1, ?2)")?;
    for (hash, entries) in m.map(|m| m.nodes.as_slice()).unwrap_or_default() {
        node.execute(params![hash, entries])?;
    }
    Ok(())
}

/// The inputs recorded for build `build_id`, if any.
pub fn read_inputs(conn: &Connection, build_id: &str) -> rusqlite::Result<Option<StoredInputs>> {
    let row = conn
        .prepare_cached(
            "SELECT context, dockerfile_path, dockerfile_hash, dockerfile_text, stage_graph,
                    context_root, context_files, context_bytes, arg_values_stored, notes, base_images
             FROM build_inputs WHERE build_id = ?1",
        )?
        .query_row(
            [build_id],
            |r| {
                Ok(StoredInputs {
                    context: r.get(0)?,
                    dockerfile_path: r.get(1)?,
                    dockerfile_hash: r.get(2)?,
                    dockerfile_text: r.get(3)?,
                    graph: r
                        .get::<_, Option<String>>(4)?
                        .and_then(|g| serde_json::from_str(&g).ok()),
                    context_root: r.get(5)?,
                    context_files: r.get(6)?,
                    context_bytes: r.get(7)?,
                    arg_values_stored: r.get(8)?,
                    args: Vec::new(),
                    notes: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default(),
                    base_images: serde_json::from_str(&r.get::<_, String>(10)?)
                        .unwrap_or_default(),
                })
            },
        )
        .optional()?;
    let Some(mut inputs) = row else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT name, value_hash, value FROM build_args WHERE build_id = ?1 ORDER BY name",
    )?;
    inputs.args = stmt
        .query_map([build_id], |r| {
            Ok(BuildArg {
                name: r.get(0)?,
                value_hash: r.get(1)?,
                value: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(inputs))
}

/// The entries of a context node, `None` when it is not stored (or not a node).
pub fn read_node(conn: &Connection, hash: &str) -> rusqlite::Result<Option<Vec<TreeEntry>>> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT entries FROM context_nodes WHERE hash = ?1")?
        .query_row([hash], |r| r.get(0))
        .optional()?;
    Ok(bytes.and_then(|b| tree::decode(&b)))
}

/// The files that differ between two stored context manifests, by their roots.
pub fn diff_manifests(
    conn: &Connection,
    before: &str,
    after: &str,
) -> rusqlite::Result<Vec<tree::ChangedFile>> {
    let mut error = None;
    let changes = tree::diff(before, after, &mut |h| match read_node(conn, h) {
        Ok(n) => n,
        Err(e) => {
            error.get_or_insert(e);
            None
        }
    });
    match error {
        Some(e) => Err(e),
        None => Ok(changes),
    }
}
