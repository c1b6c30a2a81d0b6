//! A local webhook receiver: records every request and answers as the test scripts it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Endpoint, Request, Response};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    /// The raw body, byte for byte.
    pub body: Vec<u8>,
}

impl Received {
    /// A header by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }
}

/// How to answer one request.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub delay: Duration,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// Answers `status` at once.
    pub fn status(status: u16) -> Self {
        Answer {
            status,
            delay: Duration::ZERO,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// Waits `delay` before answering.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Answer>,
    default: Option<Answer>,
    received: Vec<Received>,
}

/// A receiver on 127.0.0.1; stops when dropped.
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<State>>,
    _server: tokio::task::JoinHandle<()>,
}

struct Serve {
    state: Arc<Mutex<State>>,
}

impl Endpoint for Serve {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let headers = req
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let body = req.into_body().into_vec().await.unwrap_or_default();
        let answer = {
            let mut s = self.state.lock().unwrap();
            s.received.push(Received { headers, body });
            s.script
                .pop_front()
                .or_else(|| s.default.clone())
                .unwrap_or_else(|| Answer::status(200))
        };
        tokio::time::sleep(answer.delay).await;
        let mut resp = Response::builder().status(StatusCode::from_u16(answer.status).unwrap());
        for (n, v) in &answer.headers {
            resp = resp.header(n.as_str(), v.as_str());
        }
        Ok(resp.body(answer.body))
    }
}

impl Receiver {
    /// Starts a receiver answering 200 unless scripted otherwise.
    pub async fn start() -> Receiver {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = acceptor.local_addr()[0].as_socket_addr().cloned().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let serve = Serve {
            state: state.clone(),
        };
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(serve).await;
        });
        Receiver {
            url: format!("http://{addr}/hooks"),
            state,
            _server: server,
        }
    }

    /// The next requests get these answers, in order; then the default.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// What every unscripted request gets.
    pub fn answer_by_default(&self, answer: Answer) {
        self.state.lock().unwrap().default = Some(answer);
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits until `n` requests arrived (panics after `secs`).
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "receiver got {} of {n} requests",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self._server.abort();
    }
}
