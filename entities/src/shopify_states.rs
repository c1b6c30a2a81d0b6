//! `shopify_states`: single-use OAuth `state` nonces of installs in progress.

use sea_orm::entity::prelude::*;

/// One install started by an owner, waiting for Shopify's callback.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shopify_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub nonce: String,
    pub account_id: Uuid,
    pub agent_id: Uuid,
    pub shop: String,
    pub expires_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
