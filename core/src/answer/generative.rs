//! The LLM answerer: a grounded prompt, and a reply released sentence by sentence, each
//! sentence only once the passages support it (see [`super::support`]).
//!
//! A visitor never sees an unsupported claim: the reply ends before the first unsupported
//! sentence, and a reply that has no supported sentence is the honest fallback. A reply cut
//! off (`finish_reason: "length"`, or a stream that ends without `stop`) loses its unfinished
//! last sentence. What is streamed is exactly the reply's final text.

use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;

use super::llm::{Chunk, LlmClient};
use super::prompt;
use super::support::{Evidence, Verdict, sentence_spans};
use super::{AnswerEvent, AnswerRequest, Answerer};

/// Longest reply asked for: one or two sentences take well under it, a longer reply is cut
/// to its last complete sentence.
const MAX_TOKENS: u32 = 160;

/// Answers with the configured chat-completions server.
pub struct LlmAnswerer {
    pub client: Arc<LlmClient>,
}

/// Tracks a streamed reply and decides how much of it is safe to show.
struct Release {
    evidence: Evidence,
    raw: String,
    /// Bytes of `raw` already judged.
    judged: usize,
    /// Text released so far: exactly what the visitor has been sent.
    shown: String,
    /// Courtesy waiting for a supported sentence ("Sure!"), with the white space before it.
    held: String,
    /// White space owed before the next released sentence.
    gap: &'static str,
    cited: Vec<usize>,
    /// An unsupported sentence came: nothing more is shown.
    stopped: bool,
}

impl Release {
    fn new(evidence: Evidence) -> Release {
        Release {
            evidence,
            raw: String::new(),
            judged: 0,
            shown: String::new(),
            held: String::new(),
            gap: "",
            cited: Vec::new(),
            stopped: false,
        }
    }

    /// Adds a piece; returns newly showable text.
    fn push(&mut self, piece: &str) -> Option<String> {
        self.raw.push_str(piece);
        let rest = &self.raw[self.judged..];
        let (sentences, unfinished) = sentence_spans(rest);
        if sentences.is_empty() {
            return None;
        }
        self.judged += rest.len() - unfinished.len();
        let mut out = String::new();
        for (s, line_break) in &sentences {
            out.push_str(&self.take(s, if *line_break { "\n" } else { " " }));
        }
        (!out.is_empty()).then_some(out)
    }

    /// Judges one complete sentence; returns the text it releases.
    fn take(&mut self, sentence: &str, gap_after: &'static str) -> String {
        if self.stopped {
            return String::new();
        }
        let visible = prompt::strip_citations(sentence).trim().to_string();
        if visible.is_empty() {
            return String::new();
        }
        match self.evidence.judge(sentence) {
            Verdict::Supported(cited) => {
                for c in cited {
                    if !self.cited.contains(&c) {
                        self.cited.push(c);
                    }
                }
                let mut out = std::mem::take(&mut self.held);
                out.push_str(self.gap);
                out.push_str(&visible);
                self.gap = gap_after;
                self.shown.push_str(&out);
                out
            }
            Verdict::Neutral if !self.shown.is_empty() => {
                let out = format!("{}{visible}", self.gap);
                self.gap = gap_after;
                self.shown.push_str(&out);
                out
            }
            Verdict::Neutral => {
                self.held.push_str(self.gap);
                self.held.push_str(&visible);
                self.gap = gap_after;
                String::new()
            }
            Verdict::Unsupported(why) => {
                tracing::debug!(sentence, why, "LLM sentence not supported by the passages");
                self.stopped = true;
                String::new()
            }
        }
    }

    /// The end of the stream: the last sentence counts only when the reply was complete.
    /// Returns the last text to show and the final event.
    fn finish(&mut self, complete: bool) -> (Option<String>, AnswerEvent) {
        let rest = self.raw[self.judged..].trim().to_string();
        self.judged = self.raw.len();
        let last = if complete && !rest.is_empty() {
            Some(self.take(&rest, "")).filter(|t| !t.is_empty())
        } else {
            None
        };
        let event = if self.cited.is_empty() || self.shown.is_empty() {
            AnswerEvent::Refused
        } else {
            AnswerEvent::Done {
                text: self.shown.clone(),
                cited: self.cited.clone(),
            }
        };
        (last, event)
    }
}

/// What an answer may be checked against: each passage with its title and headings.
fn evidence(req: &AnswerRequest<'_>) -> Evidence {
    let texts: Vec<String> = req
        .passages
        .iter()
        .map(|p| format!("{}\n{}\n{}", p.title, p.heading_path.join("\n"), p.text))
        .collect();
    Evidence::new(&texts, &[req.agent_name])
}

