//! A BuildKit session on the Docker Engine: `POST /session` upgraded to h2c, on which the engine
//! calls us over gRPC for the build's local directories ([`crate::filesync`]).
//!
//! This is how the Docker CLI sends a context to BuildKit (`remote=client-session` on the
//! `/build` request, naming the session), and the one way that works on every engine with the
//! containerd image store, local or remote: that store cannot read a context uploaded in the
//! request body (moby/moby#47717). The session's connection is our own (a Unix socket or plain
//! TCP, as `DOCKER_HOST` says), separate from bollard's pool, because it stays open for the
//! whole build and carries HTTP/2 after the upgrade. The engine is the gRPC client on it; we
//! serve FileSync and the health check its session manager polls.

use std::time::Duration;

use bollard_buildkit_proto::health::health_server::{Health, HealthServer};
use bollard_buildkit_proto::health::{
    health_check_response::ServingStatus, HealthCheckRequest, HealthCheckResponse,
    HealthListRequest, HealthListResponse,
};
use bollard_buildkit_proto::moby::filesync::packet::file_sync_server::FileSyncServer;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use crate::filesync::SyncedDirs;

/// The most bytes of the upgrade answer's head read before giving up on it.
const MAX_HEAD: usize = 16 * 1024;

/// What the session serves, as the engine's session manager expects it listed.
const METHODS: [&str; 2] = [
    "/moby.filesync.v1.FileSync/DiffCopy",
    "/grpc.health.v1.Health/Check",
];

/// A session open on the engine; closed when dropped.
pub struct Session {
    id: String,
    /// Dropped with the session: the server then closes the connection (HTTP/2 GOAWAY once
    /// the calls under way end), and the engine forgets the session.
    _close: tokio::sync::oneshot::Sender<()>,
}

impl Session {
    /// The id the build request names (`session=`).
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Whether a session can be opened to `host` (a Unix socket, or TCP without TLS).
pub fn supported(host: &str) -> bool {
    (cfg!(unix) && host.starts_with("unix://"))
        || host.starts_with("tcp://")
        || host.starts_with("http://")
}

/// Opens a session on the engine at `host` (API `api_version`) serving `dirs`. `key` tells the
/// engine which earlier transfers of the same directories it may reuse (unchanged files are not
/// sent again).
pub async fn open(
    host: &str,
    api_version: &str,
    key: &str,
    dirs: SyncedDirs,
    limit: Duration,
) -> std::io::Result<Session> {
    let id = random_id()?;
    let head = upgrade_request(host, api_version, &id, key);
    let (close, closed) = tokio::sync::oneshot::channel();
    let connect = connect_and_serve(host, head, dirs, closed);
    tokio::time::timeout(limit, connect).await.map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "no answer to the session request within {:.1} s",
                limit.as_secs_f64()
            ),
        )
    })??;
    Ok(Session { id, _close: close })
}

