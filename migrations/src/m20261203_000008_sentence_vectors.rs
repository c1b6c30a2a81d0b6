//! Sentence vectors of a chunk, for the answerability gate: the chunk's sentences embedded one
//! by one at ingestion (quantised, tagged with the model), read only for the few passages a
//! question retrieves.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Chunks {
    Table,
    SentenceEmbeddings,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Chunks::Table)
                    .add_column(ColumnDef::new(Chunks::SentenceEmbeddings).blob().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Chunks::Table)
                    .drop_column(Chunks::SentenceEmbeddings)
                    .to_owned(),
            )
            .await
    }
}
