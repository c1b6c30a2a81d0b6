//! `sessions`: console sign-ins, stored by the SHA-256 of their cookie, with their CSRF token.

use sea_orm::entity::prelude::*;

/// One signed-in browser of a member.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// SHA-256 (hex) of the session cookie; the cookie itself is never stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub member_id: Uuid,
    pub account_id: Uuid,
    /// The token every state-changing request of this session must carry.
    pub csrf_token: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
