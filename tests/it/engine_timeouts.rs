//! The Engine API calls around a build have bounds: `build` against a `DOCKER_HOST` on loopback
//! that accepts and stays silent, answers slowly, or resets the connection ends within
//! `BUILDPROF_ENGINE_TIMEOUT` with an error naming the host (no Docker Engine needed).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::common::bin;

/// A loopback "engine" doing `act` with each connection; its `tcp://` host.
fn fake_engine(act: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("tcp://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || act(stream));
        }
    });
    host
}

/// Reads a request head and its body (by Content-Length; a chunked body is not read).
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<String> {
    let mut first = String::new();
    if reader.read_line(&mut first).ok()? == 0 {
        return None;
    }
    let mut len = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end().to_ascii_lowercase();
        if h.is_empty() {
            break;
        }
        if let Some(v) = h.strip_prefix("content-length:") {
            len = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(first)
}

/// `buildprof build` of a one-line context against `host`; exit code, stderr, seconds.
fn build_against(host: &str, timeout: &str) -> (Option<i32>, String, f64) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
    let started = Instant::now();
    let out = bin()
        .env("DOCKER_HOST", host)
        .env("BUILDPROF_ENGINE_TIMEOUT", timeout)
        .arg("--db")
        .arg(dir.path().join("b.db"))
        .args(["build", "--quiet"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), err, started.elapsed().as_secs_f64())
}

#[test]
fn engine_calls_end_within_their_timeout() {
    let silent = fake_engine(|s| {
        std::thread::sleep(Duration::from_secs(60));
        drop(s);
    });
    let (code, err, secs) = build_against(&silent, "1");
    assert_eq!(code, Some(1), "{err}");
    assert!(secs < 5.0, "took {secs} s: {err}");
    assert!(
        err.contains(&silent) && err.contains("no answer to version negotiation within 1.0 s"),
        "{err}"
    );

    // Answers /version after 2 s: too slow for 1 s.
    let slow = fake_engine(|s| {
        let mut reader = BufReader::new(s.try_clone().unwrap());
        let mut out = s;
        while read_request(&mut reader).is_some() {
            std::thread::sleep(Duration::from_secs(2));
            let body = r#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12"}"#;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(body.as_bytes());
        }
    });
    let (code, err, secs) = build_against(&slow, "1");
    assert_eq!(code, Some(1), "{err}");
    assert!(secs < 5.0, "took {secs} s: {err}");
    assert!(err.contains(&slow) && err.contains("no answer to"), "{err}");
    // With 5 s the version calls get their answers; what fails next is not a timeout of them.
    let (_, err, _) = build_against(&slow, "5");
    assert!(!err.contains("no answer to"), "{err}");

    let reset = fake_engine(|s| {
        // Unread request bytes make the close a reset.
        std::thread::sleep(Duration::from_millis(100));
        drop(s);
    });
    let (code, err, secs) = build_against(&reset, "1");
    assert_eq!(code, Some(1), "{err}");
    assert!(secs < 5.0, "took {secs} s: {err}");
    assert!(err.contains(&reset) && err.contains("reset"), "{err}");
}
