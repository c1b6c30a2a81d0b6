//! `document_failures`: a page or file of a source that the last sync could not read (or left
//! out on purpose), with the reason for a person.

use sea_orm::entity::prelude::*;

use crate::enums::DocumentStatus;

/// One page or file not indexed by a sync run.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "document_failures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub source_id: Uuid,
    /// Identity within the source, as for documents: the page URL or `file`.
    pub key: String,
    pub url: Option<String>,
    /// `failed` or `skipped`.
    pub status: DocumentStatus,
    pub reason: String,
    /// The sync run that recorded it.
    pub run_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
