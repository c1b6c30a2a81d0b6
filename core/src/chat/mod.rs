//! One visitor message in, one reply out: conversation bookkeeping, the handoff rules, the
//! decision to answer or not, and the answer itself (streamed as it is produced).
//!
//! The reply is produced by a task of its own, so a visitor who disconnects mid-stream does not
//! lose the conversation: the exchange is stored either way.

mod followup;
mod persist;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use followup::retrieval_query;

use crate::Context;
use crate::answer::extractive::{ExtractiveAnswerer, compose};
use crate::answer::generative::LlmAnswerer;
use crate::answer::language::{asks_for_human, is_affirmative, templates};
use crate::answer::small_talk::{self, SmallTalk};
use crate::answer::{AnswerEvent, AnswerRequest, Answerer, LangChoice, Turn, supporting};
use crate::conversations;
use crate::error::{Error, Result};
use crate::plans::Plan;
use crate::retrieval::{self, Passage};
use otoq_entities::enums::{ConversationStatus, Role};
use otoq_entities::{agents, conversations as conv_entity, messages};

/// Passages retrieved per question.
const RETRIEVE: usize = 8;
/// Earlier messages read for context.
const HISTORY: u64 = 12;
/// Longest snippet shown with a source.
const SNIPPET_CHARS: usize = 300;

/// A visitor's message.
#[derive(Clone, Debug)]
pub struct ChatInput {
    pub agent_id: Uuid,
    pub message: String,
    pub conversation_id: Option<Uuid>,
    /// The widget's anonymous visitor id, if any.
    pub visitor_id: Option<String>,
}

/// A passage an answer cites.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    pub source_id: Uuid,
    pub chunk_id: Uuid,
    pub title: String,
    pub url: Option<String>,
    pub snippet: String,
    /// Evidence that the passage answers the question, 0–1.
    pub score: f32,
}

/// Where the time of a reply went.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    pub retrieval: Duration,
    pub answer: Duration,
    pub total: Duration,
}

/// The reply to one message.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatReply {
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    pub response: String,
    pub sources: Vec<Citation>,
    /// Whether the reply answers from the agent's knowledge.
    pub answered: bool,
    /// Whether the reply offers to connect the visitor with a person.
    pub handoff_offered: bool,
    /// The conversation's status after this message.
    pub status: ConversationStatus,
    /// The agent's welcome message, when this message started the conversation.
    pub welcome_message: Option<String>,
    pub timings: Timings,
}

/// What a chat produces: pieces of the reply as they come, then the whole reply.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    Token(String),
    Done(Box<ChatReply>),
}

/// What the agent does with the message (decided before anything is generated).
enum Plan_ {
    /// A person was asked for earlier: pass the message on, say so, stay silent otherwise.
    Pending,
    /// The visitor asks for a person (or accepts the offer).
    Handoff,
    /// The visitor left contact details (and little else): say they were noted.
    ContactGiven,
    /// Courtesy ("hi", "thanks"): a courteous reply, no search.
    SmallTalk(SmallTalk),
    /// Answer from knowledge, or honestly say the knowledge does not cover it.
    Answer,
}

/// Everything known before replying.
pub(crate) struct Prepared {
    pub agent: agents::Model,
    pub account_id: Uuid,
    /// The stored conversation, or `None` when this message starts one.
    pub conversation: Option<conv_entity::Model>,
    pub conversation_id: Uuid,
    pub history: Vec<messages::Model>,
    pub message: String,
    pub visitor_id: Option<String>,
    pub lang: LangChoice,
}

/// Checks the message and starts replying. Errors (unknown agent or conversation, inactive agent,
/// plan limit) come before any reply text.
pub async fn chat(
    ctx: &Context,
    account_id: Uuid,
    plan: Plan,
    input: ChatInput,
) -> Result<BoxStream<'static, ChatEvent>> {
    let started = Instant::now();
    let message = input.message.trim().to_string();
    if message.is_empty() {
        return Err(Error::validation("message", "`message` must not be empty"));
    }
    let agent = crate::agents::get(ctx, account_id, input.agent_id).await?;
    if !agent.is_active {
        return Err(Error::validation(
            "agent_id",
            format!(
                "agent {} is inactive; activate it with PATCH /agents/{} {{\"is_active\": true}}",
                agent.id, agent.id
            ),
        ));
    }
    let (conversation, history) = match input.conversation_id {
        Some(id) => {
            let conv = conversations::get(&ctx.db, account_id, id).await?;
            // A conversation of another agent is not one of this agent's.
            if conv.agent_id != agent.id {
                return Err(Error::NotFound("conversation"));
            }
            let history = conversations::recent_messages(&ctx.db, id, HISTORY).await?;
            (Some(conv), history)
        }
        None => {
            conversations::count_new_conversation(&ctx.db, account_id, plan).await?;
            (None, Vec::new())
        }
    };
    let lang = LangChoice::pick(
        agent.language.as_deref(),
        &message,
        conversation.as_ref().and_then(|c| c.language.as_deref()),
    );
    let prepared = Prepared {
        conversation_id: conversation.as_ref().map_or_else(Uuid::new_v4, |c| c.id),
        agent,
        account_id,
        conversation,
        history,
        message,
        visitor_id: input.visitor_id,
        lang,
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<ChatEvent>(128);
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let reply = match respond(&ctx, prepared, &tx, started).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "chat reply failed");
                return;
            }
        };
        let _ = tx.send(ChatEvent::Done(Box::new(reply))).await;
    });
    Ok(futures::stream::poll_fn({
        let mut rx = rx;
        move |cx| rx.poll_recv(cx)
    })
    .boxed())
}

