//! Sending trace requests over OTLP/HTTP (binary protobuf, `POST /v1/traces`), with retries on
//! the responses the OTLP specification calls retryable.
//!
//! Every wait has a bound (`--otlp-timeout`, [`DEFAULT_TIMEOUT`]): connecting, each attempt
//! (sending the request and reading the whole answer), and all attempts of one request together
//! ([`RETRY_BUDGET`] times the timeout), so an endpoint that accepts connections and never answers
//! ends the export with an error instead of hanging the CI job.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Request, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

use super::OtlpError;

/// Attempts per request at most (the first one included).
const ATTEMPTS: u32 = 5;
/// The time allowed to connect and for one attempt when `--otlp-timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// All attempts of one request (with the pauses between them) end within this many timeouts.
pub const RETRY_BUDGET: u32 = 3;
/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Where traces go: the collector's `/v1/traces` URL.
#[derive(Debug, Clone)]
pub struct Endpoint {
    uri: Uri,
}

impl Endpoint {
    /// Parses `http://HOST:PORT[/prefix]`, appending `/v1/traces` unless the URL ends with it.
    pub fn parse(url: &str) -> Result<Endpoint, OtlpError> {
        let url = url.trim();
        if url.starts_with("https://") {
            return Err(OtlpError::Https(url.to_string()));
        }
        if !url.starts_with("http://") {
            return Err(OtlpError::BadEndpoint(
                url.to_string(),
                "use an http:// URL such as http://localhost:4318".into(),
            ));
        }
        let base = url.trim_end_matches('/');
        let full = if base.ends_with("/v1/traces") {
            base.to_string()
        } else {
            format!("{base}/v1/traces")
        };
        let uri: Uri = full.parse().map_err(|e: hyper::http::uri::InvalidUri| {
            OtlpError::BadEndpoint(url.to_string(), e.to_string())
        })?;
        if uri.host().is_none_or(str::is_empty) {
            return Err(OtlpError::BadEndpoint(url.to_string(), "no host".into()));
        }
        Ok(Endpoint { uri })
    }

    pub fn url(&self) -> String {
        self.uri.to_string()
    }
}

/// What the collector said about one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accepted {
    /// Spans the collector reported as rejected (OTLP partial success).
    pub rejected_spans: i64,
    /// Its message about them, if any.
    pub message: String,
}

/// An OTLP/HTTP client for one endpoint.
pub struct Sender {
    client: Client<HttpConnector, Full<Bytes>>,
    endpoint: Endpoint,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
}

