//! A local OpenAI-compatible chat-completions server whose replies the test chooses.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Body, Endpoint, Request, Response};
use serde_json::{Value, json};

type Responder = Arc<dyn Fn(&Value) -> String + Send + Sync>;

/// What the server answers and what it has seen.
struct State {
    reply: Responder,
    fail: usize,
    requests: Vec<Value>,
    authorization: Option<String>,
}

type Shared = Arc<Mutex<State>>;

/// A local OpenAI-compatible server: POST {url}/chat/completions (url ends with "/v1").
pub struct LlmServer {
    pub url: String,
    state: Shared,
    _server: tokio::task::JoinHandle<()>,
}

struct Serve {
    state: Shared,
}

/// A JSON response with `status`.
fn json_response(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// An OpenAI-style error body.
fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    json_response(
        status,
        json!({"error": {"message": message, "type": kind, "param": null, "code": null}}),
    )
}

/// Splits `text` into word-sized pieces that concatenate back to it ("Hello", " world", "!").
pub fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i < chars.len() {
            if chars[i].is_alphanumeric() {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '\'') {
                    i += 1;
                }
            } else {
                i += 1;
            }
        }
        out.push(chars[start..i].iter().collect());
    }
    out
}

/// A rough token count: whitespace-separated words.
fn count_tokens(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// One streamed `chat.completion.chunk` event.
fn chunk(id: &str, created: i64, model: &Value, delta: Value, finish: Value) -> String {
    let event = json!({
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    });
    format!("data: {event}\n\n")
}

impl Endpoint for Serve {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        if req.uri().path() != "/v1/chat/completions" || req.method() != "POST" {
            return Ok(error(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "Unknown request URL",
            ));
        }
        let authorization = req.header("authorization").map(str::to_string);
        let raw = req.take_body().into_vec().await.unwrap_or_default();
        let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "We could not parse the JSON body of your request.",
            ));
        };
        let (reply, fail) = {
            let mut st = self.state.lock().unwrap();
            st.requests.push(body.clone());
            st.authorization = authorization;
            let fail = st.fail > 0;
            if fail {
                st.fail -= 1;
            }
            (st.reply.clone(), fail)
        };
        if fail {
            return Ok(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "The server had an error while processing your request.",
            ));
        }
        let Some(messages) = body["messages"].as_array() else {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "'messages' is a required property",
            ));
        };
        if !body["model"].is_string() {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "'model' is a required property",
            ));
        }
        let prompt_tokens: u64 = messages
            .iter()
            .map(|m| count_tokens(m["content"].as_str().unwrap_or_default()))
            .sum();
        let text = reply(&body);
        let id = format!("chatcmpl-{}", uuid::Uuid::new_v4().simple());
        let created = chrono::Utc::now().timestamp();
        let model = body["model"].clone();
        if body["stream"].as_bool() != Some(true) {
            let completion_tokens = count_tokens(&text);
            return Ok(json_response(
                StatusCode::OK,
                json!({
                    "id": id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [{
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                }),
            ));
        }
        let mut events = vec![chunk(
            &id,
            created,
            &model,
            json!({"role": "assistant", "content": ""}),
            Value::Null,
        )];
        for piece in pieces(&text) {
            events.push(chunk(
                &id,
                created,
                &model,
                json!({"content": piece}),
                Value::Null,
            ));
        }
        events.push(chunk(&id, created, &model, json!({}), json!("stop")));
        events.push("data: [DONE]\n\n".to_string());
        let stream =
            futures::stream::iter(events.into_iter().enumerate()).then(|(i, event)| async move {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Ok::<_, std::io::Error>(event)
            });
        Ok(Response::builder()
            .content_type("text/event-stream")
            .header("cache-control", "no-cache")
            .body(Body::from_bytes_stream(stream)))
    }
}

impl LlmServer {
    /// Starts on 127.0.0.1:0 in a background task; default reply "I don't know."
    pub async fn start() -> LlmServer {
        let state = Arc::new(Mutex::new(State {
            reply: Arc::new(|_| "I don't know.".to_string()),
            fail: 0,
            requests: Vec::new(),
            authorization: None,
        }));
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
        let ep = Serve {
            state: state.clone(),
        };
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(ep).await;
        });
        LlmServer {
            url: format!("http://{addr}/v1"),
            state,
            _server: server,
        }
    }

    /// Sets the reply chosen for each request by a function of the request's JSON body.
    pub fn respond_with(&self, f: impl Fn(&Value) -> String + Send + Sync + 'static) {
        self.state.lock().unwrap().reply = Arc::new(f);
    }

    /// Shorthand: always this reply.
    pub fn reply(&self, text: &str) {
        let text = text.to_string();
        self.respond_with(move |_| text.clone());
    }

    /// The next `n` requests get HTTP 500 with an OpenAI-style error body (they are still recorded).
    pub fn fail_next(&self, n: usize) {
        self.state.lock().unwrap().fail = n;
    }

    /// Every JSON request body received so far (failed ones included), in order.
    pub fn requests(&self) -> Vec<Value> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Number of chat completion requests received.
    pub fn calls(&self) -> usize {
        self.state.lock().unwrap().requests.len()
    }

    /// The Authorization header of the latest request, if it had one.
    pub fn last_authorization(&self) -> Option<String> {
        self.state.lock().unwrap().authorization.clone()
    }
}

impl Drop for LlmServer {
    fn drop(&mut self) {
        self._server.abort();
    }
}