impl Answerer for LlmAnswerer {
    fn answer(&self, req: &AnswerRequest<'_>) -> BoxStream<'static, anyhow::Result<AnswerEvent>> {
        let messages = prompt::build(req);
        let release = Release::new(evidence(req));
        let client = self.client.clone();
        async_stream(client, messages, release)
    }
}

fn async_stream(
    client: Arc<LlmClient>,
    messages: Vec<super::llm::ChatMessage>,
    mut release: Release,
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
        let mut finish = None;
        while let Some(piece) = pieces.next().await {
            match piece {
                Ok(Chunk::Text(p)) => {
                    if let Some(text) = release.push(&p) {
                        // Nobody listening any more is fine: the caller finishes with what it has.
                        let _ = tx.send(Ok(AnswerEvent::Token(text))).await;
                    }
                }
                Ok(Chunk::Finish(reason)) => finish = Some(reason),
                Err(e) if release.shown.is_empty() => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
                // Cut off mid-reply after text was shown: end with what was shown.
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "LLM stream broke off");
                    break;
                }
            }
        }
        let complete = finish.as_deref() == Some("stop");
        if !complete {
            tracing::debug!(
                ?finish,
                "LLM reply incomplete; its unfinished sentence is dropped"
            );
        }
        let (last, event) = release.finish(complete);
        if let Some(text) = last {
            let _ = tx.send(Ok(AnswerEvent::Token(text))).await;
        }
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

    const PASSAGES: [&str; 2] = [
        "Returns\nReturns are accepted within 30 days of delivery.",
        "Refunds\nRefunds are paid to your card within 5 days.",
    ];

    fn release() -> Release {
        Release::new(Evidence::new(&PASSAGES, &["Shopbot"]))
    }

    /// Feeds `pieces`, then the end; returns the streamed text and the final event.
    fn run(pieces: &[&str], complete: bool) -> (String, AnswerEvent) {
        let mut r = release();
        let mut streamed = String::new();
        for p in pieces {
            if let Some(t) = r.push(p) {
                streamed.push_str(&t);
            }
        }
        let (last, event) = r.finish(complete);
        streamed.push_str(&last.unwrap_or_default());
        (streamed, event)
    }

    #[test]
    fn releases_supported_sentences_and_strips_markers() {
        let mut r = release();
        assert_eq!(r.push("Returns are "), None);
        assert_eq!(r.push("accepted within 30 days "), None);
        assert_eq!(r.push("["), None);
        assert_eq!(
            r.push("1]. Refunds").as_deref(),
            Some("Returns are accepted within 30 days.")
        );
        assert_eq!(
            r.push(" are paid within 5 days.\n").as_deref(),
            Some(" Refunds are paid within 5 days.")
        );
        let (last, event) = r.finish(true);
        assert_eq!(last, None);
        assert_eq!(
            event,
            AnswerEvent::Done {
                text: "Returns are accepted within 30 days. Refunds are paid within 5 days.".into(),
                cited: vec![0, 1],
            }
        );
    }

    #[test]
    fn a_leading_marker_leaves_no_space_and_stream_equals_done() {
        let (streamed, event) = run(
            &["[1]", " Returns", " are accepted within 30 days", "."],
            true,
        );
        assert_eq!(streamed, "Returns are accepted within 30 days.");
        assert_eq!(
            event,
            AnswerEvent::Done {
                text: streamed,
                cited: vec![0]
            }
        );
    }

    #[test]
    fn an_answer_without_markers_is_kept_when_supported() {
        let (streamed, event) = run(
            &["Sure! You can return it within 30 days of delivery."],
            true,
        );
        assert_eq!(
            streamed,
            "Sure! You can return it within 30 days of delivery."
        );
        assert!(matches!(event, AnswerEvent::Done { cited, .. } if cited == vec![0]));
    }

    #[test]
    fn unsupported_claims_are_never_shown() {
        // First sentence invented: the honest fallback.
        let (streamed, event) = run(
            &[
                "Refunds are instant and you get a free gift. Returns are accepted within 30 days [1].",
            ],
            true,
        );
        assert_eq!(streamed, "");
        assert_eq!(event, AnswerEvent::Refused);
        // A later invented sentence ends the reply before it.
        let (streamed, event) = run(
            &[
                "Returns are accepted within 30 days. ",
                "We also refund shipping for 60 days. ",
                "Refunds take 5 days.",
            ],
            true,
        );
        assert_eq!(streamed, "Returns are accepted within 30 days.");
        assert!(matches!(event, AnswerEvent::Done { text, .. } if text == streamed));
    }

    #[test]
    fn a_cut_off_reply_loses_its_half_sentence() {
        let (streamed, event) = run(
            &["Returns are accepted within 30 days. Refunds are paid to your"],
            false,
        );
        assert_eq!(streamed, "Returns are accepted within 30 days.");
        assert!(matches!(event, AnswerEvent::Done { text, .. } if text == streamed));
        // Nothing complete: the fallback.
        let (streamed, event) = run(&["Returns are accepted within 30"], false);
        assert_eq!(streamed, "");
        assert_eq!(event, AnswerEvent::Refused);
        // A complete reply's last sentence needs no full stop.
        let (streamed, _) = run(&["Returns are accepted within 30 days"], true);
        assert_eq!(streamed, "Returns are accepted within 30 days");
    }

    #[test]
    fn never_releases_a_refusal() {
        let (streamed, event) = run(&["NO_ANSWER", " [1]"], true);
        assert_eq!(streamed, "");
        assert_eq!(event, AnswerEvent::Refused);
        let (_, event) = run(&["Sure! Have a nice day."], true);
        assert_eq!(event, AnswerEvent::Refused);
    }

    #[test]
    fn lines_keep_their_breaks() {
        let (streamed, _) = run(
            &["- Returns: within 30 days\n", "- Refunds: within 5 days\n"],
            true,
        );
        assert_eq!(
            streamed,
            "- Returns: within 30 days\n- Refunds: within 5 days"
        );
    }
}
