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

/// How long calls still open when the session is dropped may take to end before the
/// connection is closed under them.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Serves FileSync and the health check on the upgraded connection until the session is
/// dropped; then closes it gracefully (HTTP/2 GOAWAY once the calls under way end), or after
/// [`CLOSE_GRACE`] at the latest. The connection is served here, not by tonic's server, which
/// would serve it on a task of its own that nothing could end.
async fn serve<IO>(io: IO, dirs: SyncedDirs, closed: Closed)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let routes = tonic::service::Routes::new(FileSyncServer::new(dirs))
        .add_service(HealthServer::new(Healthy))
        .prepare();
    let service = hyper_util::service::TowerToHyperService::new(routes);
    let conn = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .serve_connection(hyper_util::rt::TokioIo::new(io), service);
    tokio::pin!(conn);
    // The connection ends with the build; an error then says nothing the build does not.
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = closed => {}
    }
    conn.as_mut().graceful_shutdown();
    // Dropping the connection at the end of the grace closes it.
    let _ = tokio::time::timeout(CLOSE_GRACE, conn).await;
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

    type Connection = tokio::task::JoinHandle<Result<(), h2::Error>>;

    /// Plays the engine: answers the upgrade and starts HTTP/2 as the engine's client. Returns
    /// the h2 handle (kept open by the tests: the connection must end because the session
    /// closes it) and the connection's task.
    async fn engine(
        listener: &tokio::net::TcpListener,
    ) -> (h2::client::SendRequest<bytes::Bytes>, Connection) {
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
        (client, tokio::spawn(connection))
    }

    /// Opens a gRPC call `path` with one message `body` (length-prefixed here), `end` saying
    /// whether the request stream ends with it.
    async fn call(
        client: &h2::client::SendRequest<bytes::Bytes>,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        end: bool,
    ) -> (h2::client::ResponseFuture, h2::SendStream<bytes::Bytes>) {
        let mut ready = client.clone().ready().await.unwrap();
        let mut request = http::Request::post(format!("http://docker{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let (answer, mut stream) = ready
            .send_request(request.body(()).unwrap(), false)
            .unwrap();
        let mut framed = vec![0u8, 0, 0, 0, body.len() as u8];
        framed.extend_from_slice(body);
        stream.send_data(bytes::Bytes::from(framed), end).unwrap();
        (answer, stream)
    }

    async fn session_on(listener: &tokio::net::TcpListener) -> Session {
        let host = format!("tcp://{}", listener.local_addr().unwrap());
        let dirs = SyncedDirs::new(std::path::Path::new("."), std::path::Path::new("."));
        open(&host, "1.45", "k", dirs, Duration::from_secs(10))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_session_answers_health_checks_and_closes_its_connection_when_dropped() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (session, (client, connection)) =
            tokio::join!(session_on(&listener), engine(&listener));
        let (answer, _) = call(&client, "/grpc.health.v1.Health/Check", &[], &[], true).await;
        let answer = answer.await.unwrap();
        assert_eq!(answer.status(), 200);
        let data = answer.into_body().data().await.unwrap().unwrap().to_vec();
        // Length-prefixed HealthCheckResponse { status: SERVING (1) }.
        assert_eq!(data, [0, 0, 0, 0, 2, 0x08, 0x01]);
        assert!(!connection.is_finished(), "open while the session lives");
        drop(session);
        let ended = tokio::time::timeout(Duration::from_secs(2), connection).await;
        assert!(
            matches!(ended, Ok(Ok(_))),
            "the connection ends at once when the session is dropped: {ended:?}"
        );
    }

    #[tokio::test]
    async fn a_call_the_engine_leaves_open_does_not_keep_a_dropped_session_alive() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (session, (client, connection)) =
            tokio::join!(session_on(&listener), engine(&listener));
        // A DiffCopy of this crate's folder that the engine never reads from nor finishes: the
        // walker fills the stream's window and waits.
        let headers = [("dir-name", "context")];
        let path = "/moby.filesync.v1.FileSync/DiffCopy";
        let (answer, _stream) = call(&client, path, &headers, &[], false).await;
        assert_eq!(answer.await.unwrap().status(), 200);
        drop(session);
        let limit = CLOSE_GRACE + Duration::from_secs(3);
        let ended = tokio::time::timeout(limit, connection).await;
        assert!(ended.is_ok(), "closed within the grace after the drop");
    }
}