/// Runs [`chat`] to the end and returns the whole reply.
pub async fn chat_once(
    ctx: &Context,
    account_id: Uuid,
    plan: Plan,
    input: ChatInput,
) -> Result<ChatReply> {
    let mut events = chat(ctx, account_id, plan, input).await?;
    while let Some(e) = events.next().await {
        if let ChatEvent::Done(reply) = e {
            return Ok(*reply);
        }
    }
    Err(Error::Internal(anyhow::anyhow!(
        "the reply ended without a result"
    )))
}

fn decide(p: &Prepared) -> Plan_ {
    if p.conversation
        .as_ref()
        .is_some_and(|c| c.status == ConversationStatus::HandoffRequested)
    {
        return Plan_::Pending;
    }
    let offered = p
        .history
        .iter()
        .rev()
        .find(|m| m.role == Role::Assistant)
        .is_some_and(|m| m.handoff_offered);
    if asks_for_human(&p.message) || (offered && is_affirmative(&p.message)) {
        return Plan_::Handoff;
    }
    if persist::mostly_contact(&p.message) {
        return Plan_::ContactGiven;
    }
    if let Some(kind) = small_talk::detect(&p.message) {
        return Plan_::SmallTalk(kind);
    }
    Plan_::Answer
}

/// The reply after the checks: stored before it is returned.
async fn respond(
    ctx: &Context,
    p: Prepared,
    tx: &tokio::sync::mpsc::Sender<ChatEvent>,
    started: Instant,
) -> Result<ChatReply> {
    let t = templates(p.lang.lang);
    let mut timings = Timings::default();
    let outcome = match decide(&p) {
        Plan_::Pending => persist::Outcome::notice(t.handoff_pending, false),
        Plan_::Handoff => persist::Outcome::notice(t.handoff_confirmed, true),
        Plan_::ContactGiven => persist::Outcome::courtesy(small_talk::contact_noted(p.lang.lang)),
        Plan_::SmallTalk(kind) => {
            let welcome = p
                .agent
                .welcome_message
                .as_deref()
                .filter(|w| !w.trim().is_empty());
            let text = match (kind, welcome) {
                // The agent's own greeting, unless the conversation just showed it.
                (SmallTalk::Greeting, Some(w)) if p.conversation.is_some() => w,
                _ => small_talk::reply(kind, p.lang.lang),
            };
            persist::Outcome::courtesy(text)
        }
        Plan_::Answer => {
            let previous = p
                .history
                .iter()
                .rev()
                .find(|m| m.role == Role::User)
                .map(|m| m.content.as_str());
            let query = retrieval_query(&p.message, previous);
            let retrieved = retrieval::search(ctx, p.agent.id, &query, RETRIEVE).await?;
            timings.retrieval = retrieved.elapsed;
            let answer_started = Instant::now();
            let support = supporting(&retrieved);
            let outcome = if support.is_empty() {
                None
            } else {
                answer(ctx, &p, &query, &support, tx).await
            };
            timings.answer = answer_started.elapsed();
            let mut outcome = outcome.unwrap_or_else(|| {
                let text = format!("{} {}", t.no_information, t.handoff_offer);
                persist::Outcome::fallback(text)
            });
            // (llm) Above the gate the question went to the LLM, when there is one.
            outcome.asked_llm = !support.is_empty() && ctx.llm.is_some();
            outcome
        }
    };
    if outcome.stream_whole {
        for piece in crate::answer::extractive::word_pieces(&outcome.text) {
            let _ = tx.send(ChatEvent::Token(piece.to_string())).await;
        }
    }
    let mut reply = persist::store(ctx, &p, &outcome).await?;
    timings.total = started.elapsed();
    reply.timings = timings;
    Ok(reply)
}

