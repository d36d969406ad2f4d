//! The context manifest as a tree of per-directory nodes, each named by the hash of its
//! entries, so builds share every directory that did not change and a build that changes one
//! file adds only the nodes on that file's path. [`diff`] walks two trees, skipping subtrees
//! whose hashes are equal.

use serde::{Deserialize, Serialize};

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    File,
    /// A file with an executable bit (BuildKit's cache key sees the mode).
    Exec,
    /// A symbolic link (its hash is the hash of its target text).
    Link,
    Dir,
}

impl EntryKind {
    fn code(self) -> u8 {
        match self {
            EntryKind::File => b'f',
            EntryKind::Exec => b'x',
            EntryKind::Link => b'l',
            EntryKind::Dir => b'd',
        }
    }

    fn of(code: u8) -> Option<EntryKind> {
        Some(match code {
            b'f' => EntryKind::File,
            b'x' => EntryKind::Exec,
            b'l' => EntryKind::Link,
            b'd' => EntryKind::Dir,
            _ => return None,
        })
    }
}

/// One entry of a directory node: a file's content hash, or a subdirectory's node hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub kind: EntryKind,
    /// 32 hex digits (128 bits of BLAKE3).
    pub hash: String,
    pub name: String,
}

/// How a file differs between two manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Modified,
    Added,
    Removed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Modified => "modified",
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
        }
    }
}

/// A changed file, relative to the context with `/` separators.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChangedFile {
    pub path: String,
    pub change: ChangeKind,
}

/// The hash of some bytes as stored: 128 bits of BLAKE3 in hex.
pub fn short_hash(bytes: &[u8]) -> String {
    hex16(&blake3::hash(bytes).as_bytes()[..16])
}

/// The stored form of a full BLAKE3 digest computed elsewhere (a file hashed in pieces).
pub fn short_hash_of(digest: &[u8; 32]) -> String {
    hex16(&digest[..16])
}

pub(crate) fn hex16(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Encodes a directory's entries (sorted by name) as one line each: kind, hash, name (with `%`
/// and newlines escaped).
pub fn encode(entries: &[TreeEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 48);
    for e in entries {
        out.push(e.kind.code());
        out.extend_from_slice(e.hash.as_bytes());
        out.push(b' ');
        let name = e.name.replace('%', "%25").replace('\n', "%0A");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    out
}

/// Decodes [`encode`]'s output; `None` when it is not such a node.
pub fn decode(bytes: &[u8]) -> Option<Vec<TreeEntry>> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.lines()
        .map(|l| {
            let kind = EntryKind::of(*l.as_bytes().first()?)?;
            let hash = l.get(1..33)?.to_string();
            let name = l.get(34..)?.replace("%0A", "\n").replace("%25", "%");
            Some(TreeEntry { kind, hash, name })
        })
        .collect()
}

/// The files that differ between the trees rooted at `before` and `after`, sorted by path.
/// `load` gives a node's entries by hash (`None` when it is missing: that subtree is skipped).
pub fn diff(
    before: &str,
    after: &str,
    load: &mut dyn FnMut(&str) -> Option<Vec<TreeEntry>>,
) -> Vec<ChangedFile> {
    let mut out = Vec::new();
    diff_dirs(Some(before), Some(after), "", load, &mut out);
    out.sort();
    out
}

fn diff_dirs(
    before: Option<&str>,
    after: Option<&str>,
    prefix: &str,
    load: &mut dyn FnMut(&str) -> Option<Vec<TreeEntry>>,
    out: &mut Vec<ChangedFile>,
) {
    if before == after {
        return;
    }
    let a = before.and_then(&mut *load).unwrap_or_default();
    let b = after.and_then(&mut *load).unwrap_or_default();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.name.cmp(&y.name),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                entry_change(Some(&a[i]), None, prefix, load, out);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                entry_change(None, Some(&b[j]), prefix, load, out);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                entry_change(Some(&a[i]), Some(&b[j]), prefix, load, out);
                i += 1;
                j += 1;
            }
        }
    }
}

