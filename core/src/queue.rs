//! The durable job queue: a table in the same database as the data.
//!
//! Jobs are inserted in the transaction that creates the work (so accepted work is never lost
//! and never enqueued for data that was rolled back), claimed in batches with a lease
//! (`FOR UPDATE SKIP LOCKED` on Postgres; SQLite serialises writers), renewed while they run,
//! and deleted when done. A job whose worker died becomes claimable again when its lease runs
//! out. Redis, when present, only carries the "jobs available" wake-up through the [`Bus`].

use std::time::Duration;

use anyhow::Context;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryResult, Set, Statement,
};
use uuid::Uuid;

use crate::bus::{Bus, BusMessage};
use crate::jobs::Job;
use otoq_entities::enums::JobStatus;
use otoq_entities::jobs;

/// A job taken by a worker, with the lease that proves it.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub lease_token: Uuid,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Earlier runs that ended without recording an outcome: the worker was killed (out of
    /// memory, a crash, `kill -9`) or its lease ran out.
    pub lost_runs: i32,
    /// The decoded payload, or the decoding error for a job no handler understands.
    pub job: Result<Job, String>,
}

/// Counts of the queue's jobs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Waiting or running.
    pub queued: u64,
    /// Gave up after their last attempt.
    pub dead: u64,
}

/// Handle on the queue shared by API and worker processes.
#[derive(Clone)]
pub struct Queue {
    db: DatabaseConnection,
    bus: Bus,
}

/// A job whose runs were lost this many times is parked as dead instead of run again: it is
/// what keeps killing its worker.
pub const MAX_LOST_RUNS: i32 = 2;

/// Milliseconds since the unix epoch, by the scheduler's [clock](crate::clock).
pub fn now_ms() -> i64 {
    crate::clock::now_ms()
}

fn row(job: &Job, available_at: i64) -> jobs::ActiveModel {
    jobs::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(job.kind()),
        payload: Set(serde_json::to_string(job).expect("jobs serialize")),
        status: Set(JobStatus::Queued),
        available_at: Set(available_at),
        attempts: Set(0),
        max_attempts: Set(job.max_attempts()),
        lease_token: Set(None),
        last_error: Set(None),
        created_at: Set(now_ms()),
        lost_runs: Set(0),
    }
}

impl Queue {
    /// A queue on `db`, waking workers through `bus`.
    pub fn new(db: DatabaseConnection, bus: Bus) -> Self {
        Queue { db, bus }
    }

    /// Inserts `job` through `conn` (usually the caller's open transaction). Call
    /// [`Queue::notify`] after the commit so idle workers wake at once.
    pub async fn enqueue_in<C: ConnectionTrait>(conn: &C, job: &Job) -> anyhow::Result<Uuid> {
        Self::enqueue_at(conn, job, now_ms()).await
    }

    /// Inserts `job` to run no earlier than `at_ms` (milliseconds since the epoch).
    pub async fn enqueue_at<C: ConnectionTrait>(
        conn: &C,
        job: &Job,
        at_ms: i64,
    ) -> anyhow::Result<Uuid> {
        let model = row(job, at_ms);
        let id = *model.id.as_ref();
        jobs::Entity::insert(model)
            .exec_without_returning(conn)
            .await?;
        Ok(id)
    }

    /// Inserts `job` and wakes the workers.
    pub async fn enqueue(&self, job: &Job) -> anyhow::Result<Uuid> {
        let id = Self::enqueue_in(&self.db, job).await?;
        self.notify().await;
        Ok(id)
    }

    /// Inserts many jobs in batches and wakes the workers once.
    pub async fn enqueue_many(&self, jobs_: &[Job]) -> anyhow::Result<()> {
        let now = now_ms();
        for chunk in jobs_.chunks(500) {
            jobs::Entity::insert_many(chunk.iter().map(|j| row(j, now)))
                .exec_without_returning(&self.db)
                .await?;
        }
        self.notify().await;
        Ok(())
    }

    /// Tells idle workers that jobs are waiting.
    pub async fn notify(&self) {
        self.bus.publish(BusMessage::JobsAvailable).await;
    }

