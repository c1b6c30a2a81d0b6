//! `rate_counters`: the embedded mode's rate-limit counters, kept so that a restart does not
//! hand out a fresh budget (one row per bucket and sub-window).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RateCounters {
    Table,
    Bucket,
    Slot,
    Count,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateCounters::Table)
                    .col(ColumnDef::new(RateCounters::Bucket).text().not_null())
                    .col(ColumnDef::new(RateCounters::Slot).big_integer().not_null())
                    .col(ColumnDef::new(RateCounters::Count).big_integer().not_null())
                    .col(
                        ColumnDef::new(RateCounters::ExpiresAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(RateCounters::Bucket)
                            .col(RateCounters::Slot),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rate_counters_expires_at")
                    .table(RateCounters::Table)
                    .col(RateCounters::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RateCounters::Table).to_owned())
            .await
    }
}
