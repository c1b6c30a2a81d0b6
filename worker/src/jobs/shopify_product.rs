//! One product of a Shopify shop changed (a webhook): fetch it again and re-index only it, or
//! remove it when it was deleted or is no longer active.

use otoq_core::Context;
use otoq_core::knowledge::live;
use otoq_core::shopify::ShopifyError;
use otoq_entities::enums::ShopStatus;
use otoq_entities::{shopify_shops, sources};
use sea_orm::{EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;

use crate::shopify::{admin, complete, product_doc, product_query};

pub async fn run(
    ctx: &Context,
    shop_id: Uuid,
    product_id: &str,
    deleted: bool,
) -> anyhow::Result<()> {
    let Some(shop) = shopify_shops::Entity::find_by_id(shop_id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(());
    };
    let Some(source_id) = shop.source_id.filter(|_| shop.status == ShopStatus::Active) else {
        return Ok(());
    };
    let Some(source) = sources::Entity::find_by_id(source_id)
        .one(&ctx.db)
        .await?
        .filter(|s| s.deleted_at.is_none())
    else {
        return Ok(());
    };
    let product = if deleted {
        None
    } else {
        let fetched = async {
            let mut admin = admin(ctx, &shop).await?;
            let data = admin
                .query(&product_query(), json!({ "id": product_id }))
                .await?;
            let mut product = data["product"].clone();
            if product.is_object() {
                complete(&mut admin, &mut product).await?;
            }
            Ok::<_, ShopifyError>(product)
        };
        match fetched.await {
            Ok(product) => Some(product),
            Err(ShopifyError::Internal(e)) => return Err(e),
            Err(ShopifyError::Upstream(m)) => anyhow::bail!(m),
            Err(e) => {
                tracing::info!(shop = %shop.shop, error = %e, "product not re-indexed");
                return Ok(());
            }
        }
    };
    let doc = product.as_ref().and_then(|p| product_doc(&shop.shop, p));
    let chunks = match doc {
        Some((key, url, doc)) if key == product_id => {
            super::sync_source::reindex_one(ctx, &source, key, url, doc).await?
        }
        // Deleted, gone, or not active any more: it leaves the index.
        _ => live::remove_document(&ctx.db, source.id, product_id).await?,
    };
    let change = sources::ActiveModel {
        chunks: Set(chunks as i32),
        ..Default::default()
    };
    otoq_core::sources::record(&ctx.db, source.id, change).await?;
    tracing::info!(shop = %shop.shop, product = %product_id, deleted, "product re-indexed");
    Ok(())
}
