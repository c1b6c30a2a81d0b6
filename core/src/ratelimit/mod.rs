//! Sliding-window rate limiting: in process and kept in the database (embedded) or shared
//! through Redis (scaled).
//!
//! A window is split into [`SLOTS`] sub-buckets; a request is allowed when the requests counted
//! in the buckets of the last window are under the limit. Memory stays bounded (at most
//! `SLOTS + 1` counters per bucket) and a burst straddling a boundary is still counted whole,
//! unlike a fixed window. Refused requests are not counted.

mod memory;
mod redis_store;
mod stored;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use memory::MemoryLimiter;
pub use redis_store::RedisLimiter;
pub use stored::StoredLimiter;

/// Sub-buckets per window.
pub const SLOTS: u64 = 12;

/// The outcome of counting one request against a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Requests allowed per window.
    pub limit: u64,
    /// Requests left in the window after this one.
    pub remaining: u64,
    /// Unix seconds when the oldest counted requests leave the window (capacity frees up).
    pub reset_at: u64,
}

impl Decision {
    /// Seconds until capacity frees up (at least 1), for `Retry-After`.
    pub fn retry_after(&self, now: u64) -> u64 {
        self.reset_at.saturating_sub(now).max(1)
    }
}

/// Counts requests per bucket over a sliding window.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one request in `bucket` and says whether it is within `limit` per `window`.
    async fn hit(&self, bucket: &str, limit: u64, window: Duration) -> Decision;

    /// Writes counters not yet kept (before the process stops).
    async fn flush(&self) {}
}

/// Current unix time in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Length of one sub-bucket in seconds, and the index of the sub-bucket holding `now`.
fn slot(now: u64, window: Duration) -> (u64, u64) {
    let len = (window.as_secs() / SLOTS).max(1);
    (len, now / len)
}

/// Applies the algorithm to the counters `(slot, count)` of one bucket; returns the decision
/// and whether the current slot must be incremented. `slots` are the live ones (already pruned).
fn decide(
    live: impl Iterator<Item = (u64, u64)>,
    current: u64,
    slot_len: u64,
    window_slots: u64,
    limit: u64,
) -> Decision {
    let (mut total, mut oldest) = (0u64, current);
    for (s, c) in live {
        total += c;
        oldest = oldest.min(s);
    }
    let allowed = total < limit;
    if allowed {
        total += 1;
    }
    Decision {
        allowed,
        limit,
        remaining: limit.saturating_sub(total),
        reset_at: (oldest + window_slots) * slot_len,
    }
}

/// Sub-buckets spanning one window (the current one included).
fn window_slots(window: Duration, slot_len: u64) -> u64 {
    window.as_secs().max(1).div_ceil(slot_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_divide_the_window() {
        assert_eq!(slot(125, Duration::from_secs(60)), (5, 25));
        assert_eq!(slot(125, Duration::from_secs(5)), (1, 125));
        assert_eq!(window_slots(Duration::from_secs(60), 5), 12);
    }

    #[test]
    fn decision_counts_down_then_refuses() {
        let d = decide([(10, 2)].into_iter(), 12, 5, 12, 3);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.reset_at, (10 + 12) * 5);
        let over = decide([(10, 2), (12, 1)].into_iter(), 12, 5, 12, 3);
        assert!(!over.allowed);
        assert_eq!(over.remaining, 0);
        assert_eq!(over.retry_after(100), 10);
    }
}
