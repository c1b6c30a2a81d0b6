//! Storing an exchange: the visitor's message, the reply, the conversation's counters,
//! sentiment and status, and the jobs they trigger — in one transaction.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set, TransactionTrait};
use uuid::Uuid;

use super::{ChatReply, Citation, Prepared, Timings};
use crate::Context;
use crate::answer::sentiment;
use crate::conversations;
use crate::db::statement;
use crate::error::Result;
use crate::jobs::Job;
use crate::leads::contact::{self, Contact};
use crate::queue::Queue;
use crate::retrieval::terms::gap_key;
use otoq_entities::enums::{ConversationStatus, LeadSource, Role, Sentiment};
use otoq_entities::{conversations as conv_entity, messages};

/// What the reply turned out to be.
pub(crate) struct Outcome {
    pub text: String,
    pub sources: Vec<Citation>,
    /// `assistant` for answers and the fallback, `system` for handoff notices.
    pub role: Role,
    /// Whether the visitor's question was answered from knowledge (`None`: not a question for the AI).
    pub answered: Option<bool>,
    pub handoff_offered: bool,
    /// Whether this message asks for a person now.
    pub handoff_now: bool,
    /// Whether the text still has to be streamed (it was not produced piece by piece).
    pub stream_whole: bool,
    /// Whether the visitor's message was sent to the LLM (above the gate, LLM configured).
    pub asked_llm: bool,
}

impl Outcome {
    /// A fixed notice (handoff confirmed or pending).
    pub fn notice(text: &str, handoff_now: bool) -> Self {
        Outcome {
            text: text.to_string(),
            sources: Vec::new(),
            role: Role::System,
            answered: None,
            handoff_offered: false,
            handoff_now,
            stream_whole: true,
            asked_llm: false,
        }
    }

    /// A courteous reply to courtesy.
    pub fn courtesy(text: &str) -> Self {
        Outcome {
            role: Role::Assistant,
            ..Outcome::notice(text, false)
        }
    }

    /// The honest "I don't have that information" with the offer of a person.
    pub fn fallback(text: String) -> Self {
        Outcome {
            text,
            sources: Vec::new(),
            role: Role::Assistant,
            answered: Some(false),
            handoff_offered: true,
            handoff_now: false,
            stream_whole: true,
            asked_llm: false,
        }
    }

    /// A grounded answer.
    pub fn answered(text: String, sources: Vec<Citation>) -> Self {
        Outcome {
            text,
            sources,
            role: Role::Assistant,
            answered: Some(true),
            handoff_offered: false,
            handoff_now: false,
            stream_whole: false,
            asked_llm: false,
        }
    }
}

fn message(
    p: &Prepared,
    seq: i32,
    role: Role,
    content: &str,
    now: chrono::DateTime<Utc>,
) -> messages::ActiveModel {
    messages::ActiveModel {
        id: Set(Uuid::new_v4()),
        conversation_id: Set(p.conversation_id),
        account_id: Set(p.account_id),
        agent_id: Set(p.agent.id),
        seq: Set(seq),
        role: Set(role),
        content: Set(content.into()),
        sources: Set(serde_json::json!([])),
        answered: Set(None),
        handoff_offered: Set(false),
        gap_key: Set(None),
        created_at: Set(now),
    }
}

/// Whether a message is contact details and little else ("ana@acme.com", "I'm Ana, +351 912 345 678").
pub(crate) fn mostly_contact(message: &str) -> bool {
    let c = contact::extract(message);
    if !c.is_reachable() {
        return false;
    }
    let mut rest = message.to_lowercase();
    for part in [&c.email, &c.phone, &c.name, &c.company]
        .into_iter()
        .flatten()
    {
        rest = rest.replace(&part.to_lowercase(), " ");
    }
    // Digits of a phone written with spaces survive the replacement: drop them too.
    let rest: String = rest.chars().filter(|ch| !ch.is_ascii_digit()).collect();
    crate::retrieval::terms::terms(&rest).len() <= 4
}

/// The visitor's contact details over the conversation, and whether this message added any.
fn visitor_contact(p: &Prepared) -> (Contact, bool) {
    let mut all = Contact::default();
    for m in p.history.iter().filter(|m| m.role == Role::User) {
        all.merge(contact::extract(&m.content));
    }
    let here = contact::extract(&p.message);
    let added = here != Contact::default();
    all.merge(here);
    (all, added)
}

