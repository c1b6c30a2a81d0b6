//! Notifications between processes: through Redis pub/sub in the scaled mode, in process otherwise.
//!
//! Subscribers always read a local broadcast channel; with Redis, a background task relays the
//! shared channel into it, and after any reconnection it emits [`BusMessage::Resync`] so that
//! caches drop what they may have missed.

use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Longest wait for Redis on a request's path: past it the caller carries on without it
/// (rate limits fail open, notifications fall back to polling).
pub const REDIS_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(250);
/// A message every process may need to act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BusMessage {
    /// New jobs were enqueued: idle workers should poll now.
    JobsAvailable,
    /// An API key was revoked: forget it at once.
    ApiKeyRevoked { key_hash: String },
    /// Something an account's cached `topic` list holds changed: drop that list.
    AccountChanged {
        topic: String,
        account_id: uuid::Uuid,
    },
    /// Messages may have been lost: drop every cache.
    Resync,
}

/// Publishes and relays [`BusMessage`]s.
#[derive(Clone)]
pub struct Bus {
    local: broadcast::Sender<BusMessage>,
    redis: Option<(redis::aio::ConnectionManager, String)>,
}

impl Bus {
    /// A bus local to this process (embedded mode).
    pub fn local() -> Self {
        let (local, _) = broadcast::channel(1024);
        Bus { local, redis: None }
    }

    /// A bus shared through Redis channel `{prefix}bus`; spawns the relay task.
    pub async fn redis(client: redis::Client, prefix: &str) -> anyhow::Result<Self> {
        let (local, _) = broadcast::channel(1024);
        let channel = format!("{prefix}bus");
        let publisher = redis::aio::ConnectionManager::new(client.clone()).await?;
        tokio::spawn(relay(client, channel.clone(), local.clone()));
        Ok(Bus {
            local,
            redis: Some((publisher, channel)),
        })
    }

    /// Sends `msg` to every process (including this one). Failures are logged: every
    /// consumer also has a fallback (polling, cache expiry).
    pub async fn publish(&self, msg: BusMessage) {
        match &self.redis {
            None => {
                let _ = self.local.send(msg);
            }
            Some((conn, channel)) => {
                let payload = serde_json::to_string(&msg).expect("bus messages serialize");
                let mut conn = conn.clone();
                let mut cmd = redis::cmd("PUBLISH");
                cmd.arg(channel).arg(payload);
                let call = cmd.query_async::<i64>(&mut conn);
                let sent = match tokio::time::timeout(REDIS_CALL_TIMEOUT, call).await {
                    Ok(r) => r.map(|_| ()).map_err(|e| e.to_string()),
                    Err(_) => Err("timed out".to_string()),
                };
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "could not publish on the Redis bus");
                    let _ = self.local.send(msg);
                }
            }
        }
    }

    /// A receiver of every message published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<BusMessage> {
        self.local.subscribe()
    }
}

async fn relay(client: redis::Client, channel: String, local: broadcast::Sender<BusMessage>) {
    let mut first = true;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    if !first {
                        let _ = local.send(BusMessage::Resync);
                    }
                    first = false;
                    let mut stream = pubsub.on_message();
                    while let Some(msg) = stream.next().await {
                        let Ok(payload) = msg.get_payload::<String>() else {
                            continue;
                        };
                        match serde_json::from_str::<BusMessage>(&payload) {
                            Ok(m) => {
                                let _ = local.send(m);
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "ignoring a malformed bus message")
                            }
                        }
                    }
                    tracing::warn!("Redis bus subscription ended; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "cannot subscribe to the Redis bus"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot connect to Redis for the bus"),
        }
        // Whatever happened, something may have been missed.
        let _ = local.send(BusMessage::Resync);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
