//! The LLM answerer: a grounded prompt, citations required, streamed safely.
//!
//! Text is held back until the reply has cited a passage, so a visitor never sees the start of
//! an answer that turns out to cite nothing (and is then replaced by the honest fallback).

use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;

use super::llm::LlmClient;
use super::prompt::{self, NO_ANSWER};
use super::{AnswerEvent, AnswerRequest, Answerer};

/// Longest reply asked for.
const MAX_TOKENS: u32 = 700;

/// Answers with the configured chat-completions server.
pub struct LlmAnswerer {
    pub client: Arc<LlmClient>,
}

/// Tracks a streamed reply and decides how much of it is safe to show.
#[derive(Default)]
struct Release {
    raw: String,
    shown: usize,
}

impl Release {
    /// Adds a piece; returns newly showable text.
    fn push(&mut self, piece: &str, passages: usize) -> Option<String> {
        self.raw.push_str(piece);
        if prompt::citations(&self.raw, passages).is_empty() || self.raw.contains(NO_ANSWER) {
            return None;
        }
        // Hold back an unfinished "[..." and trailing blanks: they may become a marker.
        let mut end = self.raw.trim_end().len();
        if let Some(open) = self.raw[..end].rfind('[')
            && !self.raw[open..end].contains(']')
        {
            end = open;
        }
        let visible = prompt::strip_citations(&self.raw[..end]);
        let visible = visible.trim_end();
        if visible.len() > self.shown && visible.is_char_boundary(self.shown) {
            let out = visible[self.shown..].to_string();
            self.shown = visible.len();
            Some(out)
        } else {
            None
        }
    }
}

impl Answerer for LlmAnswerer {
    fn answer(&self, req: &AnswerRequest<'_>) -> BoxStream<'static, anyhow::Result<AnswerEvent>> {
        let messages = prompt::build(req);
        let passages = req.passages.len();
        let client = self.client.clone();
        async_stream(client, messages, passages)
    }
}

fn async_stream(
    client: Arc<LlmClient>,
    messages: Vec<super::llm::ChatMessage>,
    passages: usize,
) -> BoxStream<'static, anyhow::Result<AnswerEvent>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<anyhow::Result<AnswerEvent>>(64);
    tokio::spawn(async move {
        let mut pieces = match client.stream(&messages, MAX_TOKENS).await {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        let mut release = Release::default();
        while let Some(piece) = pieces.next().await {
            match piece {
                Ok(p) => {
                    if let Some(text) = release.push(&p, passages)
                        && tx.send(Ok(AnswerEvent::Token(text))).await.is_err()
                    {
                        // Nobody listens any more; the caller finishes with what it has.
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
        let cited = prompt::citations(&release.raw, passages);
        let event = if cited.is_empty() || prompt::is_no_answer(&release.raw) {
            AnswerEvent::Refused
        } else {
            let text = prompt::strip_citations(&release.raw).trim().to_string();
            AnswerEvent::Done { text, cited }
        };
        let _ = tx.send(Ok(event)).await;
    });
    tokio_stream(rx)
}

fn tokio_stream(
    mut rx: tokio::sync::mpsc::Receiver<anyhow::Result<AnswerEvent>>,
) -> BoxStream<'static, anyhow::Result<AnswerEvent>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_text_until_a_citation_and_strips_markers() {
        let mut r = Release::default();
        assert_eq!(r.push("Returns ", 2), None);
        assert_eq!(r.push("take 30 days ", 2), None);
        assert_eq!(r.push("[", 2), None);
        assert_eq!(
            r.push("1]. Refunds", 2).as_deref(),
            Some("Returns take 30 days. Refunds")
        );
        assert_eq!(r.push(" are fast [2", 2).as_deref(), Some(" are fast"));
        assert_eq!(r.push("].", 2).as_deref(), Some("."));
    }

    #[test]
    fn never_releases_a_refusal() {
        let mut r = Release::default();
        assert_eq!(r.push("NO_ANSWER", 2), None);
        assert_eq!(r.push(" [1]", 2), None);
    }
}
