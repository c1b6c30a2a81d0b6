//! The account's webhook endpoint: set it up, rotate its secret, test it, read the delivery log
//! and replay deliveries.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use super::outbox::{self, TEST_EVENT};
use super::signing::new_secret;
use crate::Context;
use crate::error::{Error, Result};
use crate::jobs::Job;
use crate::net_guard::Guard;
use otoq_entities::enums::{DeliveryStatus, EventName};
use otoq_entities::{webhook_attempts, webhook_deliveries, webhook_endpoints};

/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// What `PUT /webhook` sets.
#[derive(Clone, Debug, Default)]
pub struct EndpointInput {
    pub url: String,
    pub enabled: Option<bool>,
    pub events: Option<Vec<EventName>>,
}

/// Checks a receiver URL: http(s), no credentials, not an internal address (unless allowed).
pub async fn validate_url(ctx: &Context, raw: &str) -> Result<String> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| Error::validation("url", format!("`url` is not a valid URL: {e}")))?;
    Guard {
        allow_private: ctx.config.allow_private_networks,
    }
    .check_url(&url)
    .await
    .map_err(|e| Error::validation("url", format!("`url` cannot receive webhooks: {e}")))?;
    Ok(url.to_string())
}

/// The account's endpoint.
pub async fn get(ctx: &Context, account_id: Uuid) -> Result<webhook_endpoints::Model> {
    webhook_endpoints::Entity::find_by_id(account_id)
        .one(&ctx.db)
        .await?
        .ok_or(Error::NotFound("webhook endpoint"))
}

/// Creates or updates the endpoint; returns it and, when it was created, its new secret.
pub async fn put(
    ctx: &Context,
    account_id: Uuid,
    input: EndpointInput,
) -> Result<(webhook_endpoints::Model, Option<String>)> {
    let url = validate_url(ctx, &input.url).await?;
    let events = match input.events {
        Some(list) => {
            let mut list: Vec<&str> = list.iter().map(|e| e.as_str()).collect();
            list.sort();
            list.dedup();
            Some(list)
        }
        None => None,
    };
    let now = Utc::now();
    match webhook_endpoints::Entity::find_by_id(account_id)
        .one(&ctx.db)
        .await?
    {
        Some(existing) => {
            let mut m: webhook_endpoints::ActiveModel = existing.into();
            m.url = Set(url);
            if let Some(ev) = events {
                m.events = Set(json!(ev));
            }
            let enabled = input.enabled.unwrap_or(true);
            m.enabled = Set(enabled);
            // Re-enabling clears the reason it was disabled and the failure streak.
            m.disabled_reason = Set((!enabled).then(|| "disabled by the owner".to_string()));
            if enabled {
                m.failing_since = Set(None);
            }
            m.updated_at = Set(now);
            Ok((m.update(&ctx.db).await?, None))
        }
        None => {
            let secret = new_secret();
            let sealed = ctx.secret_box().await?.seal(&secret);
            let enabled = input.enabled.unwrap_or(true);
            let m = webhook_endpoints::ActiveModel {
                account_id: Set(account_id),
                url: Set(url),
                enabled: Set(enabled),
                events: Set(json!(
                    events.unwrap_or_else(|| vec![outbox::LEAD_CAPTURED.as_str()])
                )),
                secret_enc: Set(sealed),
                previous_secret_enc: Set(None),
                previous_secret_expires_at: Set(None),
                disabled_reason: Set((!enabled).then(|| "disabled by the owner".to_string())),
                failing_since: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            };
            Ok((m.insert(&ctx.db).await?, Some(secret)))
        }
    }
}

/// Replaces the secret; the previous one keeps signing for [`ROTATION_WINDOW`].
pub async fn rotate(ctx: &Context, account_id: Uuid) -> Result<(webhook_endpoints::Model, String)> {
    let e = get(ctx, account_id).await?;
    let secret = new_secret();
    let sealed = ctx.secret_box().await?.seal(&secret);
    let now = crate::clock::now();
    let mut m: webhook_endpoints::ActiveModel = e.clone().into();
    m.previous_secret_enc = Set(Some(e.secret_enc));
    m.previous_secret_expires_at = Set(Some(now + ROTATION_WINDOW));
    m.secret_enc = Set(sealed);
    m.updated_at = Set(now);
    Ok((m.update(&ctx.db).await?, secret))
}

