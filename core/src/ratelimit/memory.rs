//! In-process sliding-window limiter for the embedded mode.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::{Decision, RateLimiter, decide, slot, unix_now, window_slots};

/// Per-bucket counters `(slot, count)` held in this process.
#[derive(Default)]
pub struct MemoryLimiter {
    buckets: Mutex<HashMap<String, Vec<(u64, u64)>>>,
}

impl MemoryLimiter {
    /// The live counters `(slot, count)` of `bucket`.
    pub(super) fn slots(&self, bucket: &str) -> Vec<(u64, u64)> {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.get(bucket).cloned().unwrap_or_default()
    }

    /// Puts back a counter kept by an earlier run.
    pub(super) fn restore(&self, bucket: &str, slot: u64, count: u64) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let slots = buckets.entry(bucket.to_string()).or_default();
        match slots.iter_mut().find(|(s, _)| *s == slot) {
            Some((_, c)) => *c = (*c).max(count),
            None => slots.push((slot, count)),
        }
    }
}

#[async_trait::async_trait]
impl RateLimiter for MemoryLimiter {
    async fn hit(&self, bucket: &str, limit: u64, window: Duration) -> Decision {
        let (len, current) = slot(unix_now(), window);
        let n = window_slots(window, len);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, slots| slots.iter().any(|(s, _)| s + n > current));
        }
        let slots = buckets.entry(bucket.to_string()).or_default();
        slots.retain(|(s, _)| s + n > current);
        let d = decide(slots.iter().copied(), current, len, n, limit);
        if d.allowed {
            match slots.iter_mut().find(|(s, _)| *s == current) {
                Some((_, c)) => *c += 1,
                None => slots.push((current, 1)),
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_the_request_after_the_limit() {
        let l = MemoryLimiter::default();
        let w = Duration::from_secs(3600);
        for i in 1..=3 {
            let d = l.hit("k", 3, w).await;
            assert!(d.allowed);
            assert_eq!(d.remaining, 3 - i);
        }
        let refused = l.hit("k", 3, w).await;
        assert!(!refused.allowed);
        assert!(refused.reset_at > unix_now());
        assert!(l.hit("other", 3, w).await.allowed);
    }
}
