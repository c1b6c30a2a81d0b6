//! The time everything schedules by: the system clock, which tests can move forward to drive
//! retry schedules without sleeping. (Each test runs in its own process, so moving it is local.)

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Now, as the scheduler sees it.
pub fn now() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::milliseconds(OFFSET_MS.load(Ordering::Relaxed))
}

/// Now in milliseconds since the unix epoch.
pub fn now_ms() -> i64 {
    now().timestamp_millis()
}

/// Moves this process's clock forward by `by` (tests only: production never calls it).
pub fn advance(by: std::time::Duration) {
    OFFSET_MS.fetch_add(by.as_millis() as i64, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now() {
        let before = now();
        advance(std::time::Duration::from_secs(3600));
        let after = now();
        assert!(after - before >= chrono::Duration::seconds(3599));
    }
}