/// Sends a signed test event now (through the outbox, so it is logged like any other) and
/// returns its delivery after the first attempt.
pub async fn test(ctx: &Context, account_id: Uuid) -> Result<webhook_deliveries::Model> {
    get(ctx, account_id).await?;
    let now = crate::clock::now();
    let body = outbox::body(
        TEST_EVENT,
        now,
        json!({"message": "This is a test event from otoq.", "account_id": account_id}),
    );
    let txn = crate::db::begin_write(&ctx.db).await?;
    let recorded = outbox::record(&txn, account_id, TEST_EVENT, body, true).await?;
    txn.commit().await?;
    let Some((_, delivery_id)) = recorded else {
        return Err(Error::NotFound("webhook endpoint"));
    };
    super::deliver::attempt(ctx, delivery_id).await?;
    delivery(ctx, account_id, delivery_id).await
}

/// One delivery of the account.
pub async fn delivery(
    ctx: &Context,
    account_id: Uuid,
    id: Uuid,
) -> Result<webhook_deliveries::Model> {
    webhook_deliveries::Entity::find_by_id(id)
        .filter(webhook_deliveries::Column::AccountId.eq(account_id))
        .one(&ctx.db)
        .await?
        .ok_or(Error::NotFound("delivery"))
}

/// The attempts of a delivery, oldest first.
pub async fn attempts(ctx: &Context, delivery_id: Uuid) -> Result<Vec<webhook_attempts::Model>> {
    Ok(webhook_attempts::Entity::find()
        .filter(webhook_attempts::Column::DeliveryId.eq(delivery_id))
        .order_by_asc(webhook_attempts::Column::AttemptedAt)
        .all(&ctx.db)
        .await?)
}

/// The account's deliveries, newest first, optionally by status and event.
pub async fn deliveries(
    ctx: &Context,
    account_id: Uuid,
    status: Option<DeliveryStatus>,
    event: Option<EventName>,
    limit: u64,
    offset: u64,
) -> Result<(Vec<webhook_deliveries::Model>, u64)> {
    let mut q = webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::AccountId.eq(account_id));
    if let Some(s) = status {
        q = q.filter(webhook_deliveries::Column::Status.eq(s));
    }
    if let Some(e) = event {
        q = q.filter(webhook_deliveries::Column::Event.eq(e));
    }
    let total = q.clone().count(&ctx.db).await?;
    let rows = q
        .order_by_desc(webhook_deliveries::Column::CreatedAt)
        .order_by_desc(webhook_deliveries::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(&ctx.db)
        .await?;
    Ok((rows, total))
}

/// Replays a delivery now (any status but one in flight), with the same event id and body.
pub async fn retry(ctx: &Context, account_id: Uuid, id: Uuid) -> Result<webhook_deliveries::Model> {
    let d = delivery(ctx, account_id, id).await?;
    if d.status == DeliveryStatus::Delivering {
        return Err(Error::Conflict(
            "the delivery is being attempted right now".into(),
        ));
    }
    let now = crate::clock::now();
    let txn = ctx.db.begin().await?;
    let mut m: webhook_deliveries::ActiveModel = d.into();
    m.status = Set(DeliveryStatus::Pending);
    m.next_attempt_at = Set(Some(now));
    // A manual replay starts a fresh retry window.
    m.first_attempt_at = Set(None);
    m.updated_at = Set(now);
    let d = m.update(&txn).await?;
    crate::queue::Queue::enqueue_in(&txn, &Job::DeliverWebhook { delivery_id: d.id }).await?;
    txn.commit().await?;
    ctx.queue.notify().await;
    Ok(d)
}
