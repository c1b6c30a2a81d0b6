//! `agents`: an AI agent of an account.

use sea_orm::entity::prelude::*;

use crate::enums::{LeadFormTrigger, Personality};

/// One agent. `deleted_at` set means it is being purged and is invisible to the API.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    /// Public identifier used by the widget; never grants API access.
    #[sea_orm(unique)]
    pub public_id: String,
    pub name: String,
    pub personality: Personality,
    pub system_prompt: Option<String>,
    pub language: Option<String>,
    pub welcome_message: Option<String>,
    pub primary_color: String,
    pub is_active: bool,
    /// JSON array of origins allowed to embed the widget; empty allows all.
    pub allowed_origins: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    /// Bumped whenever the agent's searchable chunks change; search indexes reload on a new value
    /// (read it fresh: cached copies of the agent may be behind).
    pub knowledge_version: i64,
    /// Lead-form fields the widget shows, comma-separated (`name,email,phone,company`); empty: none.
    pub lead_form_fields: String,
    /// When the widget shows the lead form: `after_messages`, `handoff` or `off`.
    pub lead_form_trigger: LeadFormTrigger,
    /// With `after_messages`: after this many visitor messages.
    pub lead_form_after_messages: i32,
    /// Widget messages the agent answers per day at most.
    pub daily_message_cap: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
