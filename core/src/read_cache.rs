//! A per-account read cache for small, read-mostly lists (an account's agents).
//!
//! A write evicts the account here at once and broadcasts the eviction on the [`Bus`], so other
//! instances drop it within the pub/sub latency; a reconnection of the bus clears everything,
//! and entries also expire after a short TTL as a last safety net.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::bus::{Bus, BusMessage};

const TTL: Duration = Duration::from_secs(30);
const MAX_ACCOUNTS: usize = 20_000;

/// Cached `Arc<Vec<T>>` per account.
pub struct AccountCache<T> {
    topic: &'static str,
    state: Mutex<State<T>>,
    bus: Bus,
}

struct State<T> {
    entries: HashMap<Uuid, (Instant, Arc<Vec<T>>)>,
    /// Bumped by every eviction, so a read that raced a write cannot store what it read.
    generations: HashMap<Uuid, u64>,
    epoch: u64,
}

impl<T> State<T> {
    fn evict(&mut self, account: Uuid) {
        self.entries.remove(&account);
        *self.generations.entry(account).or_default() += 1;
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.generations.clear();
        self.epoch += 1;
    }
}

/// Taken before reading the database; a [`AccountCache::put`] with a stale ticket is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket {
    epoch: u64,
    generation: u64,
}

impl<T: Send + Sync + 'static> AccountCache<T> {
    /// A cache whose evictions travel on `bus` under `topic`.
    pub fn new(bus: &Bus, topic: &'static str) -> Arc<Self> {
        let state = State {
            entries: HashMap::new(),
            generations: HashMap::new(),
            epoch: 0,
        };
        let cache = Arc::new(AccountCache {
            topic,
            state: Mutex::new(state),
            bus: bus.clone(),
        });
        let weak = Arc::downgrade(&cache);
        let mut rx = bus.subscribe();
        tokio::spawn(async move {
            loop {
                let msg = rx.recv().await;
                let Some(cache) = weak.upgrade() else { break };
                match msg {
                    Ok(BusMessage::AccountChanged { topic, account_id })
                        if topic == cache.topic =>
                    {
                        cache.lock().evict(account_id);
                    }
                    Ok(BusMessage::Resync)
                    | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        cache.lock().clear()
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    Ok(_) => {}
                }
            }
        });
        cache
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached list of `account` if fresh, else a ticket to store what the caller reads.
    pub fn get(&self, account: Uuid) -> Result<Arc<Vec<T>>, Ticket> {
        let state = self.lock();
        match state.entries.get(&account) {
            Some((at, v)) if at.elapsed() < TTL => Ok(v.clone()),
            _ => Err(Ticket {
                epoch: state.epoch,
                generation: state.generations.get(&account).copied().unwrap_or(0),
            }),
        }
    }

    /// Stores the list of `account`, unless it changed since `ticket` was taken.
    pub fn put(&self, account: Uuid, ticket: Ticket, items: Arc<Vec<T>>) {
        let mut state = self.lock();
        let current = Ticket {
            epoch: state.epoch,
            generation: state.generations.get(&account).copied().unwrap_or(0),
        };
        if current != ticket {
            return;
        }
        if state.entries.len() >= MAX_ACCOUNTS {
            state.clear();
        }
        state.entries.insert(account, (Instant::now(), items));
    }

    /// Forgets `account` here at once, and on every other instance.
    pub async fn evict(&self, account: Uuid) {
        self.lock().evict(account);
        self.bus
            .publish(BusMessage::AccountChanged {
                topic: self.topic.to_string(),
                account_id: account,
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn eviction_reaches_every_cache_on_the_bus() {
        let bus = Bus::local();
        let here = AccountCache::<u32>::new(&bus, "t");
        let there = AccountCache::<u32>::new(&bus, "t");
        let other_topic = AccountCache::<u32>::new(&bus, "u");
        let acct = Uuid::new_v4();
        for c in [&here, &there, &other_topic] {
            let ticket = c.get(acct).unwrap_err();
            c.put(acct, ticket, Arc::new(vec![1]));
        }
        here.evict(acct).await;
        assert!(here.get(acct).is_err(), "evicted locally at once");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(there.get(acct).is_err(), "evicted on the other instance");
        assert!(other_topic.get(acct).is_ok(), "other topics keep theirs");
    }

    #[tokio::test]
    async fn a_read_that_raced_a_write_is_not_stored() {
        let cache = AccountCache::<u32>::new(&Bus::local(), "t");
        let acct = Uuid::new_v4();
        let ticket = cache.get(acct).unwrap_err();
        cache.evict(acct).await; // a write lands while the reader queries
        cache.put(acct, ticket, Arc::new(vec![1]));
        assert!(cache.get(acct).is_err(), "the stale read was dropped");
        let ticket = cache.get(acct).unwrap_err();
        cache.put(acct, ticket, Arc::new(vec![2]));
        assert_eq!(*cache.get(acct).unwrap(), vec![2]);
    }
}
