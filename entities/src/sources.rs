//! `sources`: a knowledge source of an agent (a website, a file, a text, Q&A pairs).

use sea_orm::entity::prelude::*;

use crate::enums::{Refresh, SourceKind, SourceStatus};

/// One knowledge source and the state of its latest sync.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub agent_id: Uuid,
    pub kind: SourceKind,
    pub name: String,
    pub url: Option<String>,
    /// Kind-specific settings and content: crawl limits, the text, the Q&A pairs.
    pub config: Json,
    pub status: SourceStatus,
    pub error: Option<String>,
    pub pages_found: i32,
    pub pages_done: i32,
    pub pages_failed: i32,
    pub chunks: i32,
    pub refresh: Refresh,
    pub next_sync_at: Option<DateTimeUtc>,
    pub last_synced_at: Option<DateTimeUtc>,
    /// The sync run in progress (or last run), shared by its retries.
    pub run_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
