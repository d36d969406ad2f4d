//! The FileSync service of a BuildKit session: sends a build's local directories (the context,
//! the Dockerfile's folder) to the engine with fsutil's diff-copy protocol.
//!
//! One `DiffCopy` call per directory the Dockerfile frontend loads. Its gRPC metadata names the
//! directory (`dir-name`: `context` or `dockerfile`) and what to send of it
//! (`exclude-patterns`, from `.dockerignore`; `include-patterns`, the paths the Dockerfile
//! copies; `followpaths`, e.g. the Dockerfile's own name). The exchange, as fsutil's
//! `send.go` and `receive.go` define it:
//! 1. we send a `STAT` packet per entry in walk order (a directory before what it holds,
//!    siblings in byte order of their names, `/`-separated relative paths), then an empty
//!    `STAT`; an entry's id is its position in that sequence;
//! 2. the engine asks for the regular files whose content it lacks (`REQ` with the id); each is
//!    answered with `DATA` packets and an empty `DATA`;
//! 3. the engine sends `FIN` when it has everything, and we answer `FIN`.
//!
//! Modes are Go `os.FileMode` bits, as fsutil sends them. Owners are sent as 0:0, as the Docker
//! CLI maps a context it sends. Nothing outside the named directory is read: symlinks are sent
//! as links, never followed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bollard_buildkit_proto::fsutil::types::{packet::PacketType, Packet, Stat};
use bollard_buildkit_proto::moby::filesync::packet::file_sync_server::FileSync;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

use crate::dockerignore::DockerIgnore;

/// The size of a `DATA` packet's payload (fsutil's own copy buffer).
const CHUNK: usize = 32 * 1024;

/// The directories a session offers, by the names the Dockerfile frontend asks for.
#[derive(Debug, Clone)]
pub struct SyncedDirs {
    dirs: Arc<HashMap<String, PathBuf>>,
}

impl SyncedDirs {
    /// `context` is the build context, `dockerfile_dir` the folder holding the Dockerfile.
    pub fn new(context: &Path, dockerfile_dir: &Path) -> SyncedDirs {
        let dirs = HashMap::from([
            ("context".to_string(), context.to_path_buf()),
            ("dockerfile".to_string(), dockerfile_dir.to_path_buf()),
        ]);
        SyncedDirs {
            dirs: Arc::new(dirs),
        }
    }
}

type PacketStream = Pin<Box<dyn Stream<Item = Result<Packet, Status>> + Send>>;

#[tonic::async_trait]
impl FileSync for SyncedDirs {
    type DiffCopyStream = PacketStream;
    type TarStreamStream = PacketStream;

    async fn diff_copy(
        &self,
        request: Request<Streaming<Packet>>,
    ) -> Result<Response<PacketStream>, Status> {
        let mut selection = Selection::of(request.metadata());
        let Some(root) = self.dirs.get(&selection.dir_name).cloned() else {
            return Err(Status::not_found(format!(
                "no access allowed to dir {:?}",
                selection.dir_name
            )));
        };
        if !selection.follow_paths.is_empty() {
            selection.follow_links(&root);
        }
        let (tx, rx) = mpsc::channel::<Result<Packet, Status>>(64);
        tokio::spawn(send_dir(root, selection, request.into_inner(), tx));
        let out =
            futures_util::stream::unfold(rx, |mut rx| async { rx.recv().await.map(|p| (p, rx)) });
        Ok(Response::new(Box::pin(out)))
    }

    async fn tar_stream(
        &self,
        _request: Request<Streaming<Packet>>,
    ) -> Result<Response<PacketStream>, Status> {
        // Never asked for: the session does not list this method.
        Err(Status::unimplemented("tarstream: use diffcopy"))
    }
}

/// What one `DiffCopy` call asks for.
#[derive(Debug, Default)]
struct Selection {
    dir_name: String,
    exclude: DockerIgnore,
    /// `include-patterns` and `followpaths` together; `None` when neither is given (everything).
    include: Option<DockerIgnore>,
    /// The patterns `include` is made of, to know which directories can hold a match.
    included: Vec<String>,
    /// `include-patterns` as given.
    include_patterns: Vec<String>,
    /// `followpaths` as given; [`Selection::follow_links`] resolves them through symlinks.
    follow_paths: Vec<String>,
    /// The exclude patterns' exceptions (`!...`), to know which excluded directories can hold
    /// a path that is sent after all.
    exceptions: Vec<String>,
}

