//! `Engine`: the Docker Engine through bollard, for live builds and experiments.
//!
//! Connection, version negotiation (a 20.10 engine speaks API 1.41), builder cache pruning and
//! errors go through bollard's typed API, honouring `DOCKER_HOST` as the Docker CLI does.
//! Every call that is not the build itself has a bound ([`api_timeout`], [`PRUNE_TIMEOUT`]): an
//! engine (or something else at `DOCKER_HOST`) that accepts the connection and never answers
//! ends the command with an error naming the host instead of hanging it.
//!
//! The build itself does not use `Docker::build_image`: with bollard's buildkit feature a
//! `version=2` build requires a gRPC session, and without it the `moby.buildkit.trace` aux
//! messages do not deserialize into bollard's types. Instead `POST /build?version=2` is sent
//! with a tar body through bollard's own transport (a request modifier turns a raw-body request
//! into the build request, so Unix sockets and TCP work alike), and the response body goes
//! byte for byte to a [`CaptureSender`], where the existing Engine API decoder reads it: a
//! build recorded live is decoded exactly like a saved API stream. Tar-body builds work on
//! dockerd 20.10 and on newer engines with the classic image store. With the containerd image
//! store (Docker 24+), dockerd cannot hand an uploaded context to BuildKit (moby/moby#47717), so
//! the build opens a BuildKit session instead ([`crate::session`]) and the engine pulls the
//! context and the Dockerfile through it (`remote=client-session`), as the Docker CLI does: on
//! a local or a remote engine alike. Should a session be impossible (no Unix sockets and no TCP
//! host), the upload is tried and its failure says to record the build through buildx.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use bollard::query_parameters::PruneBuildOptionsBuilder;
use bollard::Docker;
use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Uri};

use crate::capture::{CaptureSender, MERGED};
use crate::context::{BuildContext, ContextError};
use crate::filesync::SyncedDirs;
use crate::interrupt;
use crate::session::{self, Session};
use collector::model::Build;

const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// The raw-body request the build is carried in: `GET /images/<this>/get` becomes the build.
const CARRIER: &str = "buildprof-build-request";

/// What goes wrong talking to the engine; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the Docker daemon is not running at {host}: start it (`sudo systemctl start docker`, or `sudo dockerd &`) or set DOCKER_HOST to a running one")]
    NotRunning { host: String },
    #[error("permission denied on the Docker socket {socket}: add your user to the docker group (`sudo usermod -aG docker $USER`, then log in again), or run as root")]
    PermissionDenied { socket: String },
    #[error("cannot reach the Docker daemon at {host}: {message}")]
    Unreachable { host: String, message: String },
    #[error("DOCKER_HOST={host} is not usable: {message}")]
    BadHost { host: String, message: String },
    #[error("the Docker daemon refused the request: {message}")]
    Api { message: String },
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("interrupted")]
    Interrupted,
}

/// A `docker build` as the Engine API takes it.
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    pub context: std::path::PathBuf,
    /// Relative to the working directory, like `docker build -f`; default `CONTEXT/Dockerfile`.
    pub dockerfile: Option<std::path::PathBuf>,
    pub target: Option<String>,
    pub build_args: Vec<(String, String)>,
    pub no_cache: bool,
    pub cache_from: Vec<String>,
    pub tags: Vec<String>,
    /// `networkmode`: `default`, `none`, `host`...
    pub network: Option<String>,
}

