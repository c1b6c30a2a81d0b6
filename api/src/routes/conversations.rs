//! `/conversations`: list and read conversations, and hand one over to a person.

use otoq_core::Context;
use otoq_core::conversations::{self, Filter};
use otoq_entities::enums::{ConversationStatus, Role, Sentiment};
use otoq_entities::{conversations::Model, messages};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::chat::SourceRef;
use crate::envelope::{self, Page};
use crate::error::ApiError;
use crate::security::ApiKey;
use crate::timestamp::Timestamp;

/// One message of a conversation.
#[derive(Object)]
pub struct Message {
    pub id: Uuid,
    pub role: Role,
    pub content: String,
    /// Passages an answer is based on.
    pub sources: Vec<SourceRef>,
    /// On visitor messages: whether the agent could answer from its knowledge.
    pub answered: Option<bool>,
    /// On agent messages: whether it offered a person.
    pub handoff_offered: bool,
    pub created_at: Timestamp,
}

impl From<messages::Model> for Message {
    fn from(m: messages::Model) -> Self {
        let sources: Vec<otoq_core::chat::Citation> =
            serde_json::from_value(m.sources).unwrap_or_default();
        Message {
            id: m.id,
            role: m.role,
            content: m.content,
            sources: sources.into_iter().map(Into::into).collect(),
            answered: m.answered,
            handoff_offered: m.handoff_offered,
            created_at: m.created_at.into(),
        }
    }
}

/// A conversation.
#[derive(Object)]
pub struct Conversation {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub status: ConversationStatus,
    pub sentiment: Sentiment,
    /// The visitor's language as last detected (e.g. `en`).
    pub language: Option<String>,
    pub message_count: i32,
    /// Visitor questions the agent could not answer from its knowledge.
    pub unanswered_count: i32,
    pub handoff_requested_at: Option<Timestamp>,
    /// When the owner's handoff email was accepted by the mail server.
    pub handoff_notified_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_message_at: Timestamp,
}

impl From<Model> for Conversation {
    fn from(m: Model) -> Self {
        Conversation {
            id: m.id,
            agent_id: m.agent_id,
            status: m.status,
            sentiment: m.sentiment,
            language: m.language,
            message_count: m.message_count,
            unanswered_count: m.unanswered_count,
            handoff_requested_at: m.handoff_requested_at.map(Into::into),
            handoff_notified_at: m.handoff_notified_at.map(Into::into),
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
            last_message_at: m.last_message_at.into(),
        }
    }
}

/// A conversation with its messages.
#[derive(Object)]
pub struct ConversationDetail {
    #[oai(flatten)]
    pub conversation: Conversation,
    /// Every message, oldest first.
    pub messages: Vec<Message>,
}

async fn detail(ctx: &Context, conv: Model) -> Result<ConversationDetail, ApiError> {
    let msgs = conversations::messages(&ctx.db, conv.id).await?;
    Ok(ConversationDetail {
        conversation: conv.into(),
        messages: msgs.into_iter().map(Into::into).collect(),
    })
}

#[derive(Default)]
pub struct ConversationsApi;

#[OpenApi(tag = "Tag::Conversations")]
impl ConversationsApi {
    /// List conversations
    ///
    /// Newest first; filter by agent, status and creation time (`from` inclusive, `to` exclusive).
    #[oai(
        path = "/conversations",
        method = "get",
        operation_id = "listConversations"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        agent_id: Query<Option<Uuid>>,
        status: Query<Option<ConversationStatus>>,
        /// Created at or after (RFC 3339).
        from: Query<Option<Timestamp>>,
        /// Created before (RFC 3339).
        to: Query<Option<Timestamp>>,
        /// Page size, 1–100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// Items to skip.
        #[oai(validator(minimum(value = "0")))]
        offset: Query<Option<i64>>,
    ) -> Result<Json<envelope::List<Conversation>>, ApiError> {
        let page = Page::new(limit.0, offset.0)?;
        let filter = Filter {
            agent_id: agent_id.0,
            status: status.0,
            from: from.0.map(|t| t.0),
            to: to.0.map(|t| t.0),
        };
        let (rows, total) =
            conversations::list(&ctx.db, auth.0.account_id, &filter, page.limit, page.offset)
                .await?;
        Ok(envelope::list(
            rows.into_iter().map(Conversation::from).collect(),
            total,
            page,
        ))
    }

    /// Get a conversation
    ///
    /// With every message: role, content, cited sources and time.
    #[oai(
        path = "/conversations/:id",
        method = "get",
        operation_id = "getConversation"
    )]
    async fn get(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Json<envelope::Data<ConversationDetail>>, ApiError> {
        let conv = conversations::get(&ctx.db, auth.0.account_id, id.0).await?;
        Ok(envelope::data(detail(&ctx, conv).await?))
    }

    /// Hand a conversation over to a person
    ///
    /// Sets the status to `handoff_requested`, tells the visitor a person will follow up, stops
    /// the AI from answering in it, and emails the account owner the transcript (retried until
    /// the mail server accepts it). Calling it again changes nothing.
    #[oai(
        path = "/conversations/:id/handoff",
        method = "post",
        operation_id = "handoffConversation"
    )]
    async fn handoff(
        &self,
        ctx: Data<&Context>,
        auth: ApiKey,
        id: Path<Uuid>,
    ) -> Result<Json<envelope::Data<ConversationDetail>>, ApiError> {
        let conv = conversations::request_handoff(&ctx, auth.0.account_id, id.0).await?;
        Ok(envelope::data(detail(&ctx, conv).await?))
    }
}
