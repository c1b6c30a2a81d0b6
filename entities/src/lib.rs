//! sea-orm entities of otoq: one module per table.

pub mod accounts;
pub mod agents;
pub mod api_keys;
pub mod chunks;
pub mod conversations;
pub mod document_failures;
pub mod documents;
pub mod enums;
pub mod jobs;
pub mod leads;
pub mod members;
pub mod messages;
pub mod sessions;
pub mod shopify_shops;
pub mod shopify_states;
pub mod source_files;
pub mod sources;
pub mod webhook_attempts;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
pub mod webhook_events;
