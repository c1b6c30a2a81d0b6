//! Deployment conventions: Heroku's `rediss://` (TLS, self-signed) Redis.

use std::process::Command;

use crate::support::{Backend, spawn_app_with};

/// A TLS-only Redis on a free port with a fresh self-signed certificate, shut down on drop.
struct TlsRedis {
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = Command::new("redis-cli")
            .args([
                "-p",
                &self.port.to_string(),
                "--tls",
                "--insecure",
                "shutdown",
                "nosave",
            ])
            .output();
    }
}

fn start_tls_redis() -> TlsRedis {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed");
    assert!(made.status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--tls-auth-clients",
            "no",
            "--save",
            "",
        ])
        .args(["--daemonize", "yes", "--bind", "127.0.0.1"])
        .arg("--tls-cert-file")
        .arg(&cert)
        .arg("--tls-key-file")
        .arg(&key)
        .arg("--dir")
        .arg(dir.path())
        .arg("--logfile")
        .arg(dir.path().join("redis.log"))
        .status()
        .expect("redis-server is installed");
    assert!(started.success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    TlsRedis { port, _dir: dir }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_url_with_self_signed_certificate() {
    let redis = start_tls_redis();
    let app = spawn_app_with(Backend::Postgres, |e| {
        e.set(
            "REDIS_URL",
            format!("rediss://127.0.0.1:{}/#insecure", redis.port),
        )
        .set("OTOQ_RATE_LIMIT_PRO", "2");
    })
    .await;
    assert_eq!(app.call("GET", "/ready", None, None).await.status, 200);
    let key = app.pro_key().await;
    assert_eq!(app.get("/api/v1/agents", &key).await.status, 200);
    assert_eq!(app.get("/api/v1/agents", &key).await.status, 200);
    // The limit is counted in the TLS Redis.
    app.get("/api/v1/agents", &key)
        .await
        .assert_error(429, "rate_limited");
}
