//! Installed shops: look-ups, and what uninstalling and redacting do to them.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::Context;
use otoq_entities::enums::{Refresh, ShopStatus, SourceStatus};
use otoq_entities::{shopify_shops, shopify_states, sources};

/// The shop with this domain, installed or not.
pub async fn by_domain(
    db: &DatabaseConnection,
    shop: &str,
) -> Result<Option<shopify_shops::Model>, sea_orm::DbErr> {
    shopify_shops::Entity::find()
        .filter(shopify_shops::Column::Shop.eq(shop))
        .one(db)
        .await
}

/// The shop whose catalog syncs into `source_id`.
pub async fn by_source(
    db: &DatabaseConnection,
    source_id: Uuid,
) -> Result<Option<shopify_shops::Model>, sea_orm::DbErr> {
    shopify_shops::Entity::find()
        .filter(shopify_shops::Column::SourceId.eq(source_id))
        .one(db)
        .await
}

/// The app was uninstalled: forget the tokens (Shopify has revoked them) and stop every sync of
/// the shop's source — a new run id makes a queued or running sync obsolete (it stops without
/// swapping anything in) and no refresh is scheduled.
pub async fn uninstall(ctx: &Context, shop: &shopify_shops::Model) -> anyhow::Result<()> {
    let now = Utc::now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    shopify_shops::Entity::update_many()
        .col_expr(
            shopify_shops::Column::Status,
            Expr::value(ShopStatus::Uninstalled),
        )
        .col_expr(
            shopify_shops::Column::AccessTokenEnc,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            shopify_shops::Column::RefreshTokenEnc,
            Expr::value(Option::<String>::None),
        )
        .col_expr(shopify_shops::Column::UninstalledAt, Expr::value(now))
        .col_expr(shopify_shops::Column::UpdatedAt, Expr::value(now))
        .filter(shopify_shops::Column::Id.eq(shop.id))
        .exec(&txn)
        .await?;
    if let Some(source_id) = shop.source_id {
        sources::Entity::update_many()
            .col_expr(sources::Column::Refresh, Expr::value(Refresh::Off))
            .col_expr(
                sources::Column::NextSyncAt,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .col_expr(sources::Column::RunId, Expr::value(Uuid::new_v4()))
            .col_expr(
                sources::Column::Error,
                Expr::value(format!(
                    "the Shopify app was uninstalled from {}: the catalog is no longer synced",
                    shop.shop
                )),
            )
            .col_expr(sources::Column::UpdatedAt, Expr::value(now))
            .filter(sources::Column::Id.eq(source_id))
            .exec(&txn)
            .await?;
        // A sync that was waiting or running will not finish: say so rather than hang.
        sources::Entity::update_many()
            .col_expr(sources::Column::Status, Expr::value(SourceStatus::Failed))
            .filter(sources::Column::Id.eq(source_id))
            .filter(sources::Column::Status.is_in([SourceStatus::Queued, SourceStatus::Processing]))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(shop = %shop.shop, "Shopify app uninstalled");
    Ok(())
}

/// `shop/redact`: delete everything of the shop — its catalog knowledge, tokens and pending installs.
pub async fn redact_shop(ctx: &Context, shop: &shopify_shops::Model) -> anyhow::Result<()> {
    if let Some(source_id) = shop.source_id {
        match crate::sources::delete(ctx, shop.account_id, source_id).await {
            Ok(()) | Err(crate::Error::NotFound(_)) => {}
            Err(e) => return Err(anyhow::anyhow!(e)),
        }
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    shopify_states::Entity::delete_many()
        .filter(shopify_states::Column::Shop.eq(shop.shop.clone()))
        .exec(&txn)
        .await?;
    shopify_shops::Entity::delete_many()
        .filter(shopify_shops::Column::Id.eq(shop.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    tracing::info!(shop = %shop.shop, "Shopify shop data redacted");
    Ok(())
}

/// `customers/redact`: delete the leads of the shop's account with the customer's email or phone.
pub async fn redact_customer(
    ctx: &Context,
    shop: &shopify_shops::Model,
    email: Option<&str>,
    phone: Option<&str>,
) -> anyhow::Result<u64> {
    use otoq_entities::leads;
    let mut any = sea_orm::Condition::any();
    if let Some(e) = email.filter(|e| !e.trim().is_empty()) {
        // Leads keep emails as written; match both that and the lowercase form.
        any = any.add(leads::Column::Email.is_in([e.trim().to_string(), e.trim().to_lowercase()]));
    }
    if let Some(p) = phone.filter(|p| !p.trim().is_empty()) {
        let digits: String = p
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        any = any.add(leads::Column::Phone.eq(digits));
    }
    if any.is_empty() {
        return Ok(0);
    }
    let res = leads::Entity::delete_many()
        .filter(leads::Column::AccountId.eq(shop.account_id))
        .filter(any)
        .exec(&ctx.db)
        .await?;
    Ok(res.rows_affected)
}