fn entry_change(
    a: Option<&TreeEntry>,
    b: Option<&TreeEntry>,
    prefix: &str,
    load: &mut dyn FnMut(&str) -> Option<Vec<TreeEntry>>,
    out: &mut Vec<ChangedFile>,
) {
    let name = a.or(b).map(|e| e.name.as_str()).unwrap_or("");
    let path = format!("{prefix}{name}");
    let (da, db) = (dir_only(a), dir_only(b));
    if da.is_some() || db.is_some() {
        let sub = format!("{path}/");
        diff_dirs(
            da.map(|e| e.hash.as_str()),
            db.map(|e| e.hash.as_str()),
            &sub,
            load,
            out,
        );
    }
    let change = match (file_only(a), file_only(b)) {
        (Some(x), Some(y)) if x.hash == y.hash && x.kind == y.kind => None,
        (Some(_), Some(_)) => Some(ChangeKind::Modified),
        (Some(_), None) => Some(ChangeKind::Removed),
        (None, Some(_)) => Some(ChangeKind::Added),
        (None, None) => None,
    };
    if let Some(change) = change {
        out.push(ChangedFile { path, change });
    }
}

fn dir_only(e: Option<&TreeEntry>) -> Option<&TreeEntry> {
    e.filter(|e| e.kind == EntryKind::Dir)
}

fn file_only(e: Option<&TreeEntry>) -> Option<&TreeEntry> {
    e.filter(|e| e.kind != EntryKind::Dir)
}

/// Whether `path` (a context file) is read by a `COPY`/`ADD` source as written (`src`,
/// `./src/`, `*.txt`, `.`): the source names it, a directory above it, or matches it as a glob.
pub fn source_covers(source: &str, path: &str) -> bool {
    let s: Vec<&str> = source
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if s.is_empty() {
        return true;
    }
    let p: Vec<&str> = path.split('/').collect();
    p.len() >= s.len() && s.iter().zip(&p).all(|(pat, part)| glob_part(pat, part))
}

/// One path element against one pattern element (`*`, `?`, literal; `[...]` compared literally).
fn glob_part(pat: &str, s: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some(b'?') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(pat.as_bytes(), s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn e(kind: EntryKind, hash: &str, name: &str) -> TreeEntry {
        TreeEntry {
            kind,
            hash: format!("{hash:0>32}"),
            name: name.into(),
        }
    }

    #[test]
    fn nodes_round_trip_and_diff_skips_equal_subtrees() {
        let mut nodes: HashMap<String, Vec<u8>> = HashMap::new();
        let mut put = |entries: Vec<TreeEntry>| {
            let enc = encode(&entries);
            assert_eq!(decode(&enc).unwrap(), entries);
            let h = short_hash(&enc);
            nodes.insert(h.clone(), enc);
            h
        };
        let same = put(vec![e(EntryKind::File, "1", "a\nb%c")]);
        let src1 = put(vec![e(EntryKind::File, "2", "main.txt")]);
        let src2 = put(vec![
            e(EntryKind::File, "3", "main.txt"),
            e(EntryKind::File, "4", "new.txt"),
        ]);
        let root1 = put(vec![
            e(EntryKind::Dir, &same, "lib"),
            e(EntryKind::File, "5", "old"),
            e(EntryKind::Dir, &src1, "src"),
        ]);
        let root2 = put(vec![
            e(EntryKind::Dir, &same, "lib"),
            e(EntryKind::Dir, &src2, "src"),
        ]);
        let mut loads = Vec::new();
        let changes = diff(&root1, &root2, &mut |h| {
            loads.push(h.to_string());
            nodes.get(h).and_then(|b| decode(b))
        });
        let got: Vec<_> = changes
            .iter()
            .map(|c| format!("{} {}", c.path, c.change.as_str()))
            .collect();
        assert_eq!(
            got,
            vec!["old removed", "src/main.txt modified", "src/new.txt added"]
        );
        assert!(!loads.contains(&same), "an unchanged subtree is not read");
    }

    #[test]
    fn sources_cover_their_files() {
        assert!(source_covers("src", "src/main.txt"));
        assert!(source_covers("./src/", "src/a/b"));
        assert!(source_covers(".", "anything"));
        assert!(source_covers("*.txt", "a.txt"));
        assert!(!source_covers("src", "srcx/a"));
        assert!(!source_covers("config", "src/app.conf"));
        assert!(source_covers(
            "deps/requirements.txt",
            "deps/requirements.txt"
        ));
    }
}
