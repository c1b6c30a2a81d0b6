//! `leads`: a visitor's contact details, scored with the reasons.
use sea_orm::entity::prelude::*;

use crate::enums::LeadSource;

/// One lead; at most one per conversation and email.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "leads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub agent_id: Uuid,
    pub conversation_id: Option<Uuid>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub company: Option<String>,
    /// `chat`, `form` or `api`.
    pub source: LeadSource,
    /// 0–100.
    pub score: i32,
    /// JSON array of `{signal, points, detail}`.
    pub score_reasons: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
