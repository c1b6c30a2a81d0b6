//! The real local LLM for the black-box tests: llama.cpp's `llama-server` with SmolLM2-135M-Instruct
//! (built and fetched once by scripts/llama.sh into target/llama), started on a free port, behind
//! a tiny pass-through proxy that records every chat-completions request.
//!
//! Missing binary or model: in CI (`CI=true`) the test fails; elsewhere it is skipped with a message.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Body, Endpoint, Request, Response};
use serde_json::Value;
use tokio::process::{Child, Command};

/// `llama-server` and the model, where scripts/llama.sh puts them.
fn files() -> (PathBuf, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/llama");
    (
        dir.join("bin/llama-server"),
        dir.join("models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    )
}

/// A running `llama-server` behind the counting proxy; killed when dropped.
pub struct Llama {
    /// The proxy's base URL, ending with `/v1` (what `OTOQ_LLM_BASE_URL` takes).
    pub url: String,
    requests: Arc<Mutex<Vec<Value>>>,
    _child: Child,
    _proxy: tokio::task::JoinHandle<()>,
}

/// Forwards every request to `upstream`, recording the JSON bodies of chat completions.
struct Forward {
    upstream: String,
    http: reqwest::Client,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl Endpoint for Forward {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let body = req.take_body().into_vec().await.unwrap_or_default();
        if path.ends_with("/chat/completions") {
            let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
            self.requests.lock().unwrap().push(json);
        }
        let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
        let mut out = self
            .http
            .request(method, format!("{}{path}", self.upstream))
            .body(body);
        if let Some(ct) = req.header("content-type") {
            out = out.header("content-type", ct);
        }
        let resp = match out.send().await {
            Ok(r) => r,
            Err(e) => {
                return Ok(Response::builder()
                    .status(StatusCode::BAD_GATEWAY)
                    .body(format!("llama-server unreachable: {e}")));
            }
        };
        let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_string();
        let stream = resp.bytes_stream().map_err(std::io::Error::other);
        Ok(Response::builder()
            .status(status)
            .content_type(ct)
            .body(Body::from_bytes_stream(stream)))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Llama {
    /// Starts `llama-server` and waits for its `/health`. `None` (after saying why) when the
    /// binary or model is missing outside CI; in CI a missing one fails the test.
    pub async fn start() -> Option<Llama> {
        let (server, model) = files();
        if !server.is_file() || !model.is_file() {
            let why = format!(
                "the real-LLM test needs {} and {}: run `bash scripts/llama.sh`",
                server.display(),
                model.display()
            );
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
            eprintln!("SKIPPED: {why}");
            return None;
        }
        let port = free_port();
        let child = Command::new(&server)
            .arg("--model")
            .arg(&model)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            // One slot with room for five passages; one thread, as tests run side by side on
            // few cores (ggml's threads spin while they wait).
            .args(["--ctx-size", "4096", "--parallel", "1", "--threads", "1"])
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn llama-server");
        let upstream = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .unwrap();
        let healthy = super::eventually(60, || async {
            http.get(format!("{upstream}/health"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        assert!(healthy, "llama-server did not become healthy on {upstream}");

        let requests = Arc::new(Mutex::new(Vec::new()));
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
        let ep = Forward {
            upstream,
            http,
            requests: requests.clone(),
        };
        let proxy = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(ep).await;
        });
        Some(Llama {
            url: format!("http://{addr}/v1"),
            requests,
            _child: child,
            _proxy: proxy,
        })
    }

    /// Every chat-completions request body that went through, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Llama {
    fn drop(&mut self) {
        self._proxy.abort();
    }
}
