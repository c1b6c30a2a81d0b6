//! Configuration, read from the environment once at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::plans::Plan;

mod limits;

pub use limits::{ExtractLimits, ServerLimits, WidgetLimits};

/// Everything a process of otoq needs to know about its environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address the HTTP server listens on (`OTOQ_BIND`, else `PORT` on 0.0.0.0, else 127.0.0.1:8080).
    pub bind: SocketAddr,
    /// Database URL (`DATABASE_URL`); default: SQLite file `<data_dir>/otoq.db`.
    pub database_url: String,
    /// Redis URL (`REDIS_URL`), enabling the shared rate-limit budget and cross-process notifications.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel (`OTOQ_REDIS_PREFIX`, default `otoq:`).
    pub redis_prefix: String,
    /// Directory of local state: the SQLite file, generated secrets, models (`OTOQ_DATA_DIR`, default `./data`).
    pub data_dir: PathBuf,
    /// Public base URL of this deployment, used in links and embed codes (`OTOQ_PUBLIC_URL`).
    pub public_url: String,
    /// Whether `public_url` was configured (else it follows the bound address).
    pub public_url_configured: bool,
    /// Maximum size of a JSON request body in bytes (`OTOQ_MAX_BODY_BYTES`, default 1 MiB).
    pub max_body_bytes: usize,
    /// Rate limits and windows.
    pub rate_limits: RateLimitConfig,
    /// Job queue tuning.
    pub queue: QueueConfig,
    /// Website crawling politeness.
    pub crawl: CrawlTuning,
    /// Largest uploaded document in bytes (`OTOQ_MAX_UPLOAD_BYTES`, default 20 MiB).
    pub max_upload_bytes: usize,
    /// Which embedder to run (`OTOQ_EMBEDDER*`).
    pub embedder: crate::embed::EmbedderConfig,
    /// Whether outbound requests may reach private, loopback and link-local addresses.
    pub allow_private_networks: bool,
    /// Days a webhook delivery is retried before it is failed (`OTOQ_WEBHOOK_RETRY_DAYS`, default 7).
    pub webhook_retry_days: u32,
    /// How long a webhook receiver has to answer (`OTOQ_WEBHOOK_TIMEOUT_SECS`, default 15).
    pub webhook_timeout: Duration,
    /// Key that encrypts stored secrets (`OTOQ_SECRET_KEY`); generated and kept when unset.
    pub secret_key: Option<String>,
    /// Passages kept in in-memory search indexes at most, over all agents
    /// (`OTOQ_SEARCH_CACHE_PASSAGES`, default 2,000,000; about 1 KB each with 384-dim vectors).
    pub search_cache_passages: u64,
    /// The chat-completions server, when one is configured (`OTOQ_LLM_*`).
    pub llm: Option<LlmConfig>,
    /// Outgoing mail (`OTOQ_SMTP_URL`, `OTOQ_SMTP_FROM`).
    pub smtp: Option<SmtpConfig>,
    /// The Shopify app, when its credentials are configured (`OTOQ_SHOPIFY_*`).
    pub shopify: Option<crate::shopify::ShopifyConfig>,
    /// The console: who may sign up, lockout, sessions (`OTOQ_SIGNUP*`, `OTOQ_SIGNIN_*`).
    pub people: crate::people::PeopleConfig,
    /// Limits of the child process that reads uploaded documents (`OTOQ_EXTRACT_*`).
    pub extract: ExtractLimits,
    /// Limits of the HTTP server's connections.
    pub server: ServerLimits,
    /// Limits on what widget visitors may open (`OTOQ_WIDGET_*`).
    pub widget: WidgetLimits,
}

/// An OpenAI-compatible chat-completions server.
#[derive(Clone, Debug)]
pub struct LlmConfig {
    /// Base URL up to the version, e.g. `http://127.0.0.1:11434/v1` (`OTOQ_LLM_BASE_URL`).
    pub base_url: String,
    /// Bearer key (`OTOQ_LLM_API_KEY`).
    pub api_key: Option<String>,
    /// Model name (`OTOQ_LLM_MODEL`, default gpt-4o-mini).
    pub model: String,
    /// Longest wait for an answer (`OTOQ_LLM_TIMEOUT_SECS`, default 60).
    pub timeout: Duration,
}

