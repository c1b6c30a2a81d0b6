//! The shared handles every process builds once: database, bus, queue, limiter, key cache.

use std::sync::Arc;

use anyhow::Context as _;
use sea_orm::DatabaseConnection;

use crate::api_keys::KeyCache;
use crate::bus::Bus;
use crate::config::Config;
use crate::embed::Embedder;
use crate::queue::Queue;
use crate::ratelimit::{RateLimiter, RedisLimiter, StoredLimiter};
use crate::read_cache::AccountCache;

/// Everything a route or a job needs, cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub bus: Bus,
    pub queue: Queue,
    pub limiter: Arc<dyn RateLimiter>,
    pub keys: KeyCache,
    pub redis: Option<redis::aio::ConnectionManager>,
    /// Each account's agents, for the read-heavy list and get routes.
    pub agent_cache: Arc<AccountCache<otoq_entities::agents::Model>>,
    /// Agents' search indexes, rebuilt when their knowledge changes.
    pub search: Arc<crate::retrieval::SearchIndexes>,
    /// Encrypts stored secrets; its key is resolved on first use (after migrations ran).
    secret_box: Arc<tokio::sync::OnceCell<crate::crypto::SecretBox>>,
    /// The HTTP client webhook deliveries share (guarded, no redirects), built on first use.
    webhook_client: Arc<std::sync::OnceLock<reqwest::Client>>,
    /// The chat-completions server, when one is configured.
    pub llm: Option<Arc<crate::answer::llm::LlmClient>>,
    /// The embedder, loaded (and fetched) on first use; `None` inside means keyword-only.
    embedder: Arc<tokio::sync::OnceCell<Option<Arc<dyn Embedder>>>>,
}

impl Context {
    /// Connects to the database (and Redis when configured) described by `config`.
    pub async fn connect(config: Config) -> anyhow::Result<Self> {
        // Several TLS users (Redis, HTTP clients) share rustls; pick its crypto once, here.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let max_conns = if config.is_sqlite() { 8 } else { 16 };
        let db = crate::db::connect(&config.database_url, max_conns).await?;
        let (bus, limiter, redis): (Bus, Arc<dyn RateLimiter>, _) = match &config.redis_url {
            Some(url) => {
                let client = redis::Client::open(url.as_str()).with_context(|| {
                    format!(
                        "REDIS_URL {:?} is not a valid Redis URL",
                        crate::db::redact(url)
                    )
                })?;
                let conn = redis::aio::ConnectionManager::new(client.clone())
                    .await
                    .with_context(|| {
                        format!("cannot connect to Redis at {}", crate::db::redact(url))
                    })?;
                let bus = Bus::redis(client, &config.redis_prefix).await?;
                (
                    bus,
                    Arc::new(RedisLimiter::new(conn.clone(), &config.redis_prefix)),
                    Some(conn),
                )
            }
            None => (Bus::local(), Arc::new(StoredLimiter::new(db.clone())), None),
        };
        let queue = Queue::new(db.clone(), bus.clone());
        let keys = KeyCache::new(&bus);
        let agent_cache = AccountCache::new(&bus, "agents");
        let llm = match &config.llm {
            Some(c) => Some(Arc::new(crate::answer::llm::LlmClient::new(c.clone())?)),
            None => None,
        };
        let search = Arc::new(crate::retrieval::SearchIndexes::new(
            config.search_cache_passages,
        ));
        Ok(Context {
            config: Arc::new(config),
            db,
            bus,
            queue,
            limiter,
            keys,
            redis,
            agent_cache,
            search,
            llm,
            secret_box: Arc::default(),
            webhook_client: Arc::default(),
            embedder: Arc::default(),
        })
    }

    /// The embedder, loading it (and fetching the model files if allowed) on first use.
    /// `None` when none is configured or it cannot be loaded: search is then keyword-only.
    pub async fn embedder(&self) -> Option<Arc<dyn Embedder>> {
        let cfg = &self.config.embedder;
        self.embedder
            .get_or_init(|| async {
                match crate::embed::from_config(cfg).await {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "embedder unavailable; search is keyword-only");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// The client webhook deliveries use: private addresses refused unless allowed, redirects
    /// never followed, the configured timeout; connections are reused between deliveries.
    pub fn webhook_client(&self) -> &reqwest::Client {
        self.webhook_client.get_or_init(|| {
            let guard = crate::net_guard::Guard {
                allow_private: self.config.allow_private_networks,
            };
            crate::net_guard::http_client(&guard, self.config.webhook_timeout, "otoq-webhooks/1")
        })
    }

    /// The box that encrypts stored secrets with the deployment's key.
    pub async fn secret_box(&self) -> anyhow::Result<crate::crypto::SecretBox> {
        self.secret_box
            .get_or_try_init(|| async {
                let key = crate::crypto::resolve_key(&self.config, &self.db).await?;
                anyhow::Ok(crate::crypto::SecretBox::new(&key))
            })
            .await
            .cloned()
    }

    /// Checks that the database and (when configured) Redis answer.
    pub async fn ready(&self) -> anyhow::Result<()> {
        self.db.ping().await.context("database")?;
        self.queue.stats().await.context("queue")?;
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            let _: String = redis::cmd("PING")
                .query_async(&mut conn)
                .await
                .context("redis")?;
        }
        Ok(())
    }
}