impl Selection {
    fn of(md: &tonic::metadata::MetadataMap) -> Selection {
        let values = |key: &str| -> Vec<String> {
            let encoded = md
                .get_all(format!("{key}-encoded").as_str())
                .iter()
                .any(|v| v.to_str().is_ok_and(|s| s == "1" || s == "true"));
            md.get_all(key)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(|s| if encoded { unescape(s) } else { s.to_string() })
                .collect()
        };
        let dir_name = values("dir-name").into_iter().next().unwrap_or_default();
        let excludes = values("exclude-patterns");
        let exceptions = excludes
            .iter()
            .filter_map(|p| p.strip_prefix('!'))
            .map(clean_pattern)
            .collect();
        let mut selection = Selection {
            dir_name,
            exclude: DockerIgnore::from_patterns(&excludes),
            include: None,
            included: Vec::new(),
            include_patterns: values("include-patterns"),
            follow_paths: values("followpaths"),
            exceptions,
        };
        let follow = selection.follow_paths.clone();
        selection.set_include(&follow);
        selection
    }

    /// Resolves the `followpaths` through the symlinks under `root`, as fsutil's `FollowLinks`
    /// does: a path through a link brings the link and its target (`COPY cfg /x` where `cfg`
    /// links to `real/` needs both), then includes them with the include patterns.
    fn follow_links(&mut self, root: &Path) {
        let mut resolved = std::collections::BTreeSet::new();
        for p in &self.follow_paths {
            follow(root, p, &mut resolved, 0);
        }
        let followed: Vec<String> = resolved.into_iter().collect();
        self.set_include(&followed);
    }

    /// Includes the include patterns and `followed` (the follow paths, resolved or as given).
    fn set_include(&mut self, followed: &[String]) {
        let all: Vec<String> = self
            .include_patterns
            .iter()
            .chain(followed)
            .cloned()
            .collect();
        // `.` (or `/`) includes everything: no filter, as fsutil's `dedupePaths` has it.
        let everything = all
            .iter()
            .chain(&self.follow_paths)
            .any(|p| clean_pattern(p).is_empty());
        let given = !self.include_patterns.is_empty() || !self.follow_paths.is_empty();
        self.include = (given && !everything).then(|| DockerIgnore::from_patterns(&all));
        self.included = all;
    }

    /// Whether a directory that is not itself included can hold something that is. A trailing
    /// `/*` or `/**` does not make a pattern a wildcard one (fsutil: `patternWithoutTrailingGlob`).
    fn may_hold_included(&self, rel: &str) -> bool {
        may_hold(&self.included, rel)
    }

    /// Whether an excluded directory can hold something an exception sends after all
    /// (fsutil walks an excluded directory only then).
    fn may_hold_exception(&self, rel: &str) -> bool {
        may_hold(&self.exceptions, rel)
    }
}

/// Whether some pattern can match a path under the directory `rel`.
fn may_hold(patterns: &[String], rel: &str) -> bool {
    let prefix = format!("{rel}/");
    patterns.iter().any(|p| {
        let p = clean_pattern(p);
        let p = p
            .strip_suffix("/**")
            .or_else(|| p.strip_suffix("/*"))
            .unwrap_or(&p);
        p == rel || p.starts_with(&prefix) || p.contains(['*', '?', '[', '\\'])
    })
}

/// A pattern as matched: no leading `!`, `/` or `./`, no empty or `.` elements.
fn clean_pattern(p: &str) -> String {
    crate::dockerignore::clean(p.strip_prefix('!').unwrap_or(p))
}

/// The most symlinks followed for one path (a loop of links ends here).
const MAX_LINKS: usize = 40;

