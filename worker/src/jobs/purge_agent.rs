//! Purges a deleted agent and what belongs to it.

use otoq_core::{Context, agents};
use uuid::Uuid;

pub async fn run(ctx: &Context, account_id: Uuid, agent_id: Uuid) -> anyhow::Result<()> {
    let removed = agents::purge(&ctx.db, account_id, agent_id).await?;
    tracing::info!(%agent_id, removed, "purged agent");
    Ok(())
}
