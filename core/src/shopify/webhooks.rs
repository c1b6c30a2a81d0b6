//! Webhooks from Shopify: the HMAC of the raw body is verified before anything else; each
//! delivery is handled once (by `X-Shopify-Webhook-Id`); product changes are queued for the
//! worker, uninstalls stop syncing, and the compliance topics are honoured.

use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use super::{ShopifyError, shops};
use crate::Context;
use crate::db::statement;
use crate::jobs::Job;
use otoq_entities::enums::ShopStatus;

/// The headers of a webhook request that matter.
#[derive(Clone, Debug, Default)]
pub struct Delivery<'a> {
    /// `X-Shopify-Hmac-Sha256`.
    pub hmac: Option<&'a str>,
    /// `X-Shopify-Topic`.
    pub topic: Option<&'a str>,
    /// `X-Shopify-Shop-Domain`.
    pub shop: Option<&'a str>,
    /// `X-Shopify-Webhook-Id`.
    pub webhook_id: Option<&'a str>,
}

/// What became of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Acted on.
    Handled,
    /// Seen before (same webhook id): nothing done again.
    Duplicate,
    /// Verified but about nothing we keep (an unknown shop or topic).
    Ignored,
}

/// Verifies and handles one webhook delivery.
pub async fn receive(
    ctx: &Context,
    delivery: Delivery<'_>,
    body: &[u8],
) -> Result<Outcome, ShopifyError> {
    let cfg = super::config(ctx)?;
    let hmac = delivery.hmac.ok_or_else(|| {
        ShopifyError::Forged("the X-Shopify-Hmac-Sha256 header is missing".into())
    })?;
    if !super::hmac::verify_body(&cfg.api_secret, body, hmac) {
        return Err(ShopifyError::Forged(
            "the X-Shopify-Hmac-Sha256 signature is not valid for this body".into(),
        ));
    }
    let topic = delivery
        .topic
        .ok_or_else(|| ShopifyError::Invalid("the X-Shopify-Topic header is missing".into()))?;
    let payload: Value = serde_json::from_slice(body)
        .map_err(|_| ShopifyError::Invalid("the webhook body is not JSON".into()))?;
    let domain = delivery
        .shop
        .map(str::to_string)
        .or_else(|| payload["shop_domain"].as_str().map(str::to_string))
        .ok_or_else(|| {
            ShopifyError::Invalid("the X-Shopify-Shop-Domain header is missing".into())
        })?;
    let webhook_id: Option<String> = delivery.webhook_id.map(|id| id.chars().take(200).collect());
    if let Some(id) = &webhook_id
        && seen(ctx, id).await?
    {
        return Ok(Outcome::Duplicate);
    }
    let outcome = handle(ctx, topic, &domain, &payload).await?;
    // Remembered once handled: a delivery that failed is handled again when Shopify retries it
    // (every topic's handling is idempotent, so a concurrent duplicate does no harm either).
    if let Some(id) = &webhook_id {
        remember(ctx, id).await?;
    }
    Ok(outcome)
}

async fn handle(
    ctx: &Context,
    topic: &str,
    domain: &str,
    payload: &Value,
) -> Result<Outcome, ShopifyError> {
    let Some(shop) = shops::by_domain(&ctx.db, domain).await? else {
        tracing::info!(%topic, shop = %domain, "Shopify webhook for a shop we do not know");
        return Ok(Outcome::Ignored);
    };
    match topic {
        "products/create" | "products/update" | "products/delete" => {
            let Some(id) = payload["admin_graphql_api_id"]
                .as_str()
                .map(str::to_string)
                .or_else(|| payload["id"].as_i64().map(|i| i.to_string()))
            else {
                return Err(ShopifyError::Invalid("the product has no id".into()));
            };
            if shop.status != ShopStatus::Active || shop.source_id.is_none() {
                return Ok(Outcome::Ignored);
            }
            let job = Job::ShopifyProduct {
                shop_id: shop.id,
                product_id: super::product_gid(&id),
                deleted: topic == "products/delete",
            };
            ctx.queue.enqueue(&job).await?;
        }
        "app/uninstalled" => shops::uninstall(ctx, &shop).await?,
        "shop/redact" => shops::redact_shop(ctx, &shop).await?,
        "customers/redact" => {
            let customer = &payload["customer"];
            let n = shops::redact_customer(
                ctx,
                &shop,
                customer["email"].as_str(),
                customer["phone"].as_str(),
            )
            .await?;
            tracing::info!(shop = %domain, leads = n, "Shopify customer redacted");
        }
        "customers/data_request" => {
            // We keep no Shopify customer records; leads are visible to the owner in the API.
            tracing::info!(shop = %domain, "Shopify customer data request received");
        }
        _ => return Ok(Outcome::Ignored),
    }
    Ok(Outcome::Handled)
}

/// Whether a delivery with this id was handled before.
async fn seen(ctx: &Context, id: &str) -> Result<bool, ShopifyError> {
    let row = ctx
        .db
        .query_one_raw(statement(
            &ctx.db,
            "SELECT webhook_id FROM shopify_webhook_ids WHERE webhook_id = {}",
            [id.into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// Records a handled delivery's id.
async fn remember(ctx: &Context, id: &str) -> Result<(), ShopifyError> {
    ctx.db
        .execute_raw(statement(
            &ctx.db,
            "INSERT INTO shopify_webhook_ids (webhook_id, received_at) VALUES ({}, {}) \
             ON CONFLICT (webhook_id) DO NOTHING",
            [id.into(), Utc::now().into()],
        ))
        .await?;
    // Shopify retries a delivery for 48 hours: ids older than a week are dropped now and then.
    if rand::random::<u8>() < 3 {
        ctx.db
            .execute_raw(statement(
                &ctx.db,
                "DELETE FROM shopify_webhook_ids WHERE received_at < {}",
                [(Utc::now() - chrono::Duration::days(7)).into()],
            ))
            .await?;
    }
    Ok(())
}
