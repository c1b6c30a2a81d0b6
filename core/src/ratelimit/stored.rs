//! The embedded mode's limiter: counted in memory, the counters written to the database in
//! batches (at most once a second) so that a restart does not hand out a fresh budget.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait, Value};

use super::{Decision, MemoryLimiter, RateLimiter, slot, unix_now, window_slots};
use crate::db::statement;

/// How long counted requests wait, at most, before they are written.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// A [`MemoryLimiter`] whose counters are kept in the `rate_counters` table.
pub struct StoredLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    memory: MemoryLimiter,
    db: DatabaseConnection,
    /// Set once the counters of the previous run were read back.
    loaded: tokio::sync::OnceCell<()>,
    /// Buckets changed since the last write, with their window.
    dirty: Mutex<HashMap<String, Duration>>,
    /// Whether a write is already scheduled.
    scheduled: AtomicBool,
    /// One write at a time.
    writing: tokio::sync::Mutex<()>,
}

impl StoredLimiter {
    /// A limiter keeping its counters in `db` (read back on first use, after migrations ran).
    pub fn new(db: DatabaseConnection) -> Self {
        StoredLimiter {
            inner: Arc::new(Inner {
                memory: MemoryLimiter::default(),
                db,
                loaded: tokio::sync::OnceCell::new(),
                dirty: Mutex::default(),
                scheduled: AtomicBool::new(false),
                writing: tokio::sync::Mutex::new(()),
            }),
        }
    }
}

impl Inner {
    async fn load(&self) {
        let rows = self
            .db
            .query_all_raw(statement(
                &self.db,
                "SELECT bucket, slot, count FROM rate_counters WHERE expires_at > {}",
                [Value::from(unix_now() as i64)],
            ))
            .await;
        match rows {
            Ok(rows) => {
                for row in rows {
                    let (Ok(bucket), Ok(slot), Ok(count)) = (
                        row.try_get_by_index::<String>(0),
                        row.try_get_by_index::<i64>(1),
                        row.try_get_by_index::<i64>(2),
                    ) else {
                        continue;
                    };
                    self.memory.restore(&bucket, slot as u64, count as u64);
                }
            }
            Err(e) => tracing::warn!(error = %e, "rate counters could not be read back"),
        }
    }

    /// Writes the changed buckets, and forgets counters whose window has passed.
    async fn write(&self) {
        let _one = self.writing.lock().await;
        let dirty = std::mem::take(&mut *self.dirty.lock().unwrap_or_else(|p| p.into_inner()));
        if dirty.is_empty() {
            return;
        }
        if let Err(e) = self.write_buckets(&dirty).await {
            tracing::warn!(error = %e, "rate counters could not be written");
            // Try again with the next write.
            let mut again = self.dirty.lock().unwrap_or_else(|p| p.into_inner());
            for (bucket, window) in dirty {
                again.entry(bucket).or_insert(window);
            }
        }
    }

    async fn write_buckets(&self, dirty: &HashMap<String, Duration>) -> Result<(), sea_orm::DbErr> {
        let now = unix_now();
        let txn = self.db.begin().await?;
        txn.execute_raw(statement(
            &txn,
            "DELETE FROM rate_counters WHERE expires_at <= {}",
            [Value::from(now as i64)],
        ))
        .await?;
        for (bucket, window) in dirty {
            let (len, _) = slot(now, *window);
            let n = window_slots(*window, len);
            txn.execute_raw(statement(
                &txn,
                "DELETE FROM rate_counters WHERE bucket = {}",
                [Value::from(bucket.clone())],
            ))
            .await?;
            for (s, count) in self.memory.slots(bucket) {
                txn.execute_raw(statement(
                    &txn,
                    "INSERT INTO rate_counters (bucket, slot, count, expires_at) VALUES ({}, {}, {}, {})",
                    [
                        Value::from(bucket.clone()),
                        Value::from(s as i64),
                        Value::from(count as i64),
                        Value::from(((s + n) * len) as i64),
                    ],
                ))
                .await?;
            }
        }
        txn.commit().await
    }
}

#[async_trait::async_trait]
impl RateLimiter for StoredLimiter {
    async fn hit(&self, bucket: &str, limit: u64, window: Duration) -> Decision {
        let inner = &self.inner;
        inner.loaded.get_or_init(|| inner.load()).await;
        let d = inner.memory.hit(bucket, limit, window).await;
        if d.allowed {
            inner
                .dirty
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(bucket.to_string(), window);
            if !inner.scheduled.swap(true, Ordering::AcqRel) {
                let inner = self.inner.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(FLUSH_EVERY).await;
                    inner.scheduled.store(false, Ordering::Release);
                    inner.write().await;
                });
            }
        }
        d
    }

    async fn flush(&self) {
        self.inner.write().await;
    }
}
