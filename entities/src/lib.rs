//! sea-orm entities of otoq: one module per table.

pub mod accounts;
pub mod agents;
pub mod api_keys;
pub mod jobs;