/// Stores the exchange and returns the reply as the visitor sees it.
pub(crate) async fn store(ctx: &Context, p: &Prepared, o: &Outcome) -> Result<ChatReply> {
    let now = Utc::now();
    let txn = ctx.db.begin().await?;
    let welcome = p
        .agent
        .welcome_message
        .clone()
        .filter(|w| p.conversation.is_none() && !w.trim().is_empty());
    if p.conversation.is_none() {
        let conv = conv_entity::ActiveModel {
            id: Set(p.conversation_id),
            account_id: Set(p.account_id),
            agent_id: Set(p.agent.id),
            status: Set(ConversationStatus::Active),
            sentiment: Set(Sentiment::Neutral),
            sentiment_score: Set(0.0),
            language: Set(None),
            visitor_id: Set(p.visitor_id.clone()),
            message_count: Set(0),
            unanswered_count: Set(0),
            handoff_requested_at: Set(None),
            handoff_notified_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            last_message_at: Set(now),
        };
        conv_entity::Entity::insert(conv).exec(&txn).await?;
    }
    let added = 2 + i32::from(welcome.is_some());
    // Reserve the sequence numbers first: concurrent messages to one conversation serialise here.
    txn.execute_raw(statement(
        &txn,
        "UPDATE conversations SET message_count = message_count + {} WHERE id = {}",
        [added.into(), p.conversation_id.into()],
    ))
    .await?;
    let conv = conversations::get(&txn, p.account_id, p.conversation_id).await?;
    let mut seq = conv.message_count - added;
    if let Some(w) = &welcome {
        message(p, seq, Role::Assistant, w, now)
            .insert(&txn)
            .await?;
        seq += 1;
    }
    let mut user = message(p, seq, Role::User, &p.message, now);
    user.answered = Set(o.answered);
    if o.answered == Some(false) {
        user.gap_key = Set(Some(gap_key(&p.message)));
    }
    let user = user.insert(&txn).await?;
    let mut reply = message(
        p,
        seq + 1,
        o.role,
        &o.text,
        now + chrono::Duration::milliseconds(1),
    );
    reply.sources = Set(serde_json::to_value(&o.sources).map_err(anyhow::Error::from)?);
    reply.handoff_offered = Set(o.handoff_offered);
    let reply = reply.insert(&txn).await?;

    // Sentiment over the visitor's messages so far, the latest weighing most.
    let mut scores: Vec<f32> = p
        .history
        .iter()
        .filter(|m| m.role == Role::User)
        .map(|m| sentiment::score_message(&m.content))
        .collect();
    scores.push(sentiment::score_message(&p.message));
    let score = sentiment::combine(&scores);

    let mut c: conv_entity::ActiveModel = conv.clone().into();
    c.sentiment = Set(sentiment::classify(score));
    c.sentiment_score = Set(score as f64);
    c.language = Set(Some(p.lang.lang.code().into()));
    if o.answered == Some(false) {
        c.unanswered_count = Set(conv.unanswered_count + 1);
    }
    c.updated_at = Set(now);
    c.last_message_at = Set(now);
    let handoff_now = o.handoff_now && conv.status != ConversationStatus::HandoffRequested;
    if handoff_now {
        c.status = Set(ConversationStatus::HandoffRequested);
        c.handoff_requested_at = Set(Some(now));
    }
    let conv = c.update(&txn).await?;
    let (contact, added) = visitor_contact(p);
    let mut lead_captured = false;
    if added && contact.is_reachable() {
        let visitor: Vec<String> = p
            .history
            .iter()
            .filter(|m| m.role == Role::User)
            .map(|m| m.content.clone())
            .chain(std::iter::once(p.message.clone()))
            .collect();
        let (_, new) = crate::leads::store::capture_in(
            &txn,
            crate::leads::store::Capture {
                account_id: p.account_id,
                agent_id: p.agent.id,
                conversation_id: Some(conv.id),
                contact,
                source: LeadSource::Chat,
                visitor_messages: &visitor,
                sentiment: Some(conv.sentiment),
            },
        )
        .await?;
        lead_captured = new;
    }
    let mut jobs = Vec::new();
    if handoff_now {
        jobs.push(Job::HandoffEmail {
            account_id: p.account_id,
            conversation_id: conv.id,
        });
    }
    // Visitor text goes to the LLM only when its question already did (above the gate).
    if ctx.llm.is_some() && o.asked_llm {
        jobs.push(Job::ClassifySentiment {
            account_id: p.account_id,
            conversation_id: conv.id,
            message_id: Some(user.id),
        });
    }
    for job in &jobs {
        Queue::enqueue_in(&txn, job).await?;
    }
    txn.commit().await?;
    if !jobs.is_empty() || lead_captured {
        ctx.queue.notify().await;
    }
    Ok(ChatReply {
        conversation_id: conv.id,
        message_id: reply.id,
        response: o.text.clone(),
        sources: o.sources.clone(),
        answered: o.answered.unwrap_or(false),
        handoff_offered: o.handoff_offered,
        status: conv.status,
        welcome_message: welcome,
        timings: Timings::default(),
    })
}