/// Adds `path` (relative to `root`) to `resolved`, through the symlinks on its way: each link
/// met and the path continued from its target (an absolute target counts from `root`, and
/// nothing leaves `root`).
fn follow(
    root: &Path,
    path: &str,
    resolved: &mut std::collections::BTreeSet<String>,
    depth: usize,
) {
    let mut rest: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    rest.reverse();
    let mut current: Vec<String> = Vec::new();
    while let Some(part) = rest.pop() {
        if part == ".." {
            current.pop();
            continue;
        }
        current.push(part.to_string());
        let here = current.join("/");
        let target = std::fs::symlink_metadata(root.join(&here))
            .ok()
            .filter(|m| m.file_type().is_symlink())
            .and_then(|_| std::fs::read_link(root.join(&here)).ok());
        if let Some(target) = target {
            if !resolved.insert(here) || depth >= MAX_LINKS {
                return;
            }
            let target = target.to_string_lossy().replace('\\', "/");
            let mut next = if target.starts_with('/') {
                target
            } else {
                let mut dir = current[..current.len() - 1].join("/");
                dir.push('/');
                dir + &target
            };
            for r in rest.iter().rev() {
                next.push('/');
                next.push_str(r);
            }
            follow(root, &normalize(&next), resolved, depth + 1);
            return;
        }
    }
    if !current.is_empty() {
        resolved.insert(current.join("/"));
    }
}

/// `path` with `.` and `..` elements resolved, never above the root.
fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

/// Go's `url.QueryUnescape`: `%XX` escapes and `+` for a space (a malformed escape is kept).
fn unescape(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(hi << 4 | lo);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Regular files announced so far, by id, for the engine's requests.
type Announced = Arc<Mutex<HashMap<u32, PathBuf>>>;

/// Runs one diff-copy exchange for `root`.
async fn send_dir(
    root: PathBuf,
    selection: Selection,
    mut incoming: Streaming<Packet>,
    tx: mpsc::Sender<Result<Packet, Status>>,
) {
    let files: Announced = Arc::default();
    let walker = {
        let (tx, files) = (tx.clone(), Arc::clone(&files));
        tokio::task::spawn_blocking(move || {
            let mut walk = Walk {
                selection: &selection,
                tx: &tx,
                files: &files,
                next_id: 0,
                pending_dirs: Vec::new(),
            };
            let result = walk
                .dir(&root, "", false)
                .and_then(|()| walk.send(Packet::default()));
            if let Err(WalkStop::Io(e)) = result {
                let message = format!("buildprof cannot read the build context: {e}");
                let _ = tx.blocking_send(Ok(packet(PacketType::PacketErr, 0, message.into())));
            }
        })
    };
    let (req_tx, mut req_rx) = mpsc::unbounded_channel::<u32>();
    let reader = {
        let (tx, files) = (tx.clone(), Arc::clone(&files));
        tokio::task::spawn_blocking(move || {
            while let Some(id) = req_rx.blocking_recv() {
                let Some(path) = files.lock().ok().and_then(|mut f| f.remove(&id)) else {
                    let message = format!("invalid file id {id}");
                    let _ = tx.blocking_send(Ok(packet(PacketType::PacketErr, 0, message.into())));
                    return;
                };
                if send_file(id, &path, &tx).is_err() {
                    return;
                }
            }
        })
    };
    loop {
        let p = match incoming.next().await {
            Some(Ok(p)) => p,
            // The engine went away (or the build was canceled): nothing more to send.
            Some(Err(_)) | None => break,
        };
        match PacketType::try_from(p.r#type) {
            // The reader is gone only if it could not send (the answer stream was dropped).
            Ok(PacketType::PacketReq) if req_tx.send(p.id).is_err() => break,
            Ok(PacketType::PacketFin) => {
                // The engine sends FIN once it has every file it asked for.
                drop(req_tx);
                let _ = reader.await;
                let _ = walker.await;
                let _ = tx
                    .send(Ok(packet(PacketType::PacketFin, 0, Vec::new())))
                    .await;
                return;
            }
            Ok(PacketType::PacketErr) => break,
            _ => {}
        }
    }
    // Blocking tasks cannot be aborted: the reader ends with `req_tx`, dropped here, and the
    // walker at its next send, once tonic drops the answer stream of the ended call.
}

fn packet(kind: PacketType, id: u32, data: Vec<u8>) -> Packet {
    Packet {
        r#type: kind as i32,
        stat: None,
        id,
        data,
    }
}

/// Sends one requested file as `DATA` packets and the empty one that ends it. A file that is
/// gone by now is sent empty, as fsutil does; one that fails while it is read ends the
/// transfer with an `ERR` packet (never a shorter file under the same name).
fn send_file(id: u32, path: &Path, tx: &mpsc::Sender<Result<Packet, Status>>) -> Result<(), ()> {
    use std::io::Read;
    if let Ok(mut f) = std::fs::File::open(path) {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let message = format!("buildprof cannot read {}: {e}", path.display());
                    let _ = tx.blocking_send(Ok(packet(PacketType::PacketErr, 0, message.into())));
                    return Err(());
                }
            };
            let data = buf[..n].to_vec();
            tx.blocking_send(Ok(packet(PacketType::PacketData, id, data)))
                .map_err(|_| ())?;
        }
    }
    tx.blocking_send(Ok(packet(PacketType::PacketData, id, Vec::new())))
        .map_err(|_| ())
}