/// Connects to `host`, asks for the upgrade and starts serving on the connection.
async fn connect_and_serve(
    host: &str,
    head: String,
    dirs: SyncedDirs,
    closed: Closed,
) -> std::io::Result<()> {
    if let Some(path) = host.strip_prefix("unix://") {
        #[cfg(unix)]
        {
            let mut io = tokio::net::UnixStream::connect(path).await?;
            upgrade(&mut io, &head).await?;
            tokio::spawn(serve(io, dirs, closed));
            return Ok(());
        }
        #[cfg(not(unix))]
        return Err(std::io::Error::other(format!(
            "no Unix sockets here: {path}"
        )));
    }
    let addr = host
        .trim_start_matches("tcp://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let mut io = tokio::net::TcpStream::connect(addr).await?;
    io.set_nodelay(true)?;
    upgrade(&mut io, &head).await?;
    tokio::spawn(serve(io, dirs, closed));
    Ok(())
}

/// The `POST /session` head that asks for the upgrade.
fn upgrade_request(host: &str, api_version: &str, id: &str, key: &str) -> String {
    let authority = match host.strip_prefix("tcp://").or(host.strip_prefix("http://")) {
        Some(a) => a.trim_end_matches('/'),
        None => "docker",
    };
    let version = if api_version.chars().all(|c| c.is_ascii_digit() || c == '.') {
        format!("/v{api_version}")
    } else {
        String::new()
    };
    let mut head = format!(
        "POST {version}/session HTTP/1.1\r\nHost: {authority}\r\nConnection: Upgrade\r\n\
         Upgrade: h2c\r\nContent-Length: 0\r\nX-Docker-Expose-Session-Uuid: {id}\r\n\
         X-Docker-Expose-Session-Name: buildprof\r\nX-Docker-Expose-Session-Sharedkey: {key}\r\n"
    );
    for m in METHODS {
        head.push_str(&format!("X-Docker-Expose-Session-Grpc-Method: {m}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Sends the upgrade request and reads the answer's head, byte by byte so that nothing of the
/// HTTP/2 traffic after it is consumed.
async fn upgrade<IO: AsyncRead + AsyncWrite + Unpin>(
    io: &mut IO,
    head: &str,
) -> std::io::Result<()> {
    io.write_all(head.as_bytes()).await?;
    let mut answer = Vec::with_capacity(256);
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_HEAD {
            return Err(std::io::Error::other(
                "the engine's answer to the session request has no end",
            ));
        }
        let mut b = [0u8; 1];
        if io.read(&mut b).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the engine closed the connection instead of opening a session",
            ));
        }
        answer.push(b[0]);
    }
    let status_line = String::from_utf8_lossy(&answer);
    let status_line = status_line
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    if status_line.split_whitespace().nth(1) == Some("101") {
        return Ok(());
    }
    // The engine says why in a JSON body; a little of it is enough.
    let mut body = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(1), io.read(&mut body))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(0);
    let body = String::from_utf8_lossy(&body[..n]);
    Err(std::io::Error::other(format!(
        "the engine refused a BuildKit session ({status_line}): {}",
        body.trim()
    )))
}

/// Resolves when the session is dropped.
type Closed = tokio::sync::oneshot::Receiver<()>;

/// Serves FileSync and the health check on the upgraded connection until the session is
/// dropped. tonic serves each connection on a task of its own and returns when its listener
/// ends, so the listener never ends here (one connection, then nothing) and the shutdown
/// signal, which closes the connection gracefully, is the session's drop.
async fn serve<IO>(io: IO, dirs: SyncedDirs, closed: Closed)
where
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
{
    use futures_util::StreamExt;
    let incoming = futures_util::stream::iter([Ok::<_, std::io::Error>(io)])
        .chain(futures_util::stream::pending());
    // The connection ends with the build; an error then says nothing the build does not.
    let _ = tonic::transport::Server::builder()
        .add_service(FileSyncServer::new(dirs))
        .add_service(HealthServer::new(Healthy))
        .serve_with_incoming_shutdown(incoming, async {
            let _ = closed.await;
        })
        .await;
}

/// Answers the session manager's health checks (it closes a session that stops answering).
struct Healthy;

#[tonic::async_trait]
impl Health for Healthy {
    type WatchStream = futures_util::stream::Empty<Result<HealthCheckResponse, Status>>;

    async fn check(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        }))
    }

    async fn list(
        &self,
        _request: Request<HealthListRequest>,
    ) -> Result<Response<HealthListResponse>, Status> {
        Err(Status::unimplemented("list"))
    }

    async fn watch(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("watch"))
    }
}

