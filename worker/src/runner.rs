//! The worker loop: claim due jobs in batches, run each with a renewed lease, record the outcome.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use otoq_core::Context;
use otoq_core::bus::BusMessage;
use otoq_core::queue::ClaimedJob;
use tokio::sync::{Semaphore, watch};
use tracing::Instrument;

/// Runs jobs until `shutdown` turns true, then waits for the running ones to finish.
pub async fn run(ctx: Context, mut shutdown: watch::Receiver<bool>) {
    let cfg = ctx.config.queue.clone();
    let slots = Arc::new(Semaphore::new(cfg.concurrency));
    let mut wake = ctx.bus.subscribe();
    let scheduler = tokio::spawn(schedule_refreshes(ctx.clone()));
    let reembed = tokio::spawn(reembed_stale(ctx.clone()));
    tracing::info!(concurrency = cfg.concurrency, "worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Wait for at least one free slot before claiming.
        let Ok(first) = slots.clone().acquire_owned().await else {
            break;
        };
        let free = slots.available_permits() + 1;
        let want = free.min(cfg.batch);
        let claimed = match ctx.queue.claim(want, cfg.lease).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim jobs; retrying");
                drop(first);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let got = claimed.len();
        let mut first = Some(first);
        for job in claimed {
            let permit = match first.take() {
                Some(p) => p,
                None => slots
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("semaphore is never closed"),
            };
            let ctx = ctx.clone();
            tokio::spawn(async move {
                execute(&ctx, job).await;
                drop(permit);
            });
        }
        drop(first);
        if got < want {
            // Drained: sleep until new jobs are announced, the poll interval passes, or shutdown.
            tokio::select! {
                _ = wait_for_jobs(&mut wake) => {}
                _ = tokio::time::sleep(cfg.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    scheduler.abort();
    reembed.abort();
    tracing::info!("worker stopping; waiting for running jobs");
    let _ = slots.acquire_many(cfg.concurrency as u32).await;
}

async fn wait_for_jobs(rx: &mut tokio::sync::broadcast::Receiver<BusMessage>) {
    loop {
        match rx.recv().await {
            Ok(BusMessage::JobsAvailable) | Ok(BusMessage::Resync) => return,
            Ok(_) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Every minute, starts the scheduled re-syncs that are due and re-enqueues webhook
/// deliveries whose job was lost.
async fn schedule_refreshes(ctx: Context) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        match otoq_core::sources::enqueue_due_refreshes(&ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sources = n, "scheduled re-syncs started"),
            Err(e) => tracing::warn!(error = %e, "cannot start scheduled re-syncs"),
        }
        match otoq_core::webhooks::deliver::sweep(&ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                deliveries = n,
                "webhook deliveries re-enqueued by the sweep"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot sweep webhook deliveries"),
        }
    }
}

/// Gives passages embedded by another model (the embedder changed) vectors of the current one,
/// at start and every ten minutes.
async fn reembed_stale(ctx: Context) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        if let Err(e) = otoq_core::embed::reembed_stale(&ctx).await {
            tracing::warn!(error = %format!("{e:#}"), "cannot re-embed passages; retrying later");
        }
    }
}

/// Backoff before retry `attempt` (1-based): 5 s doubling, at most an hour.
pub fn backoff(attempt: i32) -> Duration {
    let exp = attempt.clamp(1, 20) as u32 - 1;
    Duration::from_secs((5u64 << exp.min(10)).min(3600))
}

async fn execute(ctx: &Context, job: ClaimedJob) {
    let lease = ctx.config.queue.lease;
    let decoded = match &job.job {
        Ok(j) => j.clone(),
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, "cannot decode job");
            let mut dead = job.clone();
            dead.attempts = dead.max_attempts;
            let _ = ctx.queue.fail(&dead, e, Duration::ZERO).await;
            return;
        }
    };
    let kind = decoded.kind().as_str();
    if job.lost_runs >= otoq_core::queue::MAX_LOST_RUNS {
        // Twice its worker died or timed out under it: running it again would do it again.
        let reason = format!(
            "the job stopped its worker {} times (killed, out of memory or timed out) and is not run again",
            job.lost_runs
        );
        crate::jobs::gave_up(ctx, &decoded, &reason).await;
        if let Err(e) = ctx.queue.bury(&job, &reason).await {
            tracing::warn!(job = %job.id, error = %e, "cannot park the job");
        }
        return;
    }
    let span = tracing::info_span!("job", id = %job.id, kind, attempt = job.attempts);

    // Renew the lease while the job runs, so a long job is not taken by another worker.
    let heartbeat = {
        let ctx = ctx.clone();
        let job = job.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(lease / 3);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = ctx.queue.extend(&job, lease).await {
                    tracing::warn!(job = %job.id, error = %e, "cannot renew lease");
                }
            }
        })
    };
    // A panicking handler must not take the worker down: contain it and retry the job.
    let outcome = std::panic::AssertUnwindSafe(crate::jobs::handle(ctx, decoded).instrument(span))
        .catch_unwind()
        .await;
    heartbeat.abort();
    let result = match outcome {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(anyhow::anyhow!("job panicked: {msg}"))
        }
    };
    let recorded = match result {
        Ok(()) => ctx.queue.complete(&job).await,
        Err(e) => {
            tracing::warn!(job = %job.id, kind, attempt = job.attempts, error = %format!("{e:#}"), "job failed");
            ctx.queue
                .fail(&job, &format!("{e:#}"), backoff(job.attempts))
                .await
        }
    };
    if let Err(e) = recorded {
        // The lease will expire and the job will run again: at least once.
        tracing::warn!(job = %job.id, error = %e, "cannot record job outcome");
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_then_caps() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(4), Duration::from_secs(40));
        assert_eq!(backoff(30), Duration::from_secs(3600));
    }
}
