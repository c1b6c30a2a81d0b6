//! Console sessions: a random cookie (only its SHA-256 stored), a CSRF token bound to it, an
//! expiry; signing out ends every session of the member.

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::error::Result;
use crate::secrets::{random_base62, sha256_hex};
use otoq_entities::{members, sessions};

/// A session just created: the cookie value (never stored) and its row.
pub struct NewSession {
    pub token: String,
    pub session: sessions::Model,
}

/// A valid session and its member.
#[derive(Clone, Debug)]
pub struct Signed {
    pub session: sessions::Model,
    pub member: members::Model,
}

/// Starts a session of `member` lasting `ttl`.
pub async fn create(
    db: &DatabaseConnection,
    member: &members::Model,
    ttl: std::time::Duration,
) -> Result<NewSession> {
    let token = random_base62(43);
    let now = Utc::now();
    let row = sessions::ActiveModel {
        token_hash: Set(sha256_hex(token.as_bytes())),
        member_id: Set(member.id),
        account_id: Set(member.account_id),
        csrf_token: Set(random_base62(32)),
        created_at: Set(now),
        expires_at: Set(now + Duration::from_std(ttl).unwrap_or(Duration::days(14))),
    };
    let session = sessions::Entity::insert(row)
        .exec_with_returning(db)
        .await?;
    Ok(NewSession { token, session })
}

/// The session of cookie `token` and its member, when it exists and has not expired.
pub async fn find(db: &DatabaseConnection, token: &str) -> Result<Option<Signed>> {
    if token.is_empty() || token.len() > 100 {
        return Ok(None);
    }
    let found = sessions::Entity::find_by_id(sha256_hex(token.as_bytes()))
        .filter(sessions::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?;
    let Some(session) = found else {
        return Ok(None);
    };
    let member = members::Entity::find_by_id(session.member_id)
        .filter(members::Column::AccountId.eq(session.account_id))
        .one(db)
        .await?;
    Ok(member.map(|member| Signed { session, member }))
}

/// Ends every session of `member_id`.
pub async fn end_all(db: &DatabaseConnection, member_id: Uuid) -> Result<u64> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::MemberId.eq(member_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Whether `given` is the session's CSRF token (compared in constant time).
pub fn csrf_ok(session: &sessions::Model, given: &str) -> bool {
    csrf_ok_raw(&session.csrf_token, given)
}

/// Whether two tokens are equal and not empty, compared in constant time.
pub fn csrf_ok_raw(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    !a.is_empty()
        && a.len() == b.len()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
