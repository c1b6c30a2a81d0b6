//! `webhook_endpoints`: where an account's events are POSTed (one per account).
use sea_orm::entity::prelude::*;

/// The endpoint. Secrets are stored encrypted; during a rotation window the previous one
/// signs too.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: Uuid,
    pub url: String,
    pub enabled: bool,
    /// JSON array of event names subscribed to.
    pub events: Json,
    pub secret_enc: String,
    pub previous_secret_enc: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    /// Why the endpoint was disabled (by the owner, a 410, or days of failures).
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed, if they do.
    pub failing_since: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