    /// Claims up to `max` due jobs for `lease`.
    pub async fn claim(&self, max: usize, lease: Duration) -> anyhow::Result<Vec<ClaimedJob>> {
        let now = now_ms();
        let token = Uuid::new_v4();
        let until = now + lease.as_millis() as i64;
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DatabaseBackend::Postgres => {
                "UPDATE jobs SET available_at = $1, attempts = attempts + 1, lease_token = $2, \
                 lost_runs = lost_runs + CASE WHEN lease_token IS NULL THEN 0 ELSE 1 END \
                 WHERE id IN (SELECT id FROM jobs WHERE status = 'queued' AND available_at <= $3 \
                 ORDER BY available_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, payload, attempts, max_attempts, lost_runs"
            }
            _ => {
                "UPDATE jobs SET available_at = ?, attempts = attempts + 1, lease_token = ?, \
                 lost_runs = lost_runs + CASE WHEN lease_token IS NULL THEN 0 ELSE 1 END \
                 WHERE id IN (SELECT id FROM jobs WHERE status = 'queued' AND available_at <= ? \
                 ORDER BY available_at LIMIT ?) \
                 RETURNING id, payload, attempts, max_attempts, lost_runs"
            }
        };
        let stmt = Statement::from_sql_and_values(
            backend,
            sql,
            [until.into(), token.into(), now.into(), (max as i64).into()],
        );
        let rows = self.db.query_all_raw(stmt).await.context("claiming jobs")?;
        rows.iter().map(|r| decode(r, token)).collect()
    }

    /// Pushes the lease of a running job further; false when the job was lost to another worker.
    pub async fn extend(&self, job: &ClaimedJob, lease: Duration) -> anyhow::Result<bool> {
        let until = now_ms() + lease.as_millis() as i64;
        let n = self
            .exec(
                "UPDATE jobs SET available_at = {} WHERE id = {} AND lease_token = {}",
                [until.into(), job.id.into(), job.lease_token.into()],
            )
            .await?;
        Ok(n > 0)
    }

    /// Removes a job that finished.
    pub async fn complete(&self, job: &ClaimedJob) -> anyhow::Result<()> {
        self.exec(
            "DELETE FROM jobs WHERE id = {} AND lease_token = {}",
            [job.id.into(), job.lease_token.into()],
        )
        .await?;
        Ok(())
    }

    /// Records a failure: retried after `retry_in`, or parked as dead when out of attempts.
    pub async fn fail(
        &self,
        job: &ClaimedJob,
        error: &str,
        retry_in: Duration,
    ) -> anyhow::Result<()> {
        let error: String = error.chars().take(2000).collect();
        if job.attempts >= job.max_attempts {
            tracing::error!(job = %job.id, attempts = job.attempts, %error, "job is out of attempts");
            self.exec(
                "UPDATE jobs SET status = 'dead', last_error = {}, lease_token = NULL WHERE id = {} AND lease_token = {}",
                [error.into(), job.id.into(), job.lease_token.into()],
            )
            .await?;
        } else {
            let at = now_ms() + retry_in.as_millis() as i64;
            self.exec(
                "UPDATE jobs SET available_at = {}, last_error = {}, lease_token = NULL WHERE id = {} AND lease_token = {}",
                [at.into(), error.into(), job.id.into(), job.lease_token.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Parks a job as dead with `error`, whatever attempts it has left.
    pub async fn bury(&self, job: &ClaimedJob, error: &str) -> anyhow::Result<()> {
        let error: String = error.chars().take(2000).collect();
        tracing::error!(job = %job.id, %error, "job parked as dead");
        self.exec(
            "UPDATE jobs SET status = 'dead', last_error = {}, lease_token = NULL WHERE id = {} AND lease_token = {}",
            [error.into(), job.id.into(), job.lease_token.into()],
        )
        .await?;
        Ok(())
    }

    /// Counts queued and dead jobs.
    pub async fn stats(&self) -> anyhow::Result<QueueStats> {
        let backend = self.db.get_database_backend();
        let stmt = Statement::from_string(
            backend,
            "SELECT \
               COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0) AS queued, \
               COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0) AS dead \
             FROM jobs",
        );
        let row = self
            .db
            .query_one_raw(stmt)
            .await?
            .context("no row from count")?;
        let queued: i64 = row.try_get("", "queued")?;
        let dead: i64 = row.try_get("", "dead")?;
        Ok(QueueStats {
            queued: queued as u64,
            dead: dead as u64,
        })
    }

    /// Runs `sql` whose `{}` placeholders are replaced by the backend's own markers.
    async fn exec<const N: usize>(
        &self,
        sql: &str,
        values: [sea_orm::Value; N],
    ) -> anyhow::Result<u64> {
        let res = self
            .db
            .execute_raw(crate::db::statement(&self.db, sql, values))
            .await?;
        Ok(res.rows_affected())
    }
}

fn decode(r: &QueryResult, lease_token: Uuid) -> anyhow::Result<ClaimedJob> {
    let payload: String = r.try_get("", "payload")?;
    Ok(ClaimedJob {
        id: r.try_get("", "id")?,
        lease_token,
        attempts: r.try_get("", "attempts")?,
        max_attempts: r.try_get("", "max_attempts")?,
        lost_runs: r.try_get("", "lost_runs")?,
        job: serde_json::from_str(&payload).map_err(|e| format!("undecodable job payload: {e}")),
    })
}
