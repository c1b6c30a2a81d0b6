//! An OpenAI-compatible `POST {base_url}/embeddings` client (OpenAI, Ollama, vLLM, LM Studio…).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::StatusCode;
use serde::Deserialize;

use super::{Embedder, l2_normalise};

/// Attempts per request, counting the first.
const TRIES: u32 = 3;
/// Longest wait a `Retry-After` header can ask for before we give up waiting that long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Embeds through an OpenAI-compatible HTTP API.
pub struct OpenAiEmbedder {
    client: reqwest::Client,
    url: String,
    api_key: Option<String>,
    model: String,
    id: String,
    batch_size: usize,
    dimensions: AtomicUsize,
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    index: Option<usize>,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    /// A client of `{base_url}/embeddings` for `model`, sending `batch_size` texts per request.
    pub fn new(
        base_url: &str,
        api_key: Option<&str>,
        model: &str,
        batch_size: usize,
    ) -> anyhow::Result<Self> {
        let base = url::Url::parse(base_url)
            .with_context(|| format!("OTOQ_EMBEDDER_BASE_URL={base_url:?} is not a URL"))?;
        if !matches!(base.scheme(), "http" | "https") {
            bail!("OTOQ_EMBEDDER_BASE_URL={base_url:?} is not an http(s) URL");
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            client,
            url: format!("{}/embeddings", base_url.trim_end_matches('/')),
            api_key: api_key.map(str::to_string),
            model: model.to_string(),
            id: format!("openai:{model}"),
            batch_size: batch_size.max(1),
            dimensions: AtomicUsize::new(0),
        })
    }

    async fn embed_batch(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        // OpenAI rejects empty strings; a space embeds as "nothing" just as well.
        let input: Vec<&str> = texts
            .iter()
            .map(|t| if t.is_empty() { " " } else { t.as_str() })
            .collect();
        let body = serde_json::json!({ "model": self.model, "input": input });
        let response = self.post(&body).await?;
        let parsed: Response = serde_json::from_str(&response)
            .with_context(|| format!("{} answered with unexpected JSON", self.url))?;
        self.vectors(parsed, texts.len())
    }

    /// Sends `body`, retrying network errors, 429 and 5xx; returns the body of the 2xx answer.
    async fn post(&self, body: &serde_json::Value) -> anyhow::Result<String> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self.client.post(&self.url).json(body);
            if let Some(key) = &self.api_key {
                request = request.bearer_auth(key);
            }
            let wait = match request.send().await {
                Err(err) if attempt < TRIES => {
                    tracing::debug!(error = %err, attempt, "embedding request failed; retrying");
                    None
                }
                Err(err) => return Err(err).with_context(|| format!("POST {} failed", self.url)),
                Ok(resp) if resp.status().is_success() => {
                    return resp.text().await.context("cannot read the embeddings");
                }
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = retry_after(&resp);
                    let text = resp.text().await.unwrap_or_default();
                    let retryable =
                        status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                    if !retryable || attempt >= TRIES {
                        bail!("POST {} answered {status}: {}", self.url, snippet(&text));
                    }
                    tracing::debug!(%status, attempt, "embedding request refused; retrying");
                    retry_after
                }
            };
            let backoff = Duration::from_millis(500 << (attempt - 1));
            tokio::time::sleep(wait.unwrap_or(backoff)).await;
        }
    }

    /// Orders the answer's vectors by `index`, checks their count and length, normalises them.
    fn vectors(&self, response: Response, expected: usize) -> anyhow::Result<Vec<Vec<f32>>> {
        if response.data.len() != expected {
            bail!(
                "{} returned {} embeddings for {expected} texts",
                self.url,
                response.data.len()
            );
        }
        let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected];
        for (position, item) in response.data.into_iter().enumerate() {
            let index = item.index.unwrap_or(position);
            let slot = slots
                .get_mut(index)
                .filter(|s| s.is_none())
                .with_context(|| {
                    format!("{} returned a bad or repeated index {index}", self.url)
                })?;
            *slot = Some(item.embedding);
        }
        let mut vectors: Vec<Vec<f32>> = slots.into_iter().flatten().collect();
        let dims = vectors[0].len();
        if dims == 0 || vectors.iter().any(|v| v.len() != dims) {
            bail!(
                "{} returned embeddings of different or zero lengths",
                self.url
            );
        }
        let known = self
            .dimensions
            .compare_exchange(0, dims, Ordering::Relaxed, Ordering::Relaxed)
            .unwrap_or_else(|current| current);
        if known != 0 && known != dims {
            bail!(
                "{} returned {dims} dimensions where it returned {known} before",
                self.url
            );
        }
        vectors.iter_mut().for_each(|v| l2_normalise(v));
        Ok(vectors)
    }
}

/// The wait a `Retry-After: <seconds>` header asks for, capped.
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let value = resp.headers().get(reqwest::header::RETRY_AFTER)?;
    let seconds: f64 = value.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_secs_f64(seconds).min(MAX_RETRY_AFTER))
}