/// A random session id (128 bits, hex).
fn random_id() -> std::io::Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upgrade_request_lists_what_the_session_serves() {
        let head = upgrade_request("unix:///run/docker.sock", "1.45", "abc", "k1");
        assert!(
            head.starts_with("POST /v1.45/session HTTP/1.1\r\nHost: docker\r\n"),
            "{head}"
        );
        for m in METHODS {
            assert!(head.contains(&format!("X-Docker-Expose-Session-Grpc-Method: {m}\r\n")));
        }
        assert!(head.contains("X-Docker-Expose-Session-Uuid: abc\r\n"));
        assert!(head.ends_with("\r\n\r\n"));
        let tcp = upgrade_request("tcp://127.0.0.1:2375", "unknown", "abc", "k1");
        assert!(
            tcp.starts_with("POST /session HTTP/1.1\r\nHost: 127.0.0.1:2375\r\n"),
            "{tcp}"
        );
    }

    #[tokio::test]
    async fn an_engine_that_refuses_the_upgrade_is_quoted() {
        let (mut client, mut engine) = tokio::io::duplex(4096);
        let answer = tokio::spawn(async move {
            let mut buf = vec![0u8; 1024];
            let _ = engine.read(&mut buf).await;
            engine
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 29\r\n\r\n{\"message\":\"no upgrade proto\"}",
                )
                .await
                .unwrap();
            engine
        });
        let err = upgrade(&mut client, "POST /session HTTP/1.1\r\n\r\n")
            .await
            .unwrap_err();
        let _engine = answer.await.unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains("400 Bad Request") && msg.contains("no upgrade proto"),
            "{msg}"
        );
    }

    /// Plays the engine: answers the upgrade, then calls the health check over HTTP/2 as the
    /// session manager does. Returns the check's answer, the h2 handle (kept open: the
    /// connection must end because the session closes it) and the connection's task.
    async fn engine(
        listener: tokio::net::TcpListener,
    ) -> (
        Vec<u8>,
        h2::client::SendRequest<bytes::Bytes>,
        tokio::task::JoinHandle<Result<(), h2::Error>>,
    ) {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut b = [0u8; 1];
            assert_eq!(conn.read(&mut b).await.unwrap(), 1);
            head.push(b[0]);
        }
        let head = String::from_utf8(head).unwrap();
        assert!(
            head.starts_with("POST /v1.45/session HTTP/1.1\r\n"),
            "{head}"
        );
        conn.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
        )
        .await
        .unwrap();
        let (client, connection) = h2::client::handshake(conn).await.unwrap();
        let connection = tokio::spawn(connection);
        let mut ready = client.clone().ready().await.unwrap();
        let request = http::Request::post("http://docker/grpc.health.v1.Health/Check")
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
        let (answer, mut body) = ready.send_request(request, false).unwrap();
        // An empty HealthCheckRequest: no compression, length 0.
        body.send_data(bytes::Bytes::from_static(&[0, 0, 0, 0, 0]), true)
            .unwrap();
        let answer = answer.await.unwrap();
        assert_eq!(answer.status(), 200);
        let data = answer.into_body().data().await.unwrap().unwrap().to_vec();
        (data, client, connection)
    }

    #[tokio::test]
    async fn a_session_answers_health_checks_and_closes_its_connection_when_dropped() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = format!("tcp://{}", listener.local_addr().unwrap());
        let engine = tokio::spawn(engine(listener));
        let dirs = SyncedDirs::new(std::path::Path::new("."), std::path::Path::new("."));
        let session = open(&host, "1.45", "k", dirs, Duration::from_secs(10))
            .await
            .unwrap();
        let (answer, _client, connection) = engine.await.unwrap();
        // Length-prefixed HealthCheckResponse { status: SERVING (1) }.
        assert_eq!(answer, [0, 0, 0, 0, 2, 0x08, 0x01]);
        assert!(!connection.is_finished(), "open while the session lives");
        drop(session);
        let ended = tokio::time::timeout(Duration::from_secs(10), connection).await;
        assert!(
            matches!(ended, Ok(Ok(_))),
            "the connection ends once the session is dropped: {ended:?}"
        );
    }
}
