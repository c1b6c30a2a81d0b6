//! Slow and idle clients cannot hold the server: a client trickling header lines is cut off at
//! the header-read timeout, connections over the limit get a JSON 503, idle ones are closed so
//! `/health` answers again, and oversized headers get the JSON error envelope.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both_backends;
use crate::support::{Backend, TestApp, eventually, spawn_app_with};

async fn app(b: Backend) -> TestApp {
    spawn_app_with(b, |e| {
        e.set("OTOQ_HEADER_READ_TIMEOUT_SECS", "2");
        e.set("OTOQ_MAX_CONNECTIONS", "40");
    })
    .await
}

fn addr(app: &TestApp) -> std::net::SocketAddr {
    app.running.addr.unwrap()
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(s: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    tokio::time::timeout(within, s.read_to_end(&mut out))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

async fn trickled_headers_are_cut_off(b: Backend) {
    let app = app(b).await;
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let (mut r, mut w) = s.into_split();
    let trickle = tokio::spawn(async move {
        for i in 0..200 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if w.write_all(format!("X-Slow-{i}: a\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    });
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), r.read_to_end(&mut sink)).await;
    trickle.abort();
    assert!(closed.is_ok(), "still connected after 10 s");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "disconnected after {took:?}");
    // A kept-alive connection left idle is closed the same way.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let got = read_to_close(&mut s, Duration::from_secs(10)).await;
    assert!(got.is_some_and(|g| g.starts_with("HTTP/1.1 200")));
    assert!(started.elapsed() < Duration::from_secs(5));
}

async fn idle_sockets_do_not_stop_health(b: Backend) {
    let app = app(b).await;
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(TcpStream::connect(addr(&app)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Over the limit: a clear refusal, not a hang.
    let mut extra = TcpStream::connect(addr(&app)).await.unwrap();
    extra
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let refused = read_to_close(&mut extra, Duration::from_secs(5))
        .await
        .expect("refused promptly");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains(r#""error":"server_busy""#), "{refused}");
    // The idle ones are dropped at the header-read timeout; /health answers again.
    let started = Instant::now();
    let client = reqwest::Client::new();
    let url = format!("{}/health", app.base);
    let healthy = eventually(8, || {
        let (client, url) = (client.clone(), url.clone());
        async move {
            client
                .get(url)
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;
    assert!(healthy, "/health did not answer");
    assert!(started.elapsed() < Duration::from_secs(5));
    for mut s in idle {
        let mut buf = [0u8; 1];
        let n = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await;
        assert!(
            matches!(n, Ok(Ok(0)) | Ok(Err(_))),
            "idle socket still open"
        );
    }
}

async fn oversized_headers_get_the_envelope(b: Backend) {
    let app = app(b).await;
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    let big = "a".repeat(40_000);
    s.write_all(format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let got = read_to_close(&mut s, Duration::from_secs(5)).await.unwrap();
    assert!(got.starts_with("HTTP/1.1 431"), "{got}");
    assert!(got.contains("content-type: application/json"), "{got}");
    let body = got.split("\r\n\r\n").nth(1).unwrap();
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["error"], "validation_error");
    assert!(v["message"].as_str().unwrap().contains("headers"));
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
    let got = read_to_close(&mut s, Duration::from_secs(5)).await.unwrap();
    assert!(got.starts_with("HTTP/1.1 400"), "{got}");
    assert!(got.contains(r#""error":"validation_error""#), "{got}");
}

both_backends!(
    trickled_headers_are_cut_off,
    idle_sockets_do_not_stop_health,
    oversized_headers_get_the_envelope
);
