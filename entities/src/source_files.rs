//! `source_files`: the uploaded file of a `file` source, kept for re-syncs.

use sea_orm::entity::prelude::*;

/// The bytes of an uploaded document.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "source_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub source_id: Uuid,
    pub filename: String,
    pub content_type: Option<String>,
    pub size: i64,
    pub bytes: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
