//! `messages`: the turns of a conversation, in `seq` order.
use sea_orm::entity::prelude::*;

use crate::enums::Role;

/// One message. Assistant messages keep the passages they cite in `sources`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub account_id: Uuid,
    pub agent_id: Uuid,
    /// Position in the conversation, from 0.
    pub seq: i32,
    /// `user`, `assistant` or `system` (notices such as a handoff confirmation).
    pub role: Role,
    pub content: String,
    /// JSON array of cited passages: `{source_id, chunk_id, title, url, snippet, score}`.
    pub sources: Json,
    /// On visitor questions: whether the agent could answer it from its knowledge.
    pub answered: Option<bool>,
    /// On assistant messages: whether the reply offered a human.
    pub handoff_offered: bool,
    /// On unanswered questions: the normalised form questions are grouped by (knowledge gaps).
    pub gap_key: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
