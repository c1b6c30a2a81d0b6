//! The install: an owner starts it for one of their agents (a single-use `state` nonce is
//! stored), Shopify sends the merchant back to the callback, which verifies everything,
//! exchanges the code, stores the sealed tokens and starts the catalog's first sync.

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use super::{ShopifyError, tokens, valid_shop};
use crate::Context;
use crate::jobs::Job;
use crate::queue::Queue;
use otoq_entities::enums::{Refresh, ShopStatus, SourceKind, SourceStatus};
use otoq_entities::{agents, shopify_shops, shopify_states, sources};

/// How long an install may take between `/shopify/install` and the callback.
pub const STATE_TTL_SECS: i64 = 600;
/// How far the callback's `timestamp` may be from now.
pub const MAX_TIMESTAMP_SKEW_SECS: i64 = 300;

/// Checks the `shop` parameter.
pub fn check_shop(shop: &str) -> Result<(), ShopifyError> {
    if valid_shop(shop) {
        Ok(())
    } else {
        Err(ShopifyError::Invalid(
            "`shop` must be the shop's domain, like your-shop.myshopify.com".into(),
        ))
    }
}

/// Starts an install of `shop` for the account's agent: returns the Shopify authorize URL.
pub async fn begin(
    ctx: &Context,
    account_id: Uuid,
    agent_id: Uuid,
    shop: &str,
) -> Result<String, ShopifyError> {
    let cfg = super::config(ctx)?;
    check_shop(shop)?;
    // Domains are case-insensitive; Shopify sends them back in lowercase.
    let shop = shop.to_ascii_lowercase();
    let shop = shop.as_str();
    let agent = agents::Entity::find()
        .filter(agents::Column::Id.eq(agent_id))
        .filter(agents::Column::AccountId.eq(account_id))
        .filter(agents::Column::DeletedAt.is_null())
        .one(&ctx.db)
        .await?;
    if agent.is_none() {
        return Err(ShopifyError::NotFound("agent not found".into()));
    }
    let now = Utc::now();
    let nonce = crate::secrets::random_base62(32);
    // Expired nonces of any install are cleared on the way.
    shopify_states::Entity::delete_many()
        .filter(shopify_states::Column::ExpiresAt.lt(now))
        .exec(&ctx.db)
        .await?;
    shopify_states::Entity::insert(shopify_states::ActiveModel {
        nonce: Set(nonce.clone()),
        account_id: Set(account_id),
        agent_id: Set(agent_id),
        shop: Set(shop.to_string()),
        expires_at: Set(now + Duration::seconds(STATE_TTL_SECS)),
        created_at: Set(now),
    })
    .exec_without_returning(&ctx.db)
    .await?;
    let mut url = url::Url::parse(&format!("{}/admin/oauth/authorize", cfg.admin_base(shop)))
        .map_err(|e| ShopifyError::Internal(anyhow::anyhow!("authorize URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("client_id", &cfg.api_key)
        .append_pair("scope", &cfg.scopes)
        .append_pair("redirect_uri", &redirect_uri(ctx))
        .append_pair("state", &nonce);
    Ok(url.to_string())
}

/// Where Shopify sends the merchant back.
pub fn redirect_uri(ctx: &Context) -> String {
    format!("{}/shopify/callback", ctx.config.public_url)
}

/// A finished install.
#[derive(Clone, Debug)]
pub struct Installed {
    pub shop: String,
    pub agent_id: Uuid,
    pub source_id: Uuid,
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, ShopifyError> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ShopifyError::Invalid(format!("the `{name}` parameter is missing")))
}

/// Verifies Shopify's redirect (HMAC, shop, timestamp, state) and completes the install.
pub async fn complete(
    ctx: &Context,
    params: &[(String, String)],
) -> Result<Installed, ShopifyError> {
    let cfg = super::config(ctx)?;
    param(params, "hmac")?;
    if !super::hmac::verify_query(&cfg.api_secret, params) {
        return Err(ShopifyError::Forged(
            "the request's HMAC signature is not valid: it did not come from Shopify".into(),
        ));
    }
    let shop = param(params, "shop")?;
    check_shop(shop)?;
    let ts: i64 = param(params, "timestamp")?
        .parse()
        .map_err(|_| ShopifyError::Invalid("`timestamp` must be unix seconds".into()))?;
    let now = Utc::now();
    if (now.timestamp() - ts).abs() > MAX_TIMESTAMP_SKEW_SECS {
        return Err(ShopifyError::Invalid(
            "the request's timestamp is too old (or in the future): start the install again".into(),
        ));
    }
    let code = param(params, "code")?;
    let nonce = param(params, "state")?;
    let state = take_state(ctx, nonce, shop).await?;
    let grant = tokens::exchange_code(ctx, cfg, shop, code).await?;
    store(ctx, &state, grant).await
}

/// Consumes the nonce: it must exist, be unexpired, be for this shop, and be used only once.
async fn take_state(
    ctx: &Context,
    nonce: &str,
    shop: &str,
) -> Result<shopify_states::Model, ShopifyError> {
    let unknown = || {
        ShopifyError::Invalid(
            "the `state` is unknown or was already used: start the install again".into(),
        )
    };
    let state = shopify_states::Entity::find_by_id(nonce.to_string())
        .one(&ctx.db)
        .await?
        .ok_or_else(unknown)?;
    // Deleting it is what claims it: of two concurrent callbacks, one wins.
    let res = shopify_states::Entity::delete_many()
        .filter(shopify_states::Column::Nonce.eq(nonce))
        .exec(&ctx.db)
        .await?;
    if res.rows_affected != 1 {
        return Err(unknown());
    }
    if state.expires_at <= Utc::now() {
        return Err(ShopifyError::Invalid(
            "the install took too long (the `state` expired): start it again".into(),
        ));
    }
    if !state.shop.eq_ignore_ascii_case(shop) {
        return Err(ShopifyError::Invalid(
            "the `state` was issued for another shop".into(),
        ));
    }
    Ok(state)
}

/// Stores the shop with its sealed tokens, creates (or re-syncs) its knowledge source and
/// enqueues the sync, in one transaction.
async fn store(
    ctx: &Context,
    state: &shopify_states::Model,
    grant: tokens::Grant,
) -> Result<Installed, ShopifyError> {
    let sbox = ctx.secret_box().await?;
    let now = Utc::now();
    let shop = state.shop.clone();
    let agent = agents::Entity::find_by_id(state.agent_id)
        .one(&ctx.db)
        .await?;
    if agent.is_none_or(|a| a.deleted_at.is_some()) {
        return Err(ShopifyError::NotFound(
            "the agent this install was for has been deleted".into(),
        ));
    }
    let previous = super::shops::by_domain(&ctx.db, &shop).await?;
    let reusable = match previous.as_ref().and_then(|p| p.source_id) {
        Some(id) => sources::Entity::find_by_id(id)
            .one(&ctx.db)
            .await?
            .filter(|s| s.deleted_at.is_none() && s.agent_id == state.agent_id),
        None => None,
    };
    let stale = previous
        .as_ref()
        .filter(|p| p.source_id.is_some() && reusable.is_none());
    if let Some(p) = stale
        && let Some(old) = p.source_id
    {
        // The shop now feeds another agent: the old agent's catalog goes.
        match crate::sources::delete(ctx, p.account_id, old).await {
            Ok(()) | Err(crate::Error::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let run_id = Uuid::new_v4();
    let source_id = reusable.as_ref().map(|s| s.id).unwrap_or_else(Uuid::new_v4);
    let txn = crate::db::begin_write(&ctx.db).await?;
    match &reusable {
        Some(s) => {
            sources::Entity::update_many()
                .col_expr(sources::Column::Status, Expr::value(SourceStatus::Queued))
                .col_expr(sources::Column::RunId, Expr::value(run_id))
                .col_expr(sources::Column::Refresh, Expr::value(Refresh::Daily))
                .col_expr(sources::Column::Error, Expr::value(Option::<String>::None))
                .col_expr(sources::Column::UpdatedAt, Expr::value(now))
                .filter(sources::Column::Id.eq(s.id))
                .exec(&txn)
                .await?;
        }
        None => {
            sources::Entity::insert(crate::sources::queued_row(
                [source_id, state.account_id, state.agent_id, run_id],
                SourceKind::Shopify,
                shop.clone(),
                Some(format!("https://{shop}")),
                json!({ "shop": shop }),
                Refresh::Daily,
                now,
            ))
            .exec_without_returning(&txn)
            .await?;
        }
    }
    let row = shopify_shops::ActiveModel {
        id: Set(previous.as_ref().map(|p| p.id).unwrap_or_else(Uuid::new_v4)),
        account_id: Set(state.account_id),
        agent_id: Set(state.agent_id),
        shop: Set(shop.clone()),
        source_id: Set(Some(source_id)),
        scope: Set(grant.scope.clone()),
        status: Set(ShopStatus::Active),
        access_token_enc: Set(Some(sbox.seal(&grant.access_token))),
        access_token_expires_at: Set(grant.access_expiry(now)),
        refresh_token_enc: Set(grant.refresh_token.as_deref().map(|t| sbox.seal(t))),
        refresh_token_expires_at: Set(grant.refresh_expiry(now)),
        installed_at: Set(now),
        uninstalled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    shopify_shops::Entity::insert(row)
        .on_conflict(
            OnConflict::column(shopify_shops::Column::Shop)
                .update_columns([
                    shopify_shops::Column::AccountId,
                    shopify_shops::Column::AgentId,
                    shopify_shops::Column::SourceId,
                    shopify_shops::Column::Scope,
                    shopify_shops::Column::Status,
                    shopify_shops::Column::AccessTokenEnc,
                    shopify_shops::Column::AccessTokenExpiresAt,
                    shopify_shops::Column::RefreshTokenEnc,
                    shopify_shops::Column::RefreshTokenExpiresAt,
                    shopify_shops::Column::InstalledAt,
                    shopify_shops::Column::UninstalledAt,
                    shopify_shops::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    Queue::enqueue_in(
        &txn,
        &Job::SyncSource {
            account_id: state.account_id,
            source_id,
            run_id,
        },
    )
    .await?;
    txn.commit().await?;
    ctx.queue.notify().await;
    tracing::info!(%shop, agent_id = %state.agent_id, %source_id, "Shopify app installed");
    Ok(Installed {
        shop,
        agent_id: state.agent_id,
        source_id,
    })
}