/// Why a walk ended early.
enum WalkStop {
    /// The engine stopped listening.
    Gone,
    Io(std::io::Error),
}

/// The walk of one directory, sending `STAT` packets as it goes.
struct Walk<'a> {
    selection: &'a Selection,
    tx: &'a mpsc::Sender<Result<Packet, Status>>,
    files: &'a Announced,
    next_id: u32,
    /// Directories walked into but not sent: sent only when something under them is.
    pending_dirs: Vec<(String, PathBuf)>,
}

impl Walk<'_> {
    /// Walks `dir`; `held` says the directory itself is not sent (excluded, or only walked
    /// for what it may hold), so that it may be unreadable, as fsutil allows.
    fn dir(&mut self, dir: &Path, prefix: &str, held: bool) -> Result<(), WalkStop> {
        let names: std::io::Result<Vec<_>> = std::fs::read_dir(dir)
            .and_then(|entries| entries.map(|e| e.map(|e| e.file_name())).collect());
        let mut names = match names {
            Ok(n) => n,
            // Gone since it was listed: nothing to send, as fsutil has it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if held && e.kind() == std::io::ErrorKind::PermissionDenied => return Ok(()),
            Err(e) => return Err(WalkStop::Io(e)),
        };
        names.sort();
        for name in names {
            if self.tx.is_closed() {
                // The call ended (the build was canceled): stop walking.
                return Err(WalkStop::Gone);
            }
            let path = dir.join(&name);
            let rel = format!("{prefix}{}", name.to_string_lossy());
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(WalkStop::Io(e)),
            };
            let excluded = self.selection.exclude.excludes(&rel);
            let included = match &self.selection.include {
                None => true,
                Some(include) => include.excludes(&rel),
            };
            if meta.is_dir() {
                if excluded && !self.selection.may_hold_exception(&rel) {
                    continue;
                }
                if !included && !self.selection.may_hold_included(&rel) {
                    continue;
                }
                let depth = self.pending_dirs.len();
                let sent = included && !excluded;
                if sent {
                    self.entry(&rel, &path, &meta)?;
                } else {
                    self.pending_dirs.push((rel.clone(), path.clone()));
                }
                self.dir(&path, &format!("{rel}/"), !sent)?;
                self.pending_dirs.truncate(depth);
            } else if included && !excluded {
                let ft = meta.file_type();
                if ft.is_file() || ft.is_symlink() {
                    self.entry(&rel, &path, &meta)?;
                }
                // Sockets, fifos and devices are left out (fsutil would send them).
            }
        }
        Ok(())
    }

    /// Sends an entry, after the directories above it that were held back.
    fn entry(&mut self, rel: &str, path: &Path, meta: &std::fs::Metadata) -> Result<(), WalkStop> {
        for (dir_rel, dir_path) in std::mem::take(&mut self.pending_dirs) {
            let dir_meta = std::fs::symlink_metadata(&dir_path).map_err(WalkStop::Io)?;
            self.announce(&dir_rel, &dir_path, &dir_meta)?;
        }
        self.announce(rel, path, meta)
    }

    fn announce(
        &mut self,
        rel: &str,
        path: &Path,
        meta: &std::fs::Metadata,
    ) -> Result<(), WalkStop> {
        let stat = stat_of(rel, path, meta).map_err(WalkStop::Io)?;
        if meta.is_file() {
            if let Ok(mut files) = self.files.lock() {
                files.insert(self.next_id, path.to_path_buf());
            }
        }
        self.next_id += 1;
        self.send(Packet {
            r#type: PacketType::PacketStat as i32,
            stat: Some(stat),
            id: 0,
            data: Vec::new(),
        })
    }

    fn send(&self, p: Packet) -> Result<(), WalkStop> {
        self.tx.blocking_send(Ok(p)).map_err(|_| WalkStop::Gone)
    }
}

