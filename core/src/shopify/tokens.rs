//! Access tokens: the code exchange at install, and refreshing the expiring offline token
//! before it expires, each new pair stored sealed and atomically.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ShopifyConfig, ShopifyError};
use crate::Context;
use otoq_entities::enums::ShopStatus;
use otoq_entities::shopify_shops;

/// A token is refreshed when it has less than this left.
pub const REFRESH_MARGIN_SECS: i64 = 300;

/// What Shopify's token endpoint answers.
#[derive(Clone, Debug, Deserialize)]
pub struct Grant {
    pub access_token: String,
    #[serde(default)]
    pub scope: String,
    /// Seconds the access token lives (expiring tokens only).
    pub expires_in: Option<i64>,
    pub refresh_token: Option<String>,
    /// Seconds the refresh token lives.
    pub refresh_token_expires_in: Option<i64>,
}

impl Grant {
    /// When the access token expires, counted from `now`.
    pub fn access_expiry(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.expires_in.map(|s| now + Duration::seconds(s))
    }

    /// When the refresh token expires, counted from `now`.
    pub fn refresh_expiry(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.refresh_token_expires_in
            .map(|s| now + Duration::seconds(s))
    }
}

/// The HTTP client for Shopify: guarded like every outbound request, no redirects.
pub fn client(ctx: &Context) -> reqwest::Client {
    let guard = crate::net_guard::Guard {
        allow_private: ctx.config.allow_private_networks,
    };
    crate::net_guard::http_client(&guard, std::time::Duration::from_secs(30), "otoq-shopify/1")
}

async fn request(
    ctx: &Context,
    cfg: &ShopifyConfig,
    shop: &str,
    mut body: Value,
) -> Result<Grant, ShopifyError> {
    body["client_id"] = json!(cfg.api_key);
    body["client_secret"] = json!(cfg.api_secret);
    let url = format!("{}/admin/oauth/access_token", cfg.admin_base(shop));
    let resp = client(ctx)
        .post(&url)
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .map_err(|e| ShopifyError::Upstream(format!("could not reach {shop}: {e}")))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        let detail: String = text.chars().take(200).collect();
        return Err(ShopifyError::Upstream(format!(
            "{shop} refused the token request (HTTP {}): {detail}",
            status.as_u16()
        )));
    }
    serde_json::from_str(&text).map_err(|e| {
        ShopifyError::Upstream(format!("{shop} answered the token request oddly: {e}"))
    })
}

/// Exchanges an authorization code for an expiring offline token pair.
pub async fn exchange_code(
    ctx: &Context,
    cfg: &ShopifyConfig,
    shop: &str,
    code: &str,
) -> Result<Grant, ShopifyError> {
    request(ctx, cfg, shop, json!({ "code": code, "expiring": 1 })).await
}

/// A usable access token of the shop, refreshing (and storing) a new pair when the current
/// one expires within [`REFRESH_MARGIN_SECS`].
pub async fn access_token(
    ctx: &Context,
    shop: &shopify_shops::Model,
) -> Result<String, ShopifyError> {
    token(ctx, shop, false).await
}

/// A new access token of the shop, refreshed now whatever its stored expiry (the Admin API
/// refused the current one).
pub async fn refresh_now(
    ctx: &Context,
    shop: &shopify_shops::Model,
) -> Result<String, ShopifyError> {
    token(ctx, shop, true).await
}

async fn token(
    ctx: &Context,
    shop: &shopify_shops::Model,
    force: bool,
) -> Result<String, ShopifyError> {
    let cfg = super::config(ctx)?;
    let sbox = ctx.secret_box().await?;
    let (Some(access), true) = (&shop.access_token_enc, shop.status == ShopStatus::Active) else {
        return Err(ShopifyError::Invalid(format!(
            "the Shopify app is not installed on {} any more: install it again",
            shop.shop
        )));
    };
    let now = Utc::now();
    let fresh = !force
        && shop
            .access_token_expires_at
            .is_none_or(|at| at - now > Duration::seconds(REFRESH_MARGIN_SECS));
    if fresh {
        return Ok(sbox.open(access)?);
    }
    let Some(refresh_enc) = &shop.refresh_token_enc else {
        return Err(ShopifyError::Invalid(format!(
            "the access token of {} expired and there is no refresh token: install the app again",
            shop.shop
        )));
    };
    if shop.refresh_token_expires_at.is_some_and(|at| at <= now) {
        return Err(ShopifyError::Invalid(format!(
            "the refresh token of {} expired: install the app again",
            shop.shop
        )));
    }
    let refresh = sbox.open(refresh_enc)?;
    let grant = request(
        ctx,
        cfg,
        &shop.shop,
        json!({ "grant_type": "refresh_token", "refresh_token": refresh }),
    )
    .await?;
    let now = Utc::now();
    // One statement stores the whole new pair, and only over the pair it replaces: if another
    // process refreshed first, its pair stands and is used.
    let res = shopify_shops::Entity::update_many()
        .col_expr(
            shopify_shops::Column::AccessTokenEnc,
            sea_orm::sea_query::Expr::value(sbox.seal(&grant.access_token)),
        )
        .col_expr(
            shopify_shops::Column::AccessTokenExpiresAt,
            sea_orm::sea_query::Expr::value(grant.access_expiry(now)),
        )
        .col_expr(
            shopify_shops::Column::RefreshTokenEnc,
            sea_orm::sea_query::Expr::value(
                grant
                    .refresh_token
                    .as_deref()
                    .map(|t| sbox.seal(t))
                    .or(Some(refresh_enc.clone())),
            ),
        )
        .col_expr(
            shopify_shops::Column::RefreshTokenExpiresAt,
            sea_orm::sea_query::Expr::value(
                grant.refresh_expiry(now).or(shop.refresh_token_expires_at),
            ),
        )
        .col_expr(
            shopify_shops::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(shopify_shops::Column::Id.eq(shop.id))
        .filter(shopify_shops::Column::RefreshTokenEnc.eq(refresh_enc.clone()))
        .filter(shopify_shops::Column::Status.eq(ShopStatus::Active))
        .exec(&ctx.db)
        .await?;
    if res.rows_affected == 1 {
        tracing::info!(shop = %shop.shop, "Shopify access token refreshed");
        return Ok(grant.access_token);
    }
    let current = shopify_shops::Entity::find_by_id(shop.id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ShopifyError::NotFound(format!("{} is not installed", shop.shop)))?;
    match (&current.access_token_enc, current.status) {
        (Some(t), ShopStatus::Active) => Ok(sbox.open(t)?),
        _ => Err(ShopifyError::Invalid(format!(
            "the Shopify app is not installed on {} any more: install it again",
            shop.shop
        ))),
    }
}
