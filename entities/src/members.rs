//! `members`: the people who sign in to an account's console, with their role.

use sea_orm::entity::prelude::*;

use crate::enums::MemberRole;

/// One person of an account; an email belongs to one member at most.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    /// The argon2id hash (PHC string); `None` until a password is set.
    pub password_hash: Option<String>,
    pub role: MemberRole,
    /// Wrong passwords since the last sign-in or lockout.
    pub failed_sign_ins: i32,
    /// Sign-in is refused until then.
    pub locked_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
