//! `document_failures`: the pages and files a sync could not read (or skipped), with the
//! reason, so that `GET /sources/{id}/documents` can show them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DocumentFailures {
    Table,
    Id,
    AccountId,
    SourceId,
    Key,
    Url,
    Status,
    Reason,
    RunId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DocumentFailures::Table)
                    .col(
                        ColumnDef::new(DocumentFailures::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DocumentFailures::AccountId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(DocumentFailures::SourceId).uuid().not_null())
                    .col(ColumnDef::new(DocumentFailures::Key).text().not_null())
                    .col(ColumnDef::new(DocumentFailures::Url).text())
                    .col(ColumnDef::new(DocumentFailures::Status).text().not_null())
                    .col(ColumnDef::new(DocumentFailures::Reason).text().not_null())
                    .col(ColumnDef::new(DocumentFailures::RunId).uuid().not_null())
                    .col(
                        ColumnDef::new(DocumentFailures::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("document_failures_source_key")
                    .table(DocumentFailures::Table)
                    .col(DocumentFailures::SourceId)
                    .col(DocumentFailures::Key)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DocumentFailures::Table).to_owned())
            .await
    }
}
