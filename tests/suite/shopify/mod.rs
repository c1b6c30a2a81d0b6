//! Shopify: install (OAuth with a signed callback and a single-use state) → tokens sealed at
//! rest → catalog synced over several throttled GraphQL pages → chat answers a price question
//! citing the product; forged and replayed requests refused; live product webhooks; uninstall,
//! redact and token refresh — all against a local fake Shopify. Shopify's own Node library
//! checks our HMACs.

mod cost;
mod env;
mod hmac_node;
mod install;
mod sync;
mod webhooks;