/// The SMTP server handoff notifications are sent through.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    /// `smtp://host:port` (plain or with `?tls=required` for STARTTLS), `smtps://` for implicit
    /// TLS; credentials as `smtp://user:pass@host` (`OTOQ_SMTP_URL`).
    pub url: String,
    /// Sender address (`OTOQ_SMTP_FROM`, default `otoq <noreply@localhost>`).
    pub from: String,
}

/// Requests allowed per window, per account (all its keys together) for each plan with API access, and per client IP
/// for requests without a valid key.
#[derive(Clone, Debug)]
pub struct RateLimitConfig {
    /// `OTOQ_RATE_LIMIT_PRO` (default 100).
    pub pro: u64,
    /// `OTOQ_RATE_LIMIT_ENTERPRISE` (default 1000).
    pub enterprise: u64,
    /// `OTOQ_RATE_LIMIT_ANONYMOUS`, per client IP for requests without a valid key (default 60).
    pub anonymous: u64,
    /// `OTOQ_RATE_LIMIT_WINDOW_SECS` (default 60).
    pub window: Duration,
    /// `OTOQ_WIDGET_RATE_LIMIT_VISITOR`: widget messages per window per visitor (default 20).
    pub widget_visitor: u64,
    /// `OTOQ_WIDGET_RATE_LIMIT_IP`: widget requests per window per client IP (default 120).
    pub widget_ip: u64,
    /// `OTOQ_TRUST_FORWARDED_FOR`: behind a proxy (Heroku's router, a load balancer), the widget
    /// takes the client IP from the last `X-Forwarded-For` entry (default false).
    pub trust_forwarded_for: bool,
}

impl RateLimitConfig {
    /// The per-window limit of a plan (plans without API access never reach the limiter).
    pub fn for_plan(&self, plan: Plan) -> u64 {
        match plan {
            Plan::Enterprise => self.enterprise,
            _ => self.pro,
        }
    }
}

/// How hard the crawler may hit a site.
#[derive(Clone, Debug)]
pub struct CrawlTuning {
    /// Pages fetched at once per crawl (`OTOQ_CRAWL_CONCURRENCY`, default 4).
    pub concurrency: usize,
    /// Pause before each request of a crawl worker (`OTOQ_CRAWL_DELAY_MS`, default 0).
    pub delay: Duration,
}

/// How workers take jobs from the queue.
#[derive(Clone, Debug)]
pub struct QueueConfig {
    /// Jobs run at once by one worker process (`OTOQ_WORKER_CONCURRENCY`, default 16).
    pub concurrency: usize,
    /// How long a claimed job stays invisible to other workers unless its lease is renewed
    /// (`OTOQ_JOB_LEASE_SECS`, default 60). A killed worker's jobs run again after it.
    pub lease: Duration,
    /// Poll interval when no notification arrives (`OTOQ_QUEUE_POLL_MS`, default 1000).
    pub poll_interval: Duration,
    /// Jobs claimed in one query (`OTOQ_QUEUE_BATCH`, default 64).
    pub batch: usize,
}

/// Reads variables through a lookup function, so tests need not touch the process environment.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn parse<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::fmt::Display,
    {
        parse_var(name, self.get(name), default)
    }

    fn bool(&self, name: &str) -> anyhow::Result<bool> {
        match self
            .get(name)
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("false" | "0" | "no" | "off") => Ok(false),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some(v) => bail!("{name}={v:?} is not valid: expected true or false"),
        }
    }
}

