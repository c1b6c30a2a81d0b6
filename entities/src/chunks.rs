//! `chunks`: token-bounded passages with their embedding; only `active` ones are searched.

use sea_orm::entity::prelude::*;

/// One passage. Chunks of a running sync are inserted inactive and activated atomically
/// when the sync finishes, so the agent answers from the previous version meanwhile.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "chunks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub agent_id: Uuid,
    pub source_id: Uuid,
    pub document_id: Uuid,
    pub ordinal: i32,
    pub title: String,
    pub url: Option<String>,
    /// JSON array of the headings above the passage.
    pub heading_path: Json,
    pub text: String,
    pub tokens: i32,
    /// Little-endian f32 values, L2-normalised; absent when no embedder is configured.
    pub embedding: Option<Vec<u8>>,
    pub embedding_model: Option<String>,
    /// The text's sentences embedded one by one (see `otoq_core::retrieval::sentences`):
    /// a 4-byte tag of the model, then each sentence's vector as `i8` (unit vector × 127).
    pub sentence_embeddings: Option<Vec<u8>>,
    pub active: bool,
    /// The sync run that created the chunk.
    pub run_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
