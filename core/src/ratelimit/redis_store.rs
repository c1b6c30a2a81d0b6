//! Sliding-window limiter shared by every process through one atomic Redis script.

use std::time::Duration;

use redis::Script;

use super::{Decision, RateLimiter, slot, unix_now, window_slots};

// KEYS[1] hash slot -> count; ARGV: current slot, slots per window, limit, ttl seconds.
// Returns {allowed, total, oldest live slot}.
const HIT: &str = r"
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local vals = redis.call('HGETALL', KEYS[1])
local total = 0
local oldest = now
for i = 1, #vals, 2 do
  local s = tonumber(vals[i])
  if s + n <= now then
    redis.call('HDEL', KEYS[1], vals[i])
  else
    total = total + tonumber(vals[i + 1])
    if s < oldest then oldest = s end
  end
end
local allowed = 0
if total < limit then
  redis.call('HINCRBY', KEYS[1], now, 1)
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  total = total + 1
  allowed = 1
end
return {allowed, total, oldest}
";

/// A limiter whose counters live in Redis, so N API processes share one budget.
pub struct RedisLimiter {
    conn: redis::aio::ConnectionManager,
    prefix: String,
    script: Script,
}

impl RedisLimiter {
    /// A limiter using hash keys `{prefix}rl:{bucket}`.
    pub fn new(conn: redis::aio::ConnectionManager, prefix: &str) -> Self {
        RedisLimiter {
            conn,
            prefix: prefix.to_string(),
            script: Script::new(HIT),
        }
    }
}

#[async_trait::async_trait]
impl RateLimiter for RedisLimiter {
    async fn hit(&self, bucket: &str, limit: u64, window: Duration) -> Decision {
        let (len, current) = slot(unix_now(), window);
        let n = window_slots(window, len);
        let key = format!("{}rl:{bucket}", self.prefix);
        let mut conn = self.conn.clone();
        let mut invocation = self.script.key(key);
        invocation
            .arg(current)
            .arg(n)
            .arg(limit)
            .arg(window.as_secs().max(1) + len);
        let call = invocation.invoke_async::<(u64, u64, u64)>(&mut conn);
        // A Redis that does not answer (down, reconnecting) must not slow every request.
        let counted = match tokio::time::timeout(crate::bus::REDIS_CALL_TIMEOUT, call).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("timed out".to_string()),
        };
        match counted {
            Ok((allowed, total, oldest)) => Decision {
                allowed: allowed == 1,
                limit,
                remaining: limit.saturating_sub(total),
                reset_at: (oldest + n) * len,
            },
            Err(e) => {
                // Fail open: an unavailable limiter must not take the API down with it.
                tracing::warn!(error = %e, "rate limiter unavailable; allowing the request");
                Decision {
                    allowed: true,
                    limit,
                    remaining: limit,
                    reset_at: (current + n) * len,
                }
            }
        }
    }
}