impl BuildRequest {
    fn query(&self, dockerfile: &str) -> String {
        let mut q: Vec<(&str, String)> = vec![("version", "2".into()), ("rm", "1".into())];
        q.push(("dockerfile", dockerfile.to_string()));
        for t in &self.tags {
            q.push(("t", t.clone()));
        }
        if let Some(t) = &self.target {
            q.push(("target", t.clone()));
        }
        if !self.build_args.is_empty() {
            let map: serde_json::Map<String, serde_json::Value> = self
                .build_args
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            q.push(("buildargs", serde_json::Value::Object(map).to_string()));
        }
        if self.no_cache {
            q.push(("nocache", "1".into()));
        }
        if !self.cache_from.is_empty() {
            q.push((
                "cachefrom",
                serde_json::to_string(&self.cache_from).unwrap_or_default(),
            ));
        }
        if let Some(n) = &self.network {
            q.push(("networkmode", n.clone()));
        }
        q.iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How long version negotiation, the version query and an image inspection may take when
/// `BUILDPROF_ENGINE_TIMEOUT` does not say otherwise.
pub const API_TIMEOUT: Duration = Duration::from_secs(30);
/// How long removing the builder cache may take (it can free many gigabytes).
pub const PRUNE_TIMEOUT: Duration = Duration::from_secs(600);

/// The bound of the short Engine API calls: `BUILDPROF_ENGINE_TIMEOUT` (seconds, e.g. `5` or
/// `0.5`) when set to a positive number, else [`API_TIMEOUT`].
pub fn api_timeout() -> Duration {
    std::env::var("BUILDPROF_ENGINE_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().trim_end_matches('s').parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(API_TIMEOUT)
}

/// Runs one Engine API call `what` for at most `limit`.
async fn bounded<T>(
    host: &str,
    what: &str,
    limit: Duration,
    call: impl Future<Output = Result<T, bollard::errors::Error>>,
) -> Result<T, EngineError> {
    match tokio::time::timeout(limit, call).await {
        Ok(result) => result.map_err(|e| classify(host, e)),
        Err(_) => Err(EngineError::Unreachable {
            host: host.to_string(),
            message: format!("no answer to {what} within {:.1} s", limit.as_secs_f64()),
        }),
    }
}

/// A connected engine.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    host: String,
    /// Images live in containerd (`driver-type io.containerd.snapshotter.v1`).
    containerd_store: bool,
    server_version: String,
    api_version: String,
}

impl Engine {
    /// Connects to `DOCKER_HOST` (default the local socket) and negotiates the API version.
    pub async fn connect() -> Result<Engine, EngineError> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        let docker = Docker::connect_with_host(&host).map_err(|e| classify(&host, e))?;
        // Builds and prunes can wait long for the first byte of an answer.
        let docker = docker.with_timeout(std::time::Duration::from_secs(3600));
        let limit = api_timeout();
        let docker = bounded(
            &host,
            "version negotiation",
            limit,
            docker.negotiate_version(),
        )
        .await?;
        let v = bounded(&host, "the version query", limit, docker.version()).await?;
        let info = bounded(&host, "the system info", limit, docker.info()).await?;
        Ok(Engine {
            containerd_store: uses_containerd_store(info.driver_status.as_deref()),
            docker,
            host,
            server_version: v.version.unwrap_or_else(|| "unknown".into()),
            api_version: v.api_version.unwrap_or_else(|| "unknown".into()),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// A one-line description, e.g. `Docker Engine 20.10.24 (API 1.41) at unix:///...`.
    pub fn describe(&self) -> String {
        format!(
            "Docker Engine {} (API {}) at {}",
            self.server_version, self.api_version, self.host
        )
    }

    /// Removes all builder cache (`docker builder prune -af`); returns the bytes reclaimed.
    pub async fn prune_build_cache(&self) -> Result<i64, EngineError> {
        let opts = PruneBuildOptionsBuilder::default().all(true).build();
        let prune = self.docker.prune_build(Some(opts));
        let r = bounded(&self.host, "the builder cache prune", PRUNE_TIMEOUT, prune).await?;
        Ok(r.space_reclaimed.unwrap_or(0))
    }

    /// The id (`sha256:...`) of an image the engine holds.
    pub async fn image_id(&self, name: &str) -> Option<String> {
        self.docker.inspect_image(name).await.ok()?.id
    }

    /// Whether the engine has an image by that name.
    pub async fn has_image(&self, name: &str) -> Result<bool, EngineError> {
        let inspect = self.docker.inspect_image(name);
        match bounded(&self.host, "an image inspection", api_timeout(), inspect).await {
            Ok(_) => Ok(true),
            Err(EngineError::Api { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Checks that the engine answers (`GET /_ping`) within [`api_timeout`].
    pub async fn ping(&self) -> Result<(), EngineError> {
        bounded(&self.host, "a ping", api_timeout(), self.docker.ping())
            .await
            .map(|_| ())
    }

    /// Runs one build and streams its raw Engine API response into `sink`. Returns when the
    /// stream ends (whether the build succeeded is in the stream) or on Ctrl-C
    /// ([`EngineError::Interrupted`]: the connection is dropped, which cancels the build).
    pub async fn build(
        &self,
        request: &BuildRequest,
        sink: &CaptureSender,
    ) -> Result<(), EngineError> {
        // `session` is kept until the build ends: dropping it closes the session.
        let (writer, rx, query, session) = self.send_context(request).await?;
        let body = bollard::body_try_stream(futures_util::stream::unfold(rx, |mut rx| async {
            rx.recv().await.map(|c| (c, rx))
        }));
        let body = Mutex::new(Some(body));
        let docker = self.docker.clone().with_request_modifier(move |req| {
            let Some(body) = body.lock().ok().and_then(|mut b| b.take()) else {
                return req;
            };
            let (mut parts, _) = req.into_parts();
            if let Some(uri) = build_uri(&parts.uri, &query) {
                parts.uri = uri;
            }
            parts.method = Method::POST;
            parts
                .headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/x-tar"));
            Request::from_parts(parts, body)
        });
        let mut stream = docker.export_image(CARRIER);
        let result = loop {
            tokio::select! {
                item = stream.next() => match item {
                    Some(Ok(bytes)) => sink.send(MERGED, &bytes),
                    Some(Err(e)) => break Err(classify(&self.host, e)),
                    None => break Ok(()),
                },
                _ = interrupt::wait() => break Err(EngineError::Interrupted),
            }
        };
        drop(stream);
        drop(session);
        match writer.await {
            Ok(Err(e)) if result.is_ok() && e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(EngineError::Context(ContextError::Io {
                    path: request.context.clone(),
                    source: e,
                }))
            }
            _ => result,
        }
    }
}

/// The request's URI with the carrier's path replaced by `/build?QUERY`.
fn build_uri(carrier: &Uri, query: &str) -> Option<Uri> {
    let path = carrier
        .path()
        .replacen(&format!("/images/{CARRIER}/get"), "/build", 1);
    let mut uri = Uri::builder();
    if let Some(s) = carrier.scheme() {
        uri = uri.scheme(s.clone());
    }
    if let Some(a) = carrier.authority() {
        uri = uri.authority(a.clone());
    }
    uri.path_and_query(format!("{path}?{query}")).build().ok()
}

/// The request body's chunks.
type BodyChunks = tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>;

impl Engine {
    /// How the engine gets the context: as the tar body of the request (written by the task
    /// returned into the channel returned), or, where it cannot read that (the containerd image
    /// store), through a BuildKit session, with an empty body. Returns the request's query too.
    async fn send_context(
        &self,
        request: &BuildRequest,
    ) -> Result<(TarWriter, BodyChunks, String, Option<Session>), EngineError> {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
        if self.containerd_store && session::supported(&self.host) {
            let (root, dockerfile) =
                crate::context::locate(&request.context, request.dockerfile.as_deref())?;
            let folder = dockerfile.parent().unwrap_or(&root).to_path_buf();
            let name = dockerfile
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "Dockerfile".into());
            // The same folders get the same key, so the engine sends only what changed.
            let key = blake3::hash(root.to_string_lossy().as_bytes()).to_hex();
            let dirs = SyncedDirs::new(&root, &folder);
            let session = session::open(
                &self.host,
                &self.api_version,
                &key[..32],
                dirs,
                api_timeout(),
            )
            .await
            .map_err(|e| EngineError::Unreachable {
                host: self.host.clone(),
                message: e.to_string(),
            })?;
            let query = format!(
                "{}&remote=client-session&session={}",
                request.query(&name),
                session.id()
            );
            drop(tx);
            let nothing = tokio::task::spawn_blocking(|| Ok(()));
            return Ok((nothing, rx, query, Some(session)));
        }
        let ctx = BuildContext::scan(&request.context, request.dockerfile.as_deref())?;
        let query = request.query(ctx.dockerfile_name());
        let writer = tokio::task::spawn_blocking(move || {
            let mut w = ChannelWriter {
                tx,
                buf: Vec::with_capacity(CHUNK),
            };
            ctx.write_tar(&mut w)
        });
        Ok((writer, rx, query, None))
    }
}

/// The task writing the tar into the request body.
type TarWriter = tokio::task::JoinHandle<std::io::Result<()>>;

const CHUNK: usize = 64 * 1024;

/// Writes the tar into the request body channel in 64 KiB chunks.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the engine stopped reading the context",
            )
        })
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Whether `docker info`'s driver status says images live in containerd.
fn uses_containerd_store(driver_status: Option<&[Vec<String>]>) -> bool {
    driver_status.unwrap_or_default().iter().any(|pair| {
        pair.first().map(String::as_str) == Some("driver-type")
            && pair
                .get(1)
                .is_some_and(|v| v.starts_with("io.containerd.snapshotter"))
    })
}

/// Turns a bollard error into one that says what to do.
fn classify(host: &str, err: bollard::errors::Error) -> EngineError {
    use bollard::errors::Error as B;
    let socket = host.strip_prefix("unix://").unwrap_or(host).to_string();
    match &err {
        B::SocketNotFoundError(path) => {
            // bollard checks `exists()`, which is false too when the socket cannot be reached.
            return match std::fs::metadata(path) {
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    EngineError::PermissionDenied { socket }
                }
                _ => EngineError::NotRunning {
                    host: host.to_string(),
                },
            };
        }
        B::UnsupportedURISchemeError { .. } => {
            return EngineError::BadHost {
                host: host.to_string(),
                message: "use unix:///path/to/docker.sock or tcp://host:port".into(),
            }
        }
        B::DockerResponseServerError { message, .. } => {
            return EngineError::Api {
                message: message.trim().to_string(),
            }
        }
        B::RequestTimeoutError => {
            return EngineError::Unreachable {
                host: host.to_string(),
                message: "no answer in time".into(),
            }
        }
        _ => {}
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    return EngineError::PermissionDenied { socket }
                }
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound => {
                    return EngineError::NotRunning {
                        host: host.to_string(),
                    }
                }
                _ => {}
            }
        }
        source = e.source();
    }
    // The last cause says what happened (`connection closed before message completed`,
    // `Connection reset by peer`); bollard's and hyper's own wrappers say little.
    let innermost = std::iter::successors(Some(&err as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    })
    .last()
    .map(|e| e.to_string())
    .unwrap_or_default();
    EngineError::Unreachable {
        host: host.to_string(),
        message: innermost,
    }
}

