//! Answering a visitor: grounded answers from retrieved passages (LLM or extractive), the
//! honest fallback, the agent's personality and language, and sentiment.
//!
//! Whether the agent may answer at all is decided here, in code, before any answerer runs:
//! below [`threshold`] the visitor gets the honest fallback and a handoff offer, and an
//! LLM is never asked.

pub mod extractive;
pub mod generative;
pub mod language;
pub mod llm;
pub mod personality;
pub mod prompt;
pub mod sentiment;
pub mod small_talk;
pub mod support;

use futures::stream::BoxStream;

use crate::retrieval::{Passage, Retrieved};
use language::Lang;
use personality::Personality;

pub use crate::retrieval::gate::threshold;

/// Passages an answer may draw on at most.
pub const MAX_PASSAGES: usize = 5;

/// The passages good enough to answer from, best first; empty means: do not answer.
pub fn supporting(retrieved: &Retrieved) -> Vec<&Passage> {
    let t = retrieved.threshold;
    match retrieved.passages.first() {
        Some(best) if best.score >= t => retrieved
            .passages
            .iter()
            .filter(|p| p.score >= (t * 0.85).max(best.score - 0.25))
            .take(MAX_PASSAGES)
            .collect(),
        _ => Vec::new(),
    }
}

/// The language to answer in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LangChoice {
    /// Our templates' language (English when the chosen one has no templates).
    pub lang: Lang,
    /// What to tell an LLM: a language name or tag.
    pub name: String,
    /// Whether the agent forces it (else it follows the visitor).
    pub forced: bool,
}

impl LangChoice {
    /// The agent's forced language if it has one, else the visitor's (detected from the message,
    /// else as last seen in the conversation), else English.
    pub fn pick(agent_setting: Option<&str>, message: &str, previous: Option<&str>) -> LangChoice {
        if let Some(setting) = agent_setting.filter(|s| !s.trim().is_empty()) {
            return match Lang::from_setting(setting) {
                Some(l) => LangChoice {
                    lang: l,
                    name: l.name().into(),
                    forced: true,
                },
                None => LangChoice {
                    lang: Lang::En,
                    name: setting.to_string(),
                    forced: true,
                },
            };
        }
        let lang = language::detect(message)
            .or_else(|| previous.and_then(Lang::from_setting))
            .unwrap_or(Lang::En);
        LangChoice {
            lang,
            name: lang.name().into(),
            forced: false,
        }
    }
}

/// One earlier turn of the conversation.
#[derive(Clone, Debug)]
pub struct Turn {
    /// `user` or `assistant`.
    pub role: &'static str,
    pub content: String,
}

/// Everything an answerer needs.
pub struct AnswerRequest<'a> {
    pub agent_name: &'a str,
    pub personality: Personality,
    /// The business's own instructions (the agent's system prompt).
    pub instructions: Option<&'a str>,
    pub lang: &'a LangChoice,
    pub question: &'a str,
    /// Passages judged good enough, best first (never empty).
    pub passages: &'a [&'a Passage],
    pub history: &'a [Turn],
    /// Keyword weight of a search term (its IDF), for picking sentences.
    pub weight: &'a (dyn Fn(&str) -> f32 + Send + Sync),
    /// Varies the fixed phrases between conversations.
    pub seed: u64,
}

/// What an answerer produces, in order: pieces of text, then the end.
#[derive(Clone, Debug, PartialEq)]
pub enum AnswerEvent {
    /// More reply text, safe to show.
    Token(String),
    /// The complete reply and the passages it cites (indexes into the request's passages).
    Done { text: String, cited: Vec<usize> },
    /// The answerer found no support for an answer (or cited nothing): use the honest fallback.
    Refused,
}

/// Something that answers from passages: the LLM, or the extractive answerer.
pub trait Answerer: Send + Sync {
    /// The reply as a stream of events ending with `Done` or `Refused`.
    fn answer(&self, req: &AnswerRequest<'_>) -> BoxStream<'static, anyhow::Result<AnswerEvent>>;
}
