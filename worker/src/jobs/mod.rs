//! One module per job kind; [`handle`] dispatches a job to it.

mod purge_agent;

use otoq_core::Context;
use otoq_core::jobs::Job;

/// Runs `job` to completion. An error is retried with backoff.
pub async fn handle(ctx: &Context, job: Job) -> anyhow::Result<()> {
    match job {
        Job::PurgeAgent {
            account_id,
            agent_id,
        } => purge_agent::run(ctx, account_id, agent_id).await,
    }
}