/// A one-line explanation of why a build failed, when the cause is a known engine problem
/// rather than the Dockerfile's own steps (a base image the engine cannot get).
pub fn explain_failure(build: &Build) -> Option<String> {
    let error = build.error.as_deref().unwrap_or("");
    let uploaded = error.contains("build-context-")
        && (error.contains("no such host") || error.contains("failed to read downloaded context"));
    if uploaded {
        // Docker 24+ with the containerd image store serves an uploaded context to BuildKit as
        // `http://build-context-<id>`, which that daemon cannot resolve (moby/moby#47717); a
        // session carries it instead wherever one can be opened.
        return Some(
            "the engine could not read the build context uploaded with the request (the \
             containerd image store, moby/moby#47717): record the build through buildx instead, \
             `buildprof record -- docker buildx build --progress=rawjson ...`"
                .into(),
        );
    }
    let metadata_step = build
        .steps
        .iter()
        .find(|s| s.error.is_some() && s.name.starts_with("[internal] load metadata for "));
    let image = metadata_step
        .map(|s| {
            s.name
                .trim_start_matches("[internal] load metadata for ")
                .to_string()
        })
        .or_else(|| {
            let i = error.find("failed to resolve source metadata for ")?;
            let rest = &error[i + "failed to resolve source metadata for ".len()..];
            Some(rest.split([':', ' ']).take(2).collect::<Vec<_>>().join(":"))
        });
    let pull_failed = metadata_step.is_some()
        || [
            "failed to resolve source metadata",
            "pull access denied",
            "manifest unknown",
            "repository does not exist",
        ]
        .iter()
        .any(|m| error.contains(m));
    if !pull_failed {
        return None;
    }
    let image = image.unwrap_or_else(|| "of a FROM line".into());
    Some(format!(
        "base image {image} is not on the engine and could not be pulled: pull or import it first (`docker pull`, `docker load`, `docker import`), or fix the FROM line"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_carries_every_option_encoded() {
        let r = BuildRequest {
            target: Some("test".into()),
            build_args: vec![("A".into(), "1 2".into())],
            no_cache: true,
            cache_from: vec!["img:main".into()],
            tags: vec!["t:1".into()],
            network: Some("none".into()),
            ..BuildRequest::default()
        };
        let q = r.query("Dockerfile");
        assert_eq!(
            q,
            "version=2&rm=1&dockerfile=Dockerfile&t=t%3A1&target=test&buildargs=%7B%22A%22%3A%221%202%22%7D&nocache=1&cachefrom=%5B%22img%3Amain%22%5D&networkmode=none"
        );
    }

    #[test]
    fn the_containerd_image_store_is_read_off_the_driver_status() {
        let pairs = |p: &[(&str, &str)]| -> Vec<Vec<String>> {
            p.iter()
                .map(|(k, v)| vec![k.to_string(), v.to_string()])
                .collect()
        };
        // `docker info` of Docker 26.1 with and without the containerd snapshotter.
        let containerd = pairs(&[("driver-type", "io.containerd.snapshotter.v1")]);
        let overlay = pairs(&[
            ("Backing Filesystem", "extfs"),
            ("Supports d_type", "true"),
            ("Using metacopy", "false"),
        ]);
        assert!(uses_containerd_store(Some(&containerd)));
        assert!(!uses_containerd_store(Some(&overlay)));
        assert!(!uses_containerd_store(None));
    }

    #[test]
    fn an_unreadable_uploaded_context_says_to_record_through_buildx() {
        // Docker 26.1, containerd image store, `POST /build?version=2` with a tar body.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../sample-traces/current-engine/api/containerd-store_version2.jsonl"
        );
        let f = std::fs::File::open(path).unwrap();
        let read = collector::ingest::read_builds(path, f, None, &Default::default()).unwrap();
        let why = explain_failure(&read.builds[0]).unwrap();
        assert!(
            why.contains("buildprof record -- docker buildx build"),
            "{why}"
        );
        // A base image problem is not mistaken for it, and vice versa.
        assert!(!why.contains("base image"));
    }

    #[tokio::test]
    async fn a_missing_socket_says_to_start_the_daemon() {
        let err = classify(
            "unix:///nonexistent/docker.sock",
            bollard::errors::Error::SocketNotFoundError("/nonexistent/docker.sock".into()),
        );
        assert!(matches!(err, EngineError::NotRunning { .. }));
        assert!(err.to_string().contains("start it"), "{err}");
    }
}
