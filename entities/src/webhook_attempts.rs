//! `webhook_attempts`: every try of a delivery, for the log.
use sea_orm::entity::prelude::*;

/// One attempt: when, where, the status and latency, the first bytes of the response or the error.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub account_id: Uuid,
    pub attempted_at: DateTimeUtc,
    pub url: String,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