/// The grounded answer, or `None` when the answerer found no support after all.
async fn answer(
    ctx: &Context,
    p: &Prepared,
    query: &str,
    support: &[&Passage],
    tx: &tokio::sync::mpsc::Sender<ChatEvent>,
) -> Option<persist::Outcome> {
    let history: Vec<Turn> = p
        .history
        .iter()
        .filter_map(|m| match m.role {
            Role::User => Some(Turn {
                role: "user",
                content: m.content.clone(),
            }),
            Role::Assistant => Some(Turn {
                role: "assistant",
                content: m.content.clone(),
            }),
            Role::System => None,
        })
        .collect();
    let index = ctx
        .search
        .get(
            &ctx.db,
            p.agent.id,
            ctx.embedder().await.as_ref().map(|e| e.id()),
        )
        .await
        .ok();
    let weight = move |t: &str| index.as_ref().map_or(1.0, |i| i.bm25.idf(t).max(0.1));
    let req = AnswerRequest {
        agent_name: &p.agent.name,
        personality: p.agent.personality,
        instructions: p.agent.system_prompt.as_deref(),
        lang: &p.lang,
        question: &p.message,
        passages: support,
        history: &history,
        weight: &weight,
        seed: p.conversation_id.as_u128() as u64,
    };
    let llm: Option<Arc<dyn Answerer>> = ctx
        .llm
        .as_ref()
        .map(|c| Arc::new(LlmAnswerer { client: c.clone() }) as Arc<dyn Answerer>);
    let mut streamed_any = false;
    if let Some(llm) = llm {
        let mut events = llm.answer(&req);
        let mut result = None;
        while let Some(ev) = events.next().await {
            match ev {
                Ok(AnswerEvent::Token(t)) => {
                    streamed_any = true;
                    let _ = tx.send(ChatEvent::Token(t)).await;
                }
                Ok(AnswerEvent::Done { text, cited }) => {
                    result = Some(Some((text, cited)));
                    break;
                }
                Ok(AnswerEvent::Refused) => {
                    result = Some(None);
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "LLM failed; answering extractively");
                    break;
                }
            }
        }
        match result {
            Some(Some((text, cited))) => {
                return Some(persist::Outcome::answered(
                    text,
                    citations(query, support, &cited, &weight),
                ));
            }
            Some(None) => return None,
            // The LLM failed before finishing: fall through to the extractive answerer,
            // unless part of its text already reached the visitor.
            None if streamed_any => return None,
            None => {}
        }
    }
    let mut events = ExtractiveAnswerer.answer(&req);
    while let Some(ev) = events.next().await {
        match ev {
            Ok(AnswerEvent::Token(t)) => {
                let _ = tx.send(ChatEvent::Token(t)).await;
            }
            Ok(AnswerEvent::Done { text, cited }) => {
                let cited = with_other_pages(support, cited);
                return Some(persist::Outcome::answered(
                    text,
                    citations(query, support, &cited, &weight),
                ));
            }
            _ => return None,
        }
    }
    None
}

/// Pages the extractive answer stands on: the quoted passages, then the other supporting
/// passages of other pages (the visitor sees every page the evidence came from), at most this many.
const MAX_SOURCES: usize = 3;

fn with_other_pages(support: &[&Passage], mut cited: Vec<usize>) -> Vec<usize> {
    for (i, p) in support.iter().enumerate() {
        if cited.len() >= MAX_SOURCES {
            break;
        }
        let same_page = cited
            .iter()
            .any(|&c| support[c].document_id == p.document_id);
        if !same_page {
            cited.push(i);
        }
    }
    cited
}

/// The sources of an answer: the cited passages with the sentence that best answers.
fn citations(
    query: &str,
    support: &[&Passage],
    cited: &[usize],
    weight: &(dyn Fn(&str) -> f32 + Send + Sync),
) -> Vec<Citation> {
    cited
        .iter()
        .filter_map(|&i| support.get(i))
        .map(|p| {
            let best = compose(query, &[*p], weight);
            let snippet = best
                .quotes
                .first()
                .map(|q| q.1.clone())
                .unwrap_or_else(|| p.text.clone());
            Citation {
                source_id: p.source_id,
                chunk_id: p.chunk_id,
                title: p.title.clone(),
                url: p.url.clone(),
                snippet: truncate_chars(&snippet, SNIPPET_CHARS),
                score: (p.score * 1000.0).round() / 1000.0,
            }
        })
        .collect()
}

fn truncate_chars(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_string(),
    }
}
