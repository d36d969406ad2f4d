//! A build context served over loopback HTTP for one build, for engines that cannot read a
//! context uploaded in the `/build` request body.
//!
//! dockerd hands an uploaded context to BuildKit as `http://build-context-<id>/...`, a URL that
//! only its classic-store worker knows how to answer; with the containerd image store (Docker
//! 24-27) BuildKit's HTTP source resolves it through DNS and the build fails at `[internal] load
//! remote build context` (moby/moby#47717). The `/build` API also takes `remote=URL`, which
//! BuildKit's Dockerfile frontend fetches with the same HTTP source and, the body being a tar
//! archive, unpacks as the context: exactly what happens to an uploaded one. So the tar is
//! written to a private temporary file and served on `127.0.0.1` at a random path for as long as
//! the build runs. Only that path is answered (GET and HEAD); anything else gets 404. The daemon
//! must share this machine's loopback, which holds for a local rootful dockerd on a Unix socket.

use std::io::Write;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::context::BuildContext;

/// The most bytes of a request head read before giving up on it.
const MAX_HEAD: usize = 16 * 1024;

/// A context being served; stops serving and removes its file when dropped.
pub struct ServedContext {
    url: String,
    server: tokio::task::JoinHandle<()>,
    // Kept for its Drop, which removes the file.
    _file: Arc<tempfile::NamedTempFile>,
}

impl ServedContext {
    /// Writes `ctx` as a tar into a temporary file and starts answering for it.
    pub async fn start(ctx: BuildContext) -> std::io::Result<ServedContext> {
        let file = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
            let mut file = tempfile::Builder::new()
                .prefix("buildprof-context-")
                .suffix(".tar")
                .tempfile()?;
            {
                let mut out = std::io::BufWriter::new(file.as_file_mut());
                ctx.write_tar(&mut out)?;
                out.flush()?;
            }
            Ok(file)
        })
        .await
        .map_err(std::io::Error::other)??;
        let file = Arc::new(file);
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let path = format!("/{}/context.tar", random_token()?);
        let url = format!("http://127.0.0.1:{port}{path}");
        let served = Arc::clone(&file);
        let server = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let file = Arc::clone(&served);
                let path = path.clone();
                tokio::spawn(async move {
                    // A client that goes away mid-answer is the client's business.
                    let _ = answer(conn, &path, file.path()).await;
                });
            }
        });
        Ok(ServedContext {
            url,
            server,
            _file: file,
        })
    }

    /// The URL to give the engine as `remote`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ServedContext {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// 128 random bits as hex: the path nobody else on this machine can guess.
fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Answers one request on `conn`: the tar at `file` for `GET`/`HEAD` of `path`, else an error.
async fn answer(mut conn: TcpStream, path: &str, file: &std::path::Path) -> std::io::Result<()> {
    let head = read_head(&mut conn).await?;
    let request_line = head.lines().next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if target != path {
        return status(&mut conn, "404 Not Found").await;
    }
    if method != "GET" && method != "HEAD" {
        return status(&mut conn, "405 Method Not Allowed").await;
    }
    let mut tar = tokio::fs::File::open(file).await?;
    let len = tar.metadata().await?.len();
    let header = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(header.as_bytes()).await?;
    if method == "GET" {
        tokio::io::copy(&mut tar, &mut conn).await?;
    }
    conn.shutdown().await
}

/// Reads up to the blank line that ends a request head.
async fn read_head(conn: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            return Err(std::io::Error::other("request head too long"));
        }
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

async fn status(conn: &mut TcpStream, status: &str) -> std::io::Result<()> {
    let text = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    conn.write_all(text.as_bytes()).await?;
    conn.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One HTTP/1.1 request over a fresh connection; the whole answer.
    async fn fetch(url: &str, method: &str, path: Option<&str>) -> Vec<u8> {
        let rest = url.strip_prefix("http://").unwrap();
        let (addr, own_path) = rest.split_at(rest.find('/').unwrap());
        let mut conn = TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "{method} {} HTTP/1.1\r\nHost: {addr}\r\n\r\n",
            path.unwrap_or(own_path)
        );
        conn.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        conn.read_to_end(&mut out).await.unwrap();
        out
    }

    fn body(answer: &[u8]) -> &[u8] {
        let at = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        &answer[at + 4..]
    }

    #[tokio::test]
    async fn serves_the_context_tar_at_its_path_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\nCOPY a /a\n").unwrap();
        std::fs::write(dir.path().join("a"), "hello").unwrap();
        let ctx = BuildContext::scan(dir.path(), None).unwrap();
        let served = ServedContext::start(ctx).await.unwrap();
        assert!(
            served.url().starts_with("http://127.0.0.1:"),
            "{}",
            served.url()
        );

        let answer = fetch(served.url(), "GET", None).await;
        assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"));
        let mut names: Vec<String> = tar::Archive::new(body(&answer))
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["Dockerfile", "a"]);
        let len = body(&answer).len();
        let head = fetch(served.url(), "HEAD", None).await;
        let head = String::from_utf8(head).unwrap();
        assert!(
            head.contains(&format!("Content-Length: {len}\r\n")),
            "{head}"
        );
        assert!(
            head.ends_with("\r\n\r\n"),
            "a HEAD answer has no body: {head}"
        );

        let other = fetch(served.url(), "GET", Some("/context.tar")).await;
        assert!(other.starts_with(b"HTTP/1.1 404 "));
        let post = fetch(served.url(), "POST", None).await;
        assert!(post.starts_with(b"HTTP/1.1 405 "));
    }

    #[tokio::test]
    async fn dropping_it_removes_the_file_and_stops_answering() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        let served = ServedContext::start(BuildContext::scan(dir.path(), None).unwrap())
            .await
            .unwrap();
        let file = served._file.path().to_path_buf();
        let addr = served.url()["http://".len()..]
            .split('/')
            .next()
            .unwrap()
            .to_string();
        assert!(file.exists());
        drop(served);
        // The aborted server task lets go of the file and the listener when next polled.
        let mut gone = false;
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            if !file.exists() && TcpStream::connect(&addr).await.is_err() {
                gone = true;
                break;
            }
        }
        assert!(gone, "{} or {addr} still there", file.display());
    }
}
