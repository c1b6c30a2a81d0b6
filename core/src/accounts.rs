//! Accounts: creation (with a first API key) and look-up.

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::api_keys::{self, NewKey};
use crate::error::{Error, Result};
use crate::plans::Plan;
use otoq_entities::accounts;

/// A new account and its first key, in plaintext (shown once).
pub struct CreatedAccount {
    pub account: accounts::Model,
    pub key: NewKey,
}

/// Whether `email` looks like an address (one `@`, a dot in the domain, no spaces).
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && email.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c == ',')
        && !domain.contains('@')
}

/// Creates an account on `plan` with one API key named "default".
pub async fn create(
    db: &DatabaseConnection,
    email: &str,
    name: Option<&str>,
    plan: Plan,
) -> Result<CreatedAccount> {
    // `insert` reads before it writes: on SQLite the transaction takes the write lock first.
    let txn = crate::db::begin_write(db).await?;
    let account = insert(&txn, email, name, plan).await?;
    let key = api_keys::insert(&txn, account.id, "default").await?;
    txn.commit().await?;
    Ok(CreatedAccount { account, key })
}

/// Validates `email` (unique) and inserts the account through `conn` (the caller's transaction).
pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    email: &str,
    name: Option<&str>,
    plan: Plan,
) -> Result<accounts::Model> {
    let email = email.trim().to_ascii_lowercase();
    if !is_valid_email(&email) {
        return Err(Error::validation(
            "email",
            format!("`email` {email:?} is not a valid email address"),
        ));
    }
    if accounts::Entity::find()
        .filter(accounts::Column::Email.eq(email.clone()))
        .one(conn)
        .await?
        .is_some()
    {
        return Err(Error::Conflict(format!(
            "an account with email {email} already exists"
        )));
    }
    let account = accounts::ActiveModel {
        id: Set(Uuid::new_v4()),
        email: Set(email),
        name: Set(name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())),
        plan: Set(plan),
        created_at: Set(Utc::now()),
    };
    Ok(accounts::Entity::insert(account)
        .exec_with_returning(conn)
        .await?)
}

/// One account by id.
pub async fn get(db: &DatabaseConnection, id: Uuid) -> Result<accounts::Model> {
    accounts::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("account"))
}

#[cfg(test)]
mod tests {
    use super::is_valid_email;

    #[test]
    fn email_validation() {
        for ok in ["a@x.io", "first.last+tag@sub.example.com"] {
            assert!(is_valid_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@", "@x.io", "a@x", "a b@x.io", "a@x.io.", "a@@x.io",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }
}