/// Go's `os.FileMode` bits for what fsutil sends.
const GO_MODE_DIR: u32 = 1 << 31;
const GO_MODE_SYMLINK: u32 = 1 << 27;
const GO_MODE_SETUID: u32 = 1 << 23;
const GO_MODE_SETGID: u32 = 1 << 22;
const GO_MODE_STICKY: u32 = 1 << 20;

/// The fsutil `Stat` of an entry.
fn stat_of(rel: &str, path: &Path, meta: &std::fs::Metadata) -> std::io::Result<Stat> {
    let ft = meta.file_type();
    let mut mode = go_mode(meta);
    let mut size = 0;
    let mut linkname = String::new();
    if ft.is_dir() {
        mode |= GO_MODE_DIR;
    } else if ft.is_symlink() {
        mode |= GO_MODE_SYMLINK;
        linkname = std::fs::read_link(path)?
            .to_string_lossy()
            .replace('\\', "/");
        size = meta.len() as i64;
    } else {
        size = meta.len() as i64;
    }
    let mod_time = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64);
    Ok(Stat {
        path: rel.to_string(),
        mode,
        uid: 0,
        gid: 0,
        size,
        mod_time,
        linkname,
        devmajor: 0,
        devminor: 0,
        xattrs: HashMap::new(),
    })
}

#[cfg(unix)]
fn go_mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let m = meta.permissions().mode();
    let mut go = m & 0o777;
    for (unix, bit) in [
        (0o4000, GO_MODE_SETUID),
        (0o2000, GO_MODE_SETGID),
        (0o1000, GO_MODE_STICKY),
    ] {
        if m & unix != 0 {
            go |= bit;
        }
    }
    go
}

