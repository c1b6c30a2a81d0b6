//! API keys: generation, hashing, listing, revocation and authentication.
//!
//! A key is `otoq_` + 43 base62 characters (~256 bits). Only its SHA-256 and a display prefix
//! are stored. Authenticated keys are cached per process; a revocation is broadcast on the
//! [`Bus`](crate::bus::Bus) so every instance forgets the key at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::bus::{Bus, BusMessage};
use crate::error::{Error, Result};
use crate::plans::Plan;
use crate::secrets::{random_base62, sha256_hex};
use otoq_entities::{accounts, api_keys};

const KEY_PREFIX: &str = "otoq_";
const KEY_RANDOM_LEN: usize = 43;
const DISPLAY_PREFIX_LEN: usize = 12;
const CACHE_TTL: Duration = Duration::from_secs(30);
const LAST_USED_EVERY: Duration = Duration::from_secs(60);

/// A freshly created key: the stored row and the plaintext, which is never stored.
pub struct NewKey {
    pub model: api_keys::Model,
    pub plaintext: String,
}

/// Who a valid key belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthedKey {
    pub key_id: Uuid,
    pub account_id: Uuid,
    pub plan: Plan,
}

/// Whether `token` has the shape of an otoq key (checked before any look-up).
pub fn is_well_formed(token: &str) -> bool {
    token.len() == KEY_PREFIX.len() + KEY_RANDOM_LEN
        && token.starts_with(KEY_PREFIX)
        && token[KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// Inserts a new key for `account_id` through `conn`.
pub async fn insert<C: ConnectionTrait>(conn: &C, account_id: Uuid, name: &str) -> Result<NewKey> {
    let plaintext = format!("{KEY_PREFIX}{}", random_base62(KEY_RANDOM_LEN));
    let model = api_keys::ActiveModel {
        id: Set(Uuid::new_v4()),
        account_id: Set(account_id),
        name: Set(name.to_string()),
        prefix: Set(plaintext[..DISPLAY_PREFIX_LEN].to_string()),
        key_hash: Set(sha256_hex(plaintext.as_bytes())),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    };
    let model = api_keys::Entity::insert(model)
        .exec_with_returning(conn)
        .await?;
    Ok(NewKey { model, plaintext })
}

/// Validates a key name: 1–100 characters after trimming.
pub fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::validation(
            "name",
            "`name` must be 1 to 100 characters",
        ));
    }
    Ok(name.to_string())
}

/// The account's keys that are not revoked, newest first, with the total.
pub async fn list(
    db: &DatabaseConnection,
    account_id: Uuid,
    limit: u64,
    offset: u64,
) -> Result<(Vec<api_keys::Model>, u64)> {
    let q = api_keys::Entity::find()
        .filter(api_keys::Column::AccountId.eq(account_id))
        .filter(api_keys::Column::RevokedAt.is_null());
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(api_keys::Column::CreatedAt)
        .order_by_desc(api_keys::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// Per-process cache of authenticated keys, invalidated through the bus.
#[derive(Clone)]
pub struct KeyCache {
    inner: Arc<Mutex<HashMap<String, CacheEntry>>>,
}

#[derive(Clone)]
struct CacheEntry {
    key: AuthedKey,
    fetched: Instant,
    last_used_written: Instant,
}

impl KeyCache {
    /// A cache that listens to `bus` for revocations for as long as the process runs.
    pub fn new(bus: &Bus) -> Self {
        let cache = KeyCache {
            inner: Arc::default(),
        };
        let mut rx = bus.subscribe();
        let inner = cache.inner.clone();
        tokio::spawn(async move {
            loop {
                let msg = rx.recv().await;
                let mut map = inner.lock().unwrap_or_else(|p| p.into_inner());
                match msg {
                    Ok(BusMessage::ApiKeyRevoked { key_hash }) => {
                        map.remove(&key_hash);
                    }
                    Ok(BusMessage::Resync)
                    | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => map.clear(),
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        cache
    }

    fn get(&self, hash: &str) -> Option<(AuthedKey, bool)> {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.get_mut(hash)?;
        if entry.fetched.elapsed() > CACHE_TTL {
            map.remove(hash);
            return None;
        }
        let touch = entry.last_used_written.elapsed() > LAST_USED_EVERY;
        if touch {
            entry.last_used_written = Instant::now();
        }
        Some((entry.key.clone(), touch))
    }

    fn put(&self, hash: String, key: AuthedKey) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 50_000 {
            map.clear();
        }
        let now = Instant::now();
        map.insert(
            hash,
            CacheEntry {
                key,
                fetched: now,
                last_used_written: now,
            },
        );
    }
}

/// Authenticates a Bearer token: `None` for a malformed, unknown or revoked key.
pub async fn authenticate(
    db: &DatabaseConnection,
    cache: &KeyCache,
    token: &str,
) -> Result<Option<AuthedKey>> {
    if !is_well_formed(token) {
        return Ok(None);
    }
    let hash = sha256_hex(token.as_bytes());
    if let Some((key, touch)) = cache.get(&hash) {
        if touch {
            touch_last_used(db.clone(), key.key_id);
        }
        return Ok(Some(key));
    }
    let found = api_keys::Entity::find()
        .filter(api_keys::Column::KeyHash.eq(hash.clone()))
        .filter(api_keys::Column::RevokedAt.is_null())
        .find_also_related(accounts::Entity)
        .one(db)
        .await?;
    let Some((key, Some(account))) = found else {
        return Ok(None);
    };
    let plan = account.plan;
    let authed = AuthedKey {
        key_id: key.id,
        account_id: account.id,
        plan,
    };
    cache.put(hash, authed.clone());
    touch_last_used(db.clone(), key.id);
    Ok(Some(authed))
}

fn touch_last_used(db: DatabaseConnection, key_id: Uuid) {
    tokio::spawn(async move {
        let res = api_keys::Entity::update_many()
            .col_expr(
                api_keys::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(api_keys::Column::Id.eq(key_id))
            .exec(&db)
            .await;
        if let Err(e) = res {
            tracing::warn!(error = %e, "could not record when a key was last used");
        }
    });
}

/// Revokes key `id` of `account_id` and tells every process to forget it.
pub async fn revoke(db: &DatabaseConnection, bus: &Bus, account_id: Uuid, id: Uuid) -> Result<()> {
    let key = api_keys::Entity::find_by_id(id)
        .filter(api_keys::Column::AccountId.eq(account_id))
        .filter(api_keys::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or(Error::NotFound("api key"))?;
    api_keys::Entity::update_many()
        .col_expr(
            api_keys::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(api_keys::Column::Id.eq(id))
        .exec(db)
        .await?;
    bus.publish(BusMessage::ApiKeyRevoked {
        key_hash: key.key_hash,
    })
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shape() {
        let key = format!("{KEY_PREFIX}{}", random_base62(KEY_RANDOM_LEN));
        assert!(is_well_formed(&key));
        assert!(!is_well_formed("otoq_short"));
        assert!(!is_well_formed(&key.replace("otoq_", "xxxx_")));
        assert!(!is_well_formed(&format!("{}!", &key[..key.len() - 1])));
    }
}
