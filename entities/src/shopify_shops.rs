//! `shopify_shops`: a Shopify shop that installed the app for an agent, with its encrypted tokens.

use sea_orm::entity::prelude::*;

use crate::enums::ShopStatus;

/// One installed (or uninstalled) shop.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shopify_shops")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub agent_id: Uuid,
    /// `name.myshopify.com`, unique.
    pub shop: String,
    /// The `shopify` knowledge source its catalog syncs into.
    pub source_id: Option<Uuid>,
    /// Scopes Shopify granted.
    pub scope: String,
    pub status: ShopStatus,
    /// The access token, sealed with the deployment's secret key.
    pub access_token_enc: Option<String>,
    pub access_token_expires_at: Option<DateTimeUtc>,
    /// The refresh token, sealed with the deployment's secret key.
    pub refresh_token_enc: Option<String>,
    pub refresh_token_expires_at: Option<DateTimeUtc>,
    pub installed_at: DateTimeUtc,
    pub uninstalled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