fn parse_var<T: std::str::FromStr>(
    name: &str,
    value: Option<String>,
    default: T,
) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={v:?} is not valid: {e}")),
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration from `lookup` (variable name to value).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let vars = Vars(&lookup);
        let env = |n: &str| vars.get(n);
        let data_dir = PathBuf::from(env("OTOQ_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let bind: SocketAddr = match (env("OTOQ_BIND"), env("PORT")) {
            (Some(b), _) => b.parse().with_context(|| {
                format!("OTOQ_BIND={b:?} is not an address like 127.0.0.1:8080")
            })?,
            (None, Some(p)) => {
                let port: u16 = p
                    .parse()
                    .with_context(|| format!("PORT={p:?} is not a port number"))?;
                SocketAddr::from(([0, 0, 0, 0], port))
            }
            (None, None) => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let database_url = env("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("otoq.db").display()));
        let public_url = env("OTOQ_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        let window_secs: u64 = vars.parse("OTOQ_RATE_LIMIT_WINDOW_SECS", 60)?;
        if window_secs == 0 {
            bail!("OTOQ_RATE_LIMIT_WINDOW_SECS must be at least 1");
        }
        let embedder = crate::embed::EmbedderConfig::from_lookup(&data_dir, |n| vars.get(n))?;
        let queue = QueueConfig {
            concurrency: vars.parse("OTOQ_WORKER_CONCURRENCY", 16usize)?.max(1),
            lease: Duration::from_secs(vars.parse("OTOQ_JOB_LEASE_SECS", 60u64)?.max(1)),
            poll_interval: Duration::from_millis(
                vars.parse("OTOQ_QUEUE_POLL_MS", 1000u64)?.max(10),
            ),
            batch: vars.parse("OTOQ_QUEUE_BATCH", 64usize)?.clamp(1, 1000),
        };
        let embedded = database_url.starts_with("sqlite:");
        Ok(Config {
            bind,
            database_url,
            redis_url: env("REDIS_URL"),
            redis_prefix: env("OTOQ_REDIS_PREFIX").unwrap_or_else(|| "otoq:".into()),
            data_dir,
            public_url_configured: env("OTOQ_PUBLIC_URL").is_some(),
            public_url,
            max_body_bytes: vars.parse("OTOQ_MAX_BODY_BYTES", 1024 * 1024usize)?,
            rate_limits: RateLimitConfig {
                pro: vars.parse("OTOQ_RATE_LIMIT_PRO", 100)?,
                enterprise: vars.parse("OTOQ_RATE_LIMIT_ENTERPRISE", 1000)?,
                anonymous: vars.parse("OTOQ_RATE_LIMIT_ANONYMOUS", 60)?,
                window: Duration::from_secs(window_secs),
                widget_visitor: vars.parse("OTOQ_WIDGET_RATE_LIMIT_VISITOR", 20)?,
                widget_ip: vars.parse("OTOQ_WIDGET_RATE_LIMIT_IP", 120)?,
                trust_forwarded_for: vars.bool("OTOQ_TRUST_FORWARDED_FOR")?,
            },
            queue,
            crawl: CrawlTuning {
                concurrency: vars.parse("OTOQ_CRAWL_CONCURRENCY", 4usize)?.clamp(1, 64),
                delay: Duration::from_millis(vars.parse("OTOQ_CRAWL_DELAY_MS", 0u64)?),
            },
            max_upload_bytes: vars.parse("OTOQ_MAX_UPLOAD_BYTES", 20 * 1024 * 1024usize)?,
            embedder,
            allow_private_networks: vars.bool("OTOQ_ALLOW_PRIVATE_NETWORKS")?,
            webhook_retry_days: vars.parse("OTOQ_WEBHOOK_RETRY_DAYS", 7u32)?.clamp(1, 60),
            webhook_timeout: Duration::from_secs(
                vars.parse("OTOQ_WEBHOOK_TIMEOUT_SECS", 15u64)?.clamp(1, 60),
            ),
            secret_key: env("OTOQ_SECRET_KEY").filter(|k| !k.trim().is_empty()),
            search_cache_passages: vars.parse("OTOQ_SEARCH_CACHE_PASSAGES", 2_000_000u64)?,
            llm: match env("OTOQ_LLM_BASE_URL").filter(|u| !u.trim().is_empty()) {
                Some(url) => {
                    url::Url::parse(&url).with_context(|| {
                        format!(
                            "OTOQ_LLM_BASE_URL={url:?} is not a URL like http://127.0.0.1:11434/v1"
                        )
                    })?;
                    Some(LlmConfig {
                        base_url: url.trim_end_matches('/').to_string(),
                        api_key: env("OTOQ_LLM_API_KEY").filter(|k| !k.is_empty()),
                        model: env("OTOQ_LLM_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
                        timeout: Duration::from_secs(
                            vars.parse("OTOQ_LLM_TIMEOUT_SECS", 60u64)?.max(1),
                        ),
                    })
                }
                None => None,
            },
            smtp: env("OTOQ_SMTP_URL")
                .filter(|u| !u.trim().is_empty())
                .map(|url| SmtpConfig {
                    url,
                    from: env("OTOQ_SMTP_FROM")
                        .unwrap_or_else(|| "otoq <noreply@localhost>".into()),
                }),
            shopify: crate::shopify::ShopifyConfig::from_lookup(|n| vars.get(n)),
            people: crate::people::PeopleConfig::from_lookup(|n| vars.get(n), embedded)?,
            extract: limits::extract(&vars)?,
            server: limits::server(&vars)?,
            widget: limits::widget(&vars)?,
        })
    }

    /// True when the database is a SQLite file (the embedded mode).
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}