impl Sender {
    /// `headers` are `NAME=VALUE` pairs sent with every request (API keys, tenant ids);
    /// `timeout` bounds connecting and each attempt ([`DEFAULT_TIMEOUT`] is the usual one).
    pub fn new(
        endpoint: Endpoint,
        headers: &[String],
        timeout: Duration,
    ) -> Result<Sender, OtlpError> {
        let headers = headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<Vec<_>, _>>()?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Sender {
            client,
            endpoint,
            headers,
            timeout,
        })
    }

    /// Sends one request, retrying on connection errors, timeouts and 429/502/503/504 with
    /// backoff, for at most [`ATTEMPTS`] attempts within [`RETRY_BUDGET`] timeouts.
    pub async fn send(&self, request: &ExportTraceServiceRequest) -> Result<Accepted, OtlpError> {
        let body = Bytes::from(request.encode_to_vec());
        let budget = self.timeout * RETRY_BUDGET;
        let deadline = Instant::now() + budget;
        let mut wait = Duration::from_millis(250);
        let mut attempt = 1;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let limit = self.timeout.min(left);
            let result = tokio::time::timeout(limit, self.attempt(body.clone())).await;
            let (retry_after, last) = match result {
                Err(_) => (None, format!("no answer within {}", seconds(limit))),
                Ok(Ok(accepted)) => return Ok(accepted),
                Ok(Err(Failure::Retry(after, why))) => (after, why),
                Ok(Err(Failure::Final(e))) => return Err(e),
            };
            let pause = retry_after.unwrap_or(wait);
            let left = deadline.saturating_duration_since(Instant::now());
            if attempt >= ATTEMPTS || pause >= left {
                return Err(OtlpError::GaveUp {
                    endpoint: self.endpoint.url(),
                    attempts: attempt,
                    budget: seconds(budget),
                    last,
                });
            }
            tokio::time::sleep(pause).await;
            wait = (wait * 2).min(Duration::from_secs(8));
            attempt += 1;
        }
    }

    async fn attempt(&self, body: Bytes) -> Result<Accepted, Failure> {
        let mut builder =
            Request::post(self.endpoint.uri.clone()).header(CONTENT_TYPE, "application/x-protobuf");
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        let request = builder.body(Full::new(body)).map_err(|e| {
            Failure::Final(OtlpError::BadEndpoint(self.endpoint.url(), e.to_string()))
        })?;
        let response = match self.client.request(request).await {
            Ok(r) => r,
            Err(e) => return Err(Failure::Retry(None, connection_problem(&e))),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
        let body = match response.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                let why = format!("the answer was cut off ({})", innermost(&e));
                return Err(Failure::Retry(None, why));
            }
        };
        if status.is_success() {
            let decoded = ExportTraceServiceResponse::decode(body).unwrap_or_default();
            return Ok(decoded
                .partial_success
                .map(|p| Accepted {
                    rejected_spans: p.rejected_spans,
                    message: p.error_message,
                })
                .unwrap_or_default());
        }
        if matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT
        ) {
            return Err(Failure::Retry(
                retry_after,
                format!("HTTP {}", status.as_u16()),
            ));
        }
        let text = String::from_utf8_lossy(&body);
        let text: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
        Err(Failure::Final(OtlpError::Refused {
            endpoint: self.endpoint.url(),
            status: status.as_u16(),
            body: text,
        }))
    }
}

/// Why one attempt did not deliver.
enum Failure {
    /// Worth another attempt (after this long, when the server said), and what went wrong.
    Retry(Option<Duration>, String),
    Final(OtlpError),
}

/// `d` as people read it: `10 s`, `1.5 s`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// What hyper's client error was at bottom: `connection refused`, `connection reset`, a
/// connect timeout.
fn connection_problem(e: &hyper_util::client::legacy::Error) -> String {
    if e.is_connect() {
        format!("cannot connect ({})", innermost(e))
    } else {
        format!("the connection failed ({})", innermost(e))
    }
}

/// The last cause of `e`, which says what happened (`Connection reset by peer (os error 104)`).
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(e), |e| e.source())
        .last()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

fn parse_header(h: &str) -> Result<(HeaderName, HeaderValue), OtlpError> {
    let (name, value) = h
        .split_once('=')
        .ok_or_else(|| OtlpError::BadHeader(h.to_string()))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| OtlpError::BadHeader(h.to_string()))?;
    let mut value =
        HeaderValue::from_str(value.trim()).map_err(|_| OtlpError::BadHeader(h.to_string()))?;
    value.set_sensitive(true);
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("http://localhost:4318").unwrap();
        assert_eq!(e.url(), "http://localhost:4318/v1/traces");
        let e = Endpoint::parse("http://otel:4318/v1/traces/").unwrap();
        assert_eq!(e.url(), "http://otel:4318/v1/traces");
        let e = Endpoint::parse("http://gw:8080/otlp").unwrap();
        assert_eq!(e.url(), "http://gw:8080/otlp/v1/traces");
        assert!(matches!(
            Endpoint::parse("https://api.honeycomb.io"),
            Err(OtlpError::Https(_))
        ));
        assert!(Endpoint::parse("localhost:4318").is_err());
        assert!(Endpoint::parse("http://").is_err());
    }

    #[test]
    fn headers() {
        let (n, v) = parse_header("x-honeycomb-team=abc").unwrap();
        assert_eq!(n.as_str(), "x-honeycomb-team");
        assert_eq!(v.to_str().unwrap(), "abc");
        assert!(parse_header("no-equals").is_err());
        assert!(parse_header("bad name=x").is_err());
    }
}
