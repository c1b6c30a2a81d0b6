//! One module per job kind; [`handle`] dispatches a job to it.

mod classify_sentiment;
mod handoff_email;
mod limit_email;
mod purge_agent;
mod shopify_product;
mod sync_source;

use otoq_core::Context;
use otoq_core::jobs::Job;

/// Runs `job` to completion. An error is retried with backoff.
pub async fn handle(ctx: &Context, job: Job) -> anyhow::Result<()> {
    match job {
        Job::PurgeAgent {
            account_id,
            agent_id,
        } => purge_agent::run(ctx, account_id, agent_id).await,
        Job::SyncSource {
            source_id, run_id, ..
        } => sync_source::run(ctx, source_id, run_id).await,
        Job::PurgeSource { source_id, .. } => {
            otoq_core::knowledge::store::purge_source(&ctx.db, source_id).await?;
            Ok(())
        }
        Job::HandoffEmail {
            account_id,
            conversation_id,
        } => handoff_email::run(ctx, account_id, conversation_id).await,
        Job::DeliverWebhook { delivery_id } => {
            otoq_core::webhooks::deliver::attempt(ctx, delivery_id).await?;
            Ok(())
        }
        Job::ClassifySentiment {
            account_id,
            conversation_id,
            message_id,
        } => classify_sentiment::run(ctx, account_id, conversation_id, message_id).await,
        Job::ShopifyProduct {
            shop_id,
            product_id,
            deleted,
        } => shopify_product::run(ctx, shop_id, &product_id, deleted).await,
        Job::LimitEmail {
            account_id,
            agent_id,
            limit,
        } => limit_email::run(ctx, account_id, agent_id, &limit).await,
    }
}

/// Tells the owner, where the job has someone to tell, that `job` was given up for `reason`.
pub async fn gave_up(ctx: &Context, job: &Job, reason: &str) {
    if let Job::SyncSource {
        source_id, run_id, ..
    } = job
        && let Err(e) = sync_source::give_up(ctx, *source_id, *run_id, reason).await
    {
        tracing::warn!(%source_id, error = %e, "cannot mark the source failed");
    }
}
