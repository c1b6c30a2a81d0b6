//! Account analytics: conversations, sentiment, handoffs, answer rate and knowledge gaps.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::Result;
use otoq_entities::enums::Role;
use otoq_entities::{conversations, messages};

/// Knowledge gaps listed at most.
const GAPS: u64 = 10;

/// Which conversations to count.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scope {
    pub agent_id: Option<Uuid>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

/// Conversations by sentiment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SentimentCounts {
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
}

/// A question asked repeatedly that the agent could not answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Gap {
    /// The latest wording of the question.
    pub question: String,
    /// How often it (or a rewording with the same keywords) was asked.
    pub count: u64,
    pub last_asked_at: DateTime<Utc>,
}

/// The figures of `GET /analytics`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Analytics {
    pub total_conversations: u64,
    pub total_leads: u64,
    pub sentiment: SentimentCounts,
    pub handoffs: u64,
    /// Conversations that asked for a person, over all conversations (0 when there are none).
    pub handoff_rate: f64,
    /// Visitor questions answered from knowledge.
    pub answered_messages: u64,
    /// Visitor questions the knowledge did not cover.
    pub unanswered_messages: u64,
    pub answer_rate: f64,
    pub knowledge_gaps: Vec<Gap>,
}

fn scoped_conversations(account_id: Uuid, s: &Scope) -> Select<conversations::Entity> {
    let mut q =
        conversations::Entity::find().filter(conversations::Column::AccountId.eq(account_id));
    if let Some(a) = s.agent_id {
        q = q.filter(conversations::Column::AgentId.eq(a));
    }
    if let Some(f) = s.from {
        q = q.filter(conversations::Column::CreatedAt.gte(f));
    }
    if let Some(t) = s.to {
        q = q.filter(conversations::Column::CreatedAt.lt(t));
    }
    q
}

fn scoped_questions(account_id: Uuid, s: &Scope) -> Select<messages::Entity> {
    let mut q = messages::Entity::find()
        .filter(messages::Column::AccountId.eq(account_id))
        .filter(messages::Column::Role.eq(Role::User));
    if let Some(a) = s.agent_id {
        q = q.filter(messages::Column::AgentId.eq(a));
    }
    if let Some(f) = s.from {
        q = q.filter(messages::Column::CreatedAt.gte(f));
    }
    if let Some(t) = s.to {
        q = q.filter(messages::Column::CreatedAt.lt(t));
    }
    q
}

async fn leads(db: &DatabaseConnection, account_id: Uuid, s: &Scope) -> Result<u64> {
    let mut q = otoq_entities::leads::Entity::find()
        .filter(otoq_entities::leads::Column::AccountId.eq(account_id));
    if let Some(a) = s.agent_id {
        q = q.filter(otoq_entities::leads::Column::AgentId.eq(a));
    }
    if let Some(f) = s.from {
        q = q.filter(otoq_entities::leads::Column::CreatedAt.gte(f));
    }
    if let Some(t) = s.to {
        q = q.filter(otoq_entities::leads::Column::CreatedAt.lt(t));
    }
    Ok(q.count(db).await?)
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0
    }
}

/// Computes the figures for the account within `scope`.
pub async fn compute(db: &DatabaseConnection, account_id: Uuid, scope: Scope) -> Result<Analytics> {
    let conv = || scoped_conversations(account_id, &scope);
    let total = conv().count(db).await?;
    let by = |s: &'static str| conv().filter(conversations::Column::Sentiment.eq(s));
    let sentiment = SentimentCounts {
        positive: by("positive").count(db).await?,
        neutral: by("neutral").count(db).await?,
        negative: by("negative").count(db).await?,
    };
    let handoffs = conv()
        .filter(conversations::Column::HandoffRequestedAt.is_not_null())
        .count(db)
        .await?;
    let questions = || scoped_questions(account_id, &scope);
    let answered = questions()
        .filter(messages::Column::Answered.eq(true))
        .count(db)
        .await?;
    let unanswered = questions()
        .filter(messages::Column::Answered.eq(false))
        .count(db)
        .await?;
    let groups: Vec<(Option<String>, i64, Option<DateTime<Utc>>)> = questions()
        .filter(messages::Column::Answered.eq(false))
        .filter(messages::Column::GapKey.is_not_null())
        .select_only()
        .column(messages::Column::GapKey)
        .column_as(Expr::col(messages::Column::Id).count(), "n")
        .column_as(Expr::col(messages::Column::CreatedAt).max(), "last")
        .group_by(messages::Column::GapKey)
        .order_by_desc(Expr::col(messages::Column::Id).count())
        .order_by_desc(Expr::col(messages::Column::CreatedAt).max())
        .limit(GAPS)
        .into_tuple()
        .all(db)
        .await?;
    let mut knowledge_gaps = Vec::new();
    for (key, n, last) in groups {
        let Some(key) = key else { continue };
        let example = questions()
            .filter(messages::Column::Answered.eq(false))
            .filter(messages::Column::GapKey.eq(key.as_str()))
            .order_by_desc(messages::Column::CreatedAt)
            .one(db)
            .await?;
        if let Some(m) = example {
            knowledge_gaps.push(Gap {
                question: m.content,
                count: n as u64,
                last_asked_at: last.unwrap_or(m.created_at),
            });
        }
    }
    Ok(Analytics {
        total_conversations: total,
        total_leads: leads(db, account_id, &scope).await?,
        sentiment,
        handoffs,
        handoff_rate: rate(handoffs, total),
        answered_messages: answered,
        unanswered_messages: unanswered,
        answer_rate: rate(answered, answered + unanswered),
        knowledge_gaps,
    })
}
