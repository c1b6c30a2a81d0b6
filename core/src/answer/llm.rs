//! A client for OpenAI-compatible chat-completions servers (OpenAI, Ollama, vLLM, llama.cpp),
//! plain and streaming (Server-Sent Events).

use anyhow::{Context as _, bail};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::{Value, json};

use crate::config::LlmConfig;

/// One message of a chat-completions request.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: &'static str,
    pub content: String,
}

impl ChatMessage {
    /// A message with `role` (`system`, `user` or `assistant`).
    pub fn new(role: &'static str, content: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: content.into(),
        }
    }
}

/// The configured chat-completions server.
pub struct LlmClient {
    http: reqwest::Client,
    cfg: LlmConfig,
}

impl LlmClient {
    /// A client for `cfg` (the operator's own server: private addresses are allowed).
    pub fn new(cfg: LlmConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .read_timeout(cfg.timeout)
            .build()
            .context("building the LLM HTTP client")?;
        Ok(LlmClient { http, cfg })
    }

    /// The model name sent with each request.
    pub fn model(&self) -> &str {
        &self.cfg.model
    }

    fn request(
        &self,
        messages: &[ChatMessage],
        max_tokens: u32,
        stream: bool,
    ) -> reqwest::RequestBuilder {
        let body = json!({
            "model": self.cfg.model,
            "messages": messages,
            "temperature": 0.0,
            "max_tokens": max_tokens,
            "stream": stream,
        });
        let mut req = self
            .http
            .post(format!("{}/chat/completions", self.cfg.base_url))
            .json(&body);
        if let Some(key) = &self.cfg.api_key {
            req = req.bearer_auth(key);
        }
        req
    }

    /// The whole reply to `messages`.
    pub async fn complete(
        &self,
        messages: &[ChatMessage],
        max_tokens: u32,
    ) -> anyhow::Result<String> {
        let resp = self
            .request(messages, max_tokens, false)
            .timeout(self.cfg.timeout)
            .send()
            .await
            .context("LLM server unreachable")?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            bail!("LLM server answered {status}: {}", truncate(&text, 300));
        }
        let v: Value = resp.json().await.context("LLM reply is not JSON")?;
        v.pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .map(str::to_string)
            .context("LLM reply has no choices[0].message.content")
    }

    /// The reply to `messages` as it is generated, piece by piece, then why it ended.
    pub async fn stream(
        &self,
        messages: &[ChatMessage],
        max_tokens: u32,
    ) -> anyhow::Result<BoxStream<'static, anyhow::Result<Chunk>>> {
        let resp = self
            .request(messages, max_tokens, true)
            .send()
            .await
            .context("LLM server unreachable")?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            bail!("LLM server answered {status}: {}", truncate(&text, 300));
        }
        let bytes = resp.bytes_stream().map_err(anyhow::Error::from);
        Ok(sse_deltas(bytes).boxed())
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A piece of a streamed reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chunk {
    /// More text.
    Text(String),
    /// The server's `finish_reason`: `stop` when the reply is complete, `length` when it was
    /// cut at `max_tokens`.
    Finish(String),
}

/// Turns an SSE byte stream of chat-completion chunks into content deltas and the finish reason.
pub fn sse_deltas<S>(bytes: S) -> impl futures::Stream<Item = anyhow::Result<Chunk>>
where
    S: futures::Stream<Item = anyhow::Result<bytes::Bytes>> + Send + 'static,
{
    futures::stream::unfold(
        (
            Box::pin(bytes),
            Vec::<u8>::new(),
            std::collections::VecDeque::<Chunk>::new(),
            false,
        ),
        |(mut bytes, mut buf, mut queued, done)| async move {
            loop {
                if let Some(c) = queued.pop_front() {
                    return Some((Ok(c), (bytes, buf, queued, done)));
                }
                if done {
                    return None;
                }
                if let Some(end) = event_end(&buf) {
                    let event: Vec<u8> = buf.drain(..end.1).collect();
                    let event = String::from_utf8_lossy(&event[..end.0]).to_string();
                    match parse_event(&event) {
                        Event::Chunks(c) => queued.extend(c),
                        Event::Done => return None,
                        Event::Error(e) => return Some((Err(e), (bytes, buf, queued, true))),
                        Event::Other => {}
                    }
                    continue;
                }
                match bytes.next().await {
                    Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
                    Some(Err(e)) => return Some((Err(e), (bytes, buf, queued, true))),
                    None => return None,
                }
            }
        },
    )
}

/// (end of the event's text, end including the blank line) of the first complete event.
fn event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2));
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

enum Event {
    Chunks(Vec<Chunk>),
    Done,
    Error(anyhow::Error),
    Other,
}

fn parse_event(event: &str) -> Event {
    let data: String = event
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    if data.is_empty() {
        return Event::Other;
    }
    if data.trim() == "[DONE]" {
        return Event::Done;
    }
    match serde_json::from_str::<Value>(&data) {
        Ok(v) => {
            if let Some(err) = v.get("error") {
                return Event::Error(anyhow::anyhow!("LLM stream error: {err}"));
            }
            let mut out = Vec::new();
            if let Some(d) = v
                .pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
            {
                out.push(Chunk::Text(d.to_string()));
            }
            if let Some(f) = v
                .pointer("/choices/0/finish_reason")
                .and_then(Value::as_str)
            {
                out.push(Chunk::Finish(f.to_string()));
            }
            if out.is_empty() {
                Event::Other
            } else {
                Event::Chunks(out)
            }
        }
        Err(_) => Event::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn parses_split_sse_events() {
        let raw = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":null}}]}\n\n\
                   data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n\
                   : keep-alive\n\n\
                   data: {\"choices\":[{\"delta\":{\"content\":\"lo [1]\"},\"finish_reason\":\"length\"}]}\n\n\
                   data: {\"choices\":[],\"timings\":{\"predicted_n\":3}}\n\n\
                   data: [DONE]\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"late\"}}]}\n\n";
        // Deliver in awkward pieces.
        let pieces: Vec<anyhow::Result<bytes::Bytes>> = raw
            .as_bytes()
            .chunks(7)
            .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
            .collect();
        let out: Vec<Chunk> = sse_deltas(futures::stream::iter(pieces))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(
            out,
            vec![
                Chunk::Text("Hel".into()),
                Chunk::Text("lo [1]".into()),
                Chunk::Finish("length".into()),
            ]
        );
    }
}
