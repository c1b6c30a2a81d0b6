//! `documents`: a page, file, text or Q&A pair of a source, with the hash of its content.

use sea_orm::entity::prelude::*;

/// One document. `content_hash` is what the active chunks hold; `staged_hash` what the
/// running sync prepared (swapped in when the sync finishes).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub agent_id: Uuid,
    pub source_id: Uuid,
    /// Identity within the source: the page URL, `text`, `file`, `qa:3`.
    pub key: String,
    pub title: String,
    pub url: Option<String>,
    pub content_hash: Option<String>,
    pub staged_hash: Option<String>,
    /// Why only part of the document could be read, if so.
    pub partial: Option<String>,
    pub tokens: i32,
    /// The last sync run that saw this document.
    pub seen_run: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