fn snippet(text: &str) -> String {
    let cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[async_trait::async_trait]
impl Embedder for OpenAiEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn dimensions(&self) -> usize {
        self.dimensions.load(Ordering::Relaxed)
    }

    async fn embed(&self, texts: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.batch_size) {
            vectors.extend(self.embed_batch(batch).await?);
        }
        Ok(vectors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// One request as the server saw it: the request line, lower-cased headers, the body.
    #[derive(Debug, Clone)]
    struct Seen {
        line: String,
        headers: Vec<(String, String)>,
        body: serde_json::Value,
    }

    impl Seen {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        }
    }

    /// Serves each canned (status, extra headers, body) once, in order, over HTTP/1.1;
    /// a body of "echo" answers with the inputs' lengths as 2-d vectors, in reverse order.
    async fn server(
        replies: Vec<(u16, &'static str, &'static str)>,
    ) -> (String, Arc<Mutex<Vec<Seen>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            for (status, extra, reply) in replies {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = stream.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "client closed early");
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
                let mut lines = head.split("\r\n");
                let line = lines.next().unwrap().to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                let length: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .map(|(_, v)| v.parse().unwrap())
                    .unwrap();
                while buf.len() < head_end + length {
                    let n = stream.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                }
                let body: serde_json::Value = serde_json::from_slice(&buf[head_end..]).unwrap();
                let reply = if reply == "echo" {
                    let inputs = body["input"].as_array().unwrap();
                    let data: Vec<_> = inputs
                        .iter()
                        .enumerate()
                        .rev()
                        .map(|(i, t)| {
                            let len = t.as_str().unwrap().len() as f32;
                            serde_json::json!({"object": "embedding", "index": i, "embedding": [len, 1.0]})
                        })
                        .collect();
                    serde_json::json!({"object": "list", "data": data, "model": body["model"]})
                        .to_string()
                } else {
                    reply.to_string()
                };
                log.lock().unwrap().push(Seen {
                    line,
                    headers,
                    body,
                });
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                stream.write_all(response.as_bytes()).await.unwrap();
                let _ = stream.shutdown().await;
            }
        });
        (format!("http://{addr}/v1/"), seen)
    }

    fn texts(items: &[&str]) -> Vec<String> {
        items.iter().map(|t| t.to_string()).collect()
    }

    #[tokio::test]
    async fn batches_orders_and_normalises() {
        let (url, seen) = server(vec![(200, "", "echo"), (200, "", "echo")]).await;
        let e = OpenAiEmbedder::new(&url, Some("sk-test"), "text-embedding-3-small", 2).unwrap();
        assert_eq!(
            (e.id(), e.dimensions()),
            ("openai:text-embedding-3-small", 0)
        );
        let v = e.embed(&texts(&["abc", "", "abcdefg"])).await.unwrap();
        assert_eq!(e.dimensions(), 2);
        let expect = |len: f32| {
            let n = (len * len + 1.0).sqrt();
            vec![len / n, 1.0 / n]
        };
        assert_eq!(v, vec![expect(3.0), expect(1.0), expect(7.0)]);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].line, "POST /v1/embeddings HTTP/1.1");
        assert_eq!(seen[0].header("authorization"), Some("Bearer sk-test"));
        assert!(
            seen[0]
                .header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        assert_eq!(
            seen[0].body,
            serde_json::json!({"model": "text-embedding-3-small", "input": ["abc", " "]})
        );
        assert_eq!(seen[1].body["input"], serde_json::json!(["abcdefg"]));
        assert!(e.embed(&[]).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn retries_429_and_5xx_then_succeeds_without_a_key() {
        let (url, seen) = server(vec![
            (429, "retry-after: 0\r\n", r#"{"error":"slow down"}"#),
            (503, "", "busy"),
            (200, "", "echo"),
        ])
        .await;
        let e = OpenAiEmbedder::new(&url, None, "m", 32).unwrap();
        let v = e.embed(&texts(&["hi"])).await.unwrap();
        assert_eq!(v.len(), 1);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2].header("authorization"), None);
    }

    #[tokio::test]
    async fn gives_up_with_the_servers_words() {
        let (url, _) = server(vec![(400, "", r#"{"error":{"message":"bad model"}}"#)]).await;
        let e = OpenAiEmbedder::new(&url, None, "m", 32).unwrap();
        let err = format!("{:#}", e.embed(&texts(&["hi"])).await.unwrap_err());
        assert!(err.contains("400") && err.contains("bad model"), "{err}");

        let (url, seen) = server(vec![(500, "", "a"), (500, "", "b"), (500, "", "c")]).await;
        let e = OpenAiEmbedder::new(&url, None, "m", 32).unwrap();
        let err = format!("{:#}", e.embed(&texts(&["hi"])).await.unwrap_err());
        assert!(err.contains("500") && err.contains(": c"), "{err}");
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn rejects_malformed_answers() {
        let (url, _) = server(vec![
            (200, "", r#"{"data":[{"index":0,"embedding":[1,0]}]}"#),
            (200, "", r#"{"data":[{"index":0,"embedding":[1,0,0]}]}"#),
            (
                200,
                "",
                r#"{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}"#,
            ),
            (200, "", r#"{"data":[]}"#),
            (200, "", "not json"),
        ])
        .await;
        let e = OpenAiEmbedder::new(&url, None, "m", 32).unwrap();
        e.embed(&texts(&["a"])).await.unwrap();
        for want in [
            "dimensions",
            "repeated index",
            "0 embeddings",
            "unexpected JSON",
        ] {
            let n = if want == "repeated index" { 2 } else { 1 };
            let err = format!("{:#}", e.embed(&texts(&["a", "b"][..n])).await.unwrap_err());
            assert!(err.contains(want), "{want}: {err}");
        }
    }

    #[test]
    fn rejects_bad_base_urls() {
        assert!(OpenAiEmbedder::new("not a url", None, "m", 1).is_err());
        assert!(OpenAiEmbedder::new("ftp://x/v1", None, "m", 1).is_err());
    }
}
