//! otoq-core: what the API and the workers share — configuration, storage, the job queue,
//! rate limiting and the tenant-scoped services.

pub mod accounts;
pub mod agents;
pub mod analytics;
pub mod answer;
pub mod api_keys;
pub mod bus;
pub mod chat;
pub mod clock;
pub mod config;
pub mod context;
pub mod conversations;
pub mod crypto;
pub mod db;
pub mod email;
pub mod embed;
pub mod error;
pub mod jobs;
pub mod knowledge;
pub mod leads;
pub mod net_guard;
pub mod people;
pub mod plans;
pub mod queue;
pub mod ratelimit;
pub mod read_cache;
pub mod retrieval;
pub mod secrets;
pub mod shopify;
pub mod sources;
pub mod text;
pub mod webhooks;

pub use context::Context;
pub use error::{Error, Result};
