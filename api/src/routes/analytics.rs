//! `GET /analytics`: conversations, leads, sentiment, handoffs, answer rate, knowledge gaps.

use otoq_core::Context;
use otoq_core::analytics::{self, Scope};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use crate::envelope;
use crate::error::ApiError;
use crate::security::ApiKey;
use crate::timestamp::Timestamp;

/// Conversations by the visitor's sentiment.
#[derive(Object)]
pub struct SentimentCounts {
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
}

/// A question visitors asked that the knowledge does not cover: add it to the agent's sources.
#[derive(Object)]
pub struct KnowledgeGap {
    /// The latest wording.
    pub question: String,
    /// How often it (or a rewording with the same keywords) was asked.
    pub count: u64,
    pub last_asked_at: Timestamp,
}

/// Figures over the conversations started in the period.
#[derive(Object)]
pub struct Analytics {
    pub total_conversations: u64,
    pub total_leads: u64,
    pub sentiment: SentimentCounts,
    /// Conversations handed over to a person.
    pub handoffs: u64,
    /// `handoffs / total_conversations` (0 without conversations).
    pub handoff_rate: f64,
    /// Visitor questions answered from the knowledge.
    pub answered_messages: u64,
    /// Visitor questions the knowledge did not cover (answered honestly with a handoff offer).
    pub unanswered_messages: u64,
    /// `answered / (answered + unanswered)`.
    pub answer_rate: f64,
    /// The most frequent unanswered questions, grouped by their keywords, most asked first.
    pub knowledge_gaps: Vec<KnowledgeGap>,
}

#[derive(Default)]
pub struct AnalyticsApi;

#[OpenApi(tag = "Tag::Analytics")]
impl AnalyticsApi {
    /// Get analytics
    ///
    /// For the whole account or one agent, over conversations created in `[from, to)`
    /// (RFC 3339; both optional; an empty window counts nothing).
    #[oai(path = "/analytics", method = "get", operation_id = "getAnalytics")]
    async fn get(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        agent_id: Query<Option<Uuid>>,
        /// From this instant (inclusive).
        from: Query<Option<Timestamp>>,
        /// Until this instant (exclusive).
        to: Query<Option<Timestamp>>,
    ) -> Result<Json<envelope::Data<Analytics>>, ApiError> {
        if let Some(a) = agent_id.0 {
            otoq_core::agents::get(&ctx, auth.0.account_id, a).await?;
        }
        let a = analytics::compute(
            &ctx.db,
            auth.0.account_id,
            Scope {
                agent_id: agent_id.0,
                from: from.0.map(|t| t.0),
                to: to.0.map(|t| t.0),
            },
        )
        .await?;
        Ok(envelope::data(Analytics {
            total_conversations: a.total_conversations,
            total_leads: a.total_leads,
            sentiment: SentimentCounts {
                positive: a.sentiment.positive,
                neutral: a.sentiment.neutral,
                negative: a.sentiment.negative,
            },
            handoffs: a.handoffs,
            handoff_rate: a.handoff_rate,
            answered_messages: a.answered_messages,
            unanswered_messages: a.unanswered_messages,
            answer_rate: a.answer_rate,
            knowledge_gaps: a
                .knowledge_gaps
                .into_iter()
                .map(|g| KnowledgeGap {
                    question: g.question,
                    count: g.count,
                    last_asked_at: g.last_asked_at.into(),
                })
                .collect(),
        }))
    }
}
