//! `conversations`: a visitor's chat session with an agent.
use sea_orm::entity::prelude::*;

use crate::enums::{ConversationStatus, Sentiment};

/// One conversation. `status` is `active`, `handoff_requested` or `closed`; once a handoff is
/// requested the AI stays silent in it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub agent_id: Uuid,
    pub status: ConversationStatus,
    /// `positive`, `neutral` or `negative`, from the visitor's messages so far.
    pub sentiment: Sentiment,
    pub sentiment_score: f64,
    /// The visitor's language as last detected (a code such as `en`).
    pub language: Option<String>,
    /// The widget's anonymous visitor id, when the conversation came from the widget.
    pub visitor_id: Option<String>,
    pub message_count: i32,
    /// Visitor questions the agent could not answer from its knowledge.
    pub unanswered_count: i32,
    pub handoff_requested_at: Option<DateTimeUtc>,
    /// When the owner's handoff email was accepted by the mail server.
    pub handoff_notified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_message_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
