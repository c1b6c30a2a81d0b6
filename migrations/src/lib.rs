//! Database migrations of otoq, one module per migration; run by `otoq migrate` and at start-up.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_foundation;
mod m20261125_000002_knowledge;
mod m20261125_000003_conversations;
mod m20261125_000004_leads_webhooks;
mod m20261128_000005_widget;
mod m20261128_000006_shopify;
mod m20261203_000008_sentence_vectors;
mod m20261203_000010_jobs_lost_runs;
mod m20261204_000020_console_people;
mod m20261204_000030_harden_rate_counters;
mod m20261204_000031_harden_document_failures;

/// The ordered list of every migration.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_foundation::Migration),
            Box::new(m20261125_000002_knowledge::Migration),
            Box::new(m20261125_000003_conversations::Migration),
            Box::new(m20261125_000004_leads_webhooks::Migration),
            Box::new(m20261128_000005_widget::Migration),
            Box::new(m20261128_000006_shopify::Migration),
            Box::new(m20261203_000008_sentence_vectors::Migration),
            Box::new(m20261203_000010_jobs_lost_runs::Migration),
            Box::new(m20261204_000020_console_people::Migration),
            Box::new(m20261204_000030_harden_rate_counters::Migration),
            Box::new(m20261204_000031_harden_document_failures::Migration),
        ]
    }
}