#[cfg(not(unix))]
fn go_mode(meta: &std::fs::Metadata) -> u32 {
    // What the Docker CLI sends from Windows: everything executable.
    if meta.permissions().readonly() {
        0o555
    } else {
        0o755
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `STAT` packets one walk sends for `selection`, as (path, is dir), and the ids of the
    /// regular files announced.
    fn walk(root: &Path, selection: &Selection) -> (Vec<(String, bool)>, HashMap<u32, PathBuf>) {
        let (tx, mut rx) = mpsc::channel(10_000);
        let files: Announced = Arc::default();
        let mut w = Walk {
            selection,
            tx: &tx,
            files: &files,
            next_id: 0,
            pending_dirs: Vec::new(),
        };
        assert!(w.dir(root, "", false).is_ok());
        drop(tx);
        let mut sent = Vec::new();
        while let Ok(Ok(p)) = rx.try_recv() {
            let stat = p.stat.unwrap();
            sent.push((stat.path, stat.mode & GO_MODE_DIR != 0));
        }
        let files = files.lock().unwrap().clone();
        (sent, files)
    }

    fn tree(paths: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for p in paths {
            let path = dir.path().join(p);
            if let Some(dir) = p.strip_suffix('/') {
                std::fs::create_dir_all(
                    path.parent().unwrap().join(dir.rsplit('/').next().unwrap()),
                )
                .unwrap();
            } else {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, p.as_bytes()).unwrap();
            }
        }
        dir
    }

    fn selection(pairs: &[(&'static str, &str)]) -> Selection {
        let mut md = tonic::metadata::MetadataMap::new();
        for (k, v) in pairs {
            md.append(*k, v.parse().unwrap());
        }
        Selection::of(&md)
    }

    fn paths(sent: &[(String, bool)]) -> Vec<&str> {
        sent.iter().map(|(p, _)| p.as_str()).collect()
    }

    #[test]
    fn entries_go_in_fsutil_walk_order_with_ids_for_regular_files() {
        let dir = tree(&["b.txt", "a/z.txt", "a/b/c.txt", "a.txt", "empty/"]);
        let (sent, files) = walk(dir.path(), &selection(&[("dir-name", "context")]));
        // A directory before what it holds, siblings in byte order ("a" < "a.txt").
        assert_eq!(
            paths(&sent),
            [
                "a",
                "a/b",
                "a/b/c.txt",
                "a/z.txt",
                "a.txt",
                "b.txt",
                "empty"
            ]
        );
        assert_eq!(sent.iter().filter(|(_, d)| *d).count(), 3);
        // Ids are positions in the sequence; only regular files can be asked for.
        let mut ids: Vec<_> = files.keys().copied().collect();
        ids.sort();
        assert_eq!(ids, [2, 3, 4, 5]);
        assert!(files[&2].ends_with("a/b/c.txt"));
    }

    #[test]
    fn exclude_patterns_drop_paths_and_exceptions_bring_their_folders_back() {
        let dir = tree(&[
            "src/app.py",
            "src/debug.log",
            "tmp/keep.txt",
            "tmp/junk.txt",
            "README.md",
        ]);
        let sel = selection(&[
            ("dir-name", "context"),
            ("exclude-patterns", "**/*.log"),
            ("exclude-patterns", "tmp"),
            ("exclude-patterns", "!tmp/keep.txt"),
            ("exclude-patterns", "*.md"),
        ]);
        let (sent, _) = walk(dir.path(), &sel);
        // `tmp` itself is excluded but holds an exception: it is sent just before that file.
        assert_eq!(paths(&sent), ["src", "src/app.py", "tmp", "tmp/keep.txt"]);
    }

    #[test]
    fn include_patterns_and_followpaths_send_only_those_paths_and_their_folders() {
        let dir = tree(&[
            "Dockerfile",
            "Dockerfile.dockerignore",
            "deps/requirements.txt",
            "deps/other.txt",
            "src/app.py",
            "node_modules/x/index.js",
        ]);
        let sel = selection(&[
            ("dir-name", "context"),
            ("include-patterns", "deps/requirements.txt"),
            ("include-patterns", "src"),
            ("followpaths", "Dockerfile"),
        ]);
        let (sent, _) = walk(dir.path(), &sel);
        assert_eq!(
            paths(&sent),
            [
                "Dockerfile",
                "deps",
                "deps/requirements.txt",
                "src",
                "src/app.py"
            ]
        );
    }

    #[test]
    fn encoded_metadata_values_are_unescaped() {
        let sel = selection(&[
            ("dir-name", "dockerfile"),
            ("followpaths", "My%20Dockerfile"),
            ("followpaths-encoded", "1"),
            ("exclude-patterns", "a%20b"),
        ]);
        assert_eq!(sel.dir_name, "dockerfile");
        assert_eq!(sel.included, ["My Dockerfile"]);
        // Not marked encoded: taken as given.
        assert!(sel.exclude.excludes("a%20b"));
        assert_eq!(unescape("a%2Fb+c%zz%4"), "a/b c%zz%4");
    }

    #[test]
    fn a_requested_file_goes_in_chunks_and_ends_with_an_empty_packet() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let content: Vec<u8> = (0..CHUNK * 2 + 5).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        send_file(7, &path, &tx).unwrap();
        send_file(8, &dir.path().join("gone"), &tx).unwrap();
        drop(tx);
        let mut got = Vec::new();
        let mut packets = Vec::new();
        while let Ok(Ok(p)) = rx.try_recv() {
            if p.id == 7 {
                got.extend_from_slice(&p.data);
            }
            packets.push((p.id, p.data.len()));
        }
        assert_eq!(got, content);
        assert_eq!(packets, [(7, CHUNK), (7, CHUNK), (7, 5), (7, 0), (8, 0)]);
    }

    #[cfg(unix)]
    #[test]
    fn followpaths_through_symlinks_bring_the_links_and_their_targets() {
        // `COPY cfg /x` where `cfg` links to `real/`, `COPY lib/x.txt` through a linked folder,
        // and a link pointing out of the folder, which is kept as a link and not followed out.
        let dir = tree(&["real/a.txt", "real2/x.txt", "other/b.txt"]);
        let link = |target: &str, name: &str| {
            std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap();
        };
        link("real", "cfg");
        link("/real2", "lib");
        link("../../etc", "out");
        let mut sel = selection(&[
            ("dir-name", "context"),
            ("followpaths", "cfg"),
            ("followpaths", "lib/x.txt"),
            ("followpaths", "out/passwd"),
        ]);
        sel.follow_links(dir.path());
        let (sent, _) = walk(dir.path(), &sel);
        assert_eq!(
            paths(&sent),
            [
                "cfg",
                "lib",
                "out",
                "real",
                "real/a.txt",
                "real2",
                "real2/x.txt"
            ]
        );
    }

    #[test]
    fn a_followpath_of_dot_sends_everything_and_patterns_are_taken_as_given() {
        let dir = tree(&["#notes", "a.txt"]);
        let mut all = selection(&[("followpaths", ".")]);
        all.follow_links(dir.path());
        assert_eq!(paths(&walk(dir.path(), &all).0), ["#notes", "a.txt"]);
        // A pattern starting with `#` is a pattern here, not a `.dockerignore` comment.
        let mut notes = selection(&[("followpaths", "#notes")]);
        notes.follow_links(dir.path());
        assert_eq!(paths(&walk(dir.path(), &notes).0), ["#notes"]);
        let excluded = selection(&[("exclude-patterns", "#notes")]);
        assert_eq!(paths(&walk(dir.path(), &excluded).0), ["a.txt"]);
    }

    #[test]
    fn excluded_folders_are_walked_only_when_an_exception_can_match_in_them() {
        let sel = selection(&[
            ("exclude-patterns", "node_modules"),
            ("exclude-patterns", "tmp"),
            ("exclude-patterns", "!tmp/keep.txt"),
            ("exclude-patterns", "!README.md"),
        ]);
        assert!(!sel.may_hold_exception("node_modules"));
        assert!(sel.may_hold_exception("tmp"));
        let wild = selection(&[("exclude-patterns", "a"), ("exclude-patterns", "!**/*.md")]);
        assert!(wild.may_hold_exception("a"));
        // A trailing `/*` or `/**` keeps an include pattern a prefix.
        let inc = selection(&[("include-patterns", "src/*")]);
        assert!(inc.may_hold_included("src") && !inc.may_hold_included("node_modules"));
    }

    #[test]
    fn a_file_that_fails_while_read_ends_the_transfer_with_an_error() {
        // Opening a folder works; reading it does not (EISDIR).
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        assert!(send_file(3, dir.path(), &tx).is_err());
        drop(tx);
        let p = rx.try_recv().unwrap().unwrap();
        assert_eq!(p.r#type, PacketType::PacketErr as i32);
        assert!(String::from_utf8_lossy(&p.data).contains("cannot read"));
        assert!(
            rx.try_recv().is_err(),
            "no empty DATA packet after the error"
        );
    }

    #[cfg(unix)]
    #[test]
    fn modes_are_go_file_modes_and_links_are_not_followed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tree(&["bin/run.sh"]);
        let script = dir.path().join("bin/run.sh");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o4755)).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let meta = |p: &Path| std::fs::symlink_metadata(p).unwrap();
        let s = stat_of("bin/run.sh", &script, &meta(&script)).unwrap();
        assert_eq!(s.mode, 0o755 | GO_MODE_SETUID);
        assert_eq!(s.size, "bin/run.sh".len() as i64);
        let bin = dir.path().join("bin");
        let d = stat_of("bin", &bin, &meta(&bin)).unwrap();
        assert_eq!(d.mode & GO_MODE_DIR, GO_MODE_DIR);
        assert_eq!(d.size, 0);
        let link = dir.path().join("link");
        let l = stat_of("link", &link, &meta(&link)).unwrap();
        assert_eq!(l.mode & GO_MODE_SYMLINK, GO_MODE_SYMLINK);
        assert_eq!(l.linkname, "/etc/passwd");
        // A link is never asked for: the engine cannot request its content.
        let (_, files) = walk(dir.path(), &selection(&[]));
        assert!(files.values().all(|p| !p.ends_with("link")));
    }
}
